package controller

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

func gatewayWithListener(generation int64, conds ...metav1.Condition) gatewayv1.Gateway {
	gw := gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{Namespace: "infra", Name: "gw"}}
	gw.Status.Conditions = []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", ObservedGeneration: generation}}
	gw.Status.Listeners = []gatewayv1.ListenerStatus{{Name: "https", Conditions: conds}}
	return gw
}

func cond(typ string, status metav1.ConditionStatus, reason, message string, generation int64) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: generation}
}

// An Event is due only when a status write states a not-programmed fact the
// current status did not: unchanged facts (a steady state, a new
// generation, a new leader) make none.
func TestNotProgrammedFactsAreNewOnlyOnce(t *testing.T) {
	missing := "Listener https tls.certificateRefs[0] refers to Secret infra/cert, which does not exist; create it."
	bad := cond("ResolvedRefs", metav1.ConditionFalse, "InvalidCertificateRef", missing, 1)
	for _, tc := range []struct {
		name      string
		current   gatewayv1.Gateway
		desired   gatewayv1.Gateway
		wantWrite bool
		wantFacts []string
	}{
		{"a listener newly refers to a missing Secret",
			gatewayWithListener(1, cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", "", 1)),
			gatewayWithListener(1, bad), true,
			[]string{"listener https: ResolvedRefs=False (InvalidCertificateRef): " + missing}},
		{"the status already says so: no write, no Event", gatewayWithListener(1, bad), gatewayWithListener(1, bad), false, nil},
		{"a new generation with the same fact: a write, no Event",
			gatewayWithListener(1, bad), gatewayWithListener(2, cond("ResolvedRefs", metav1.ConditionFalse, "InvalidCertificateRef", missing, 2)), true, nil},
		{"the fact is fixed: a write, no Event",
			gatewayWithListener(1, bad), gatewayWithListener(1, cond("ResolvedRefs", metav1.ConditionTrue, "ResolvedRefs", "", 1)), true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key := types.NamespacedName{Namespace: "infra", Name: "gw"}
			updates := changed([]*gatewayv1.Gateway{&tc.current}, lookup(map[types.NamespacedName]gatewayv1.GatewayStatus{key: tc.desired.Status}),
				func(o *gatewayv1.Gateway) *gatewayv1.GatewayStatus { return &o.Status },
				func(_, desired gatewayv1.GatewayStatus) gatewayv1.GatewayStatus { return desired }, gatewayFacts, nil)
			if (len(updates) == 1) != tc.wantWrite {
				t.Fatalf("%d status writes, want write=%v", len(updates), tc.wantWrite)
			}
			var got []string
			for _, u := range updates {
				for _, f := range u.facts {
					got = append(got, f.String())
				}
			}
			if strings.Join(got, "\n") != strings.Join(tc.wantFacts, "\n") {
				t.Errorf("new facts:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.wantFacts, "\n"))
			}
		})
	}
}

func TestNotProgrammedCounts(t *testing.T) {
	ours := gatewayv1.GatewayController("tenantgate.dev/gateway-controller")
	parent := func(controller gatewayv1.GatewayController, accepted metav1.ConditionStatus) gatewayv1.RouteParentStatus {
		return gatewayv1.RouteParentStatus{ControllerName: controller, ParentRef: gatewayv1.ParentReference{Name: "gw"},
			Conditions: []metav1.Condition{cond("Accepted", accepted, "NotAllowedByListeners", "", 1)}}
	}
	res := translate.Result{
		Gateways: map[types.NamespacedName]gatewayv1.GatewayStatus{
			{Namespace: "infra", Name: "ok"}:  gatewayWithListener(1).Status,
			{Namespace: "infra", Name: "bad"}: gatewayWithListener(1, cond("Programmed", metav1.ConditionFalse, "Invalid", "x", 1)).Status,
		},
		HTTPRoutes: translate.NewRouteStatuses(map[types.NamespacedName]gatewayv1.HTTPRouteStatus{
			{Namespace: "a", Name: "refused"}: {RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{parent(ours, metav1.ConditionFalse)}}},
			{Namespace: "a", Name: "fine"}:    {RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{parent(ours, metav1.ConditionTrue)}}},
			{Namespace: "a", Name: "theirs"}:  {RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{parent("example.com/other", metav1.ConditionFalse)}}},
		}),
	}
	got := notProgrammedCounts(res, ours, &blockedRoutes{})
	if got["Gateway"] != 1 || got["HTTPRoute"] != 1 || got["GatewayClass"] != 0 {
		t.Errorf("counts %v; want 1 Gateway and 1 HTTPRoute (another controller's entry does not count)", got)
	}
}
