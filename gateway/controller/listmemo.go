package controller

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"

	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// listMemo keeps the last List of each kind the snapshot reads, with the
// count of that kind's events it was taken after. A List copies every
// object of its kind into a new slice: at 20,000 routes, a tenth of the
// garbage of a route change went to listing Services, EndpointSlices,
// Namespaces and the rest, none of which had changed. The cache updates
// its store before it hands the event on, so a List taken after reading
// the count holds every change that count saw.
type listMemo struct {
	mu    sync.Mutex
	kinds map[reflect.Type]*kindList // by object type
}

// kindList is one kind's event count and last List.
type kindList struct {
	events atomic.Uint64
	// taken is the count before last was listed; both are read and
	// written by the one reconcile worker alone.
	taken   uint64
	last    client.ObjectList // nil: none kept
	counted bool              // a handler counts the kind's events; a kind never counted is listed every time

}

func newListMemo() *listMemo { return &listMemo{kinds: map[reflect.Type]*kindList{}} }

// kind is the memory of one kind, made on first use.
func (m *listMemo) kind(obj client.Object) *kindList {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := reflect.TypeOf(obj)
	k := m.kinds[t]
	if k == nil {
		k = &kindList{}
		m.kinds[t] = k
	}
	return k
}

// counted is h, counting the events of obj's kind first; h itself
// without a memo.
func (m *listMemo) counted(obj client.Object, h handler.EventHandler) handler.EventHandler {
	if m == nil {
		return h
	}
	k := m.kind(obj)
	k.counted = true
	type queue = workqueue.TypedRateLimitingInterface[reconcile.Request]
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q queue) { k.events.Add(1); h.Create(ctx, e, q) },
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q queue) { k.events.Add(1); h.Update(ctx, e, q) },
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q queue) { k.events.Add(1); h.Delete(ctx, e, q) },
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q queue) {
			k.events.Add(1)
			h.Generic(ctx, e, q)
		},
	}
}

// list fills list with the cache's objects of obj's kind (not copies:
// nobody writes what a snapshot holds), reusing the last List of the kind
// while no event of it came. A nil memo always lists.
func (m *listMemo) list(ctx context.Context, r client.Reader, list client.ObjectList, obj client.Object) error {
	if m == nil {
		return r.List(ctx, list, client.UnsafeDisableDeepCopy)
	}
	k := m.kind(obj)
	events := k.events.Load()
	if k.counted && k.last != nil && k.taken == events {
		reflect.ValueOf(list).Elem().Set(reflect.ValueOf(k.last).Elem()) // the same Items slice
		return nil
	}
	if err := r.List(ctx, list, client.UnsafeDisableDeepCopy); err != nil {
		k.last = nil
		return err
	}
	last := reflect.New(reflect.TypeOf(list).Elem())
	last.Elem().Set(reflect.ValueOf(list).Elem())
	k.last, k.taken = last.Interface().(client.ObjectList), events
	return nil
}
