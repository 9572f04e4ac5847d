package audit

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

var (
	t0 = metav1.NewTime(time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC))
	t1 = metav1.NewTime(t0.Add(time.Hour))
)

const clash = `spec.hostnames[0]: "apples.example.com" overlaps "apples.example.com" of tenant "grapes"; tenants may share a hostname only when each owns disjoint pathPrefixes on it`

// conditions renders conditions as "Type=Status@hh:mm/gN", sorted, so a
// case states exactly which transitions moved.
func conditions(cs []metav1.Condition) []string {
	var out []string
	for _, c := range cs {
		out = append(out, fmt.Sprintf("%s=%s@%s/g%d", c.Type, c.Status, c.LastTransitionTime.UTC().Format("15:04"), c.ObservedGeneration))
	}
	slices.Sort(out)
	return out
}

func TestStatus(t *testing.T) {
	clean := tenancy.TenantReport{Namespaces: []string{"apples"}}
	conflicted := tenancy.TenantReport{Namespaces: []string{"apples"}, HostnameConflicts: []string{clash}}
	violation := v1alpha1.TenantViolation{Kind: "HTTPRoute", Namespace: "apples", Name: "r", Message: "spec.hostnames[0]: taken"}
	cleanAt0 := Status(v1alpha1.TenantStatus{}, clean, nil, 1, t0)
	conflictedAt0 := Status(v1alpha1.TenantStatus{}, conflicted, nil, 1, t0)
	withForeign := cleanAt0
	withForeign.Conditions = append(slices.Clone(cleanAt0.Conditions), metav1.Condition{Type: "Programmed", Status: metav1.ConditionTrue, LastTransitionTime: t0})
	for _, tc := range []struct {
		name       string
		current    v1alpha1.TenantStatus
		report     tenancy.TenantReport
		generation int64
		want       []string // conditions
		wantReady  string   // Ready's message, when it matters
	}{{
		name:   "a new tenant gets every condition stamped now",
		report: clean, generation: 1,
		want: []string{"HostnameConflict=False@10:00/g1", "NamespaceConflict=False@10:00/g1", "Ready=True@10:00/g1"},
	}, {
		name:    "an unchanged report keeps every transition time",
		current: cleanAt0, report: clean, generation: 1,
		want: []string{"HostnameConflict=False@09:00/g1", "NamespaceConflict=False@09:00/g1", "Ready=True@09:00/g1"},
	}, {
		name:    "a hostname conflict moves Ready and HostnameConflict only",
		current: cleanAt0, report: conflicted, generation: 1,
		want:      []string{"HostnameConflict=True@10:00/g1", "NamespaceConflict=False@09:00/g1", "Ready=False@10:00/g1"},
		wantReady: clash,
	}, {
		name:    "a changed message without a changed status keeps the time",
		current: conflictedAt0, report: tenancy.TenantReport{HostnameConflicts: []string{clash, clash}}, generation: 1,
		want:      []string{"HostnameConflict=True@09:00/g1", "NamespaceConflict=False@09:00/g1", "Ready=False@09:00/g1"},
		wantReady: clash + " (and 1 more)",
	}, {
		name:    "a new generation is recorded without a transition",
		current: cleanAt0, report: clean, generation: 2,
		want: []string{"HostnameConflict=False@09:00/g2", "NamespaceConflict=False@09:00/g2", "Ready=True@09:00/g2"},
	}, {
		name:    "a resolved conflict moves back",
		current: conflictedAt0, report: clean, generation: 1,
		want: []string{"HostnameConflict=False@10:00/g1", "NamespaceConflict=False@09:00/g1", "Ready=True@10:00/g1"},
	}, {
		name:    "conditions the audit does not produce are dropped",
		current: withForeign, report: clean, generation: 1,
		want: []string{"HostnameConflict=False@09:00/g1", "NamespaceConflict=False@09:00/g1", "Ready=True@09:00/g1"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			before := conditions(tc.current.Conditions)
			got := Status(tc.current, tc.report, nil, tc.generation, t1)
			if g := conditions(got.Conditions); !slices.Equal(g, tc.want) {
				t.Errorf("conditions = %q, want %q", g, tc.want)
			}
			if tc.wantReady != "" {
				for _, c := range got.Conditions {
					if c.Type == v1alpha1.ConditionReady && c.Message != tc.wantReady {
						t.Errorf("Ready message = %q, want %q", c.Message, tc.wantReady)
					}
				}
			}
			if after := conditions(tc.current.Conditions); !slices.Equal(before, after) {
				t.Errorf("Status modified the current conditions: %q -> %q", before, after)
			}
		})
	}

	t.Run("namespaces and violations are the report's", func(t *testing.T) {
		current := cleanAt0
		current.Namespaces = []string{"gone"}
		current.Violations = []v1alpha1.TenantViolation{{Kind: "HTTPRoute", Namespace: "gone", Name: "old", Message: "fixed since"}}
		got := Status(current, tenancy.TenantReport{Namespaces: []string{"apples", "apples-dev"}, Violations: []v1alpha1.TenantViolation{violation}}, nil, 1, t1)
		if !slices.Equal(got.Namespaces, []string{"apples", "apples-dev"}) || !slices.Equal(got.Violations, []v1alpha1.TenantViolation{violation}) {
			t.Errorf("namespaces %q, violations %+v; want the report's", got.Namespaces, got.Violations)
		}
	})
}

func TestStatusSummary(t *testing.T) {
	report := tenancy.TenantReport{
		Namespaces:      []string{"apples", "apples-dev", "apples-qa", "apples-staging", "apples-prod"},
		Hostnames:       []string{"apples.example.com", "*.apples.example.com"},
		TotalViolations: 140,
	}
	routes := []v1alpha1.TenantRouteCount{{Kind: "HTTPRoute", Served: 4, Refused: 1, Pending: 1}, {Kind: "GRPCRoute", Served: 2}}
	got := Status(v1alpha1.TenantStatus{}, report, routes, 1, t0).Summary
	want := v1alpha1.TenantSummary{
		Namespaces: "apples,apples-dev,apples-qa + 2 more...",
		Hostnames:  "apples.example.com,*.apples.example.com",
		Routes:     "6/8",
		Violations: 140,
	}
	if got != want {
		t.Errorf("summary %+v\nwant    %+v", got, want)
	}
	if s := Status(v1alpha1.TenantStatus{}, tenancy.TenantReport{}, nil, 1, t0).Summary; s != (v1alpha1.TenantSummary{}) {
		t.Errorf("an empty tenant's summary is %+v; want it empty", s)
	}
	long := make([]string, 3)
	for i := range long {
		long[i] = strings.Repeat("x", 400) + ".example.com"
	}
	if s := shortList(long, 1024); len(s) != 1024 || !strings.HasSuffix(s, "...") {
		t.Errorf("a list longer than the CRD allows is %d bytes ending %q; want 1024 ending ...", len(s), s[len(s)-5:])
	}
}
