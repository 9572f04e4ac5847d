package manifests

import (
	"fmt"
	"maps"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// permission is one verb on one resource of one API group.
type permission struct{ group, resource, verb string }

func (p permission) String() string {
	group := p.group
	if group == "" {
		group = "core"
	}
	return p.verb + " " + group + "/" + p.resource
}

// grant is some verbs on some resources of one API group.
type grant struct {
	group     string
	resources []string
	verbs     []string
}

var (
	read        = []string{"get", "list", "watch"}
	writeStatus = []string{"update", "patch"}
	// everyVerb is what RBAC can grant on a resource; what tenantgate does
	// not use must be denied.
	everyVerb = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// usedClusterWide is every permission tenantgate needs in every namespace.
// Keep it in step with what the code does, not with the markers in
// cmd/tenantgate/app/rbac.go: the test compares the two.
var usedClusterWide = []grant{
	// gateway/controller watches these; the policy cache reads Gateways,
	// ListenerSets, every route kind and ReferenceGrants (v1beta1 is the same resource).
	{"gateway.networking.k8s.io", []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants", "listenersets", "backendtlspolicies"}, read},
	// The elected leader writes the status of what it owns.
	{"gateway.networking.k8s.io", []string{"gatewayclasses/status", "gateways/status", "httproutes/status", "listenersets/status", "backendtlspolicies/status"}, writeStatus},
	// Backends, listener certificates, CA bundles (ConfigMaps), namespace labels (allowedRoutes, tenant membership).
	{"", []string{"services", "secrets", "configmaps", "namespaces"}, read},
	{"discovery.k8s.io", []string{"endpointslices"}, read},
	// The leader's Warning Events on objects it could not program, in their namespaces.
	{"events.k8s.io", []string{"events"}, []string{"create", "patch"}},
	// Tenants are the policy; their status reports the audit.
	{"tenancy.tenantgate.dev", []string{"tenants"}, read},
	{"tenancy.tenantgate.dev", []string{"tenants/status"}, writeStatus},
}

// usedInOwnNamespace is leader election: the Lease and the events it records.
var usedInOwnNamespace = []grant{
	{"coordination.k8s.io", []string{"leases"}, []string{"get", "create", "update"}},
	{"", []string{"events"}, []string{"create", "patch"}},
}

func expand(grants []grant) map[permission]bool {
	out := map[permission]bool{}
	for _, g := range grants {
		for _, r := range g.resources {
			for _, v := range g.verbs {
				out[permission{g.group, r, v}] = true
			}
		}
	}
	return out
}

// denied is every verb on the resources tenantgate touches that it does not use.
func denied(grants []grant) []permission {
	used := expand(grants)
	var out []permission
	for _, g := range grants {
		for _, r := range g.resources {
			for _, v := range everyVerb {
				if p := (permission{g.group, r, v}); !used[p] {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// expandRules lists what RBAC rules allow, and the rule shapes this test
// refuses to reason about (wildcards, resource names, non-resource URLs).
func expandRules(rules []rbacv1.PolicyRule) (map[permission]bool, []string) {
	out := map[permission]bool{}
	var problems []string
	for i, r := range rules {
		if len(r.ResourceNames) > 0 || len(r.NonResourceURLs) > 0 {
			problems = append(problems, fmt.Sprintf("rule %d uses resourceNames or nonResourceURLs", i))
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					if g == rbacv1.APIGroupAll || res == rbacv1.ResourceAll || v == rbacv1.VerbAll {
						problems = append(problems, fmt.Sprintf("rule %d grants a wildcard (%q %q %q)", i, g, res, v))
					}
					out[permission{g, res, v}] = true
				}
			}
		}
	}
	return out, problems
}

// diff returns the sorted permissions in a but not in b.
func diff(a, b map[permission]bool) []string {
	var out []string
	for p := range a {
		if !b[p] {
			out = append(out, p.String())
		}
	}
	slices.Sort(out)
	return out
}

func isClusterRBAC(o client.Object) bool {
	switch o.(type) {
	case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding:
		return true
	}
	return false
}

func TestRBAC(t *testing.T) {
	objs := loadDefault(t)
	for _, tc := range []struct {
		name  string
		rules []rbacv1.PolicyRule
		want  []grant
	}{
		{"ClusterRole", one[*rbacv1.ClusterRole](t, objs, "tenantgate").Rules, usedClusterWide},
		{"Role in tenantgate-system", one[*rbacv1.Role](t, objs, "tenantgate").Rules, usedInOwnNamespace},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := expandRules(tc.rules)
			for _, p := range problems {
				t.Error(p)
			}
			want := expand(tc.want)
			if missing := diff(want, got); len(missing) > 0 {
				t.Errorf("tenantgate uses but is not granted: %v (add a +kubebuilder:rbac marker and run make manifests)", missing)
			}
			if extra := diff(got, want); len(extra) > 0 {
				t.Errorf("granted beyond what tenantgate uses: %v", extra)
			}
		})
	}

	t.Run("one role of each kind, bound to tenantgate's ServiceAccount", func(t *testing.T) {
		sa := one[*corev1.ServiceAccount](t, objs, "tenantgate")
		counts := map[string]int{}
		for _, o := range objs {
			switch o.(type) {
			case *rbacv1.ClusterRole, *rbacv1.Role, *rbacv1.ClusterRoleBinding, *rbacv1.RoleBinding:
				counts[fmt.Sprintf("%T", o)]++
			}
		}
		if want := map[string]int{"*v1.ClusterRole": 1, "*v1.Role": 1, "*v1.ClusterRoleBinding": 1, "*v1.RoleBinding": 1}; !maps.Equal(counts, want) {
			t.Errorf("RBAC objects %v; want %v", counts, want)
		}
		crb := one[*rbacv1.ClusterRoleBinding](t, objs, "tenantgate")
		rb := one[*rbacv1.RoleBinding](t, objs, "tenantgate")
		for _, b := range []struct {
			kind, wantRole string
			ref            rbacv1.RoleRef
			subjects       []rbacv1.Subject
		}{
			{"ClusterRoleBinding", "ClusterRole", crb.RoleRef, crb.Subjects},
			{"RoleBinding", "Role", rb.RoleRef, rb.Subjects},
		} {
			if b.ref.Kind != b.wantRole || b.ref.Name != "tenantgate" {
				t.Errorf("%s binds %s %s; want %s tenantgate", b.kind, b.ref.Kind, b.ref.Name, b.wantRole)
			}
			want := []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: sa.Namespace}}
			if !slices.Equal(b.subjects, want) {
				t.Errorf("%s subjects %v; want only %v", b.kind, b.subjects, want)
			}
		}
	})
}
