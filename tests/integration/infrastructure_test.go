package integration

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// serviceLag bounds how long the controller may take to write a Gateway's
// Service, and the garbage collector to remove it.
const serviceLag = 30 * time.Second

// testGatewayInfrastructure: each Gateway of tenantgate's class gets its own
// Service, owned by it, carrying its spec.infrastructure labels and
// annotations and its listeners' ports; edits follow, deleting the Gateway
// deletes it, and a Gateway can never adopt or overwrite a Service it does
// not own. It removes what it made.
func (h *harness) testGatewayInfrastructure(t *testing.T) {
	s := h.s
	ctx := context.Background()
	const ns = "infra-services"
	internalClass := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "tenantgate-internal"}, Spec: gatewayv1.GatewayClassSpec{
		ControllerName: "tenantgate.dev/gateway-controller",
		ParametersRef:  &gatewayv1.ParametersReference{Kind: "ConfigMap", Name: "internal-class", Namespace: new(gatewayv1.Namespace(ns))},
	}}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	if err := s.Client.Create(ctx, namespace); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.delete(t, internalClass)
		h.delete(t, namespace)
	})
	// A Service someone else made, named as Gateway "victim"'s would be.
	squatter := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "victim-tenantgate", Labels: map[string]string{"owner": "someone-else"}},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "theirs"},
			Ports:    []corev1.ServicePort{{Name: "web", Port: 8443, TargetPort: intstr.FromInt32(8443)}},
		},
	}
	if err := s.Client.Create(ctx, squatter); err != nil {
		t.Fatal(err)
	}
	edge := &gatewayv1.Gateway{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "edge"},
		Spec: gatewayv1.GatewaySpec{
			GatewayClassName: "tenantgate",
			Infrastructure: &gatewayv1.GatewayInfrastructure{
				// A hostile tenant tries to pass its Service off as victim's.
				Labels:      map[gatewayv1.LabelKey]gatewayv1.LabelValue{"team": "apples", gatewayv1.GatewayNameLabelKey: "victim"},
				Annotations: map[gatewayv1.AnnotationKey]gatewayv1.AnnotationValue{"example.com/lb": "internal", "tenantgate.dev/infrastructure-labels": "owner"},
			},
			Listeners: []gatewayv1.Listener{
				{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType},
				{Name: "http-other", Port: 80, Protocol: gatewayv1.HTTPProtocolType, Hostname: new(gatewayv1.Hostname("other.example.com"))},
				{Name: "alt", Port: 8080, Protocol: gatewayv1.HTTPProtocolType},
			},
		},
	}
	if err := s.Client.Create(ctx, edge); err != nil {
		t.Fatal(err)
	}

	t.Run("the Gateway gets its own Service", func(t *testing.T) {
		svc := awaitService(t, s, types.NamespacedName{Namespace: ns, Name: "edge-tenantgate"}, func(svc *corev1.Service) string {
			return serviceMismatch(svc, edge, map[string]string{"team": "apples"}, map[string]string{"example.com/lb": "internal"}, []int32{80, 8080})
		})
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			t.Errorf("Service type %s, want LoadBalancer (the default)", svc.Spec.Type)
		}
		if len(svc.Spec.Selector) != 0 {
			t.Errorf("Service selector %v; want none (the data-plane Pods are in another namespace; tenantgate writes the EndpointSlice)", svc.Spec.Selector)
		}
		awaitEndpointSlice(t, s, svc, func(es *discoveryv1.EndpointSlice) string {
			if len(es.Ports) != 2 || *es.Ports[0].Port != 80 || *es.Ports[1].Port != 8080 {
				return fmt.Sprintf("ports %+v; want the Service's target ports 80 and 8080", es.Ports)
			}
			return ""
		})
	})

	t.Run("the EndpointSlice follows the data-plane Pods", func(t *testing.T) {
		h.testEndpointSliceFollowsPods(t, types.NamespacedName{Namespace: ns, Name: "edge-tenantgate"})
	})

	t.Run("a tenant's EndpointSlice is never adopted", func(t *testing.T) {
		// Written before its Gateway, named as that Gateway's slice would be.
		squat := &discoveryv1.EndpointSlice{
			ObjectMeta:  metav1.ObjectMeta{Namespace: ns, Name: "squat-tenantgate", Labels: map[string]string{discoveryv1.LabelServiceName: "squat-tenantgate"}},
			AddressType: discoveryv1.AddressTypeIPv4,
			Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{"10.9.9.9"}}},
		}
		gw := &gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "squat"},
			Spec:       gatewayv1.GatewaySpec{GatewayClassName: "tenantgate", Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}},
		}
		for _, o := range []client.Object{squat, gw} {
			if err := s.Client.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { h.delete(t, gw); h.delete(t, squat) })
		awaitGateway(t, s, client.ObjectKeyFromObject(gw), func(gw *gatewayv1.Gateway) string {
			c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.GatewayReasonNoResources) ||
				!strings.Contains(c.Message, "EndpointSlice infra-services/squat-tenantgate already exists and is not owned by its Service") {
				return fmt.Sprintf("want Programmed=False/NoResources naming the EndpointSlice; conditions %v", gw.Status.Conditions)
			}
			return ""
		})
		var got discoveryv1.EndpointSlice
		if err := s.Client.Get(ctx, client.ObjectKeyFromObject(squat), &got); err != nil {
			t.Fatal(err)
		}
		if got.ResourceVersion != squat.ResourceVersion || len(got.OwnerReferences) > 0 {
			t.Errorf("tenantgate touched an EndpointSlice it does not own: resourceVersion %s (was %s), owners %v", got.ResourceVersion, squat.ResourceVersion, got.OwnerReferences)
		}
	})

	t.Run("the Gateway keeps its pool address", func(t *testing.T) {
		awaitGateway(t, s, client.ObjectKeyFromObject(edge), func(gw *gatewayv1.Gateway) string {
			if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) ||
				len(gw.Status.Addresses) != 1 || !strings.HasPrefix(gw.Status.Addresses[0].Value, "127.50.") {
				return fmt.Sprintf("want Programmed with a 127.50.x address; addresses %v, conditions %v", gw.Status.Addresses, gw.Status.Conditions)
			}
			return ""
		})
	})

	t.Run("the squatted Service is left alone and the victim Gateway says why", func(t *testing.T) {
		victim := &gatewayv1.Gateway{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "victim"},
			Spec:       gatewayv1.GatewaySpec{GatewayClassName: "tenantgate", Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}}},
		}
		if err := s.Client.Create(ctx, victim); err != nil {
			t.Fatal(err)
		}
		awaitGateway(t, s, client.ObjectKeyFromObject(victim), func(gw *gatewayv1.Gateway) string {
			c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
			if c == nil || c.Status != metav1.ConditionFalse || c.Reason != string(gatewayv1.GatewayReasonAddressNotAssigned) ||
				!strings.Contains(c.Message, "Service infra-services/victim-tenantgate already exists and is not owned by this Gateway") {
				return fmt.Sprintf("want Programmed=False/AddressNotAssigned naming the Service; conditions %v", gw.Status.Conditions)
			}
			return ""
		})
		var got corev1.Service
		if err := s.Client.Get(ctx, client.ObjectKeyFromObject(squatter), &got); err != nil {
			t.Fatal(err)
		}
		if got.ResourceVersion != squatter.ResourceVersion || len(got.OwnerReferences) > 0 || !maps.Equal(got.Labels, squatter.Labels) {
			t.Errorf("tenantgate touched a Service it does not own: resourceVersion %s (was %s), owners %v, labels %v",
				got.ResourceVersion, squatter.ResourceVersion, got.OwnerReferences, got.Labels)
		}
		// Once the squatter is gone, the victim gets its Service and is programmed.
		if err := s.Client.Delete(ctx, squatter); err != nil {
			t.Fatal(err)
		}
		awaitService(t, s, client.ObjectKeyFromObject(squatter), func(svc *corev1.Service) string {
			return serviceMismatch(svc, victim, nil, nil, []int32{80})
		})
		awaitGateway(t, s, client.ObjectKeyFromObject(victim), func(gw *gatewayv1.Gateway) string {
			if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) {
				return fmt.Sprintf("want Programmed=True; conditions %v", gw.Status.Conditions)
			}
			return ""
		})
	})

	t.Run("changing spec.infrastructure and the listeners updates the Service", func(t *testing.T) {
		var gw gatewayv1.Gateway
		if err := s.Client.Get(ctx, client.ObjectKeyFromObject(edge), &gw); err != nil {
			t.Fatal(err)
		}
		gw.Spec.Infrastructure = &gatewayv1.GatewayInfrastructure{Labels: map[gatewayv1.LabelKey]gatewayv1.LabelValue{"tier": "edge"}}
		gw.Spec.Listeners = append(gw.Spec.Listeners[:1], gatewayv1.Listener{Name: "extra", Port: 9090, Protocol: gatewayv1.HTTPProtocolType})
		if err := s.Client.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		svc := awaitService(t, s, types.NamespacedName{Namespace: ns, Name: "edge-tenantgate"}, func(svc *corev1.Service) string {
			if msg := serviceMismatch(svc, &gw, map[string]string{"tier": "edge"}, nil, []int32{80, 9090}); msg != "" {
				return msg
			}
			if _, ok := svc.Labels["team"]; ok {
				return fmt.Sprintf("label team removed from the Gateway is still on the Service: %v", svc.Labels)
			}
			if _, ok := svc.Annotations["example.com/lb"]; ok {
				return fmt.Sprintf("annotation removed from the Gateway is still on the Service: %v", svc.Annotations)
			}
			return ""
		})
		t.Logf("Service labels %v, annotations %v", svc.Labels, svc.Annotations)
	})

	t.Run("a class's parameters ConfigMap sets the Service type", func(t *testing.T) {
		for _, o := range []client.Object{
			&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "internal-class"}, Data: map[string]string{"serviceType": "ClusterIP"}},
			internalClass,
			&gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "inside"}, Spec: gatewayv1.GatewaySpec{
				GatewayClassName: "tenantgate-internal", Listeners: []gatewayv1.Listener{{Name: "http", Port: 80, Protocol: gatewayv1.HTTPProtocolType}},
			}},
		} {
			if err := s.Client.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		awaitService(t, s, types.NamespacedName{Namespace: ns, Name: "inside-tenantgate"}, func(svc *corev1.Service) string {
			if svc.Spec.Type != corev1.ServiceTypeClusterIP {
				return fmt.Sprintf("type %s, want ClusterIP from the class's ConfigMap", svc.Spec.Type)
			}
			return ""
		})
	})

	t.Run("a Gateway moved to another implementation's class loses its Service", func(t *testing.T) {
		other := &gatewayv1.GatewayClass{ObjectMeta: metav1.ObjectMeta{Name: "infra-services-other"}, Spec: gatewayv1.GatewayClassSpec{ControllerName: "example.net/other-gateway-controller"}}
		if err := s.Client.Create(ctx, other); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.delete(t, other) })
		var gw gatewayv1.Gateway
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "victim"}, &gw); err != nil {
			t.Fatal(err)
		}
		gw.Spec.GatewayClassName = gatewayv1.ObjectName(other.Name)
		if err := s.Client.Update(ctx, &gw); err != nil {
			t.Fatal(err)
		}
		stack.Eventually(t, serviceLag, "Service victim-tenantgate deleted", func(ctx context.Context) (bool, string) {
			err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "victim-tenantgate"}, &corev1.Service{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	})

	t.Run("deleting the Gateway deletes its Service", func(t *testing.T) {
		if err := s.Client.Delete(ctx, edge); err != nil {
			t.Fatal(err)
		}
		stack.Eventually(t, serviceLag, "Service edge-tenantgate deleted", func(ctx context.Context) (bool, string) {
			err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "edge-tenantgate"}, &corev1.Service{})
			return apierrors.IsNotFound(err), fmt.Sprint(err)
		})
	})
}

