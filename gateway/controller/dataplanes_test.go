package controller

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// The shared data plane serves every Gateway but the dedicated ones; a
// dedicated one serves its Gateway only, ListenerSet listeners included.
func TestServedConfig(t *testing.T) {
	s := &translate.Snapshot{
		GatewayClasses: []gatewayv1.GatewayClass{{ObjectMeta: metav1.ObjectMeta{Name: "own"}, Spec: gatewayv1.GatewayClassSpec{
			ControllerName: translate.ControllerName,
			ParametersRef:  &gatewayv1.ParametersReference{Kind: "ConfigMap", Name: "own", Namespace: new(gatewayv1.Namespace("tenantgate-system"))},
		}}},
		Gateways: []gatewayv1.Gateway{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "bananas", Name: "web"}, Spec: gatewayv1.GatewaySpec{GatewayClassName: "own"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "web"}, Spec: gatewayv1.GatewaySpec{GatewayClassName: "tenantgate"}},
		},
		ConfigMaps: []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "tenantgate-system", Name: "own"}, Data: map[string]string{"dataPlane": "dedicated"}}},
	}
	cfg := routetable.Config{Listeners: []routetable.Listener{{Name: "apples/web/http"}, {Name: "bananas/web/http"}, {Name: "bananas/web/bananas/extra/https"}}}
	names := func(c routetable.Config) []string {
		var out []string
		for _, l := range c.Listeners {
			out = append(out, l.Name)
		}
		return out
	}
	if got := names((&Reconciler{}).servedConfig(s, cfg)); !slices.Equal(got, []string{"apples/web/http"}) {
		t.Errorf("shared data plane serves %v; want apples/web only", got)
	}
	r := &Reconciler{ServeGateway: types.NamespacedName{Namespace: "bananas", Name: "web"}}
	if got := names(r.servedConfig(s, cfg)); !slices.Equal(got, []string{"bananas/web/http", "bananas/web/bananas/extra/https"}) {
		t.Errorf("dedicated data plane serves %v; want bananas/web's listeners only", got)
	}
	if len(cfg.Listeners) != 3 {
		t.Error("servedConfig changed the Config it was given")
	}
}

// The Deployment runs the controller's image restricted to its Gateway, in
// the data-plane namespace, shaped by the class; no infrastructure label
// can make its selector match other Pods.
func TestDesiredDataPlane(t *testing.T) {
	gw := gatewayWith(map[string]string{"team": "bananas", labelGatewayUID: "uid-victim", labelComponent: "dataplane"}, nil, 80)
	r := &Reconciler{DataPlaneImage: "tenantgate:v1", DataPlaneArgs: []string{"-log-format=json"}}
	p := translate.ClassParameters{Dedicated: true, Replicas: 3, CPU: resource.MustParse("500m"), MinAvailable: intstr.FromString("50%")}
	dep, pdb := r.desiredDataPlane(gw, p)
	if dep.Namespace != DefaultDataPlaneNamespace || len(validation.IsDNS1123Label(dep.Name)) > 0 {
		t.Errorf("Deployment %s/%s; want a valid name in %s", dep.Namespace, dep.Name, DefaultDataPlaneNamespace)
	}
	c := dep.Spec.Template.Spec.Containers[0]
	if c.Image != "tenantgate:v1" || !slices.Contains(c.Args, "-data-plane-gateway=apples/edge") || !slices.Contains(c.Args, "-role=dataplane") || !slices.Contains(c.Args, "-log-format=json") {
		t.Errorf("container %s %v; want the controller's image as apples/edge's data plane", c.Image, c.Args)
	}
	if *dep.Spec.Replicas != 3 || c.Resources.Limits.Cpu().String() != "500m" || c.Resources.Limits.Memory().IsZero() == false {
		t.Errorf("replicas %d, limits %v; want 3 and cpu 500m only", *dep.Spec.Replicas, c.Resources.Limits)
	}
	sel := dep.Spec.Selector.MatchLabels
	if sel[labelGatewayUID] != "uid-edge" || dep.Spec.Template.Labels[labelGatewayUID] != "uid-edge" || dep.Spec.Template.Labels[labelComponent] != DedicatedComponent || dep.Labels["team"] != "bananas" {
		t.Errorf("selector %v, Pod labels %v, labels %v; want the Gateway's own UID and component, and its infrastructure labels", sel, dep.Spec.Template.Labels, dep.Labels)
	}
	if pdb.Spec.MinAvailable.String() != "50%" || pdb.Name != dep.Name {
		t.Errorf("PodDisruptionBudget %s minAvailable %v; want 50%% beside the Deployment", pdb.Name, pdb.Spec.MinAvailable)
	}
	if DataPlaneName(types.NamespacedName{Namespace: "a-b", Name: "c"}) == DataPlaneName(types.NamespacedName{Namespace: "a", Name: "b-c"}) {
		t.Error("Gateways a-b/c and a/b-c share a data-plane name")
	}
}

// A dedicated Gateway's EndpointSlice lists its own Pods only.
func TestPodsOf(t *testing.T) {
	gw := gatewayWith(nil, nil, 80)
	other := gatewayWith(nil, nil, 80)
	other.UID = "uid-other"
	shared, _ := ParseServiceSelector(DefaultServiceSelector)
	pods := []corev1.Pod{
		dataPlanePod("own", "10.0.0.1", true, false, dedicatedLabels(gw)),
		dataPlanePod("others", "10.0.0.2", true, false, dedicatedLabels(other)),
		dataPlanePod("shared", "10.0.0.3", true, false, shared),
	}
	if got := podsOf(gw, pods); len(got) != 1 || got[0].Name != "own" {
		t.Errorf("podsOf = %v; want only its own Pod", got)
	}
	if got := (&Reconciler{}).servingPods(pods); len(got) != 1 || got[0].Name != "shared" {
		t.Errorf("servingPods = %v; want only the shared data plane's Pod", got)
	}
}

// Target ports are held only with the controller's signature: one a tenant
// edited, or signed for another Gateway, is not.
func TestPortClaimsTrustOnlySignedPorts(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	gw := gatewayWith(nil, nil, 80)
	svc := desiredService(gw, "", specPorts(gw, map[int32]int32{80: 20001}))
	svc.Annotations = map[string]string{annotationTargetPorts: signTargetPorts(key, gw.UID, svc.Spec.Ports)}
	r := &Reconciler{}
	held := func(svc *corev1.Service, key []byte) map[int32]int32 {
		return r.portClaims([]gatewayv1.Gateway{*gw}, []corev1.Service{*svc}, nil, key)[0].Held
	}
	if h := held(svc, key); h[80] != 20001 {
		t.Errorf("held %v; want 80→20001 as the controller signed it", h)
	}
	edited := svc.DeepCopy()
	edited.Spec.Ports[0].TargetPort = intstr.FromInt32(20002)
	other := gatewayWith(nil, nil, 80)
	other.UID = "uid-other"
	forged := svc.DeepCopy()
	forged.Annotations[annotationTargetPorts] = signTargetPorts(key, other.UID, svc.Spec.Ports)
	for name, tc := range map[string]struct {
		svc *corev1.Service
		key []byte
	}{"edited": {edited, key}, "signed for another Gateway": {forged, key}, "no key": {svc, nil}, "another key": {svc, []byte("fedcba9876543210fedcba9876543210")}} {
		if h := held(tc.svc, tc.key); len(h) != 0 {
			t.Errorf("%s: held %v; want nothing", name, h)
		}
	}
}
