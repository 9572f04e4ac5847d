package tenancy

import (
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// largeSnapshot is a cluster with the given number of tenants, each with two
// namespaces (one by name, one by label), an exact, a wildcard and a shared
// hostname, a ReferenceGrant, and routesPerTenant routes.
func largeSnapshot(tenants, routesPerTenant int) Inputs {
	in := Inputs{PlatformNamespaces: []string{"infra"}}
	from := gatewayv1.NamespacesFromSelector
	in.Gateways = []gatewayv1.Gateway{{
		ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "shared"},
		Spec: gatewayv1.GatewaySpec{Listeners: []gatewayv1.Listener{
			{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType, AllowedRoutes: &gatewayv1.AllowedRoutes{
				Namespaces: &gatewayv1.RouteNamespaces{From: &from, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"gateway-access": "true"}}}}},
		}},
	}}
	in.Namespaces = append(in.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "infra"}})
	for i := range tenants {
		name := fmt.Sprintf("t%04d", i)
		in.Namespaces = append(in.Namespaces,
			corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"gateway-access": "true"}}},
			corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name + "-dev", Labels: map[string]string{"team": name, "gateway-access": "true"}}})
		in.Tenants = append(in.Tenants, v1alpha1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.TenantSpec{
				Namespaces: v1alpha1.TenantNamespaces{
					Names:    []v1alpha1.NamespaceName{v1alpha1.NamespaceName(name)},
					Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"team": name}},
				},
				Hostnames: []v1alpha1.OwnedHostname{
					{Hostname: v1alpha1.Hostname(name + ".example.com")},
					{Hostname: v1alpha1.Hostname("*." + name + ".example.com")},
					{Hostname: "shop.example.com", PathPrefixes: []v1alpha1.PathPrefix{v1alpha1.PathPrefix("/" + name)}},
				},
				Gateways: []v1alpha1.GatewayReference{{Namespace: "infra", Name: "shared", SectionNames: []string{"http"}}},
			},
		})
		apiService := gatewayv1.ObjectName("api")
		in.ReferenceGrants = append(in.ReferenceGrants, gatewayv1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Namespace: name + "-dev", Name: "from-" + name},
			Spec: gatewayv1.ReferenceGrantSpec{
				From: []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(name)}},
				// Named: the tenants do not allow wildcard grants, and a grant
				// breaking its tenant's rules opens nothing.
				To: []gatewayv1.ReferenceGrantTo{{Kind: "Service", Name: &apiService}},
			},
		})
		for j := range routesPerTenant {
			in.HTTPRoutes = append(in.HTTPRoutes, new(benchRoute(name, j)))
		}
	}
	return in
}

// benchRoute is a typical tenant route: a section-scoped parent, an exact,
// a wildcard-covered and a shared hostname, two path matches and two
// backends, one across namespaces under a ReferenceGrant.
func benchRoute(tenant string, j int) gatewayv1.HTTPRoute {
	ns, section := gatewayv1.Namespace("infra"), gatewayv1.SectionName("http")
	dev := gatewayv1.Namespace(tenant + "-dev")
	prefix, exact := gatewayv1.PathMatchPathPrefix, gatewayv1.PathMatchExact
	p1, p2 := "/"+tenant+"/api", "/"+tenant+"/health"
	port := gatewayv1.PortNumber(8080)
	return gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: tenant, Name: fmt.Sprintf("route-%d", j)},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Namespace: &ns, Name: "shared", SectionName: &section}}},
			Hostnames: []gatewayv1.Hostname{
				gatewayv1.Hostname(tenant + ".example.com"),
				gatewayv1.Hostname(fmt.Sprintf("app%d.%s.example.com", j, tenant)),
				"shop.example.com",
			},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches: []gatewayv1.HTTPRouteMatch{
					{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &p1}},
					{Path: &gatewayv1.HTTPPathMatch{Type: &exact, Value: &p2}},
				},
				BackendRefs: []gatewayv1.HTTPBackendRef{
					{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "api", Port: &port}}},
					{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "api", Namespace: &dev, Port: &port}}},
				},
			}},
		},
	}
}

func TestLargeSnapshotIsClean(t *testing.T) {
	in := largeSnapshot(20, 3)
	p := NewPolicy(in)
	for i := range in.HTTPRoutes {
		if v := p.CheckHTTPRoute(in.HTTPRoutes[i]); len(v.Violations)+len(v.Warnings) > 0 {
			t.Fatalf("benchmark route %s/%s is not clean: %q %q", in.HTTPRoutes[i].Namespace, in.HTTPRoutes[i].Name, v.Messages(), v.Warnings)
		}
	}
	for i := range in.Tenants {
		if v := p.CheckTenant(&in.Tenants[i]); len(v.Violations) > 0 {
			t.Fatalf("benchmark tenant %s conflicts: %q", in.Tenants[i].Name, v.Messages())
		}
	}
}

// BenchmarkCheckHTTPRoute checks existing routes of a cluster with 1,000
// tenants and 10,000 routes, as the webhook does on update.
func BenchmarkCheckHTTPRoute(b *testing.B) {
	in := largeSnapshot(1000, 10)
	p := NewPolicy(in)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v := p.CheckHTTPRoute(in.HTTPRoutes[i%len(in.HTTPRoutes)])
		if len(v.Violations) > 0 {
			b.Fatal(v.Messages())
		}
		i += 7919 // a prime stride visits tenants out of order
	}
}

// BenchmarkRouteViolations is the translator's re-check of one route.
func BenchmarkRouteViolations(b *testing.B) {
	in := largeSnapshot(1000, 10)
	p := NewPolicy(in)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if v := p.RouteViolations(in.HTTPRoutes[i%len(in.HTTPRoutes)]); v != nil {
			b.Fatal(v)
		}
		i += 7919
	}
}

// BenchmarkCheckTenant checks a tenant update against 999 others.
func BenchmarkCheckTenant(b *testing.B) {
	in := largeSnapshot(1000, 10)
	p := NewPolicy(in)
	b.ReportAllocs()
	for b.Loop() {
		if v := p.CheckTenant(&in.Tenants[500]); len(v.Violations) > 0 {
			b.Fatal(v.Messages())
		}
	}
}

// BenchmarkNewPolicy builds the indexes of the same snapshot.
func BenchmarkNewPolicy(b *testing.B) {
	in := largeSnapshot(1000, 10)
	b.ReportAllocs()
	for b.Loop() {
		NewPolicy(in)
	}
}

// BenchmarkTenantStatus audits every route and grant once (a fresh Policy
// per iteration) and reports one tenant.
func BenchmarkTenantStatus(b *testing.B) {
	in := largeSnapshot(1000, 10)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		p := NewPolicy(in)
		b.StartTimer()
		p.TenantStatus("t0500")
	}
}

// TestConcurrentUse runs checks and the lazy audit from several goroutines;
// run with -race.
func TestConcurrentUse(t *testing.T) {
	in := largeSnapshot(10, 2)
	p := NewPolicy(in)
	want := p.CheckHTTPRoute(in.HTTPRoutes[0])
	done := make(chan Verdict)
	for g := range 4 {
		go func() {
			p.TenantStatus(fmt.Sprintf("t%04d", g))
			done <- p.CheckHTTPRoute(in.HTTPRoutes[0])
		}()
	}
	for range 4 {
		if got := <-done; len(got.Violations) != len(want.Violations) || len(got.Warnings) != len(want.Warnings) {
			t.Errorf("concurrent check = %+v, want %+v", got, want)
		}
	}
}
