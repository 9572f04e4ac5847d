package integration

import (
	"fmt"
	"maps"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// testMetrics applies objects the webhook allows, warns about and denies,
// and checks tenantgate's metrics endpoint counted exactly those decisions.
func (h *harness) testMetrics(t *testing.T) {
	before := scrape(t, h.s.MetricsURL)
	for _, tc := range []struct {
		name string
		obj  client.Object
		want want
	}{
		{"allowed route", route("kiwis", named("metrics-allowed"), parent("infra", "market", "wild"), hosts("kiwis.example.com")), want{}},
		{"warned route", route("melons", named("metrics-warned"), parent("infra", "market", "wild"), hosts("kiwis.example.com")),
			warned(`spec.hostnames[0]: "kiwis.example.com" belongs to tenant "kiwis", not tenant "melons"; use a hostname listed in Tenant melons spec.hostnames`)},
		{"denied route", route("kiwis", named("metrics-denied"), parent("infra", "market", "wild"), hosts("limes.example.com")),
			denied(`spec.hostnames[0]: "limes.example.com" belongs to tenant "limes", not tenant "kiwis"; use a hostname listed in Tenant kiwis spec.hostnames`)},
		{"denied grant", func() client.Object {
			g := grant("kiwis", from("HTTPRoute", "rogue"), to("Service", "kiwi-echo"))
			g.Name = "metrics-denied"
			return g
		}(), denied(`spec.from[0].namespace: "rogue" may not be trusted by ReferenceGrants of tenant "kiwis" (allowed: infra); grant from an allowed namespace or add it to Tenant kiwis spec.referenceGrants.allowFromNamespaces`)},
		{"allowed tenant", tenant("figs", owns("figs.example.com")), want{}},
	} {
		// One apply each, no dry runs: every webhook call here is counted.
		out, err := h.s.Kubectl(manifest(t, tc.obj), "apply", "-f", "-")
		if len(tc.want.denied) == 0 && err == nil {
			t.Cleanup(func() { h.delete(t, tc.obj) })
		}
		if wantOut := applyOutput(tc.obj, tc.want, false); out != wantOut {
			t.Errorf("%s: kubectl apply printed:\n%s\nwant:\n%s", tc.name, out, wantOut)
		}
	}
	after := scrape(t, h.s.MetricsURL)

	wantMoved := map[string]float64{
		`tenantgate_admission_decisions_total{kind="HTTPRoute",operation="create",result="allowed",tenant="kiwis"}`:     1,
		`tenantgate_admission_decisions_total{kind="HTTPRoute",operation="create",result="warned",tenant="melons"}`:     1,
		`tenantgate_admission_decisions_total{kind="HTTPRoute",operation="create",result="denied",tenant="kiwis"}`:      1,
		`tenantgate_admission_decisions_total{kind="ReferenceGrant",operation="create",result="denied",tenant="kiwis"}`: 1,
		`tenantgate_admission_decisions_total{kind="Tenant",operation="create",result="allowed",tenant="figs"}`:         1,
		`tenantgate_admission_duration_seconds_count{kind="HTTPRoute"}`:                                                 3,
		`tenantgate_admission_duration_seconds_count{kind="ReferenceGrant"}`:                                            1,
		`tenantgate_admission_duration_seconds_count{kind="Tenant"}`:                                                    1,
	}
	moved := map[string]float64{}
	for series, v := range after {
		if !strings.HasPrefix(series, "tenantgate_admission_") {
			continue // the tenant gauges move with the audit, on its own time
		}
		if d := v - before[series]; d != 0 {
			moved[series] = d
		}
	}
	if !maps.Equal(moved, wantMoved) {
		t.Errorf("admission metrics moved by\n%v\nwant\n%v", moved, wantMoved)
	}
}

// scrape reads tenantgate's admission and tenant series: each decision
// counter, each latency histogram's sample count and the tenant gauges, by
// their text-format names.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	families := stack.Metrics(t, url)
	out := map[string]float64{}
	for _, name := range []string{"tenantgate_tenant_violations", "tenantgate_tenant_routes", "tenantgate_tenant_ready"} {
		for _, m := range families[name].GetMetric() {
			out[series(name, m.GetLabel())] = m.GetGauge().GetValue()
		}
	}
	for _, m := range families["tenantgate_admission_decisions_total"].GetMetric() {
		out[series("tenantgate_admission_decisions_total", m.GetLabel())] = m.GetCounter().GetValue()
	}
	for _, m := range families["tenantgate_admission_duration_seconds"].GetMetric() {
		out[series("tenantgate_admission_duration_seconds_count", m.GetLabel())] = float64(m.GetHistogram().GetSampleCount())
	}
	return out
}

// series names a sample as the text format does, labels in their order.
func series(name string, labels []*dto.LabelPair) string {
	s := name + "{"
	for i, l := range labels {
		if i > 0 {
			s += ","
		}
		s += fmt.Sprintf("%s=%q", l.GetName(), l.GetValue())
	}
	return s + "}"
}
