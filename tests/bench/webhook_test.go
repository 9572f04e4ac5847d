package bench

import (
	"bytes"
	"context"
	"fmt"
	"slices"
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
	httpRouteHook      = "httproutes.tenantgate.dev"
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
	// A route claiming another tenant's hostname must be denied once the
	// configuration is back and the policy knows the tenants.
	e.awaitDenying(b)
	b.ReportMetric(time.Since(start).Seconds(), "s-seed-denying")
}

// webhookAtRate measures the webhook at rate admissions/s for d twice on
// the same cluster: first with the HTTPRoute webhook pointed at an
// allow-all webhook of the benchmark's (the floor: the API server's own
// cost of calling a webhook under that load), then at tenantgate's.
func (e *env) webhookAtRate(b *testing.B, tenants, routesEach int, rate float64, d time.Duration) {
	floorHook := e.startFloorHook(b)
	ours := e.pointHTTPRouteHook(b, &floorHook.url)
	e.awaitAllowing(b)
	b.ReportMetric(e.settle(b, 3*time.Minute).Seconds(), "s-settle-before-floor")
	floor := e.updateAtRate(b, "floor", tenants, routesEach, rate, d)
	e.pointHTTPRouteHook(b, ours)
	e.awaitDenying(b)
	b.ReportMetric(e.settle(b, 3*time.Minute).Seconds(), "s-settle-before-tenantgate")
	stop := e.profileCPU(b, "webhook", 10*time.Second)
	dumped := e.dumpGoroutines(b, "webhook", d/2)
	got := e.updateAtRate(b, "tenantgate", tenants, routesEach, rate, d)
	<-dumped
	stop()
	got.report(b, "")
	floor.report(b, "floor-")
	b.ReportMetric(ratio(got.api.Quantile(0.99), floor.api.Quantile(0.99)), "x-apiserver-p99-over-floor-p99")
}

// settle waits until tenantgate's controller has not reconciled for 2 s
// (at most within), so that neither run pays for the last one's status
// writes; it returns how long that took.
func (e *env) settle(b *testing.B, within time.Duration) time.Duration {
	start := time.Now()
	last, quietSince := e.reconciles(b).total, time.Now()
	for time.Since(quietSince) < 2*time.Second && time.Since(start) < within {
		time.Sleep(250 * time.Millisecond)
		if now := e.reconciles(b).total; now != last {
			last, quietSince = now, time.Now()
		}
	}
	return time.Since(start)
}

// rateRun is what one run of updateAtRate saw.
type rateRun struct {
	notAdmitted    int
	perSecond      float64
	reconciles     float64 // tenantgate's gateway reconciles during the run
	api, decisions Histogram
	latencies      []time.Duration
}

// report reports the run's figures, their names prefixed.
func (r rateRun) report(b *testing.B, prefix string) {
	b.ReportMetric(r.perSecond, prefix+"admissions/s")
	b.ReportMetric(float64(r.notAdmitted), prefix+"updates-not-admitted")
	b.ReportMetric(r.reconciles, prefix+"reconciles")
	b.ReportMetric(r.api.Count, prefix+"admissions")
	b.ReportMetric(r.api.Quantile(0.5)*1000, prefix+"ms-apiserver-p50")
	b.ReportMetric(r.api.Quantile(0.99)*1000, prefix+"ms-apiserver-p99")
	b.ReportMetric(r.api.AtOrBelow(0.005)*100, prefix+"%-apiserver-within-5ms")
	if r.decisions.Count > 0 {
		b.ReportMetric(r.decisions.Quantile(0.99)*1000, prefix+"ms-decision-p99")
	}
	b.ReportMetric(ms(results.Percentile(r.latencies, 0.5)), prefix+"ms-update-p50")
	b.ReportMetric(ms(results.Percentile(r.latencies, 0.99)), prefix+"ms-update-p99")
}

// updateAtRate updates the seeded tenant routes at a fixed rate for d,
// each to a path of this run's own (a patch repeating an earlier run's
// changes nothing and costs the controller nothing), and returns the
// admission latency the API server saw for the HTTPRoute webhook (its
// histogram, before and after), tenantgate's own decision time, and the
// client's view. Updates due more than 5 s after the
// schedule's end are dropped so a slow webhook cannot stretch the run.
func (e *env) updateAtRate(b *testing.B, run string, tenants, routesEach int, rate float64, d time.Duration) rateRun {
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
		h, err := ParseHistogram(bytes.NewReader(raw), apiserverHistogram, map[string]string{"name": httpRouteHook, "operation": "UPDATE", "type": "validating"})
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
	apiBefore, decBefore, reconcilesBefore := apiserver(), decisions(), e.reconciles(b).total

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
				route := tenantRoute(i%tenants, (i/tenants)%routesEach, fmt.Sprintf("/%s-%d", run, i))
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
	return rateRun{
		notAdmitted: int(dropped.Load() + failed.Load()), reconciles: e.reconciles(b).total - reconcilesBefore,
		perSecond: float64(len(latencies)) / lastDone.Sub(start).Seconds(),
		api:       api, decisions: dec, latencies: latencies,
	}
}
