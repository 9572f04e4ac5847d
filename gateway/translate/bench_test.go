package translate

import (
	"fmt"
	"runtime"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

const (
	benchNamespaces       = 50
	benchRoutesPerNS      = 100
	benchServicesPerNS    = 10
	benchEndpointsPerSvc  = 3
	benchRouteParentNS    = "infra"
	benchRouteParentName  = "shared"
	benchPortServiceHTTP  = 8080
	benchPortEndpointHTTP = 3000
)

// benchSnapshot is a cluster of 50 team namespaces with 100 HTTPRoutes each
// (5,000 in all) on one shared Gateway, every route with two rules, a header
// match, a filter and backends resolved through EndpointSlices.
func benchSnapshot() *Snapshot {
	s := &Snapshot{
		Now:       metav1.Date(2026, 11, 25, 12, 0, 0, 0, goldenNow.Location()),
		Addresses: map[types.NamespacedName]string{{Namespace: benchRouteParentNS, Name: benchRouteParentName}: "127.10.0.1"},
		GatewayClasses: []gatewayv1.GatewayClass{{
			ObjectMeta: metav1.ObjectMeta{Name: "tenantgate"},
			Spec:       gatewayv1.GatewayClassSpec{ControllerName: ControllerName},
		}},
	}
	all := gatewayv1.NamespacesFromAll
	s.Gateways = []gatewayv1.Gateway{{
		ObjectMeta: metav1.ObjectMeta{Namespace: benchRouteParentNS, Name: benchRouteParentName},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "tenantgate",
			Listeners: []gatewayv1.Listener{{
				Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &all}},
			}},
		},
	}}
	for n := range benchNamespaces {
		ns := fmt.Sprintf("team-%02d", n)
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		for v := range benchServicesPerNS {
			s.Services = append(s.Services, benchService(ns, v))
			s.EndpointSlices = append(s.EndpointSlices, benchSlice(ns, n, v))
		}
		for r := range benchRoutesPerNS {
			s.HTTPRoutes = append(s.HTTPRoutes, new(benchRoute(ns, r)))
		}
	}
	return s
}

func benchService(ns string, v int) corev1.Service {
	return corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("svc-%d", v)},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "http", Port: benchPortServiceHTTP}}},
	}
}

func benchSlice(ns string, n, v int) discoveryv1.EndpointSlice {
	es := discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: fmt.Sprintf("svc-%d-abcde", v),
			Labels: map[string]string{discoveryv1.LabelServiceName: fmt.Sprintf("svc-%d", v)},
		},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: new("http"), Port: new(int32(benchPortEndpointHTTP))}},
	}
	for e := range benchEndpointsPerSvc {
		es.Endpoints = append(es.Endpoints, discoveryv1.Endpoint{Addresses: []string{fmt.Sprintf("10.%d.%d.%d", n, v, e+1)}})
	}
	return es
}

func benchRoute(ns string, r int) gatewayv1.HTTPRoute {
	parentNS := gatewayv1.Namespace(benchRouteParentNS)
	port := gatewayv1.PortNumber(benchPortServiceHTTP)
	backend := func(v int, weight int32) gatewayv1.HTTPBackendRef {
		return gatewayv1.HTTPBackendRef{BackendRef: gatewayv1.BackendRef{
			BackendObjectReference: gatewayv1.BackendObjectReference{Name: gatewayv1.ObjectName(fmt.Sprintf("svc-%d", v)), Port: &port},
			Weight:                 &weight,
		}}
	}
	prefix, exact := gatewayv1.PathMatchPathPrefix, gatewayv1.PathMatchExact
	return gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: fmt.Sprintf("route-%03d", r), Generation: 1},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Name: benchRouteParentName, Namespace: &parentNS}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(fmt.Sprintf("r%d.%s.example.com", r, ns))},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches: []gatewayv1.HTTPRouteMatch{{
					Path:    &gatewayv1.HTTPPathMatch{Type: &prefix, Value: new(fmt.Sprintf("/api/%d", r))},
					Headers: []gatewayv1.HTTPHeaderMatch{{Name: "X-Version", Value: "v2"}},
				}},
				BackendRefs: []gatewayv1.HTTPBackendRef{backend(r%benchServicesPerNS, 90), backend((r+1)%benchServicesPerNS, 10)},
			}, {
				Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &exact, Value: new("/healthz")}}},
				Filters: []gatewayv1.HTTPRouteFilter{{
					Type:                  gatewayv1.HTTPRouteFilterRequestHeaderModifier,
					RequestHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: "X-Tenant", Value: ns}}},
				}},
				BackendRefs: []gatewayv1.HTTPBackendRef{backend((r+2)%benchServicesPerNS, 1)},
			}},
		},
	}
}

// BenchmarkBuild translates 5,000 HTTPRoutes in 50 namespaces.
func BenchmarkBuild(b *testing.B) {
	s := benchSnapshot()
	r := Build(s)
	if n := len(r.Config.Listeners[0].Routes); n != benchNamespaces*benchRoutesPerNS {
		b.Fatalf("benchmark snapshot serves %d routes, want %d", n, benchNamespaces*benchRoutesPerNS)
	}
	b.ReportAllocs()
	for b.Loop() {
		Build(s)
	}
}

// BenchmarkCompileTable compiles the 5,000-route Config the proxy would serve
// and reports the live heap the compiled table holds.
func BenchmarkCompileTable(b *testing.B) {
	cfg := Build(benchSnapshot()).Config
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	table, faults := routetable.Compile(cfg)
	if err := faults.Err(); err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(table)
	b.ReportAllocs()
	for b.Loop() {
		if _, faults := routetable.Compile(cfg); len(faults) > 0 {
			b.Fatal(faults.Err())
		}
	}
	b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(1<<20), "table-MiB")
}