// serviceMismatch says how svc differs from what gw's Service must be, or "".
func serviceMismatch(svc *corev1.Service, gw *gatewayv1.Gateway, labels, annotations map[string]string, ports []int32) string {
	owner := metav1.GetControllerOf(svc)
	if owner == nil || owner.Kind != "Gateway" || owner.Name != gw.Name || owner.UID != gw.UID {
		return fmt.Sprintf("controller %v, want Gateway %s (uid %s)", owner, gw.Name, gw.UID)
	}
	if got := svc.Labels[gatewayv1.GatewayNameLabelKey]; got != gw.Name {
		return fmt.Sprintf("label %s=%q, want %q", gatewayv1.GatewayNameLabelKey, got, gw.Name)
	}
	for k, v := range labels {
		if svc.Labels[k] != v {
			return fmt.Sprintf("labels %v lack %s=%s", svc.Labels, k, v)
		}
	}
	for k, v := range annotations {
		if svc.Annotations[k] != v {
			return fmt.Sprintf("annotations %v lack %s=%s", svc.Annotations, k, v)
		}
	}
	var got []int32
	for _, p := range svc.Spec.Ports {
		if p.TargetPort.IntVal != p.Port || p.Protocol != corev1.ProtocolTCP {
			return fmt.Sprintf("port %+v: want TCP with targetPort = port", p)
		}
		got = append(got, p.Port)
	}
	if !slices.Equal(got, ports) {
		return fmt.Sprintf("ports %v, want %v (one per distinct listener port)", got, ports)
	}
	return ""
}

