package controller

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// The status writer's route pass, told what changed, leaves every route's
// status as a pass over all routes would. A simulated API server takes
// the writes (refusing stale resourceVersions, failing some at random),
// another controller writes its own entries and sometimes clears ours,
// routes come, change and go, the watch lags behind, jobs coalesce in
// the real queue and a job whose writes failed is now and then put back. Whenever the watch has caught up and a pass wrote
// without failing, every route holds its desired status.
func TestRouteStatusPassKeepsEveryRouteWritten(t *testing.T) {
	ours := gatewayv1.GatewayController("tenantgate.dev/gateway-controller")
	theirs := gatewayv1.GatewayController("example.com/other")
	rng := rand.New(rand.NewPCG(7, 15))
	var (
		rv       int
		server   = map[types.NamespacedName]*gatewayv1.HTTPRoute{} // the truth
		seen     = map[types.NamespacedName]string{}               // resourceVersion the watch delivered
		log      = newRouteLog()
		queue    = newStatusQueue()
		pass     = newRouteStatusPass()
		message  = map[types.NamespacedName]string{} // what the translator would say of each route
		lastWant = map[types.NamespacedName]gatewayv1.HTTPRouteStatus{}
		statuses translate.RouteStatuses
		now      = metav1.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	)
	next := func() string { rv++; return strconv.Itoa(rv) }
	put := func(r *gatewayv1.HTTPRoute) {
		r.ResourceVersion = next()
		server[types.NamespacedName{Namespace: r.Namespace, Name: r.Name}] = r
	}
	want := func(r *gatewayv1.HTTPRoute) gatewayv1.HTTPRouteStatus {
		k := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
		return gatewayv1.HTTPRouteStatus{RouteStatus: gatewayv1.RouteStatus{Parents: []gatewayv1.RouteParentStatus{{
			ParentRef: gatewayv1.ParentReference{Name: "gw"}, ControllerName: ours,
			Conditions: []metav1.Condition{{Type: "Accepted", Status: metav1.ConditionTrue, Reason: "Accepted", Message: message[k], ObservedGeneration: r.Generation}},
		}}}}
	}
	// deliver hands the watch's news to the log, some of it (all when all).
	deliver := func(all bool) {
		for k, r := range server {
			if seen[k] != r.ResourceVersion && (all || rng.IntN(10) < 7) {
				seen[k] = r.ResourceVersion
				log.put(r.DeepCopy()) // the cache's own copy
			}
		}
		for k := range seen {
			if _, ok := server[k]; !ok && (all || rng.IntN(10) < 7) {
				delete(seen, k)
				log.remove(k)
			}
		}
	}
	// build takes a snapshot and its desired statuses, as a reconcile does.
	build := func() {
		routes, changes := log.take()
		desired := map[types.NamespacedName]gatewayv1.HTTPRouteStatus{}
		for _, r := range routes {
			desired[types.NamespacedName{Namespace: r.Namespace, Name: r.Name}] = want(r)
		}
		set, gone := map[types.NamespacedName]gatewayv1.HTTPRouteStatus{}, []types.NamespacedName{}
		for k, st := range desired {
			if old, ok := lastWant[k]; !ok || !equality.Semantic.DeepEqual(old, st) {
				set[k] = st
			}
		}
		for k := range lastWant {
			if _, ok := desired[k]; !ok {
				gone = append(gone, k)
			}
		}
		statuses, lastWant = statuses.Edited(set, gone), desired
		s := &translate.Snapshot{Now: now, HTTPRoutes: routes, HTTPRouteChanges: changes}
		queue.submit(&statusJob{snapshot: s, result: translate.Result{HTTPRoutes: statuses}, routeChanges: changes})
	}
	// write runs one pass and lets the server take its updates; it reports
	// whether all went through.
	write := func(failSome bool) bool {
		j := queue.take(t.Context())
		updates := pass.updates(j.snapshot, j.routeChanges, j.result, ours)
		ok := true
		for _, u := range updates {
			r := u.obj.(*gatewayv1.HTTPRoute)
			k := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
			cur, exists := server[k]
			if !exists {
				continue // deleted meanwhile: nothing to retry
			}
			if cur.ResourceVersion != r.ResourceVersion || failSome && rng.IntN(20) == 0 {
				ok = false
				u.failed() // as updateAll does
				continue
			}
			next := cur.DeepCopy()
			next.Status = r.Status
			put(next)
			r.ResourceVersion = next.ResourceVersion
			if u.written != nil {
				u.written()
			}
		}
		if !ok && rng.IntN(2) == 0 {
			queue.retry(j) // as the writer does: the next write may take the same job again
		}
		if !ok && rng.IntN(10) == 0 {
			pass.failed() // a write cut short
		}
		return ok
	}
	names := 40
	steps := 3000
	for step := range steps {
		for range rng.IntN(4) {
			k := types.NamespacedName{Namespace: fmt.Sprintf("team-%d", rng.IntN(4)), Name: fmt.Sprintf("r%d", rng.IntN(names))}
			cur, exists := server[k]
			switch op := rng.IntN(10); {
			case !exists:
				message[k] = "new"
				put(&gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: k.Namespace, Name: k.Name, Generation: 1}})
			case op < 3: // a spec change
				r := cur.DeepCopy()
				r.Generation++
				put(r)
			case op < 5: // another controller writes its entry, now and then over ours
				r := cur.DeepCopy()
				entry := gatewayv1.RouteParentStatus{ParentRef: gatewayv1.ParentReference{Name: "theirs"}, ControllerName: theirs}
				if op == 3 {
					r.Status.Parents = []gatewayv1.RouteParentStatus{entry}
				} else {
					r.Status.Parents = append(r.Status.Parents, entry)
				}
				put(r)
			case op < 6:
				delete(server, k)
			default: // the translator's verdict changes, the route does not
				message[k] = "m" + strconv.Itoa(step)
			}
		}
		deliver(false)
		for range rng.IntN(3) { // coalesced jobs
			build()
		}
		if rng.IntN(3) == 0 {
			build()
			write(true)
		}
		if step%10 != 9 {
			continue
		}
		// Settle: the watch catches up and passes run until one wrote
		// without failing; then every route holds what it should.
		settled := false
		for range 20 {
			deliver(true)
			build()
			if write(rng.IntN(2) == 0) {
				settled = true
				break
			}
		}
		if !settled {
			t.Fatalf("step %d: no pass wrote without failing in 20 tries", step)
		}
		for k, r := range server {
			w := want(r)
			if !equality.Semantic.DeepEqual(translate.MergeRouteStatus(r.Status, w, ours, now), r.Status) {
				t.Fatalf("step %d: route %s holds %+v, want our entry %+v (passes: %d full, %d told)", step, k, r.Status, w, pass.full, pass.told)
			}
		}
	}
	if pass.told == 0 || pass.full == 0 {
		t.Fatalf("%d passes over every route and %d told what changed: the test did not exercise both", pass.full, pass.told)
	}
	t.Logf("%d steps: %d passes over every route, %d told what changed", steps, pass.full, pass.told)
}
