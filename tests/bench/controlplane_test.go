package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/hack/bench/results"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// BenchmarkControlPlane builds one cluster and measures, in order: applying
// 1,000 routes (then deleting them), applying 5,000, 100 single-route
// changes among those 5,000 (then 50 new routes, and 100 endpoint changes),
// the process's memory, the webhook at a fixed admission rate with 10,000
// routes and 1,000 tenants, a webhook-only process's memory, and last the
// same 100 changes through a bare controller-runtime controller with
// tenantgate paused: the CPU floor (changeFloor). Each phase is
// a sub-benchmark that runs once; its figures are custom metrics. Every
// wait is bounded, so a slow control plane yields figures with a count of
// what was still missing instead of a run that never ends.
func BenchmarkControlPlane(b *testing.B) {
	if f := flag.Lookup("test.benchtime"); f == nil || f.Value.String() != "1x" {
		b.Fatal("BenchmarkControlPlane builds thousands of objects once per phase; run it with -benchtime=1x (make bench does)")
	}
	small, large, tenants, changes := scaled(1000), scaled(5000), scaled(1000), scaled(100)
	if *largeScale {
		small, large, tenants, routeNamespaces = 0, scaled(20000), scaled(2000), 100
	}
	binary := tenantgateBinary(b)
	s := stack.Start(b, stack.Options{AddressPool: "127.40.0.0/16", PlatformNamespaces: []string{gatewayNS},
		Binary: binary, PprofAddr: freeAddr(b)})
	e := newEnv(b, s)
	e.startRSS = e.residentMiB(b)["MiB-rss"]
	if small > 0 {
		b.Run(fmt.Sprintf("apply=%d", small), func(b *testing.B) {
			e.applyUntilServing(b, "a", small, time.Minute)
			e.deleteSet(b, "a")
		})
	}
	b.Run(fmt.Sprintf("apply=%d", large), func(b *testing.B) { e.applyUntilServing(b, "b", large, 4*time.Minute) })
	b.Run(fmt.Sprintf("change=%d", changes), func(b *testing.B) {
		defer e.profileCPU(b, "change", 5*time.Second)()
		e.changes(b, "b", large, changes, 90*time.Second)
	})
	b.Run(fmt.Sprintf("add=%d", changes/2), func(b *testing.B) { e.adds(b, "c", changes/2, 90*time.Second) })
	b.Run(fmt.Sprintf("endpoints=%d", changes), func(b *testing.B) { e.endpointChanges(b, changes, 90*time.Second) })
	b.Run("memory", func(b *testing.B) {
		for unit, v := range e.residentMiB(b) {
			b.ReportMetric(v, unit)
		}
		b.ReportMetric(e.startRSS, "MiB-rss-before-routes")
		b.ReportMetric(e.heapAfterGC(b), "MiB-heap-inuse-after-gc")
	})
	b.Run("webhook", func(b *testing.B) {
		e.seedTenants(b, tenants, 5)
		e.webhookAtRate(b, tenants, 5, 200, 15*time.Second)
		for unit, v := range e.residentMiB(b) {
			b.ReportMetric(v, unit)
		}
	})
	b.Run("webhook-role", func(b *testing.B) { e.webhookRole(b, binary) })
	// Last: it pauses tenantgate.
	b.Run(fmt.Sprintf("change-floor=%d", changes), func(b *testing.B) {
		e.changeFloor(b, "b", large, changes, 90*time.Second)
	})
}

var largeScale = flag.Bool("bench.large", false, "20,000 routes over 100 namespaces and 2,000 tenants (no 1,000-route phase) instead of 5,000 over 50 and 1,000")

var scale = flag.Float64("bench.scale", 1, "multiplies the routes, tenants and changes of BenchmarkControlPlane; below 1 for a quick trial run")

func scaled(n int) int { return max(int(float64(n)**scale), 10) }

// env is the running cluster and how to reach its Gateway.
type env struct {
	s     *stack.Stack
	c     client.WithWatch
	kube  *rest.Config
	addr  string // the Gateway's address:80
	probe *http.Client
	// startRSS is the process's RSS once the cluster and the Gateway are up.
	startRSS float64
	// changeCPU is tenantgate's CPU milliseconds per route change, less
	// the probes, from the change phase.
	changeCPU float64
}

