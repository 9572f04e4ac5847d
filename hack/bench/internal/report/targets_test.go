package report

import (
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// closedRuns is one HTTP small-body cell at 64 connections per target.
func closedRuns(rps map[string]float64) *results.DataPlane {
	dp := &results.DataPlane{Settings: results.Settings{Conns: []int{64}, Duration: time.Second}}
	for t, v := range rps {
		dp.Closed = append(dp.Closed, results.ClosedLoop{Target: t, Scheme: "http", Body: results.BodySmall, Conns: 64, RequestsPerSec: v})
	}
	return dp
}

func TestThroughputVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name             string
		rps              map[string]float64
		vsNginx, vsCaddy string
	}{
		{"at the bounds", map[string]float64{"tenantgate": 80, "nginx": 100, "caddy": 53.3}, met, met},
		{"just below both", map[string]float64{"tenantgate": 79, "nginx": 100, "caddy": 53}, notMet, notMet},
		{"no nginx", map[string]float64{"tenantgate": 80, "caddy": 10}, notMeasured, met},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Verdicts(results.Results{DataPlane: closedRuns(tc.rps)})
			if v[0].Status != tc.vsNginx || v[1].Status != tc.vsCaddy {
				t.Errorf("verdicts = %q, %q; want %q, %q", v[0].Status, v[1].Status, tc.vsNginx, tc.vsCaddy)
			}
		})
	}
}

func TestControlPlaneVerdicts(t *testing.T) {
	bench := func(name string, metrics map[string]float64) results.GoBench {
		return results.GoBench{Name: name, N: 1, Metrics: metrics}
	}
	for _, tc := range []struct {
		name  string
		cp    []results.GoBench
		apply string
		hook  string
		rss   string
	}{
		{"all within", []results.GoBench{
			bench(benchApply5000, map[string]float64{"s-serving": 2, "s-accepted": 4.9}),
			bench(benchWebhook, map[string]float64{"%-apiserver-within-5ms": 99.5, "admissions/s": 199}),
			bench(benchMemory, map[string]float64{"MiB-rss": 120}),
		}, met, met, met},
		{"routes left waiting fail the target even when the time looks short", []results.GoBench{
			bench(benchApply5000, map[string]float64{"s-serving": 2, "s-accepted": 3, "routes-not-accepted": 10}),
			bench(benchWebhook, map[string]float64{"%-apiserver-within-5ms": 99.5, "admissions/s": 20}),
			bench(benchMemory, map[string]float64{"MiB-rss": 300}),
		}, notMet, notMet, notMet},
		{"nothing ran", nil, notMeasured, notMeasured, notMeasured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := Verdicts(results.Results{ControlPlane: tc.cp})
			if v[3].Status != tc.apply || v[5].Status != tc.hook || v[6].Status != tc.rss {
				t.Errorf("apply, webhook, memory = %q, %q, %q; want %q, %q, %q", v[3].Status, v[5].Status, v[6].Status, tc.apply, tc.hook, tc.rss)
			}
		})
	}
}
