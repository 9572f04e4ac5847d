package e2e

import (
	"testing"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// counter reads one series of a counter from tenantgate's metrics; 0 when
// the series does not exist.
func counter(t *testing.T, url, name string, labels map[string]string) float64 {
	t.Helper()
	for _, m := range stack.Metrics(t, url)[name].GetMetric() {
		matched := 0
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; ok && v == l.GetValue() {
				matched++
			}
		}
		if matched == len(labels) {
			return m.GetCounter().GetValue()
		}
	}
	return 0
}
