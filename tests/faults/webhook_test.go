package faults

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestWebhookReplicaKilledDuringApplies is fault 1: two webhook replicas
// behind the Service stand-in, the one carrying the API server's connection
// is killed (SIGKILL) between the 100th and 101st of 200 applies; every
// apply gets its webhook's answer.
//
// The kill lands between two applies, not inside one: the API server sends
// each admission request once (k8s.io/apiserver's validating dispatcher
// does not retry a webhook call whose connection is cut), so a request in
// flight on a replica at the instant it dies fails its apply, with this
// stand-in as with a real Service.
func TestWebhookReplicaKilledDuringApplies(t *testing.T) {
	webhookReplicaKilled(t, 200, 1)
}

// webhookReplicaKilled sends applies server-side applies of HTTPRoutes (one
// in ten a hijack the policy must deny) and kills the busiest replica kills
// times, evenly spread; ten applies after each kill a fresh replica joins,
// as the Deployment would replace the Pod.
func webhookReplicaKilled(t *testing.T, applies, kills int) {
	w := StartWorld(t, true)
	hooks := w.Webhooks()
	lb, err := NewBalancer(net.JoinHostPort(hooks.LocalServingHost, strconv.Itoa(hooks.LocalServingPort)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	replicas := map[string]*Replica{}
	started := 0
	start := func() {
		r := w.Replica(t, fmt.Sprintf("webhook-%d", started), ReplicaOptions{Webhook: true, WebhookPort: freePort(t), LeaderElect: true})
		started++
		replicas[r.WebhookAddr] = r
		lb.Add(r.WebhookAddr)
	}
	start()
	start()

	w.ApplySeed(t, "00-namespaces.yaml", "02-gateway.yaml", "03-tenants.yaml", "scenario-b/gateway-allow-teams.yaml")
	ctx := context.Background()
	w.Eventually(t, 30*time.Second, "the webhook denies a hijack", func(ctx context.Context) (bool, string) {
		err := w.Client.Apply(ctx, applyConfig(t, hijackRoute(0)), client.FieldOwner("faults"), client.DryRunAll)
		return isDenial(err), fmt.Sprint(err)
	})

	var admitted, denied int
	var failures, killed []string
	decided := func() float64 { // by the replicas alive now
		var n float64
		for _, r := range replicas {
			if !r.Exited() {
				n += r.Metric(t, "tenantgate_admission_decisions_total", nil)
			}
		}
		return n
	}
	every := applies / (kills + 1)
	var before float64
	for i := range applies {
		if i > 0 && i%every == 0 && len(killed) < kills {
			victim := busiest(lb, replicas)
			victim.Kill(t)
			delete(replicas, victim.WebhookAddr)
			killed = append(killed, fmt.Sprintf("%s (pid %d) after apply %d", victim.Name, victim.Pid(), i))
			before = decided()
		}
		if i > 0 && i%every == 10 && len(replicas) < 2 {
			start()
		}
		hijack := i%10 == 9
		manifest := teamRoute(i)
		if hijack {
			manifest = hijackRoute(i)
		}
		err := w.TryApply(ctx, manifest)
		switch {
		case hijack && isDenial(err) && strings.Contains(err.Error(), `spec.hostnames[0]: "apples.example.com"`):
			denied++
		case !hijack && err == nil:
			admitted++
		default:
			failures = append(failures, fmt.Sprintf("apply %d (hijack %v): %v", i, hijack, err))
		}
	}
	after := decided() - before
	t.Logf("figures: fault=webhook-replica-killed applies sent %d, admitted %d, denied as expected %d, failed %d; killed %s; the replicas alive at the end decided %.0f admissions after the last kill; balancer dropped %v",
		applies, admitted, denied, len(failures), strings.Join(killed, ", "), after, lb.Dropped())
	if len(failures) > 0 {
		t.Errorf("%d of %d applies did not get the webhook's answer:\n%s", len(failures), applies, strings.Join(failures, "\n"))
	}
	if want := float64(applies - kills*every); after < want {
		t.Errorf("the replicas alive at the end decided %.0f admissions after the last kill, want at least the %.0f applies sent after it", after, want)
	}
}

// busiest is the replica with the most connections open through the
// balancer now (the API server's), else the one that got the most.
func busiest(lb *Balancer, replicas map[string]*Replica) *Replica {
	var best BackendStats
	for _, s := range lb.Live() {
		if s.Active > best.Active || (s.Active == best.Active && s.Total > best.Total) {
			best = s
		}
	}
	if r := replicas[best.Addr]; r != nil {
		return r
	}
	for _, r := range replicas {
		return r
	}
	return nil
}

// teamRoute is apples' own route number i, which the policy admits.
func teamRoute(i int) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: route-%03d, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [r%d.apples.example.com]
  rules: [{backendRefs: [{name: apple-echo, port: 80}]}]
`, i, i)
}

// hijackRoute is bananas claiming apples' hostname, which the policy denies.
func hijackRoute(i int) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: hijack-%03d, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [apples.example.com]
  rules: [{backendRefs: [{name: banana-echo, port: 80}]}]
`, i)
}

// isDenial reports whether err is a webhook's denial (403), as opposed to
// a failure to reach the webhook.
func isDenial(err error) bool {
	return apierrors.IsForbidden(err) && strings.Contains(err.Error(), "denied the request")
}

func applyConfig(t testing.TB, manifest string) runtime.ApplyConfiguration {
	t.Helper()
	objs, err := decode(manifest)
	if err != nil || len(objs) != 1 {
		t.Fatalf("want one object in %q: %v", manifest, err)
	}
	return client.ApplyConfigurationFromUnstructured(objs[0])
}
