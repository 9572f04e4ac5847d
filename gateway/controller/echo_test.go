package controller

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// The echo of our own status write rebuilds nothing; a spec change, or a
// status that is not what the last build wanted, still does.
func TestRouteStatusEcho(t *testing.T) {
	accepted := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "gw"},
		ControllerName: translate.ControllerName,
		Conditions:     []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: 1}},
	}
	r := &Reconciler{}
	r.desired.set(translate.NewRouteStatuses(map[types.NamespacedName]gatewayv1.HTTPRouteStatus{
		{Namespace: "a", Name: "r"}: {RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{accepted}}},
	}))
	old := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: "r", Generation: 1}}
	written := old.DeepCopy()
	written.Status.Parents = []gatewayv1.RouteParentStatus{accepted}
	p := r.routeStatusEcho()
	if p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: written}) {
		t.Error("the echo of the status the last build wanted triggers a rebuild")
	}
	edited := written.DeepCopy()
	edited.Generation = 2
	if !p.Update(event.UpdateEvent{ObjectOld: written, ObjectNew: edited}) {
		t.Error("a spec change (new generation) does not trigger a rebuild")
	}
	stale := written.DeepCopy()
	stale.Status.Parents[0].Conditions[0].Status = metav1.ConditionFalse
	if !p.Update(event.UpdateEvent{ObjectOld: written, ObjectNew: stale}) {
		t.Error("a status that is not what the last build wanted does not trigger a rebuild")
	}
	other := old.DeepCopy()
	other.Name = "unknown"
	if !p.Update(event.UpdateEvent{ObjectOld: old, ObjectNew: other}) {
		t.Error("a route the last build did not judge does not trigger a rebuild")
	}
}
