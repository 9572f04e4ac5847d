package controller

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

func TestServiceName(t *testing.T) {
	long := strings.Repeat("a", 60)
	for _, tc := range []struct{ gateway, want string }{
		{"shared", "shared-tenantgate"},
		{"web.example", "web-example-" + hash8("web.example") + "-tenantgate"},
		{"1st", "gw-1st-" + hash8("1st") + "-tenantgate"},
		{long, strings.Repeat("a", 63-len("-tenantgate")-9) + "-" + hash8(long) + "-tenantgate"},
	} {
		got := ServiceName(tc.gateway)
		if got != tc.want {
			t.Errorf("ServiceName(%q) = %q, want %q", tc.gateway, got, tc.want)
		}
		if errs := validation.IsDNS1035Label(got); len(errs) > 0 {
			t.Errorf("ServiceName(%q) = %q is not a valid Service name: %v", tc.gateway, got, errs)
		}
	}
	if ServiceName("a.b") == ServiceName("a-b") {
		t.Error("Gateways a.b and a-b share a Service name")
	}
}

func hash8(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:4])
}

func gatewayWith(labels, annotations map[string]string, ports ...int32) *gatewayv1.Gateway {
	gw := &gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "edge", UID: "uid-edge"}}
	gw.Spec.Infrastructure = &gatewayv1.GatewayInfrastructure{Labels: map[gatewayv1.LabelKey]gatewayv1.LabelValue{}, Annotations: map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{}}
	for k, v := range labels {
		gw.Spec.Infrastructure.Labels[gatewayv1.LabelKey(k)] = gatewayv1.LabelValue(v)
	}
	for k, v := range annotations {
		gw.Spec.Infrastructure.Annotations[gatewayv1.AnnotationKey(k)] = gatewayv1.AnnotationValue(v)
	}
	for _, p := range ports {
		gw.Spec.Listeners = append(gw.Spec.Listeners, gatewayv1.Listener{Port: gatewayv1.PortNumber(p), Protocol: gatewayv1.HTTPProtocolType})
	}
	return gw
}

// Infrastructure keys come and go with the Gateway; keys others added stay;
// no infrastructure key can rename the Gateway or forge what tenantgate owns.
func TestApplyService(t *testing.T) {
	gw := gatewayWith(map[string]string{"team": "apples", gatewayv1.GatewayNameLabelKey: "victim"},
		map[string]string{"lb": "internal", ownedLabels: "added-by-user"}, 80, 80, 443)
	svc := desiredService(gw, "", specPorts(gw, nil))
	applyService(svc, svc, gw)
	if got := svc.Labels[gatewayv1.GatewayNameLabelKey]; got != "edge" {
		t.Errorf("gateway-name label %q; an infrastructure label must not rename the Gateway", got)
	}
	if svc.Annotations[ownedLabels] != gatewayv1.GatewayNameLabelKey+",team" {
		t.Errorf("owned labels %q; the forged annotation must not win", svc.Annotations[ownedLabels])
	}
	if len(svc.Spec.Ports) != 2 || svc.Spec.Ports[0].Port != 80 || svc.Spec.Ports[1].Port != 443 {
		t.Errorf("ports %v; want 80 and 443 once each", svc.Spec.Ports)
	}
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		t.Errorf("type %s; want LoadBalancer", svc.Spec.Type)
	}
	// The API server allocates node ports; a user adds a label.
	svc.Spec.Ports[0].NodePort = 30080
	svc.Labels["added-by-user"] = "yes"

	next := svc.DeepCopy()
	gw2 := gatewayWith(map[string]string{"tier": "edge"}, nil, 80)
	applyService(next, desiredService(gw2, "", specPorts(gw2, nil)), gw2)
	want := map[string]string{"tier": "edge", "added-by-user": "yes", gatewayv1.GatewayNameLabelKey: "edge"}
	if !maps.Equal(next.Labels, want) {
		t.Errorf("labels %v; want %v", next.Labels, want)
	}
	if _, ok := next.Annotations["lb"]; ok {
		t.Errorf("annotation lb removed from the Gateway is still on the Service: %v", next.Annotations)
	}
	if len(next.Spec.Ports) != 1 || next.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("ports %v; want 80 keeping node port 30080", next.Spec.Ports)
	}
}

