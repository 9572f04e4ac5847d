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
func TestWebhookReplicaKilledDuringApplies(t *testing.T) {
	webhookReplicaKilled(t, 200)
}

// webhookReplicaKilled runs applies server-side applies of HTTPRoutes (one
// in ten a hijack the policy must deny) and kills a replica halfway.
func webhookReplicaKilled(t *testing.T, applies int) {
	w := StartWorld(t, true)
	hooks := w.Webhooks()
	opts := ReplicaOptions{Webhook: true, LeaderElect: true}
	opts.WebhookPort = freePort(t)
	a := w.Replica(t, "a", opts)
	opts.WebhookPort = freePort(t)
	b := w.Replica(t, "b", opts)
	lb, err := NewBalancer(net.JoinHostPort(hooks.LocalServingHost, strconv.Itoa(hooks.LocalServingPort)), a.WebhookAddr, b.WebhookAddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lb.Close() })
	replicas := map[string]*Replica{a.WebhookAddr: a, b.WebhookAddr: b}

	w.ApplySeed(t, "00-namespaces.yaml", "02-gateway.yaml", "03-tenants.yaml", "scenario-b/gateway-allow-teams.yaml")
	ctx := context.Background()
	w.Eventually(t, 30*time.Second, "the webhook denies a hijack", func(ctx context.Context) (bool, string) {
		err := w.Client.Apply(ctx, applyConfig(t, hijackRoute(0)), client.FieldOwner("faults"), client.DryRunAll)
		return isDenial(err), fmt.Sprint(err)
	})

	var admitted, denied int
	var failures []string
	var killed, survivor *Replica
	decidedBefore := map[*Replica]float64{}
	for i := range applies {
		if i == applies/2 {
			killed = busiest(lb, replicas)
			for _, r := range replicas {
				decidedBefore[r] = r.Metric(t, "tenantgate_admission_decisions_total", nil)
				if r != killed {
					survivor = r
				}
			}
			killed.Kill(t)
			t.Logf("killed replica %s (pid %d) after %d applies; it had decided %.0f admissions", killed.Name, killed.Pid(), i, decidedBefore[killed])
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
	after := survivor.Metric(t, "tenantgate_admission_decisions_total", nil) - decidedBefore[survivor]
	t.Logf("figures: fault=webhook-replica-killed applies sent %d, admitted %d, denied as expected %d, failed %d; survivor %s decided %.0f after the kill; balancer dropped %v, live %+v",
		applies, admitted, denied, len(failures), survivor.Name, after, lb.Dropped(), lb.Live())
	if len(failures) > 0 {
		t.Errorf("%d of %d applies did not get the webhook's answer:\n%s", len(failures), applies, strings.Join(failures, "\n"))
	}
	if after < float64(applies-applies/2) {
		t.Errorf("the surviving replica decided %.0f admissions after the kill, want at least the %d applies sent after it", after, applies-applies/2)
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
