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
	{"gateway.networking.k8s.io", []string{"gatewayclasses/status", "gateways/status", "httproutes/status", "grpcroutes/status", "tlsroutes/status", "listenersets/status", "backendtlspolicies/status"}, writeStatus},
	// Backends, listener certificates, CA bundles (ConfigMaps), namespace labels (allowedRoutes, tenant membership).
	{"", []string{"services", "secrets", "configmaps", "namespaces"}, read},
	{"discovery.k8s.io", []string{"endpointslices"}, read},
	// The leader's Service per Gateway (GatewayInfrastructure), owned by the Gateway.
	{"", []string{"services"}, []string{"create", "update", "patch", "delete"}},
	// Its EndpointSlices (the Services have no selector), owned by the Service.
	{"discovery.k8s.io", []string{"endpointslices"}, []string{"create", "update", "patch", "delete"}},
	// The leader's Warning Events on objects it could not program, in their namespaces.
	{"events.k8s.io", []string{"events"}, []string{"create", "patch"}},
	// Tenants are the policy; their status reports the audit.
	{"tenancy.tenantgate.dev", []string{"tenants"}, read},
	{"tenancy.tenantgate.dev", []string{"tenants/status"}, writeStatus},
}

// usedInOwnNamespace is leader election: the Lease and the events it records.
// The data-plane Pods the EndpointSlices list run there too.
var usedInOwnNamespace = []grant{
	{"coordination.k8s.io", []string{"leases"}, []string{"get", "create", "update"}},
	{"", []string{"events"}, []string{"create", "patch"}},
	{"", []string{"pods"}, read},
	// The key that signs the Services' target ports, made once.
	{"", []string{"secrets"}, []string{"create"}},
	// Dedicated data planes: a Deployment and a PodDisruptionBudget per Gateway that asks for one.
	{"apps", []string{"deployments"}, []string{"list", "create", "update", "delete"}},
	{"policy", []string{"poddisruptionbudgets"}, []string{"list", "create", "update", "delete"}},
}

// usedByWebhook is what the tenant-policy cache reads; the webhook writes nothing.
var usedByWebhook = []grant{
	{"gateway.networking.k8s.io", []string{"gateways", "httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "referencegrants", "listenersets"}, read},
	{"", []string{"namespaces"}, read},
	{"tenancy.tenantgate.dev", []string{"tenants"}, read},
}

// identity is one role's ServiceAccount and the permissions it needs:
// cluster-wide (its ClusterRole) and in its own namespace (its Role, if any).
type identity struct {
	account      string
	clusterWide  []grant
	ownNamespace []grant
}

// identities: the controller writes; the webhook and the data plane only
// read (the data plane what the controller reads, to translate by itself).
var identities = []identity{
	{"tenantgate-controller", usedClusterWide, usedInOwnNamespace},
	{"tenantgate-webhook", usedByWebhook, nil},
	{"tenantgate-dataplane", readsOf(usedClusterWide), nil},
}

// readsOf keeps the grants that only read.
func readsOf(grants []grant) []grant {
	var out []grant
	for _, g := range grants {
		if slices.Equal(g.verbs, read) {
			out = append(out, g)
		}
	}
	return out
}

// writesOf keeps the permissions that change something.
func writesOf(grants []grant) []permission {
	var out []permission
	for p := range expand(grants) {
		if !slices.Contains(read, p.verb) {
			out = append(out, p)
		}
	}
	return out
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
	for _, id := range identities {
		t.Run(id.account, func(t *testing.T) {
			one[*corev1.ServiceAccount](t, objs, id.account)
			check := func(kind string, rules []rbacv1.PolicyRule, want []grant) {
				got, problems := expandRules(rules)
				for _, p := range problems {
					t.Errorf("%s: %s", kind, p)
				}
				if missing := diff(expand(want), got); len(missing) > 0 {
					t.Errorf("%s: %s uses but is not granted: %v (add a +kubebuilder:rbac marker and run make manifests, or edit manifests/default)", kind, id.account, missing)
				}
				if extra := diff(got, expand(want)); len(extra) > 0 {
					t.Errorf("%s: granted beyond what %s uses: %v", kind, id.account, extra)
				}
			}
			crbs := boundTo[*rbacv1.ClusterRoleBinding](t, objs, id.account)
			if len(crbs) != 1 || crbs[0].RoleRef.Kind != "ClusterRole" {
				t.Fatalf("%d ClusterRoleBindings bind %s; want one, to a ClusterRole", len(crbs), id.account)
			}
			check("ClusterRole "+crbs[0].RoleRef.Name, one[*rbacv1.ClusterRole](t, objs, crbs[0].RoleRef.Name).Rules, id.clusterWide)
			rbs := boundTo[*rbacv1.RoleBinding](t, objs, id.account)
			if id.ownNamespace == nil {
				if len(rbs) != 0 {
					t.Errorf("%s has %d RoleBindings; it needs nothing in its own namespace", id.account, len(rbs))
				}
				return
			}
			if len(rbs) != 1 || rbs[0].RoleRef.Kind != "Role" {
				t.Fatalf("%d RoleBindings bind %s; want one, to a Role", len(rbs), id.account)
			}
			check("Role "+rbs[0].RoleRef.Name, one[*rbacv1.Role](t, objs, rbs[0].RoleRef.Name).Rules, id.ownNamespace)
		})
	}

	t.Run("each binding binds one role to one ServiceAccount of tenantgate", func(t *testing.T) {
		counts := map[string]int{}
		for _, o := range objs {
			switch o.(type) {
			case *corev1.ServiceAccount, *rbacv1.ClusterRole, *rbacv1.Role, *rbacv1.ClusterRoleBinding, *rbacv1.RoleBinding:
				counts[fmt.Sprintf("%T", o)]++
			}
		}
		want := map[string]int{"*v1.ServiceAccount": 3, "*v1.ClusterRole": 3, "*v1.Role": 1, "*v1.ClusterRoleBinding": 3, "*v1.RoleBinding": 1}
		if !maps.Equal(counts, want) {
			t.Errorf("RBAC objects %v; want %v", counts, want)
		}
		var subjects [][]rbacv1.Subject
		for _, b := range all[*rbacv1.ClusterRoleBinding](objs) {
			subjects = append(subjects, b.Subjects)
		}
		for _, b := range all[*rbacv1.RoleBinding](objs) {
			subjects = append(subjects, b.Subjects)
		}
		for _, s := range subjects {
			if len(s) != 1 || s[0].Kind != rbacv1.ServiceAccountKind || s[0].Namespace != namespace {
				t.Errorf("binding subjects %v; want one ServiceAccount of %s", s, namespace)
			}
		}
	})
}

// boundTo returns the bindings of type T whose subjects include the
// ServiceAccount account of tenantgate's namespace.
func boundTo[T interface {
	client.Object
	*rbacv1.ClusterRoleBinding | *rbacv1.RoleBinding
}](t *testing.T, objs []client.Object, account string) []T {
	t.Helper()
	var out []T
	for _, b := range all[T](objs) {
		var subjects []rbacv1.Subject
		switch b := any(b).(type) {
		case *rbacv1.ClusterRoleBinding:
			subjects = b.Subjects
		case *rbacv1.RoleBinding:
			subjects = b.Subjects
		}
		if slices.Contains(subjects, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: account, Namespace: namespace}) {
			out = append(out, b)
		}
	}
	return out
}
