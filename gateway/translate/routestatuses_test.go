package translate

import (
	"maps"
	"math/rand/v2"
	"strconv"
	"testing"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// TestRouteStatusesFollowAMap edits RouteStatuses at random, as Builds do,
// beside a plain map: after every edit they must hold the same statuses,
// and every earlier version must still hold what it held (Results are
// shared, never written).
func TestRouteStatusesFollowAMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	status := func(v int) gatewayv1.HTTPRouteStatus {
		return gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{ControllerName: gatewayv1.GatewayController("v" + strconv.Itoa(v))}}}}
	}
	key := func(i int) types.NamespacedName {
		return types.NamespacedName{Namespace: "ns", Name: "r" + strconv.Itoa(i)}
	}
	want := map[types.NamespacedName]gatewayv1.HTTPRouteStatus{}
	fill := newRouteStatusEdit(0)
	for i := range 400 {
		want[key(i)] = status(i)
		fill.set(key(i), status(i))
	}
	got := fill.done()
	type version struct {
		r    RouteStatuses
		want map[types.NamespacedName]gatewayv1.HTTPRouteStatus
	}
	var versions []version
	folds, tracked, acrossFold := 0, 0, 0
	for step := range 300 {
		e := got.edit()
		for range rng.IntN(4) + 1 {
			k := key(rng.IntN(500)) // some absent, some in the base, some in the layer
			if rng.IntN(3) == 0 {
				delete(want, k)
				e.delete(k)
			} else {
				v := rng.IntN(1000)
				want[k] = status(v)
				e.set(k, status(v))
			}
		}
		next := e.done()
		if next.layer == nil && got.layer != nil {
			folds++
		}
		// Against the last version and an older one (a status writer a
		// few Builds behind), across at most one fold.
		olds := []RouteStatuses{got}
		if len(versions) > 0 {
			olds = append(olds, versions[rng.IntN(len(versions))].r)
		}
		for _, old := range olds {
			keys, ok := next.ChangedSince(old)
			if !ok {
				continue
			}
			tracked++
			if next.baseID != old.baseID {
				acrossFold++
			}
			listed := map[types.NamespacedName]bool{}
			for _, k := range keys {
				listed[k] = true
			}
			before, after := old.Map(), next.Map()
			check := func(k types.NamespacedName) {
				b, had := before[k]
				a, has := after[k]
				if (had != has || !sameStatus(a, b)) && !listed[k] {
					t.Fatalf("step %d: %s changed but ChangedSince does not list it", step, k)
				}
			}
			for k := range before {
				check(k)
			}
			for k := range after {
				check(k)
			}
		}
		got = next
		if !maps.EqualFunc(got.Map(), want, sameStatus) || got.Len() != len(want) {
			t.Fatalf("step %d: %d statuses differ from the map's %d", step, got.Len(), len(want))
		}
		for k, st := range want {
			if g, ok := got.Get(k); !ok || !sameStatus(g, st) {
				t.Fatalf("step %d: Get(%s) = %v, %v; want %v", step, k, g, ok, st)
			}
		}
		versions = append(versions, version{got, maps.Clone(want)})
	}
	for i, v := range versions {
		if !maps.EqualFunc(v.r.Map(), v.want, sameStatus) || v.r.Len() != len(v.want) {
			t.Fatalf("version %d changed after later edits", i)
		}
	}
	if tracked == 0 {
		t.Fatal("ChangedSince never knew the changes: the test does not reach that path")
	}
	if folds == 0 || acrossFold == 0 {
		t.Fatalf("%d folds, %d changes followed across one: the test does not reach that path", folds, acrossFold)
	}
}

func sameStatus(a, b gatewayv1.HTTPRouteStatus) bool {
	return len(a.Parents) == len(b.Parents) && (len(a.Parents) == 0 || a.Parents[0].ControllerName == b.Parents[0].ControllerName)
}
