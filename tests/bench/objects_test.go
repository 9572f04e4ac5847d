package bench

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// The benchmark's cluster: one shared Gateway in infra, one echo Service
// in bench-echo that every bench route sends to, routes spread over 50
// namespaces (100 with -bench.large), and later 1,000 tenants (2,000) with
// five routes each.
const (
	controllerName = "tenantgate.dev/gateway-controller"
	gatewayNS      = "infra"
	gatewayName    = "bench"
	echoNS         = "bench-echo"
	setLabel       = "bench.tenantgate.dev/set"
	changeHeader   = "X-Bench-Change"
)

// routeNamespaces is 50, or 100 with -bench.large.
var routeNamespaces = 50

func routeNamespace(i int) string { return fmt.Sprintf("bench-%02d", i%routeNamespaces) }

func routeName(set string, i int) string { return fmt.Sprintf("%s-%05d", set, i) }

func routeHost(set string, i int) string { return fmt.Sprintf("%s-%05d.bench.test", set, i) }

func namespace(name string, labels map[string]string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}
}

// infrastructure is everything the routes need before the first one.
func infrastructure() []client.Object {
	objs := []client.Object{namespace(gatewayNS, nil), namespace(echoNS, nil)}
	from := gatewayv1.NamespacesFromAll
	objs = append(objs,
		&gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "bench"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: controllerName}},
		&gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: gatewayNS, Name: gatewayName},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: "bench", Listeners: []gatewayv1.Listener{{
				Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType,
				AllowedRoutes: &gatewayv1.AllowedRoutes{Namespaces: &gatewayv1.RouteNamespaces{From: &from}},
			}}},
		})
	for i := range routeNamespaces {
		objs = append(objs, namespace(routeNamespace(i), nil))
	}
	// A ReferenceGrant lists at most 16 namespaces; one per ten route namespaces.
	for g := range routeNamespaces / 10 {
		grant := &gatewayv1.ReferenceGrant{
			ObjectMeta: metav1.ObjectMeta{Namespace: echoNS, Name: fmt.Sprintf("bench-routes-%d", g)},
			Spec:       gatewayv1.ReferenceGrantSpec{To: []gatewayv1.ReferenceGrantTo{{Kind: "Service"}}},
		}
		for i := g * 10; i < (g+1)*10; i++ {
			grant.Spec.From = append(grant.Spec.From, gatewayv1.ReferenceGrantFrom{Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(routeNamespace(i))})
		}
		objs = append(objs, grant)
	}
	labels := map[string]string{"app": "echo"}
	probe := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/", Port: intstr.FromInt32(3000)}}, PeriodSeconds: 2}
	return append(objs,
		&appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Namespace: echoNS, Name: "echo"},
			Spec: appsv1.DeploymentSpec{
				Replicas: new(int32(2)),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{
						Name: "echo", Image: "gateway-api/echo-basic:v1.5.1",
						Ports: []corev1.ContainerPort{{ContainerPort: 3000}},
						Env: []corev1.EnvVar{
							{Name: "POD_NAME", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.name"}}},
							{Name: "NAMESPACE", ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}},
						},
						ReadinessProbe: probe,
					}}},
				},
			},
		},
		&corev1.Service{
			ObjectMeta: metav1.ObjectMeta{Namespace: echoNS, Name: "echo"},
			Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(3000)}}},
		})
}

// benchRoute is route i of a set: its own hostname, every path to the echo
// Service, and, when change is not empty, a response header saying so.
func benchRoute(set string, i int, change string) *gatewayv1.HTTPRoute {
	gwNS, section := gatewayv1.Namespace(gatewayNS), gatewayv1.SectionName("http")
	echo, port := gatewayv1.Namespace(echoNS), gatewayv1.PortNumber(80)
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: routeNamespace(i), Name: routeName(set, i), Labels: map[string]string{setLabel: set}},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Namespace: &gwNS, Name: gatewayName, SectionName: &section}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(routeHost(set, i))},
			Rules:           []gatewayv1.HTTPRouteRule{benchRule(echo, port, change)},
		},
	}
}

func benchRule(echo gatewayv1.Namespace, port gatewayv1.PortNumber, change string) gatewayv1.HTTPRouteRule {
	rule := gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
		BackendObjectReference: gatewayv1.BackendObjectReference{Name: "echo", Namespace: &echo, Port: &port},
	}}}}
	if change != "" {
		rule.Filters = []gatewayv1.HTTPRouteFilter{{
			Type:                   gatewayv1.HTTPRouteFilterResponseHeaderModifier,
			ResponseHeaderModifier: &gatewayv1.HTTPHeaderFilter{Set: []gatewayv1.HTTPHeader{{Name: changeHeader, Value: change}}},
		}}
	}
	return rule
}

func tenantName(i int) string { return fmt.Sprintf("t%04d", i) }

// tenant i owns namespace tNNNN, its hostname and wildcard, and may attach
// to the shared Gateway's http listener.
func tenant(i int) *v1alpha1.Tenant {
	name := tenantName(i)
	return &v1alpha1.Tenant{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: v1alpha1.TenantSpec{
			Namespaces: v1alpha1.TenantNamespaces{Names: []v1alpha1.NamespaceName{v1alpha1.NamespaceName(name)}},
			Hostnames: []v1alpha1.OwnedHostname{
				{Hostname: v1alpha1.Hostname(name + ".example.com")},
				{Hostname: v1alpha1.Hostname("*." + name + ".example.com")},
			},
			Gateways:    []v1alpha1.GatewayReference{{Namespace: gatewayNS, Name: gatewayName, SectionNames: []string{"http"}}},
			Enforcement: v1alpha1.EnforcementDeny,
		},
	}
}

// tenantRoute is route j of tenant i: a host under the tenant's wildcard,
// one path, a Service of its own namespace (absent: the route is Accepted
// with ResolvedRefs=False, which is all the webhook phase needs).
func tenantRoute(i, j int, path string) *gatewayv1.HTTPRoute {
	name := tenantName(i)
	gwNS, section := gatewayv1.Namespace(gatewayNS), gatewayv1.SectionName("http")
	prefix, port := gatewayv1.PathMatchPathPrefix, gatewayv1.PortNumber(8080)
	return &gatewayv1.HTTPRoute{
		ObjectMeta: metav1.ObjectMeta{Namespace: name, Name: fmt.Sprintf("app-%d", j), Labels: map[string]string{setLabel: "tenant"}},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{Namespace: &gwNS, Name: gatewayName, SectionName: &section}}},
			Hostnames:       []gatewayv1.Hostname{gatewayv1.Hostname(fmt.Sprintf("app%d.%s.example.com", j, name))},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches:     []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: &prefix, Value: &path}}},
				BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "app", Port: &port}}}},
			}},
		},
	}
}