func newEnv(b *testing.B, s *stack.Stack) *env {
	ctx := context.Background()
	// client-go's default of 5 requests/s would measure the client, not the cluster.
	cfg := rest.CopyConfig(s.Cluster.Admin)
	cfg.QPS, cfg.Burst = 2000, 4000
	c, err := client.NewWithWatch(cfg, client.Options{Scheme: s.Client.Scheme()})
	if err != nil {
		b.Fatal(err)
	}
	for _, obj := range infrastructure() {
		if err := client.IgnoreAlreadyExists(c.Create(ctx, obj)); err != nil {
			b.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
		}
	}
	e := &env{s: s, c: c, kube: cfg, probe: &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true},
	}}
	stack.Eventually(b, time.Minute, "Gateway infra/bench Programmed with an address", func(ctx context.Context) (bool, string) {
		var gw gatewayv1.Gateway
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: gatewayNS, Name: gatewayName}, &gw); err != nil {
			return false, err.Error()
		}
		if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) || len(gw.Status.Addresses) == 0 {
			return false, fmt.Sprintf("status %+v", gw.Status)
		}
		e.addr = gw.Status.Addresses[0].Value + ":80"
		return true, ""
	})
	stack.Eventually(b, 3*time.Minute, "echo Deployment ready", func(ctx context.Context) (bool, string) {
		var d appsv1.Deployment
		if err := e.c.Get(ctx, types.NamespacedName{Namespace: echoNS, Name: "echo"}, &d); err != nil {
			return false, err.Error()
		}
		return d.Status.ReadyReplicas == 2, d.Status.String()
	})
	return e
}

// applyUntilServing creates n routes of set and reports how long applying
// took and how long after the last apply every route answered 200 through
// the proxy and showed Accepted. Each wait is bounded by within (from the
// last apply); what is still missing then is reported, not waited for.
func (e *env) applyUntilServing(b *testing.B, set string, n int, within time.Duration) {
	ctx := context.Background()
	accepted := e.watchAccepted(b, set, n)
	before := e.reconciles(b)
	start := time.Now()
	if err := parallel(n, 16, func(i int) error { return e.create(ctx, benchRoute(set, i, "")) }); err != nil {
		b.Fatal(err)
	}
	lastApply := time.Now()
	servedAt, notServing := e.waitServing(set, n, lastApply.Add(within))
	acceptedAt, notAccepted := accepted.wait(lastApply.Add(within))
	after := e.reconciles(b)
	b.ReportMetric(lastApply.Sub(start).Seconds(), "s-apply")
	b.ReportMetric(servedAt.Sub(lastApply).Seconds(), "s-serving")
	b.ReportMetric(float64(notServing), "routes-not-serving")
	b.ReportMetric(max(acceptedAt.Sub(lastApply).Seconds(), 0), "s-accepted")
	b.ReportMetric(float64(notAccepted), "routes-not-accepted")
	b.ReportMetric(after.total-before.total, "reconciles")
	b.ReportMetric(after.errors-before.errors, "reconcile-errors")
}

// waitServing probes every route of the set that has not answered 200 yet,
// sweep after sweep, until all have or deadline passes. It returns when the
// last one first did (the deadline if some never did) and how many never
// did. A route's time is that of the sweep that found it, so the figure is
// late by at most one sweep (a few hundred milliseconds with thousands
// pending).
func (e *env) waitServing(set string, n int, deadline time.Time) (time.Time, int) {
	pending := make([]int, n)
	for i := range pending {
		pending[i] = i
	}
	var last time.Time
	for len(pending) > 0 {
		if time.Now().After(deadline) {
			return deadline, len(pending)
		}
		ok := make([]bool, len(pending))
		_ = parallel(len(pending), 16, func(k int) error {
			status, _ := e.get(routeHost(set, pending[k]))
			ok[k] = status == http.StatusOK
			return nil
		})
		now, before := time.Now(), len(pending)
		var still []int
		for k, i := range pending {
			if !ok[k] {
				still = append(still, i)
			}
		}
		pending = still
		if len(pending) < before {
			last = now
		}
		if len(pending) == before {
			time.Sleep(50 * time.Millisecond)
		}
	}
	return last, 0
}

// reconcileCounts are tenantgate's gateway reconciles so far.
type reconcileCounts struct{ total, errors float64 }

func (e *env) reconciles(b *testing.B) reconcileCounts {
	s := e.scrape(b)
	return reconcileCounts{
		total:  s.counter(b, "controller_runtime_reconcile_total", map[string]string{"controller": "gateway"}),
		errors: s.counter(b, "controller_runtime_reconcile_total", map[string]string{"controller": "gateway", "result": "error"}),
	}
}

// metricsScrape is one read of tenantgate's metrics.
type metricsScrape []byte

func (e *env) scrape(b *testing.B) metricsScrape { return metricsScrape(e.tenantgateMetrics(b)) }

// reconcileTime is controller-runtime's histogram of the gateway
// controller's reconcile durations.
func (s metricsScrape) reconcileTime(b *testing.B) Histogram {
	h, err := ParseHistogram(bytes.NewReader(s), "controller_runtime_reconcile_time_seconds", map[string]string{"controller": "gateway"})
	if err != nil {
		b.Fatal(err)
	}
	return h
}