func TestServiceAddresses(t *testing.T) {
	gws := []gatewayv1.Gateway{*gatewayWith(nil, nil, 80)}
	gws = append(gws, *gws[0].DeepCopy(), *gws[0].DeepCopy(), *gws[0].DeepCopy())
	for i, name := range []string{"lb", "host", "internal", "none"} {
		gws[i].Name, gws[i].UID = name, types.UID("uid-"+name)
	}
	owned := func(gw *gatewayv1.Gateway, typ corev1.ServiceType) corev1.Service {
		svc := desiredService(gw, typ, specPorts(gw, nil))
		svc.Spec.ClusterIP = "10.96.0.7"
		return *svc
	}
	lb, host, internal := owned(&gws[0], ""), owned(&gws[1], ""), owned(&gws[2], corev1.ServiceTypeClusterIP)
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}
	host.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: "lb.example.net"}}
	addrs, problems := serviceAddresses(gws, []corev1.Service{lb, host, internal})
	want := map[types.NamespacedName]string{
		{Namespace: "apples", Name: "lb"}: "203.0.113.7", {Namespace: "apples", Name: "host"}: "lb.example.net", {Namespace: "apples", Name: "internal"}: "10.96.0.7",
	}
	if !maps.Equal(addrs, want) {
		t.Errorf("addresses %v; want %v", addrs, want)
	}
	if why := problems[types.NamespacedName{Namespace: "apples", Name: "none"}]; !strings.Contains(why, "waiting for its Service apples/none-tenantgate") {
		t.Errorf("problem of the Gateway without a Service: %q", why)
	}
	// A Service of that name not controlled by the Gateway is refused.
	stolen := internal.DeepCopy()
	stolen.OwnerReferences = nil
	if why := serviceProblems(gws[2:3], []corev1.Service{*stolen})[types.NamespacedName{Namespace: "apples", Name: "internal"}]; !strings.Contains(why, "is not owned by this Gateway") {
		t.Errorf("problem of a Gateway whose Service name is taken: %q", why)
	}
}

// specPorts are the Service ports of all of gw's listeners.
func specPorts(gw *gatewayv1.Gateway, targets map[int32]int32) []corev1.ServicePort {
	var ports []listenerPort
	for _, l := range gw.Spec.Listeners {
		ports = append(ports, listenerPort{port: int32(l.Port), proto: protocolOf(l.Protocol)})
	}
	return servicePorts(ports, targets)
}

func accepted(names ...gatewayv1.SectionName) []gatewayv1.ListenerStatus {
	var out []gatewayv1.ListenerStatus
	for _, n := range names {
		out = append(out, gatewayv1.ListenerStatus{Name: n, Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue}}})
	}
	return out
}

// A listener its status refuses (a tenant's, a reserved port) gets no
// Service port, so its traffic never reaches the data-plane Pods; an
// accepted ListenerSet listener adds its port to its parent's Service.
func TestAcceptedPorts(t *testing.T) {
	gw := gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "edge"}, Spec: gatewayv1.GatewaySpec{Listeners: []gatewayv1.Listener{
		{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
		{Name: "peek", Port: 8080, Protocol: gatewayv1.HTTPProtocolType},
	}}}
	entry := func(name gatewayv1.SectionName, port int32) gatewayv1.ListenerEntry {
		return gatewayv1.ListenerEntry{Name: name, Port: gatewayv1.PortNumber(port), Protocol: gatewayv1.HTTPProtocolType}
	}
	sets := []gatewayv1.ListenerSet{
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "extra"}, Spec: gatewayv1.ListenerSetSpec{
			ParentRef: gatewayv1.ParentGatewayReference{Name: "edge", Namespace: new(gatewayv1.Namespace("infra"))},
			Listeners: []gatewayv1.ListenerEntry{entry("web", 8443), entry("refused", 9000)},
		}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "elsewhere"}, Spec: gatewayv1.ListenerSetSpec{
			ParentRef: gatewayv1.ParentGatewayReference{Name: "edge"}, // apples/edge, another Gateway
			Listeners: []gatewayv1.ListenerEntry{entry("web", 7000)},
		}},
	}
	res := translate.Result{
		Gateways: map[types.NamespacedName]gatewayv1.GatewayStatus{{Namespace: "infra", Name: "edge"}: {Listeners: accepted("http")}},
		ListenerSets: map[types.NamespacedName]gatewayv1.ListenerSetStatus{
			{Namespace: "apples", Name: "extra"}:     {Listeners: []gatewayv1.ListenerEntryStatus{{Name: "web", Conditions: accepted("web")[0].Conditions}}},
			{Namespace: "apples", Name: "elsewhere"}: {Listeners: []gatewayv1.ListenerEntryStatus{{Name: "web", Conditions: accepted("web")[0].Conditions}}},
		},
	}
	ports := servicePorts(acceptedPorts(&gw, res, sets), map[int32]int32{80: 20000, 8443: 20001})
	if len(ports) != 2 || ports[0].Port != 80 || ports[0].TargetPort.IntVal != 20000 || ports[1].Port != 8443 || ports[1].TargetPort.IntVal != 20001 {
		t.Errorf("Service ports %+v; want 80→20000 and the ListenerSet's 8443→20001 only", ports)
	}
}
