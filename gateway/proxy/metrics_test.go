package proxy

import (
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
	g := startGateway(t, Options{Registerer: registry, AccessLog: accessLog},
		simpleRoute("shop", "/shop", routetable.Rule{Backends: []routetable.Backend{b.ref(t, 1)}}))
	for range 3 {
		get(t, g.client, g.url("/shop"), "example.com")
	}
	get(t, g.client, g.url("/nowhere"), "example.com")

	families, err := registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		family string
		labels string
		want   uint64
	}{
		{"tenantgate_proxy_requests_total", "backend=apples/apples:80 code=2xx listener=infra/gw/http route=apples/shop", 3},
		{"tenantgate_proxy_requests_total", "backend= code=4xx listener=infra/gw/http route=", 1},
		{"tenantgate_proxy_request_duration_seconds", "route=apples/shop", 3},
		{"tenantgate_proxy_request_duration_seconds", "route=", 1},
	}
	for _, tc := range cases {
		if got := sampleCount(families, tc.family, tc.labels); got != tc.want {
			t.Errorf("%s{%s} counted %d, want %d", tc.family, tc.labels, got, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 4 {
		t.Fatalf("access log has %d lines, want 4", len(lines))
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