func awaitService(t *testing.T, s *stack.Stack, key types.NamespacedName, mismatch func(*corev1.Service) string) *corev1.Service {
	t.Helper()
	var svc corev1.Service
	stack.Eventually(t, serviceLag, "Service "+key.String(), func(ctx context.Context) (bool, string) {
		if err := s.Client.Get(ctx, key, &svc); err != nil {
			return false, err.Error()
		}
		msg := mismatch(&svc)
		return msg == "", msg
	})
	return &svc
}

func awaitGateway(t *testing.T, s *stack.Stack, key types.NamespacedName, mismatch func(*gatewayv1.Gateway) string) {
	t.Helper()
	stack.Eventually(t, serviceLag, "Gateway "+key.String(), func(ctx context.Context) (bool, string) {
		var gw gatewayv1.Gateway
		if err := s.Client.Get(ctx, key, &gw); err != nil {
			return false, err.Error()
		}
		msg := mismatch(&gw)
		return msg == "", msg
	})
}

// awaitEndpointSlice waits for the EndpointSlice tenantgate writes for svc:
// named as it, labelled with its name and tenantgate as manager, owned by it.
func awaitEndpointSlice(t *testing.T, s *stack.Stack, svc *corev1.Service, mismatch func(*discoveryv1.EndpointSlice) string) *discoveryv1.EndpointSlice {
	t.Helper()
	var es discoveryv1.EndpointSlice
	stack.Eventually(t, serviceLag, "EndpointSlice of Service "+svc.Name, func(ctx context.Context) (bool, string) {
		if err := s.Client.Get(ctx, client.ObjectKeyFromObject(svc), &es); err != nil {
			return false, err.Error()
		}
		owner := metav1.GetControllerOf(&es)
		switch {
		case owner == nil || owner.Kind != "Service" || owner.UID != svc.UID:
			return false, fmt.Sprintf("controller %v, want Service %s", owner, svc.Name)
		case es.Labels[discoveryv1.LabelServiceName] != svc.Name || es.Labels[discoveryv1.LabelManagedBy] != controller.EndpointSliceManager:
			return false, fmt.Sprintf("labels %v", es.Labels)
		}
		msg := mismatch(&es)
		return msg == "", msg
	})
	return &es
}

