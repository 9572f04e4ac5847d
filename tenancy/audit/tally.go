package audit

import (
	"sync"

	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// routeTally keeps the route counts of every namespace up to date from the
// route informers' events, so an audit reads the counts of the namespaces
// it needs instead of listing every route (O(routes) per route change).
// The counts are routeCounts' add: one definition of what a route counts as.
type routeTally struct {
	mu     sync.Mutex
	counts routeCounts
	// synced reports whether each informer has delivered its initial list.
	synced []func() bool
}

func newRouteTally() *routeTally { return &routeTally{counts: routeCounts{}} }

// move takes a route's old version out of the counts and counts its new
// one; either may be nil (an add, a delete) or a delete's tombstone.
func (t *routeTally) move(old, cur any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if o := routeObject(old); o != nil {
		t.counts.add(o, -1)
	}
	if c := routeObject(cur); c != nil {
		t.counts.add(c, 1)
	}
}

// routeObject unwraps a delete's tombstone (the informer missed the
// delete; the final state is the last one it saw, the one it counted).
func routeObject(obj any) client.Object {
	if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = tomb.Obj
	}
	o, _ := obj.(client.Object)
	return o
}

// ready reports whether every informer has delivered its initial list to
// the tally, so the counts cover the cache.
func (t *routeTally) ready() bool {
	if t == nil {
		return false
	}
	for _, ok := range t.synced {
		if !ok() {
			return false
		}
	}
	return true
}

// forNamespaces sums the current counts of namespaces (a copy).
func (t *routeTally) forNamespaces(namespaces []string) []v1alpha1.TenantRouteCount {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts.forNamespaces(namespaces)
}
