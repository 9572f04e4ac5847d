package translate

import (
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/diff"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var (
	earlier = metav1.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	later   = metav1.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
)

func cond(typ string, status metav1.ConditionStatus, reason string, gen int64, at metav1.Time) metav1.Condition {
	return metav1.Condition{Type: typ, Status: status, Reason: reason, Message: reason + ".", ObservedGeneration: gen, LastTransitionTime: at}
}

func TestMergeConditions(t *testing.T) {
	tests := []struct {
		name                   string
		current, desired, want []metav1.Condition
	}{{
		name:    "new condition is added with its time",
		desired: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)},
		want:    []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)},
	}, {
		name:    "unchanged status keeps its transition time and takes reason and generation",
		current: []metav1.Condition{cond("ResolvedRefs", "False", "BackendNotFound", 1, earlier)},
		desired: []metav1.Condition{cond("ResolvedRefs", "False", "RefNotPermitted", 2, later)},
		want:    []metav1.Condition{cond("ResolvedRefs", "False", "RefNotPermitted", 2, earlier)},
	}, {
		name:    "changed status takes the new transition time",
		current: []metav1.Condition{cond("ResolvedRefs", "True", "ResolvedRefs", 1, earlier)},
		desired: []metav1.Condition{cond("ResolvedRefs", "False", "RefNotPermitted", 1, later)},
		want:    []metav1.Condition{cond("ResolvedRefs", "False", "RefNotPermitted", 1, later)},
	}, {
		name:    "a condition observed at a newer generation is not overwritten",
		current: []metav1.Condition{cond("Accepted", "False", "NotAllowedByListeners", 5, earlier)},
		desired: []metav1.Condition{cond("Accepted", "True", "Accepted", 4, later)},
		want:    []metav1.Condition{cond("Accepted", "False", "NotAllowedByListeners", 5, earlier)},
	}, {
		name: "other owners' conditions stay in place; our stale types go",
		current: []metav1.Condition{
			cond("example.com/Healthy", "True", "Healthy", 1, earlier),
			cond("PartiallyInvalid", "True", "UnsupportedValue", 1, earlier),
			cond("Accepted", "True", "Accepted", 1, earlier),
		},
		desired: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)},
		want: []metav1.Condition{
			cond("example.com/Healthy", "True", "Healthy", 1, earlier),
			cond("Accepted", "True", "Accepted", 2, earlier),
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MergeConditions(tt.current, tt.desired)
			if !equality.Semantic.DeepEqual(got, tt.want) {
				t.Errorf("MergeConditions: %s", diff.Diff(tt.want, got))
			}
		})
	}
}

func TestMergeGatewayStatusKeepsListenerTransitionTimes(t *testing.T) {
	current := gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", 1, earlier)},
		Listeners: []gatewayv1.ListenerStatus{
			{Name: "http", Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)}},
			{Name: "removed", Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)}},
		},
	}
	desired := gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", 2, later)},
		Listeners: []gatewayv1.ListenerStatus{
			{Name: "http", AttachedRoutes: 3, Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)}},
			{Name: "added", Conditions: []metav1.Condition{cond("Accepted", "False", "UnsupportedProtocol", 2, later)}},
		},
	}
	want := gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{cond("Programmed", "True", "Programmed", 2, earlier)},
		Listeners: []gatewayv1.ListenerStatus{
			{Name: "http", AttachedRoutes: 3, Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, earlier)}},
			{Name: "added", Conditions: []metav1.Condition{cond("Accepted", "False", "UnsupportedProtocol", 2, later)}},
		},
	}
	if got := MergeGatewayStatus(current, desired); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("MergeGatewayStatus: %s", diff.Diff(want, got))
	}
}

func TestMergeRouteStatus(t *testing.T) {
	group, kind, section := gatewayv1.Group(gatewayv1.GroupName), gatewayv1.Kind("Gateway"), gatewayv1.SectionName("http")
	theirs := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "shared"},
		ControllerName: "example.net/other",
		Conditions:     []metav1.Condition{cond("Accepted", "False", "NotAllowedByListeners", 1, earlier)},
	}
	// The API server wrote defaults into our old entry; Build's has none.
	oursOld := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Group: &group, Kind: &kind, Name: "shared", SectionName: &section},
		ControllerName: ControllerName,
		Conditions:     []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)},
	}
	stale := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "deleted"},
		ControllerName: ControllerName,
		Conditions:     []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)},
	}
	// Build's route conditions carry no time: the merge keeps the old time
	// of a condition whose status holds, and stamps now on one that is new
	// (the fresh parent) or changed status (ResolvedRefs).
	oursNew := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "shared", SectionName: &section},
		ControllerName: ControllerName,
		Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, metav1.Time{}),
			cond("ResolvedRefs", "False", "BackendNotFound", 2, metav1.Time{})},
	}
	oursOld.Conditions = append(oursOld.Conditions, cond("ResolvedRefs", "True", "ResolvedRefs", 1, earlier))
	fresh := gatewayv1.RouteParentStatus{
		ParentRef:      gatewayv1.ParentReference{Name: "fresh"},
		ControllerName: ControllerName,
		Conditions:     []metav1.Condition{cond("Accepted", "True", "Accepted", 2, metav1.Time{})},
	}
	current := gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{oursOld, theirs, stale}}}
	desired := gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{oursNew, fresh}}}

	got := MergeRouteStatus(current, desired, ControllerName, later)

	wantOurs, wantFresh := oursNew, fresh
	wantOurs.Conditions = []metav1.Condition{cond("Accepted", "True", "Accepted", 2, earlier), cond("ResolvedRefs", "False", "BackendNotFound", 2, later)}
	wantFresh.Conditions = []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)}
	want := gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{theirs, wantOurs, wantFresh}}}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("MergeRouteStatus: %s", diff.Diff(want, got))
	}
	if !desired.Parents[1].Conditions[0].LastTransitionTime.IsZero() {
		t.Error("MergeRouteStatus stamped the desired status it was given; a Result is read-only")
	}
}

