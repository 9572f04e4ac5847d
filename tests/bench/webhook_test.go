package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

const (
	apiserverHistogram = "apiserver_admission_webhook_admission_duration_seconds"
	decisionHistogram  = "tenantgate_admission_duration_seconds"
)

// seedTenants adds tenants namespaces and tenants with routesEach routes
// each, as a cluster that already had them would: with the webhook
// configuration removed, so seeding does not take an admission per object.
// It restores the configuration and waits until the webhook denies with the
// new tenants; the controller may still be writing the new routes' status
// while the measurement runs, as on a busy cluster.
func (e *env) seedTenants(b *testing.B, tenants, routesEach int) {
	ctx := context.Background()
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := e.c.List(ctx, &hooks); err != nil {
		b.Fatal(err)
	}
	for i := range hooks.Items {
		if err := e.c.Delete(ctx, &hooks.Items[i]); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	seed := func(what string, n int, obj func(i int) client.Object) {
		if err := parallel(n, 16, func(i int) error { return e.create(ctx, obj(i)) }); err != nil {
			b.Fatalf("seeding %s: %v", what, err)
		}
	}
	seed("namespaces", tenants, func(i int) client.Object { return namespace(tenantName(i), nil) })
	seed("tenants", tenants, func(i int) client.Object { return tenant(i) })
	seed("tenant routes", tenants*routesEach, func(i int) client.Object { return tenantRoute(i%tenants, i/tenants, "/") })
	b.ReportMetric(time.Since(start).Seconds(), "s-seed")
	for i := range hooks.Items {
		h := hooks.Items[i].DeepCopy()
		h.ObjectMeta = metav1.ObjectMeta{Name: h.Name, Labels: h.Labels, Annotations: h.Annotations}
		if err := e.c.Create(ctx, h); err != nil {
			b.Fatalf("restoring ValidatingWebhookConfiguration %s: %v", h.Name, err)
		}
	}
	// A route in t0001 claiming t0002's hostname must be denied once the
	// configuration is back and the policy knows the tenants.
	hijack := tenantRoute(1, 0, "/")
	hijack.Name, hijack.Spec.Hostnames[0] = "hijack", "t0002.example.com"
	deadline := time.Now().Add(time.Minute)
	for err := e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll); err == nil || !strings.Contains(err.Error(), "denied"); err = e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll) {
		if time.Now().After(deadline) {
			b.Fatalf("the webhook still does not deny a route claiming another tenant's hostname a minute after restoring it; last answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.ReportMetric(time.Since(start).Seconds(), "s-seed-denying")
}

// webhookAtRate updates the seeded tenant routes at a fixed rate for d and reports the
// admission latency the API server saw for tenantgate's HTTPRoute webhook
// (its histogram, before and after), tenantgate's own decision time, and
// the client's view. Updates due more than 5 s after the schedule's end are
// dropped so a slow webhook cannot stretch the run.
func (e *env) webhookAtRate(b *testing.B, tenants, routesEach int, rate float64, d time.Duration) {
	ctx := context.Background()
	kube, err := kubernetes.NewForConfig(e.kube)
	if err != nil {
		b.Fatal(err)
	}
	apiserver := func() Histogram {
		raw, err := kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
		if err != nil {
			b.Fatalf("scraping the API server's metrics: %v", err)
		}
		h, err := ParseHistogram(bytes.NewReader(raw), apiserverHistogram, map[string]string{"name": "httproutes.tenantgate.dev", "operation": "UPDATE", "type": "validating"})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	decisions := func() Histogram {
		h, err := ParseHistogram(bytes.NewReader(e.tenantgateMetrics(b)), decisionHistogram, map[string]string{"kind": "HTTPRoute"})
		if err != nil {
			b.Fatal(err)
		}
		return h
	}
	apiBefore, decBefore := apiserver(), decisions()

	total := int(rate * d.Seconds())
	start := time.Now().Add(100 * time.Millisecond)
	hardStop := start.Add(d + 5*time.Second)
	var (
		next            atomic.Int64
		dropped, failed atomic.Int64
		mu              sync.Mutex
		latencies       []time.Duration
		firstErr        error
		lastDone        time.Time
	)
	var wg sync.WaitGroup
	for range 128 { // enough in flight that the client never sets the pace
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
				if time.Now().After(hardStop) {
					dropped.Add(1)
					continue
				}
				from := due
				if wait := time.Until(due); wait > 0 {
					time.Sleep(wait)
					from = time.Now()
				}
				route := tenantRoute(i%tenants, (i/tenants)%routesEach, fmt.Sprintf("/r%d", i))
				err := e.patchRules(ctx, route)
				took, now := time.Since(from), time.Now()
				mu.Lock()
				if err != nil {
					failed.Add(1)
					if firstErr == nil {
						firstErr = err
					}
				} else {
					latencies = append(latencies, took)
				}
				lastDone = now
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	api, dec := apiserver().Since(apiBefore), decisions().Since(decBefore)
	if firstErr != nil {
		b.Logf("%d updates failed; the first: %v", failed.Load(), firstErr)
	}
	slices.Sort(latencies)
	b.ReportMetric(float64(len(latencies))/lastDone.Sub(start).Seconds(), "admissions/s")
	b.ReportMetric(float64(dropped.Load()+failed.Load()), "updates-not-admitted")
	b.ReportMetric(api.Count, "admissions")
	b.ReportMetric(api.Quantile(0.5)*1000, "ms-apiserver-p50")
	b.ReportMetric(api.Quantile(0.99)*1000, "ms-apiserver-p99")
	b.ReportMetric(api.AtOrBelow(0.005)*100, "%-apiserver-within-5ms")
	b.ReportMetric(dec.Quantile(0.99)*1000, "ms-decision-p99")
	b.ReportMetric(ms(results.Percentile(latencies, 0.5)), "ms-update-p50")
	b.ReportMetric(ms(results.Percentile(latencies, 0.99)), "ms-update-p99")
}
