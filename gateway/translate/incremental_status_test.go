package translate

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Equal statuses share one copy; a status differing in any one field
// (a pointer set or not, a condition's time to the zone) keeps its own.
func TestSharedStatusSharesOnlyEqualStatuses(t *testing.T) {
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	base := func() gatewayv1.RouteStatus {
		return gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
			ParentRef:      gatewayv1.ParentReference{Name: "gw", Namespace: ptr.To[gatewayv1.Namespace]("infra"), SectionName: ptr.To[gatewayv1.SectionName]("http")},
			ControllerName: "tenantgate.dev/gateway-controller",
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, ObservedGeneration: 3,
				LastTransitionTime: metav1.NewTime(at), Reason: "Accepted", Message: "attached"}},
		}}}
	}
	edits := map[string]func(*gatewayv1.RouteParentStatus){
		"group set":        func(p *gatewayv1.RouteParentStatus) { p.ParentRef.Group = ptr.To[gatewayv1.Group]("") },
		"kind set":         func(p *gatewayv1.RouteParentStatus) { p.ParentRef.Kind = ptr.To[gatewayv1.Kind]("Gateway") },
		"namespace unset":  func(p *gatewayv1.RouteParentStatus) { p.ParentRef.Namespace = nil },
		"name":             func(p *gatewayv1.RouteParentStatus) { p.ParentRef.Name = "other" },
		"section unset":    func(p *gatewayv1.RouteParentStatus) { p.ParentRef.SectionName = nil },
		"port set":         func(p *gatewayv1.RouteParentStatus) { p.ParentRef.Port = ptr.To[gatewayv1.PortNumber](80) },
		"controller":       func(p *gatewayv1.RouteParentStatus) { p.ControllerName = "example.com/other" },
		"no conditions":    func(p *gatewayv1.RouteParentStatus) { p.Conditions = nil },
		"empty conditions": func(p *gatewayv1.RouteParentStatus) { p.Conditions = []metav1.Condition{} },
		"type":             func(p *gatewayv1.RouteParentStatus) { p.Conditions[0].Type = "ResolvedRefs" },
		"status":           func(p *gatewayv1.RouteParentStatus) { p.Conditions[0].Status = metav1.ConditionFalse },
		"generation":       func(p *gatewayv1.RouteParentStatus) { p.Conditions[0].ObservedGeneration = 4 },
		"time": func(p *gatewayv1.RouteParentStatus) {
			p.Conditions[0].LastTransitionTime = metav1.NewTime(at.Add(time.Second))
		},
		"time zone": func(p *gatewayv1.RouteParentStatus) {
			p.Conditions[0].LastTransitionTime = metav1.NewTime(at.In(time.FixedZone("X", 0)))
		},
		"reason":  func(p *gatewayv1.RouteParentStatus) { p.Conditions[0].Reason = "NotAllowedByListeners" },
		"message": func(p *gatewayv1.RouteParentStatus) { p.Conditions[0].Message = "attached again" },
	}
	inc := &Incremental{}
	kept := inc.sharedStatus(base())
	if again := inc.sharedStatus(base()); &again.Parents[0] != &kept.Parents[0] {
		t.Fatal("an equal status was not shared")
	}
	for name, edit := range edits {
		st := base()
		edit(&st.Parents[0])
		got := inc.sharedStatus(st)
		if &got.Parents[0] == &kept.Parents[0] {
			t.Errorf("%s: shares the copy of a status it differs from", name)
		}
		if again := inc.sharedStatus(st); &again.Parents[0] != &got.Parents[0] {
			t.Errorf("%s: an equal status was not shared", name)
		}
	}
}