func TestMergeRouteStatusDropsAllOursWhenNoneDesired(t *testing.T) {
	theirs := gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: "other"}, ControllerName: "example.net/other"}
	ours := gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: "shared"}, ControllerName: ControllerName}
	current := gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{ours, theirs}}}
	got := MergeRouteStatus(current, gatewayv1.HTTPRouteStatus{}, ControllerName, later)
	if len(got.Parents) != 1 || got.Parents[0].ControllerName != "example.net/other" {
		t.Errorf("MergeRouteStatus kept %+v, want only the other controller's entry", got.Parents)
	}
}

func TestMergePolicyStatus(t *testing.T) {
	ns := gatewayv1.Namespace("infra")
	theirs := gatewayv1.PolicyAncestorStatus{
		AncestorRef:    gatewayv1.ParentReference{Namespace: &ns, Name: "shared"},
		ControllerName: "example.net/other",
		Conditions:     []metav1.Condition{cond("Accepted", "False", "Conflicted", 1, earlier)},
	}
	oursOld := gatewayv1.PolicyAncestorStatus{
		AncestorRef:    gatewayv1.ParentReference{Namespace: &ns, Name: "shared"},
		ControllerName: ControllerName,
		Conditions:     []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)},
	}
	stale := gatewayv1.PolicyAncestorStatus{
		AncestorRef:    gatewayv1.ParentReference{Namespace: &ns, Name: "deleted"},
		ControllerName: ControllerName,
	}
	oursNew := gatewayv1.PolicyAncestorStatus{
		AncestorRef:    gatewayv1.ParentReference{Namespace: &ns, Name: "shared"},
		ControllerName: ControllerName,
		Conditions:     []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)},
	}
	got := MergePolicyStatus(gatewayv1.PolicyStatus{Ancestors: []gatewayv1.PolicyAncestorStatus{oursOld, theirs, stale}},
		gatewayv1.PolicyStatus{Ancestors: []gatewayv1.PolicyAncestorStatus{oursNew}}, ControllerName)

	wantOurs := oursNew
	wantOurs.Conditions = []metav1.Condition{cond("Accepted", "True", "Accepted", 2, earlier)}
	want := gatewayv1.PolicyStatus{Ancestors: []gatewayv1.PolicyAncestorStatus{theirs, wantOurs}}
	if !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("MergePolicyStatus: %s", diff.Diff(want, got))
	}
}

func TestMergeListenerSetStatusKeepsListenerTransitionTimes(t *testing.T) {
	current := gatewayv1.ListenerSetStatus{
		Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)},
		Listeners: []gatewayv1.ListenerEntryStatus{
			{Name: "http", Conditions: []metav1.Condition{cond("Conflicted", "False", "NoConflicts", 1, earlier)}},
			{Name: "removed", Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 1, earlier)}},
		},
	}
	desired := gatewayv1.ListenerSetStatus{
		Conditions: []metav1.Condition{cond("Accepted", "True", "ListenersNotValid", 2, later)},
		Listeners: []gatewayv1.ListenerEntryStatus{
			{Name: "http", AttachedRoutes: 1, Conditions: []metav1.Condition{cond("Conflicted", "True", "HostnameConflict", 2, later)}},
			{Name: "added", Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)}},
		},
	}
	want := gatewayv1.ListenerSetStatus{
		Conditions: []metav1.Condition{cond("Accepted", "True", "ListenersNotValid", 2, earlier)},
		Listeners: []gatewayv1.ListenerEntryStatus{
			{Name: "http", AttachedRoutes: 1, Conditions: []metav1.Condition{cond("Conflicted", "True", "HostnameConflict", 2, later)}},
			{Name: "added", Conditions: []metav1.Condition{cond("Accepted", "True", "Accepted", 2, later)}},
		},
	}
	if got := MergeListenerSetStatus(current, desired); !equality.Semantic.DeepEqual(got, want) {
		t.Errorf("MergeListenerSetStatus: %s", diff.Diff(want, got))
	}
}
