package tenancy

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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

func FuzzCheckOtherRouteKinds(f *testing.F) {
	f.Add("apples", "GRPCRoute", "bananas.example.com", "infra", "shared", "Gateway", "grpc", uint16(0), "")
	f.Add("bananas", "TLSRoute", "", "infra", "apples-web", "ListenerSet", "", uint16(80), "apples")
	f.Add("rogue", "TCPRoute", "x", "infra", "l4", "", "tcp", uint16(5432), "shared-services")
	f.Add("apples", "UDPRoute", "*", "", "nope", "ListenerSet", "udp", uint16(5353), "")
	p := worldPolicy(f)
	f.Fuzz(func(t *testing.T, ns, kind, host, parentNS, parentName, parentKind, section string, port uint16, backendNS string) {
		ref := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(parentName)}
		if parentNS != "" {
			ref.Namespace = (*gatewayv1.Namespace)(&parentNS)
		}
		if parentKind != "" {
			ref.Kind = (*gatewayv1.Kind)(&parentKind)
		}
		if section != "" {
			ref.SectionName = (*gatewayv1.SectionName)(&section)
		}
		if port != 0 {
			ref.Port = (*gatewayv1.PortNumber)(ptrTo(int32(port)))
		}
		common := gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{ref}}
		backend := gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "echo"}}
		if backendNS != "" {
			backend.Namespace = (*gatewayv1.Namespace)(&backendNS)
		}
		var hostnames []gatewayv1.Hostname
		if host != "" {
			hostnames = []gatewayv1.Hostname{gatewayv1.Hostname(host)}
		}
		meta := metav1.ObjectMeta{Namespace: ns, Name: "fuzz"}
		var check func() (Verdict, []string)
		switch kind {
		case "GRPCRoute":
			r := &gatewayv1.GRPCRoute{ObjectMeta: meta}
			r.Spec.CommonRouteSpec, r.Spec.Hostnames = common, hostnames
			r.Spec.Rules = []gatewayv1.GRPCRouteRule{{BackendRefs: []gatewayv1.GRPCBackendRef{{BackendRef: backend}}}}
			check = func() (Verdict, []string) { return p.CheckGRPCRoute(r), p.GRPCRouteViolations(r) }
		case "TLSRoute":
			r := &gatewayv1.TLSRoute{ObjectMeta: meta}
			r.Spec.CommonRouteSpec, r.Spec.Hostnames = common, hostnames
			r.Spec.Rules = []gatewayv1.TLSRouteRule{{BackendRefs: []gatewayv1.BackendRef{backend}}}
			check = func() (Verdict, []string) { return p.CheckTLSRoute(r), p.TLSRouteViolations(r) }
		case "UDPRoute":
			r := &gatewayv1.UDPRoute{ObjectMeta: meta}
			r.Spec.CommonRouteSpec = common
			r.Spec.Rules = []gatewayv1.UDPRouteRule{{BackendRefs: []gatewayv1.BackendRef{backend}}}
			check = func() (Verdict, []string) { return p.CheckUDPRoute(r), p.UDPRouteViolations(r) }
		default:
			r := &gatewayv1.TCPRoute{ObjectMeta: meta}
			r.Spec.CommonRouteSpec = common
			r.Spec.Rules = []gatewayv1.TCPRouteRule{{BackendRefs: []gatewayv1.BackendRef{backend}}}
			check = func() (Verdict, []string) { return p.CheckTCPRoute(r), p.TCPRouteViolations(r) }
		}
		v, enforced := check()
		checkVerdictInvariants(t, v, true)
		if again, _ := check(); !reflect.DeepEqual(v, again) {
			t.Fatalf("not deterministic:\n%+v\n%+v", v, again)
		}
		if v.Denied() != (len(enforced) > 0) {
			t.Fatalf("gateway-side violations %q disagree with Denied() = %v", enforced, v.Denied())
		}
		if ns == "infra" && len(v.Violations) > 0 {
			t.Fatalf("a platform route was policed: %q", v.Messages())
		}
	})
}

func FuzzCheckListenerSet(f *testing.F) {
	f.Add("bananas", "apples.example.com", "*.example.com", "infra", "l4", true)
	f.Add("rogue", "", "free.example.net", "", "shared", false)
	f.Add("apples", "SHOP.example.com.", "*", "infra", "edge", true)
	p := worldPolicy(f)
	f.Fuzz(func(t *testing.T, ns, host1, host2, parentNS, parentName string, https bool) {
		ls := &gatewayv1.ListenerSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "fuzz"}}
		ls.Spec.ParentRef.Name = gatewayv1.ObjectName(parentName)
		if parentNS != "" {
			ls.Spec.ParentRef.Namespace = (*gatewayv1.Namespace)(&parentNS)
		}
		protocol := gatewayv1.HTTPProtocolType
		if https {
			protocol = gatewayv1.HTTPSProtocolType
		}
		for i, h := range []string{host1, host2} {
			l := gatewayv1.ListenerEntry{Name: gatewayv1.SectionName([]string{"one", "two"}[i]), Port: 80, Protocol: protocol}
			if h != "" {
				l.Hostname = (*gatewayv1.Hostname)(&h)
			}
			ls.Spec.Listeners = append(ls.Spec.Listeners, l)
		}
		v := p.CheckListenerSet(ls)
		checkVerdictInvariants(t, v, true)
		if !reflect.DeepEqual(v, p.CheckListenerSet(ls)) {
			t.Fatal("not deterministic")
		}
		lv := p.ListenerSetViolations(ls)
		n := len(lv.Object)
		for _, lines := range lv.Listeners {
			n += len(lines)
		}
		if v.Denied() != (n > 0) || v.Denied() && n != len(v.Violations) {
			t.Fatalf("ListenerSetViolations %+v disagree with the verdict %q (denied %v)", lv, v.Messages(), v.Denied())
		}
		if ns == "infra" && len(v.Violations) > 0 {
			t.Fatalf("a platform ListenerSet was policed: %q", v.Messages())
		}
		// Whatever it holds, a snapshot with it builds and audits.
		var in Inputs
		readYAML(t, "testdata/world.yaml", &in)
		in.ListenerSets = append(in.ListenerSets, *ls)
		np := NewPolicy(in)
		for _, tn := range []string{"apples", "bananas", "cherries"} {
			np.TenantStatus(tn)
		}
	})
}

func FuzzCheckNamespace(f *testing.F) {
	f.Add("cherries", "team", "apples")
	f.Add("rogue", "team", "apples")
	f.Add("new", "", "")
	p := worldPolicy(f)
	f.Fuzz(func(t *testing.T, name, key, value string) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if key != "" {
			ns.Labels = map[string]string{key: value}
		}
		v := p.CheckNamespace(ns)
		for _, line := range append(v.Messages(), v.Warnings...) {
			if !strings.HasPrefix(line, "metadata.labels: ") || strings.ContainsAny(line, "\n\r") {
				t.Fatalf("malformed line %q", line)
			}
		}
		if v.Denied() && len(v.Violations) != 1 {
			t.Fatalf("denied with %d violations", len(v.Violations))
		}
		if !reflect.DeepEqual(v, p.CheckNamespace(ns)) {
			t.Fatal("not deterministic")
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
