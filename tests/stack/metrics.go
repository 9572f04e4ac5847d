package stack

import (
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// ReadMetrics reads a Prometheus text endpoint (tenantgate's /metrics) into
// its metric families, by name.
func ReadMetrics(url string) (map[string]*dto.MetricFamily, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	return parser.TextToMetricFamilies(resp.Body)
}

// Metrics is ReadMetrics that fails the test on an error.
func Metrics(t testing.TB, url string) map[string]*dto.MetricFamily {
	t.Helper()
	families, err := ReadMetrics(url)
	if err != nil {
		t.Fatalf("reading %s: %v", url, err)
	}
	return families
}

// Sum adds the samples of a counter or gauge family whose labels include
// every pair in labels; 0 when there is none.
func Sum(f *dto.MetricFamily, labels map[string]string) float64 {
	var sum float64
	for _, m := range f.GetMetric() {
		if HasLabels(m, labels) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}

// HasLabels reports whether m carries every pair in want.
func HasLabels(m *dto.Metric, want map[string]string) bool {
	for k, v := range want {
		if !slices.ContainsFunc(m.GetLabel(), func(l *dto.LabelPair) bool { return l.GetName() == k && l.GetValue() == v }) {
			return false
		}
	}
	return true
}