// testEndpointSliceFollowsPods creates data-plane Pods (bound to a node no
// agent runs, so only their status, set here, says what they are) in
// tenantgate-system and checks that the Service's EndpointSlice lists
// their IPs as their Ready conditions say, and drops them once deleted.
func (h *harness) testEndpointSliceFollowsPods(t *testing.T, svcKey types.NamespacedName) {
	s := h.s
	ctx := context.Background()
	const dpNS = controller.DefaultDataPlaneNamespace
	if err := s.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: dpNS}}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	var svc corev1.Service
	if err := s.Client.Get(ctx, svcKey, &svc); err != nil {
		t.Fatal(err)
	}
	labels, _ := controller.ParseServiceSelector(controller.DefaultServiceSelector)
	pod := func(name, ip string) *corev1.Pod {
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Namespace: dpNS, Name: name, Labels: labels},
			Spec:       corev1.PodSpec{NodeName: "no-agent-runs-this-node", Containers: []corev1.Container{{Name: "dataplane", Image: "tenantgate"}}},
		}
		if err := s.Client.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Client.Delete(ctx, p, client.GracePeriodSeconds(0)) })
		p.Status = corev1.PodStatus{Phase: corev1.PodRunning, PodIP: ip, PodIPs: []corev1.PodIP{{IP: ip}},
			Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}}
		if err := s.Client.Status().Update(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	endpoints := func(es *discoveryv1.EndpointSlice) string {
		var out []string
		for _, ep := range es.Endpoints {
			out = append(out, fmt.Sprintf("%s ready=%t", ep.Addresses[0], *ep.Conditions.Ready))
		}
		return strings.Join(out, ", ")
	}
	expect := func(want string) {
		t.Helper()
		awaitEndpointSlice(t, s, &svc, func(es *discoveryv1.EndpointSlice) string {
			if got := endpoints(es); got != want {
				return fmt.Sprintf("endpoints %q, want %q", got, want)
			}
			return ""
		})
	}
	a, _ := pod("dp-a", "10.244.7.1"), pod("dp-b", "10.244.7.2")
	expect("10.244.7.1 ready=true, 10.244.7.2 ready=true")
	a.Status.Conditions[0].Status = corev1.ConditionFalse
	if err := s.Client.Status().Update(ctx, a); err != nil {
		t.Fatal(err)
	}
	expect("10.244.7.1 ready=false, 10.244.7.2 ready=true")
	if err := s.Client.Delete(ctx, a, client.GracePeriodSeconds(0)); err != nil {
		t.Fatal(err)
	}
	expect("10.244.7.2 ready=true")
}
