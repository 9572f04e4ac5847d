package controller

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// routeLog is the HTTPRoutes as the watch delivered them (the cache's own
// objects), with the routes added, changed or deleted since the last
// snapshot took them. The snapshot hands the translator those changes
// (translate.RouteChanges), so a build after one route changed looks at
// that route instead of comparing every route with the last build's.
// Every event is logged before it asks for a rebuild, so a rebuild sees
// every change that asked for it.
type routeLog struct {
	mu    sync.Mutex
	items []*gatewayv1.HTTPRoute
	pos   map[types.NamespacedName]int // index in items
	dirty map[types.NamespacedName]bool
	seq   uint64 // the last take's RouteChanges.Seq
	// free are lists of earlier takes that nothing reads any more
	// (recycle): a take copies 20,000 pointers into one instead of
	// making a new list, which was a quarter of a route change's garbage.
	free [][]*gatewayv1.HTTPRoute
}

// freeLists bounds the lists kept: one being written and one waiting
// for the status writer, beside the one a reconcile reads.
const freeLists = 2

func newRouteLog() *routeLog {
	return &routeLog{pos: map[types.NamespacedName]int{}, dirty: map[types.NamespacedName]bool{}}
}

func (l *routeLog) put(r *gatewayv1.HTTPRoute) {
	k := types.NamespacedName{Namespace: r.Namespace, Name: r.Name}
	l.mu.Lock()
	defer l.mu.Unlock()
	if i, ok := l.pos[k]; ok {
		l.items[i] = r
	} else {
		l.pos[k] = len(l.items)
		l.items = append(l.items, r)
	}
	l.dirty[k] = true
}

func (l *routeLog) remove(k types.NamespacedName) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i, ok := l.pos[k]
	if !ok {
		return
	}
	last := len(l.items) - 1
	if i != last {
		moved := l.items[last]
		l.items[i] = moved
		l.pos[types.NamespacedName{Namespace: moved.Namespace, Name: moved.Name}] = i
	}
	l.items[last] = nil
	l.items = l.items[:last]
	delete(l.pos, k)
	l.dirty[k] = true
}

// take is every route and what changed since the last take.
func (l *routeLog) take() ([]*gatewayv1.HTTPRoute, *translate.RouteChanges) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := &translate.RouteChanges{Since: l.seq, Seq: l.seq + 1}
	l.seq++
	for k := range l.dirty {
		if i, ok := l.pos[k]; ok {
			ch.HTTPRoutes = append(ch.HTTPRoutes, l.items[i])
		} else {
			ch.Gone = append(ch.Gone, k)
		}
	}
	clear(l.dirty)
	var list []*gatewayv1.HTTPRoute
	if n := len(l.free); n > 0 {
		list, l.free = l.free[n-1], l.free[:n-1]
	}
	if cap(list) < len(l.items) { // none, or too small since routes were created
		list = make([]*gatewayv1.HTTPRoute, 0, len(l.items)+len(l.items)/16) // room for a few creates
	}
	return append(list, l.items...), ch
}

// recycle takes back a list take returned, once nothing reads it: the
// snapshot it was in is built, and its status written or replaced.
func (l *routeLog) recycle(list []*gatewayv1.HTTPRoute) {
	if cap(list) == 0 {
		return
	}
	clear(list) // keeps no deleted route alive
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.free) < freeLists {
		l.free = append(l.free, list[:0])
	}
}

// routeEvents logs every HTTPRoute event and asks for a rebuild when pass
// lets the event through.
func (l *routeLog) events(pass func(event.UpdateEvent) bool) handler.EventHandler {
	rebuild := func(q workqueue.TypedRateLimitingInterface[reconcile.Request]) { q.Add(everything) }
	put := func(o client.Object) bool {
		r, ok := o.(*gatewayv1.HTTPRoute)
		if ok {
			l.put(r)
		}
		return ok
	}
	return handler.Funcs{
		CreateFunc: func(_ context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if put(e.Object) {
				rebuild(q)
			}
		},
		UpdateFunc: func(_ context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if put(e.ObjectNew) && pass(e) {
				rebuild(q)
			}
		},
		DeleteFunc: func(_ context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			l.remove(client.ObjectKeyFromObject(e.Object))
			rebuild(q)
		},
		GenericFunc: func(_ context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			if put(e.Object) {
				rebuild(q)
			}
		},
	}
}
