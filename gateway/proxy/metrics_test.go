package proxy

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/go-logr/logr/funcr"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

func TestMetricsAndAccessLog(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	accessLog := funcr.New(func(prefix, args string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, args)
	}, funcr.Options{})
	registry := prometheus.NewRegistry()
	b := startBackend(t, "apples")
	tenantOf := func(ns string) string { return map[string]string{"apples": "fruit"}[ns] }
	g := startGateway(t, Options{Registerer: registry, AccessLog: accessLog, TenantOf: tenantOf},
		simpleRoute("shop", "/shop", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}),
		simpleRoute("gone", "/gone", routetable.Rule{Backends: []routetable.Backend{{Name: "apples/gone:80", Weight: 1}}}))
	for range 3 {
		resp, err := g.client.Post(g.url("/shop"), "text/plain", strings.NewReader("twelve bytes"))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	get(t, g.client, g.url("/nowhere"), "example.com")
	get(t, g.client, g.url("/gone"), "example.com")

	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		family string
		labels string
		want   uint64
	}{
		{"tenantgate_proxy_requests_total", "code=2xx listener=infra/gw/http namespace=apples route=shop tenant=fruit", 3},
		{"tenantgate_proxy_requests_total", "code=4xx listener=infra/gw/http namespace= route= tenant=", 1},
		{"tenantgate_proxy_requests_total", "code=5xx listener=infra/gw/http namespace=apples route=gone tenant=fruit", 1},
		{"tenantgate_proxy_request_duration_seconds", "namespace=apples route=shop tenant=fruit", 3},
		{"tenantgate_proxy_request_duration_seconds", "namespace= route= tenant=", 1},
		{"tenantgate_proxy_upstream_errors_total", "namespace=apples reason=no_endpoint route=gone tenant=fruit", 1},
	}
	for _, tc := range cases {
		if got := sampleCount(families, tc.family, tc.labels); got != tc.want {
			t.Errorf("%s{%s} counted %d, want %d", tc.family, tc.labels, got, tc.want)
		}
	}
	// The backend echoes the 12-byte bodies.
	for _, family := range []string{"tenantgate_proxy_request_bytes_total", "tenantgate_proxy_response_bytes_total"} {
		if got := sampleCount(families, family, "namespace=apples route=shop tenant=fruit"); got != 36 {
			t.Errorf("%s{apples/shop} = %d, want 36", family, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 5 {
		t.Fatalf("access log has %d lines, want 5", len(lines))
	}
	for _, want := range []string{`"path"="/shop"`, `"status"=200`, `"route"="apples/shop"`, `"backend"="apples/apples:80"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("access log line %s lacks %s", lines[0], want)
		}
	}
	if !strings.Contains(lines[3], `"status"=404`) {
		t.Errorf("access log line %s lacks the 404", lines[3])
	}
}

// TestMetricsCardinalityIsBounded: past MetricsRoutes routes, traffic is
// counted under route _overflow, so a tenant creating routes cannot grow
// the series without bound; a route leaving the table takes its series
// with it and frees its place.
func TestMetricsCardinalityIsBounded(t *testing.T) {
	registry := prometheus.NewRegistry()
	b := startBackend(t, "apples")
	rule := routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}
	routes := []*routetable.Route{simpleRoute("r1", "/r1", rule), simpleRoute("r2", "/r2", rule), simpleRoute("r3", "/r3", rule)}
	g := startGateway(t, Options{Registerer: registry, MetricsRoutes: 2}, routes...)
	for _, path := range []string{"/r1", "/r2", "/r3", "/r3"} {
		get(t, g.client, g.url(path), "example.com")
	}
	count := func(labels string) uint64 {
		t.Helper()
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return sampleCount(families, "tenantgate_proxy_request_duration_seconds", labels)
	}
	for labels, want := range map[string]uint64{
		"namespace=apples route=r1 tenant=": 1, "namespace=apples route=r2 tenant=": 1,
		"namespace=apples route=r3 tenant=": 0, "namespace=apples route=_overflow tenant=": 2,
	} {
		if got := count(labels); got != want {
			t.Errorf("{%s} counted %d, want %d", labels, got, want)
		}
	}
	g.apply(t, routes[1:]...) // r1 leaves
	if got := count("namespace=apples route=r1 tenant="); got != 0 {
		t.Errorf("r1 left the table but its series remains (%d)", got)
	}
	get(t, g.client, g.url("/r3"), "example.com")
	if got := count("namespace=apples route=r3 tenant="); got != 1 {
		t.Errorf("r3 did not take r1's place: its own series counted %d, want 1", got)
	}

	off := prometheus.NewRegistry()
	g2 := startGateway(t, Options{Registerer: off, MetricsRoutes: -1}, routes...)
	get(t, g2.client, g2.url("/r1"), "example.com")
	families, err := off.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if got := sampleCount(families, "tenantgate_proxy_request_duration_seconds", "namespace=apples route= tenant="); got != 1 {
		t.Errorf("with route labels off, {namespace=apples route=} counted %d, want 1", got)
	}
}

// sampleCount finds the series of family with labels ("k=v k=v", sorted)
// and returns its counter value or histogram count.
func sampleCount(families []*dto.MetricFamily, family, labels string) uint64 {
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			var pairs []string
			for _, l := range m.GetLabel() {
				pairs = append(pairs, l.GetName()+"="+l.GetValue())
			}
			if strings.Join(pairs, " ") != labels {
				continue
			}
			if m.GetHistogram() != nil {
				return m.GetHistogram().GetSampleCount()
			}
			return uint64(m.GetCounter().GetValue())
		}
	}
	return 0
}

// TestMetricsStayBoundedUnder10000Routes: 10,000 routes of two tenants each
// see traffic; the series stay within the bound (1,000 named routes, the
// overflow series and the listener's own), and the two tenants' traffic
// stays apart.
func TestMetricsStayBoundedUnder10000Routes(t *testing.T) {
	registry := prometheus.NewRegistry()
	b := startBackend(t, "apples")
	rule := routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}
	const n = 10_000
	routes := make([]*routetable.Route, n)
	for i := range routes {
		routes[i] = simpleRoute(fmt.Sprintf("r%d", i), fmt.Sprintf("/r%d/", i), rule)
		if i%2 == 1 {
			routes[i].Namespace = "bananas"
		}
	}
	tenantOf := func(ns string) string { return ns + "-team" }
	g := startGateway(t, Options{Registerer: registry, TenantOf: tenantOf}, routes...)
	for i := range n {
		resp, err := g.client.Get(g.url(fmt.Sprintf("/r%d/", i)))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("route r%d answered %d", i, resp.StatusCode)
		}
	}
	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	byTenant := map[string]uint64{}
	for _, f := range families {
		if f.GetName() != "tenantgate_proxy_request_duration_seconds" {
			continue
		}
		if got := len(f.GetMetric()); got > 1000+2 {
			t.Errorf("%d duration series for %d routes; want at most 1,000 named routes and one overflow series per tenant", got, n)
		}
		t.Logf("tenantgate_proxy_request_duration_seconds: %d series for %d routes with traffic", len(f.GetMetric()), n)
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "tenant" {
					byTenant[l.GetValue()] += m.GetHistogram().GetSampleCount()
				}
			}
		}
	}
	if byTenant["apples-team"] != n/2 || byTenant["bananas-team"] != n/2 {
		t.Errorf("requests by tenant %v; want %d each", byTenant, n/2)
	}
}

// Counting a request on a rule whose series are resolved allocates nothing:
// it runs on every request.
func TestCountingARequestAllocatesNothing(t *testing.T) {
	rs := &ruleSeries{m: newMetrics(nil), listener: "infra/gw/http", labels: []string{"fruit", "apples", "shop"}}
	rs.requests(200).Inc()
	if allocs := testing.AllocsPerRun(100, func() { rs.requests(204).Inc() }); allocs != 0 {
		t.Errorf("counting a request allocates %v times", allocs)
	}
	if got := rs.requests(503); got == rs.requests(200) {
		t.Errorf("5xx and 2xx share a counter")
	}
}

// TestSeriesSurviveTableSwapsAndLeaveWithTheirRoute: a route's series are
// the same across table swaps (resolved once, counted on), and once the
// route leaves the table they are deleted, so its return counts afresh in
// series the registry holds, not in ones it dropped.
func TestSeriesSurviveTableSwapsAndLeaveWithTheirRoute(t *testing.T) {
	registry := prometheus.NewRegistry()
	b := startBackend(t, "apples")
	rule := routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}
	r1, r2 := simpleRoute("r1", "/r1", rule), simpleRoute("r2", "/r2", rule)
	g := startGateway(t, Options{Registerer: registry}, r1, r2)
	count := func() uint64 {
		t.Helper()
		families, err := registry.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return sampleCount(families, "tenantgate_proxy_request_duration_seconds", "namespace=apples route=r1 tenant=")
	}
	resolved := func() *ruleSeries {
		t.Helper()
		g.server.resolved.mu.Lock()
		defer g.server.resolved.mu.Unlock()
		for l, rs := range g.server.resolved.byLabel {
			if l.route == "r1" {
				return rs
			}
		}
		return nil
	}
	get(t, g.client, g.url("/r1"), "example.com")
	first := resolved()
	if first == nil {
		t.Fatal("r1's series were not resolved by its request")
	}
	g.apply(t, simpleRoute("r1", "/r1", rule), r2) // r1 recompiled: a new rule, the same labels
	get(t, g.client, g.url("/r1"), "example.com")
	if got := count(); got != 2 {
		t.Fatalf("r1 counted %d across a table swap, want 2", got)
	}
	if resolved() != first {
		t.Error("a table swap resolved the same labels' series again")
	}
	g.apply(t, r2) // r1 leaves
	if got := count(); got != 0 {
		t.Fatalf("r1 left the table but its series counts %d", got)
	}
	g.apply(t, r1, r2) // and comes back
	get(t, g.client, g.url("/r1"), "example.com")
	if got := count(); got != 1 {
		t.Fatalf("r1, back, counted %d in the registry; want 1 (its old series were deleted)", got)
	}
}
