package controller

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

func dataPlanePod(name, ip string, ready, deleted bool, labels map[string]string) corev1.Pod {
	p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "tenantgate-system", Name: name, Labels: labels}}
	p.Status.Phase = corev1.PodRunning
	if ip != "" {
		p.Status.PodIPs = []corev1.PodIP{{IP: ip}}
	}
	st := corev1.ConditionFalse
	if ready {
		st = corev1.ConditionTrue
	}
	p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: st}}
	if deleted {
		p.DeletionTimestamp = &metav1.Time{Time: time.Unix(1, 0)}
	}
	return p
}

// The slice lists the serving data-plane Pods on the Service's target
// ports, with ready/serving/terminating from the Pods; other Pods of the
// namespace (the controller, the webhook) are not in it, and no
// infrastructure label can point it at another Service.
func TestDesiredEndpointSlice(t *testing.T) {
	gw := gatewayWith(map[string]string{discoveryv1.LabelServiceName: "victim-svc", "team": "apples"}, nil, 80)
	svc := desiredService(gw, "", specPorts(gw, map[int32]int32{80: 20005}))
	svc.UID = "uid-svc"
	dp, _ := ParseServiceSelector(DefaultServiceSelector)
	pods := []corev1.Pod{
		dataPlanePod("dp-b", "10.0.0.2", false, false, dp),
		dataPlanePod("dp-a", "10.0.0.1", true, false, dp),
		dataPlanePod("dp-old", "10.0.0.3", true, true, dp),
		dataPlanePod("dp-pending", "", false, false, dp),
		dataPlanePod("controller", "10.0.0.9", true, false, map[string]string{"app.kubernetes.io/name": "tenantgate", "app.kubernetes.io/component": "controller"}),
	}
	es := desiredEndpointSlice(svc, gw, (&Reconciler{}).servingPods(pods))
	if es.Labels[discoveryv1.LabelServiceName] != svc.Name || es.Labels[discoveryv1.LabelManagedBy] != EndpointSliceManager || es.Labels["team"] != "apples" {
		t.Errorf("labels %v; want service-name %s, managed-by %s and the infrastructure labels", es.Labels, svc.Name, EndpointSliceManager)
	}
	if len(es.Ports) != 1 || *es.Ports[0].Port != 20005 || *es.Ports[0].Name != "tcp-80" {
		t.Errorf("ports %+v; want tcp-80 on target port 20005", es.Ports)
	}
	var got []string
	for _, ep := range es.Endpoints {
		got = append(got, ep.Addresses[0]+":"+flag(*ep.Conditions.Ready, "ready")+flag(*ep.Conditions.Serving, "serving")+flag(*ep.Conditions.Terminating, "terminating"))
	}
	if want := "10.0.0.1:ready,serving, 10.0.0.2: 10.0.0.3:serving,terminating,"; strings.Join(got, " ") != want {
		t.Errorf("endpoints %q; want %q", strings.Join(got, " "), want)
	}
	other := es.DeepCopy()
	other.OwnerReferences[0].UID = "uid-someone-else"
	if sliceControlledBy(other, svc) || !sliceControlledBy(es, svc) {
		t.Error("sliceControlledBy must accept only the slice owned by this very Service")
	}
}

func flag(b bool, name string) string {
	if b {
		return name + ","
	}
	return ""
}

// A write that failed makes the Gateway's Programmed condition say so.
func TestWithInfrastructureFailures(t *testing.T) {
	key := types.NamespacedName{Namespace: "apples", Name: "edge"}
	res := translate.Result{Gateways: map[types.NamespacedName]gatewayv1.GatewayStatus{key: {Conditions: []metav1.Condition{
		{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted"},
		{Type: "Programmed", Status: metav1.ConditionTrue, Reason: "Programmed"},
	}}}}
	out := withInfrastructureFailures(res, map[types.NamespacedName]string{key: `writing its Service apples/edge-tenantgate failed (exceeded quota)`})
	c := out.Gateways[key].Conditions[1]
	if c.Status != metav1.ConditionFalse || c.Reason != "NoResources" || !strings.Contains(c.Message, "exceeded quota") {
		t.Errorf("Programmed %+v; want False/NoResources naming the failure", c)
	}
	if res.Gateways[key].Conditions[1].Status != metav1.ConditionTrue {
		t.Error("withInfrastructureFailures changed the Result it was given")
	}
}
