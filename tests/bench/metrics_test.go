package bench

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// apiserver is a trimmed scrape of kube-apiserver's admission webhook histogram.
const apiserver = `# HELP apiserver_admission_webhook_admission_duration_seconds [STABLE] Admission webhook latency
# TYPE apiserver_admission_webhook_admission_duration_seconds histogram
apiserver_admission_webhook_admission_duration_seconds_bucket{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.005"} %d
apiserver_admission_webhook_admission_duration_seconds_bucket{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.025"} %d
apiserver_admission_webhook_admission_duration_seconds_bucket{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.1"} %d
apiserver_admission_webhook_admission_duration_seconds_bucket{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="+Inf"} %d
apiserver_admission_webhook_admission_duration_seconds_sum{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating"} %g
apiserver_admission_webhook_admission_duration_seconds_count{name="httproutes.tenantgate.dev",operation="UPDATE",rejected="false",type="validating"} %d
apiserver_admission_webhook_admission_duration_seconds_bucket{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.005"} 1000
apiserver_admission_webhook_admission_duration_seconds_bucket{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.025"} 1000
apiserver_admission_webhook_admission_duration_seconds_bucket{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="0.1"} 1000
apiserver_admission_webhook_admission_duration_seconds_bucket{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating",le="+Inf"} 1000
apiserver_admission_webhook_admission_duration_seconds_sum{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating"} 1
apiserver_admission_webhook_admission_duration_seconds_count{name="tenants.tenantgate.dev",operation="UPDATE",rejected="false",type="validating"} 1000
`

func scrape(t *testing.T, le5, le25, le100, all int, sum float64) Histogram {
	t.Helper()
	text := fmt.Sprintf(apiserver, le5, le25, le100, all, sum, all)
	h, err := ParseHistogram(strings.NewReader(text), "apiserver_admission_webhook_admission_duration_seconds",
		map[string]string{"name": "httproutes.tenantgate.dev", "operation": "UPDATE"})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHistogramDelta(t *testing.T) {
	before := scrape(t, 10, 10, 10, 10, 0.01)
	after := scrape(t, 1000, 1090, 1100, 1110, 2)
	d := after.Since(before)
	if d.Count != 1100 || d.Counts[0] != 990 {
		t.Fatalf("delta = %+v, want 1100 observations, 990 at or below 5ms (the tenants series must not count)", d)
	}
	for _, tc := range []struct {
		name string
		got  float64
		want float64
	}{
		{"p50 inside the first bucket interpolates from 0", d.Quantile(0.5), 0.005 * 550 / 990},
		{"p99 inside the third bucket", d.Quantile(0.99), 0.025 + (0.1-0.025)*(1089-1080)/10},
		{"above the last finite bound is that bound", d.Quantile(0.999), 0.1},
		{"share at or below 5 ms", d.AtOrBelow(0.005), 990.0 / 1100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if math.Abs(tc.got-tc.want) > 1e-9 {
				t.Errorf("got %v, want %v", tc.got, tc.want)
			}
		})
	}
	if !math.IsNaN(d.AtOrBelow(0.007)) {
		t.Error("a bound that is not a bucket bound gave a share")
	}
}

func TestParseHistogramOfAnAbsentFamilyIsEmpty(t *testing.T) {
	h, err := ParseHistogram(strings.NewReader("# TYPE up gauge\nup 1\n"), "apiserver_admission_webhook_admission_duration_seconds", nil)
	if err != nil || h.Count != 0 || !math.IsNaN(h.Quantile(0.99)) {
		t.Errorf("ParseHistogram = %+v, %v; want empty and no error", h, err)
	}
	if _, err := ParseHistogram(strings.NewReader("# TYPE up gauge\nup 1\n"), "up", nil); err == nil {
		t.Error("a gauge parsed as a histogram")
	}
}

func TestParseCounter(t *testing.T) {
	text := `# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="gateway",result="error"} 7
controller_runtime_reconcile_total{controller="gateway",result="success"} 40
controller_runtime_reconcile_total{controller="other",result="error"} 100
`
	for _, tc := range []struct {
		name  string
		match map[string]string
		want  float64
	}{
		{"one series", map[string]string{"controller": "gateway", "result": "error"}, 7},
		{"summed over results", map[string]string{"controller": "gateway"}, 47},
		{"no match", map[string]string{"controller": "none"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCounter(strings.NewReader(text), "controller_runtime_reconcile_total", tc.match)
			if err != nil || got != tc.want {
				t.Errorf("ParseCounter = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseGauge(t *testing.T) {
	text := "# TYPE go_memstats_heap_inuse_bytes gauge\ngo_memstats_heap_inuse_bytes 1.048576e+07\n# TYPE up counter\nup 1\n"
	if got, err := ParseGauge(strings.NewReader(text), "go_memstats_heap_inuse_bytes", nil); err != nil || got != 10485760 {
		t.Errorf("ParseGauge = %v, %v; want 10485760", got, err)
	}
	if _, err := ParseGauge(strings.NewReader(text), "up", nil); err == nil {
		t.Error("a counter parsed as a gauge")
	}
}
