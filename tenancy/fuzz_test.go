package tenancy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// checkVerdictInvariants holds for every verdict: denial needs violations,
// every line is one line naming a field under spec and, for objects in a
// tenant namespace (namesTenant), the tenant whose policy applies.
func checkVerdictInvariants(t *testing.T, v Verdict, namesTenant bool) {
	t.Helper()
	if v.Denied() && len(v.Violations) == 0 {
		t.Fatalf("denied without violations: %+v", v)
	}
	for _, e := range v.Violations {
		msg := Message(e)
		if !strings.HasPrefix(e.Field, "spec") || strings.ContainsAny(msg, "\n\r") || e.Detail == "" {
			t.Fatalf("malformed violation %q", msg)
		}
		if namesTenant && v.Tenant != "" && !strings.Contains(msg, `"`+v.Tenant+`"`) {
			t.Fatalf("violation %q does not name tenant %q", msg, v.Tenant)
		}
	}
	for _, w := range v.Warnings {
		if !strings.HasPrefix(w, "spec") || strings.ContainsAny(w, "\n\r") {
			t.Fatalf("malformed warning %q", w)
		}
	}
}

func FuzzCheckHTTPRoute(f *testing.F) {
	f.Add("apples", "apples.example.com", "", "PathPrefix", "/", "infra", "shared", "https", "", "", false)
	f.Add("apples", "shop.example.com", "*.apples.example.com", "Exact", "/apples/x", "infra", "edge", "", "bananas", "Service", true)
	f.Add("rogue", "*.example.com", "", "RegularExpression", "/.*", "infra", "open", "http", "apples", "", false)
	f.Add("bananas", "", "", "", "", "infra", "open", "", "shared-services", "ServiceImport", true)
	f.Add("infra", "Apples.Example.COM.", "*", "PathPrefix", "/apples/", "", "shared", "grpc", "apples-dev", "Service", false)
	f.Add("cherries", "*.", ".", "Exact", "", "infra", "shared", "nope", "", "", true)
	p := worldPolicy(f)
	f.Fuzz(func(t *testing.T, ns, host1, host2, pathKind, pathValue, parentNS, parentName, section, backendNS, backendKind string, mirror bool) {
		route := &gatewayv1.HTTPRoute{}
		route.Namespace, route.Name = ns, "fuzz"
		ref := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(parentName)}
		if parentNS != "" {
			ref.Namespace = (*gatewayv1.Namespace)(&parentNS)
		}
		if section != "" {
			ref.SectionName = (*gatewayv1.SectionName)(&section)
		}
		route.Spec.ParentRefs = []gatewayv1.ParentReference{ref}
		for _, h := range []string{host1, host2} {
			if h != "" {
				route.Spec.Hostnames = append(route.Spec.Hostnames, gatewayv1.Hostname(h))
			}
		}
		backend := gatewayv1.BackendObjectReference{Name: "echo"}
		if backendNS != "" {
			backend.Namespace = (*gatewayv1.Namespace)(&backendNS)
		}
		if backendKind != "" {
			backend.Kind = (*gatewayv1.Kind)(&backendKind)
		}
		rule := gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: backend}}}}
		if pathKind != "" {
			rule.Matches = []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
				Type: (*gatewayv1.PathMatchType)(&pathKind), Value: &pathValue}}}
		}
		if mirror {
			rule.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestMirror,
				RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{BackendRef: backend}}}
		}
		route.Spec.Rules = []gatewayv1.HTTPRouteRule{rule}

		v := p.CheckHTTPRoute(route)
		checkVerdictInvariants(t, v, true)
		if again := p.CheckHTTPRoute(route); !reflect.DeepEqual(v, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", v, again)
		}
		if enforced := p.RouteViolations(route); v.Denied() != (len(enforced) > 0) {
			t.Fatalf("RouteViolations %q disagrees with Denied() = %v", enforced, v.Denied())
		}
		if ns == "infra" && len(v.Violations) > 0 {
			t.Fatalf("a platform route was policed: %q", v.Messages())
		}
	})
}

