package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// The status writer's memory skips a route only while both its cached
// resourceVersion and its desired status (but for transition times) are
// those it found satisfied; anything else is merged and compared again.
func TestStatusMemoSkipsOnlyUnchangedRoutes(t *testing.T) {
	ours := gatewayv1.GatewayController("tenantgate.dev/gateway-controller")
	desired := func(message string, at time.Time) gatewayv1.HTTPRouteStatus {
		return gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
			ParentRef: gatewayv1.ParentReference{Name: "gw"}, ControllerName: ours,
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: message, LastTransitionTime: metav1.NewTime(at)}},
		}}}}
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	route := gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "r", ResourceVersion: "1"}, Status: desired("attached", t0)}
	key := types.NamespacedName{Namespace: "team", Name: "r"}
	memo := newStatusMemo(func(a, b gatewayv1.HTTPRouteStatus) bool { return sameRouteStatus(a.RouteStatus, b.RouteStatus) })
	merges := 0
	var last []statusUpdate
	run := func(items []gatewayv1.HTTPRoute, want gatewayv1.HTTPRouteStatus) int {
		merges = 0
		memo.begin()
		defer memo.end()
		updates := changed(pointers(items), lookup(map[types.NamespacedName]gatewayv1.HTTPRouteStatus{key: want}),
			func(o *gatewayv1.HTTPRoute) *gatewayv1.HTTPRouteStatus { return &o.Status },
			func(current, desired gatewayv1.HTTPRouteStatus) gatewayv1.HTTPRouteStatus {
				merges++
				return translate.MergeRouteStatus(current, desired, ours, metav1.NewTime(t0))
			}, routeFacts(ours), memo)
		last = updates
		return len(updates)
	}
	// write stands for the API server taking the last update: the object
	// comes back at resourceVersion rv.
	write := func(rv string) {
		if len(last) != 1 || last[0].written == nil {
			t.Fatalf("want one update that tells the memo, got %d", len(last))
		}
		last[0].obj.SetResourceVersion(rv)
		last[0].written()
	}
	steps := []struct {
		name            string
		rv, message     string
		at              time.Time
		merges, updates int
	}{
		{"first sight is compared", "1", "attached", t0.Add(time.Minute), 1, 0},
		{"same version, same status, later build time: skipped", "1", "attached", t0.Add(2 * time.Minute), 0, 0},
		{"a new desired message is compared and written", "1", "moved", t0.Add(3 * time.Minute), 1, 1},
		{"back to the satisfied status: skipped again", "1", "attached", t0.Add(4 * time.Minute), 0, 0},
		{"a new resourceVersion is compared", "2", "attached", t0.Add(5 * time.Minute), 1, 0},
		{"a new desired message is written over version 2", "2", "moved", t0.Add(6 * time.Minute), 1, 1},
		{"a snapshot from before that write's echo, same status: skipped", "2", "moved", t0.Add(7 * time.Minute), 0, 0},
		{"the echo itself, same status: skipped", "3", "moved", t0.Add(8 * time.Minute), 0, 0},
		{"the stale snapshot with another status is compared and written", "2", "again", t0.Add(9 * time.Minute), 1, 1},
	}
	for i, st := range steps {
		route.ResourceVersion = st.rv
		if n := run([]gatewayv1.HTTPRoute{route}, desired(st.message, st.at)); n != st.updates || merges != st.merges {
			t.Errorf("%s: %d merges and %d updates, want %d and %d", st.name, merges, n, st.merges, st.updates)
		}
		if i == 5 {
			write("3")
		}
	}
	run(nil, desired("attached", t0))
	if len(memo.entries) != 0 {
		t.Errorf("a route gone from the snapshot is still remembered: %v", memo.entries)
	}
}