// buildRoutes is how many routes tenantgate's builds did the work named.
func (s metricsScrape) buildRoutes(b *testing.B, work string) float64 {
	return s.counter(b, "tenantgate_gateway_build_routes_total", map[string]string{"work": work})
}

// counter is the sum of the counters of family with the labels.
func (s metricsScrape) counter(b *testing.B, family string, labels map[string]string) float64 {
	v, err := ParseCounter(bytes.NewReader(s), family, labels)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

// collect makes tenantgate collect its garbage now (a heap profile with
// gc=1), so what came before is not charged to what the caller measures next.
func (e *env) collect(b *testing.B) { _ = e.pprof(b, "heap?gc=1") }

func (e *env) tenantgateMetrics(b *testing.B) []byte { return scrapeMetrics(b, e.s.MetricsURL) }

// scrapeMetrics is the Prometheus text a process serves at url.
func scrapeMetrics(b *testing.B, url string) []byte {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// get sends GET / for host through the Gateway and returns the status and
// the change header.
func (e *env) get(host string) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+e.addr+"/", nil)
	req.Host = host
	resp, err := e.probe.Do(req)
	if err != nil {
		return 0, ""
	}
	_, _ = ioDiscard(resp)
	return resp.StatusCode, resp.Header.Get(changeHeader)
}