func FuzzCheckReferenceGrant(f *testing.F) {
	f.Add("apples", "infra", "HTTPRoute", "Service", "apple-echo", true)
	f.Add("apples", "rogue", "Gateway", "Secret", "", false)
	f.Add("bananas", "apples-dev", "", "", "", false)
	p := worldPolicy(f)
	f.Fuzz(func(t *testing.T, ns, fromNS, fromKind, toKind, toName string, named bool) {
		g := &gatewayv1.ReferenceGrant{}
		g.Namespace, g.Name = ns, "fuzz"
		g.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: gatewayv1.Kind(fromKind), Namespace: gatewayv1.Namespace(fromNS)}}
		to := gatewayv1.ReferenceGrantTo{Kind: gatewayv1.Kind(toKind)}
		if named {
			to.Name = (*gatewayv1.ObjectName)(&toName)
		}
		g.Spec.To = []gatewayv1.ReferenceGrantTo{to}
		v := p.CheckReferenceGrant(g)
		checkVerdictInvariants(t, v, true)
		if again := p.CheckReferenceGrant(g); !reflect.DeepEqual(v, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", v, again)
		}
	})
}

func FuzzCheckTenant(f *testing.F) {
	f.Add("grapes", "grapes.example.com", "*.example.com", "/grapes", "grapes", "team", "apples")
	f.Add("apples", "SHOP.example.com.", "shop.example.com", "/apples/red", "bananas", "", "")
	f.Add("x", "*", "*.", "/", "infra", "gateway-access", "true")
	var world Inputs
	readYAML(f, "testdata/world.yaml", &world)
	p := NewPolicy(world)
	f.Fuzz(func(t *testing.T, name, host1, host2, prefix, ns, selKey, selValue string) {
		tenant := &v1alpha1.Tenant{}
		tenant.Name = name
		tenant.Spec.Hostnames = []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname(host1)}}
		if host2 != "" {
			tenant.Spec.Hostnames = append(tenant.Spec.Hostnames, v1alpha1.OwnedHostname{
				Hostname: v1alpha1.Hostname(host2), PathPrefixes: []v1alpha1.PathPrefix{v1alpha1.PathPrefix(prefix)}})
		}
		tenant.Spec.Namespaces.Names = []v1alpha1.NamespaceName{v1alpha1.NamespaceName(ns)}
		if selKey != "" {
			tenant.Spec.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{selKey: selValue}}
		}
		v := p.CheckTenant(tenant)
		checkVerdictInvariants(t, v, false)
		if !reflect.DeepEqual(v, p.CheckTenant(tenant)) {
			t.Fatal("not deterministic")
		}
		// Adding the tenant to the snapshot must not break the policy build
		// or the audit, whatever it holds.
		s := world
		s.Tenants = append(slices.Clip(world.Tenants), *tenant)
		np := NewPolicy(s)
		r := np.TenantStatus(name)
		if v.Denied() && name != "apples" && name != "bananas" && name != "cherries" &&
			len(r.HostnameConflicts)+len(r.NamespaceConflicts) == 0 {
			t.Fatalf("CheckTenant denied %q but its audit shows no conflict: %q", name, v.Messages())
		}
	})
}

// FuzzHostIndex compares the index with a scan of every entry.
func FuzzHostIndex(f *testing.F) {
	f.Add("a.com,*.a.com,b.a.com,*.c.b.a.com", "*.a.com")
	f.Add("A.com.,*,x.y", "q.a.com")
	f.Add(",*.,.", "*")
	f.Fuzz(func(t *testing.T, owned, query string) {
		owner := &tenantInfo{name: "t"}
		for _, h := range strings.Split(owned, ",") {
			owner.hosts = append(owner.hosts, &ownedHost{tenant: owner, pattern: parseHost(h)})
		}
		idx := newHostIndex([]*tenantInfo{owner})
		q := parseHost(query)
		got := map[*ownedHost]int{}
		idx.overlapping(q, func(o *ownedHost) bool { got[o]++; return true })
		for _, o := range owner.hosts {
			want := 0
			if q.overlaps(o.pattern) {
				want = 1
			}
			if got[o] != want {
				t.Fatalf("query %q, entry %q: index yielded it %d times, scan says %d", q, o.pattern, got[o], want)
			}
		}
	})
}
