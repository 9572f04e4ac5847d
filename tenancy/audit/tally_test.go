package audit

import (
	"context"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// parentsIn are parent statuses that make a route's state st.
func parentsIn(st routeState) []gatewayv1.RouteParentStatus {
	switch st {
	case served:
		return []gatewayv1.RouteParentStatus{parentWith(metav1.ConditionFalse), parentWith(metav1.ConditionTrue)}
	case refused:
		return []gatewayv1.RouteParentStatus{parentWith(metav1.ConditionFalse)}
	}
	return nil
}

func httpIn(ns, name string, st routeState) client.Object {
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	r.Status.Parents = parentsIn(st)
	return r
}

func grpcIn(ns, name string, st routeState) client.Object {
	r := &gatewayv1.GRPCRoute{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	r.Status.Parents = parentsIn(st)
	return r
}

// tallyStep is one informer event: the object's new version, or, for a
// delete, the object to delete (its last version is what the informer
// reports).
type tallyStep struct {
	op  string // add, update, delete, tombstone (a delete the informer missed)
	obj client.Object
}

func TestTallyEqualsCountRoutes(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []tallyStep
		left  int // namespaces the tally still holds
	}{{
		name: "adds over namespaces and kinds",
		steps: []tallyStep{
			{"add", httpIn("apples", "a", served)}, {"add", httpIn("apples", "b", pending)},
			{"add", grpcIn("apples", "g", refused)}, {"add", httpIn("grapes", "a", refused)},
		},
		left: 2,
	}, {
		name: "a route moves pending, refused, served and back to pending",
		steps: []tallyStep{
			{"add", httpIn("apples", "a", pending)}, {"add", httpIn("apples", "b", served)},
			{"update", httpIn("apples", "a", refused)}, {"update", httpIn("apples", "a", served)},
			{"update", httpIn("apples", "a", pending)},
		},
		left: 1,
	}, {
		name: "an update that changes nothing (a resync) counts nothing",
		steps: []tallyStep{
			{"add", grpcIn("apples", "g", served)}, {"update", grpcIn("apples", "g", served)}, {"update", grpcIn("apples", "g", served)},
		},
		left: 1,
	}, {
		name: "a delete takes out the last state, not the first",
		steps: []tallyStep{
			{"add", httpIn("apples", "a", pending)}, {"add", httpIn("apples", "b", pending)},
			{"update", httpIn("apples", "a", served)}, {"delete", httpIn("apples", "a", pending)},
		},
		left: 1,
	}, {
		name: "a tombstone delete takes the route out",
		steps: []tallyStep{
			{"add", httpIn("apples", "a", served)}, {"add", grpcIn("apples", "g", refused)},
			{"update", grpcIn("apples", "g", served)}, {"tombstone", grpcIn("apples", "g", pending)},
		},
		left: 1,
	}, {
		name: "a namespace whose routes are all deleted is forgotten",
		steps: []tallyStep{
			{"add", httpIn("gone", "a", served)}, {"add", grpcIn("gone", "g", pending)}, {"add", httpIn("apples", "a", served)},
			{"delete", httpIn("gone", "a", served)}, {"tombstone", grpcIn("gone", "g", pending)},
		},
		left: 1,
	}, {
		name: "a route deleted and created again counts once",
		steps: []tallyStep{
			{"add", httpIn("apples", "a", served)}, {"delete", httpIn("apples", "a", served)}, {"add", httpIn("apples", "a", refused)},
		},
		left: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			tally := newRouteTally()
			r := &Reconciler{tally: tally}
			h := r.routeHandler()
			cache := map[string]client.Object{} // what the informer holds
			for _, s := range tc.steps {
				key := kindOf(s.obj) + "/" + s.obj.GetNamespace() + "/" + s.obj.GetName()
				switch s.op {
				case "add":
					h.OnAdd(s.obj, false)
					cache[key] = s.obj
				case "update":
					h.OnUpdate(cache[key], s.obj)
					cache[key] = s.obj
				case "delete":
					h.OnDelete(cache[key])
					delete(cache, key)
				case "tombstone":
					h.OnDelete(toolscache.DeletedFinalStateUnknown{Key: key, Obj: cache[key]})
					delete(cache, key)
				}
			}
			listed, namespaces := countFinalSet(t, cache)
			for _, ns := range append(namespaces, "unknown") {
				if got, want := tally.forNamespaces([]string{ns}), listed.forNamespaces([]string{ns}); !slices.Equal(got, want) {
					t.Errorf("namespace %s: tally %+v, countRoutes %+v", ns, got, want)
				}
			}
			if got, want := tally.forNamespaces(namespaces), listed.forNamespaces(namespaces); !slices.Equal(got, want) {
				t.Errorf("all namespaces: tally %+v, countRoutes %+v", got, want)
			}
			if len(tally.counts) != tc.left {
				t.Errorf("the tally holds %d namespaces (%v), want %d", len(tally.counts), tally.counts, tc.left)
			}
		})
	}
}

func kindOf(obj client.Object) string {
	kind, _, _ := parentsOf(obj)
	return kind
}

// countFinalSet counts the routes by listing them, as the audit did before
// the tally, and names their namespaces plus those the steps emptied.
func countFinalSet(t *testing.T, cache map[string]client.Object) (routeCounts, []string) {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := gatewayv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	var objs []client.Object
	namespaces := []string{"apples", "grapes", "gone"}
	for _, o := range cache {
		objs = append(objs, o.DeepCopyObject().(client.Object))
		if !slices.Contains(namespaces, o.GetNamespace()) {
			namespaces = append(namespaces, o.GetNamespace())
		}
	}
	c := fake.NewClientBuilder().WithScheme(scheme).WithObjects(objs...).Build()
	lists := make([]func() client.ObjectList, len(routeKinds))
	for i, k := range routeKinds {
		lists[i] = k.list
	}
	counts, err := countRoutes(context.Background(), c, lists)
	if err != nil {
		t.Fatal(err)
	}
	return counts, namespaces
}