// changes patches count routes of the set one after another, each to set a
// new response header, and reports how long until the proxy sent it. A
// change not on the wire within 30 s counts as 30 s; the phase stops after
// budget and reports how many changes it made. Its CPU per change is
// tenantgate's CPU from a collection just before the first change (so the
// garbage of earlier phases and of the bench's scrape is not charged to
// it) to the last change on the wire, everything the process did included:
// admission, builds, status writes, the probes it proxied.
func (e *env) changes(b *testing.B, set string, n, count int, budget time.Duration) {
	ctx := context.Background()
	var wire, api, floor []time.Duration
	floorMissed, probes := 0, 0
	watcher := e.watchFloor(b, set, nil)
	// A scrape costs tenantgate CPU and garbage (thousands of series): one,
	// then a collection, before the CPU reading.
	before := e.scrape(b)
	e.collect(b)
	cpuBefore := e.cpuSeconds(b)
	phaseEnd := time.Now().Add(budget)
	for k := 0; k < count && time.Now().Before(phaseEnd); k++ {
		i := k * 997 % n // spread over namespaces and the table
		value := "c" + strconv.Itoa(k)
		route := benchRoute(set, i, value)
		start := time.Now()
		if err := e.patchRules(ctx, route); err != nil {
			b.Fatalf("changing route %s/%s: %v", route.Namespace, route.Name, err)
		}
		api = append(api, time.Since(start))
		for {
			probes++
			if _, got := e.get(routeHost(set, i)); got == value || time.Since(start) > 30*time.Second {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		wire = append(wire, time.Since(start))
		if at, ok := watcher.at(value, start.Add(30*time.Second)); ok {
			floor = append(floor, at.Sub(start))
		} else {
			floorMissed++
		}
	}
	cpu := e.cpuSeconds(b) - cpuBefore
	after := e.scrape(b)
	reconcile := after.reconcileTime(b).Since(before.reconcileTime(b))
	// Every build has all n routes; those neither skipped nor replayed had their attachment computed again.
	since := func(work string) float64 { return after.buildRoutes(b, work) - before.buildRoutes(b, work) }
	replayed, translated, skipped := since("replayed"), since("translated"), since("skipped")
	builds := after.counter(b, "tenantgate_gateway_rebuilds_total", nil) - before.counter(b, "tenantgate_gateway_rebuilds_total", nil)
	b.ReportMetric(ratio(builds*float64(n)-replayed-skipped, float64(len(wire))), "routes-attached-per-change")
	b.ReportMetric(ratio(since("walked"), float64(len(wire))), "routes-walked-per-change")
	b.ReportMetric(builds, "builds")
	// tenantgate's own writes (status, mostly), conflicts included.
	puts := map[string]string{"method": "PUT"}
	b.ReportMetric(ratio(after.counter(b, "rest_client_requests_total", puts)-before.counter(b, "rest_client_requests_total", puts), float64(len(wire))), "api-writes-per-change")
	// What tenantgate allocated per change: the collector's CPU follows it.
	allocated := after.counter(b, "go_memstats_alloc_bytes_total", nil) - before.counter(b, "go_memstats_alloc_bytes_total", nil)
	b.ReportMetric(ratio(allocated/(1<<20), float64(len(wire))), "MiB-allocated-per-change")
	b.ReportMetric(ratio(translated, float64(len(wire))), "routes-translated-per-change")
	slices.Sort(wire)
	slices.Sort(api)
	slices.Sort(floor)
	b.ReportMetric(ms(results.Percentile(floor, 0.5)), "ms-floor-p50")
	b.ReportMetric(ms(results.Percentile(floor, 0.99)), "ms-floor-p99")
	b.ReportMetric(float64(floorMissed), "floor-missed")
	b.ReportMetric(ratio(ms(results.Percentile(wire, 0.99)), ms(results.Percentile(floor, 0.99))), "x-wire-p99-over-floor-p99")
	b.ReportMetric(ratio(cpu*1000, float64(len(wire))), "ms-cpu-per-change")
	// The probes are the bench's, proxied by tenantgate: their CPU, measured
	// apart with no change under way, is not the control plane's.
	perProbe := e.probeCPU(b, set, n, 2000)
	b.ReportMetric(ratio(float64(probes), float64(len(wire))), "probes-per-change")
	b.ReportMetric(perProbe*1000, "ms-cpu-per-probe")
	e.changeCPU = ratio(cpu*1000-float64(probes)*perProbe*1000, float64(len(wire)))
	b.ReportMetric(e.changeCPU, "ms-cpu-per-change-less-probes")
	b.ReportMetric(reconcile.Quantile(0.5)*1000, "ms-reconcile-p50")
	b.ReportMetric(reconcile.Quantile(0.99)*1000, "ms-reconcile-p99")
	b.ReportMetric(reconcile.Count, "reconciles")
	b.ReportMetric(float64(len(wire)), "changes")
	b.ReportMetric(ms(results.Percentile(wire, 0.5)), "ms-wire-p50")
	b.ReportMetric(ms(results.Percentile(wire, 0.99)), "ms-wire-p99")
	b.ReportMetric(ms(results.Percentile(wire, 1)), "ms-wire-max")
	b.ReportMetric(ms(results.Percentile(api, 0.5)), "ms-apply-p50")
}

// probeCPU is tenantgate's CPU seconds per probe of the routes of set,
// count probes one after another after a second's quiet (the last
// change's status writes), with no change under way.
func (e *env) probeCPU(b *testing.B, set string, n, count int) float64 {
	time.Sleep(time.Second)
	before := e.cpuSeconds(b)
	for k := range count {
		if code, _ := e.get(routeHost(set, k*997%n)); code != http.StatusOK {
			b.Fatalf("probing route %d of set %s: status %d", k*997%n, set, code)
		}
	}
	return ratio(e.cpuSeconds(b)-before, float64(count))
}

// adds creates count routes of a new set one after another among the
// routes there are, and reports how long until each answered on the wire
// and how many routes tenantgate's builds walked for it: a new route makes
// the Gateway's attachedRoutes change, and that status write must not
// make the next build walk every route.
func (e *env) adds(b *testing.B, set string, count int, budget time.Duration) {
	ctx := context.Background()
	var wire []time.Duration
	before := e.scrape(b)
	e.collect(b)
	cpuBefore := e.cpuSeconds(b)
	phaseEnd := time.Now().Add(budget)
	for i := 0; i < count && time.Now().Before(phaseEnd); i++ {
		start := time.Now()
		if err := e.create(ctx, benchRoute(set, i, "")); err != nil {
			b.Fatalf("creating route %d of set %s: %v", i, set, err)
		}
		for {
			if code, _ := e.get(routeHost(set, i)); code == http.StatusOK || time.Since(start) > 30*time.Second {
				break
			}
			time.Sleep(2 * time.Millisecond)
		}
		wire = append(wire, time.Since(start))
	}
	time.Sleep(time.Second) // the last status writes and the builds they cause
	cpu := e.cpuSeconds(b) - cpuBefore
	after := e.scrape(b)
	walked := after.buildRoutes(b, "walked") - before.buildRoutes(b, "walked")
	builds := after.counter(b, "tenantgate_gateway_rebuilds_total", nil) - before.counter(b, "tenantgate_gateway_rebuilds_total", nil)
	slices.Sort(wire)
	b.ReportMetric(ms(results.Percentile(wire, 0.5)), "ms-wire-p50")
	b.ReportMetric(ms(results.Percentile(wire, 0.99)), "ms-wire-p99")
	b.ReportMetric(ratio(cpu*1000, float64(len(wire))), "ms-cpu-per-add")
	b.ReportMetric(ratio(walked, float64(len(wire))), "routes-walked-per-add")
	b.ReportMetric(builds, "builds")
	b.ReportMetric(float64(len(wire)), "adds")
}

func ms(d time.Duration) float64 { return results.Milliseconds(d) }
