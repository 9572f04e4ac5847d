package tenancy

import (
	"github.com/tenantgate/tenantgate/tests/golden"

	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// goldenOut is what a golden scenario produces: the verdict on every route
// and grant of the snapshot, and every tenant's audit.
type goldenOut struct {
	HTTPRoutes      []objectVerdict `json:"httpRoutes,omitempty"`
	OtherRoutes     []objectVerdict `json:"otherRoutes,omitempty"`
	ListenerSets    []objectVerdict `json:"listenerSets,omitempty"`
	ReferenceGrants []objectVerdict `json:"referenceGrants,omitempty"`
	Tenants         []tenantAudit   `json:"tenants,omitempty"`
}

type objectVerdict struct {
	Object      string   `json:"object"`
	Tenant      string   `json:"tenant,omitempty"`
	Enforcement string   `json:"enforcement"`
	Denied      bool     `json:"denied"`
	Violations  []string `json:"violations,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
}

type tenantAudit struct {
	Name               string                     `json:"name"`
	Denied             bool                       `json:"denied"` // CheckTenant on the tenant as it is
	Namespaces         []string                   `json:"namespaces,omitempty"`
	Conditions         []string                   `json:"conditions"`
	HostnameConflicts  []string                   `json:"hostnameConflicts,omitempty"`
	NamespaceConflicts []string                   `json:"namespaceConflicts,omitempty"`
	Violations         []v1alpha1.TenantViolation `json:"violations,omitempty"`
}

func verdictOf(object string, v Verdict) objectVerdict {
	return objectVerdict{Object: object, Tenant: v.Tenant, Enforcement: string(v.Enforcement),
		Denied: v.Denied(), Violations: v.Messages(), Warnings: v.Warnings}
}

func runScenario(s Inputs) goldenOut {
	p := NewPolicy(s)
	var out goldenOut
	for i := range s.HTTPRoutes {
		r := s.HTTPRoutes[i]
		out.HTTPRoutes = append(out.HTTPRoutes, verdictOf(r.Namespace+"/"+r.Name, p.CheckHTTPRoute(r)))
	}
	for _, r := range s.routeViews() {
		if r.kind != kindHTTPRoute {
			v, _ := p.checkRoute(r, true)
			out.OtherRoutes = append(out.OtherRoutes, verdictOf(r.kind+" "+r.namespace+"/"+r.name, v))
		}
	}
	for i := range s.ListenerSets {
		ls := &s.ListenerSets[i]
		out.ListenerSets = append(out.ListenerSets, verdictOf(ls.Namespace+"/"+ls.Name, p.CheckListenerSet(ls)))
	}
	for i := range s.ReferenceGrants {
		g := &s.ReferenceGrants[i]
		out.ReferenceGrants = append(out.ReferenceGrants, verdictOf(g.Namespace+"/"+g.Name, p.CheckReferenceGrant(g)))
	}
	for i := range s.Tenants {
		t := &s.Tenants[i]
		r := p.TenantStatus(t.Name)
		a := tenantAudit{Name: t.Name, Denied: p.CheckTenant(t).Denied(), Namespaces: r.Namespaces,
			HostnameConflicts: r.HostnameConflicts, NamespaceConflicts: r.NamespaceConflicts, Violations: r.Violations}
		for _, c := range r.Conditions(t.Generation) {
			a.Conditions = append(a.Conditions, c.Type+"="+string(c.Status)+"/"+c.Reason+": "+c.Message)
		}
		out.Tenants = append(out.Tenants, a)
	}
	return out
}

// TestGolden runs each testdata/golden/NAME.in.yaml snapshot and compares
// the verdicts and audits with NAME.out.yaml (rewrite with -update).
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/golden/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			var s Inputs
			readYAML(t, in, &s)
			got, err := yaml.Marshal(runScenario(s))
			if err != nil {
				t.Fatal(err)
			}
			outPath := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if golden.Updating() {
				golden.Check(t, outPath, got)
				return
			}
			var want goldenOut
			readYAML(t, outPath, &want) // strict: a stale field fails
			wantText, err := yaml.Marshal(want)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(wantText) {
				t.Errorf("%s differs (rerun with -update and review the diff):\n--- got\n%s\n--- want\n%s", outPath, got, wantText)
			}
		})
	}
}
