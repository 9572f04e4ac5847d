package faults

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// Applies of the data-plane fault: admissionApplies HTTPRoute applies, one
// in ten a hijack the policy denies, one every applyPause; the data plane
// is SIGKILLed dataPlaneLife after each start is ready, and started again.
const (
	admissionApplies = 500
	applyPause       = 50 * time.Millisecond
	dataPlaneLife    = 2 * time.Second
	minDataPlaneKill = 3
)

// dataPlanePool is the address pool of this test's data plane.
const dataPlanePool = "127.75.0.0/24"

// hijackDenial is the start of the policy's answer to hijackRoute.
const hijackDenial = `spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"`

// TestAdmissionSurvivesDataPlaneKills is issue 17's fault (3): the webhook
// runs in its own replica, the data plane in another that is SIGKILLed
// every few seconds and started again, as a crash-looping or OOM-killed
// Pod is, while 500 HTTPRoutes are applied through the API server. No
// admission fails: every route the policy allows is created, every hijack
// is denied with the policy's message, none gets a timeout or a connection
// error from the webhook.
func TestAdmissionSurvivesDataPlaneKills(t *testing.T) {
	w := StartWorld(t, true)
	hooks, _ := w.StartWebhooks(t, 1)
	w.ApplySeed(t, "00-namespaces.yaml", "02-gateway.yaml", "03-tenants.yaml", "scenario-b/gateway-allow-teams.yaml")
	w.Eventually(t, 30*time.Second, "the webhook denies a hijack", func(ctx context.Context) (bool, string) {
		err := w.Client.Apply(ctx, applyConfig(t, hijackRoute(0)), client.FieldOwner("faults"), client.DryRunAll)
		return isDenial(err), fmt.Sprint(err)
	})
	started := 0
	startDataPlane := func() *Replica {
		r := w.Replica(t, fmt.Sprintf("dataplane-%d", started), w.dataPlaneRole(t, dataPlanePool))
		started++
		return r
	}
	dp := startDataPlane()

	a := startApplies(t.Context(), w)
	var kills []string
	for running := true; running; {
		select {
		case <-a.done:
			running = false
		case <-time.After(dataPlaneLife):
			dp.Kill(t)
			kills = append(kills, fmt.Sprintf("%s (pid %d)", dp.Name, dp.Pid()))
			dp = startDataPlane()
		}
	}
	lat := slices.Clone(a.latencies)
	slices.Sort(lat)
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1fms", results.Milliseconds(d)) }
	var decided float64
	for _, h := range hooks {
		decided += h.Metric(t, "tenantgate_admission_decisions_total", nil)
		if h.Exited() {
			t.Errorf("webhook replica %s exited: %v", h.Name, h.proc.Err())
		}
	}
	t.Logf("figures: fault=data-plane-killed-during-applies: applies %d (admitted %d, denied as expected %d, failed %d); admission latency through the API server p50 %s, p99 %s, max %s; data plane SIGKILLed %d times, each %v after it was ready; the webhook decided %.0f admissions",
		admissionApplies, a.admitted, a.denied, len(a.failures), ms(results.Percentile(lat, 0.5)), ms(results.Percentile(lat, 0.99)), ms(lat[len(lat)-1]),
		len(kills), dataPlaneLife, decided)
	if len(a.failures) > 0 {
		t.Errorf("%d of %d admissions failed:\n%s", len(a.failures), admissionApplies, strings.Join(a.failures, "\n"))
	}
	if len(kills) < minDataPlaneKill {
		t.Errorf("the data plane was killed %d times during the applies; want at least %d for the fault to count", len(kills), minDataPlaneKill)
	}
	if decided < admissionApplies {
		t.Errorf("the webhook decided %.0f admissions; want at least the %d applies", decided, admissionApplies)
	}

	// What the API server holds agrees: every admitted route, no hijack.
	var apples, bananas gatewayv1.HTTPRouteList
	ctx := context.Background()
	if err := w.Client.List(ctx, &apples, client.InNamespace("apples")); err != nil {
		t.Fatal(err)
	}
	if err := w.Client.List(ctx, &bananas, client.InNamespace("bananas")); err != nil {
		t.Fatal(err)
	}
	if len(apples.Items) != a.admitted || len(bananas.Items) != 0 {
		t.Errorf("the API server holds %d routes in apples (want the %d admitted) and %d in bananas (want none)", len(apples.Items), a.admitted, len(bananas.Items))
	}
}

// applies is the outcome of the background applies.
type applies struct {
	done             chan struct{}
	admitted, denied int
	failures         []string
	latencies        []time.Duration
}

// startApplies server-side applies admissionApplies HTTPRoutes, one every
// applyPause: apples' own routes, and every tenth bananas hijacking
// apples.example.com. The fields are final once done is closed; it stops
// early when ctx ends.
func startApplies(ctx context.Context, w *World) *applies {
	a := &applies{done: make(chan struct{})}
	go func() {
		defer close(a.done)
		for i := range admissionApplies {
			hijack := i%10 == 9
			manifest := teamRoute(i)
			if hijack {
				manifest = hijackRoute(i)
			}
			actx, cancel := context.WithTimeout(ctx, 30*time.Second)
			start := time.Now()
			err := w.TryApply(actx, manifest)
			a.latencies = append(a.latencies, time.Since(start))
			cancel()
			switch {
			case hijack && isDenial(err) && strings.Contains(err.Error(), hijackDenial):
				a.denied++
			case !hijack && err == nil:
				a.admitted++
			default:
				a.failures = append(a.failures, fmt.Sprintf("apply %d (hijack %v): %v", i, hijack, err))
			}
			select {
			case <-ctx.Done(): // the test ended early
				return
			case <-time.After(applyPause):
			}
		}
	}()
	return a
}
