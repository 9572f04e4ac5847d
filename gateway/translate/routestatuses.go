package translate

import (
	"iter"
	"maps"
	"math"
	"sync/atomic"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// RouteStatuses is a Result's HTTPRoute statuses, by route. An Incremental
// Build shares the last Result's and lays its own changes over them, so a
// Build that changes one route among thousands copies no map of them all:
// the layer is copied on a Build's first change and, once it holds more
// than about √n routes, folded into a new base (each fold is paid for by
// the √n Builds before it). Read-only, like the rest of a Result.
type RouteStatuses struct {
	base   map[types.NamespacedName]gatewayv1.HTTPRouteStatus
	baseID uint64                                 // numbers the base; 0 for none
	layer  map[types.NamespacedName]layeredStatus // over base
	n      int
	// parentID is the base this base was folded from (0: none) and folded
	// the routes of the layer folded into it, so ChangedSince still knows
	// what changed since a Result on the parent base: a fold no longer
	// makes the status writer look at every route.
	parentID uint64
	folded   []types.NamespacedName
}

// baseIDs numbers the bases of RouteStatuses.
var baseIDs atomic.Uint64

// layeredStatus is a route's status over the base, or its removal.
type layeredStatus struct {
	status gatewayv1.HTTPRouteStatus
	gone   bool
}

// NewRouteStatuses holds the statuses of m, which it keeps: m must not be written afterwards.
func NewRouteStatuses(m map[types.NamespacedName]gatewayv1.HTTPRouteStatus) RouteStatuses {
	return RouteStatuses{base: m, baseID: baseIDs.Add(1), n: len(m)}
}

// ChangedSince is the routes whose status may differ between old and r
// (a superset), when r was edited from old with at most one fold in
// between; ok is false otherwise. Following a count over Results then
// costs what changed.
func (r RouteStatuses) ChangedSince(old RouteStatuses) (keys []types.NamespacedName, ok bool) {
	if r.baseID == 0 || r.baseID != old.baseID && (r.parentID == 0 || r.parentID != old.baseID) {
		return nil, false
	}
	keys = make([]types.NamespacedName, 0, len(r.layer))
	if r.baseID != old.baseID {
		keys = append(keys, r.folded...) // what old's base became, less what r's layer says
	}
	for k := range r.layer {
		keys = append(keys, k)
	}
	for k := range old.layer {
		if _, both := r.layer[k]; !both {
			keys = append(keys, k)
		}
	}
	return keys, true
}

// Get is the route's status; ok is false when the Result has none for it.
func (r RouteStatuses) Get(key types.NamespacedName) (st gatewayv1.HTTPRouteStatus, ok bool) {
	if l, over := r.layer[key]; over {
		return l.status, !l.gone
	}
	st, ok = r.base[key]
	return st, ok
}

// Len is how many routes have a status.
func (r RouteStatuses) Len() int { return r.n }

// All yields every route's status, in no order.
func (r RouteStatuses) All() iter.Seq2[types.NamespacedName, gatewayv1.HTTPRouteStatus] {
	return func(yield func(types.NamespacedName, gatewayv1.HTTPRouteStatus) bool) {
		for k, l := range r.layer {
			if !l.gone && !yield(k, l.status) {
				return
			}
		}
		for k, st := range r.base {
			if _, over := r.layer[k]; !over && !yield(k, st) {
				return
			}
		}
	}
}

// Map is a copy of the statuses as one map (never nil).
func (r RouteStatuses) Map() map[types.NamespacedName]gatewayv1.HTTPRouteStatus {
	out := make(map[types.NamespacedName]gatewayv1.HTTPRouteStatus, r.n)
	for k, st := range r.All() {
		out[k] = st
	}
	return out
}

// Edited is r with the statuses of set and without the routes of gone,
// made as a Build makes its own from the last Result's (ChangedSince
// follows it). r is left as it was.
func (r RouteStatuses) Edited(set map[types.NamespacedName]gatewayv1.HTTPRouteStatus, gone []types.NamespacedName) RouteStatuses {
	e := r.edit()
	if r.baseID == 0 {
		e = newRouteStatusEdit(len(set))
	}
	for k, st := range set {
		e.set(k, st)
	}
	for _, k := range gone {
		e.delete(k)
	}
	return e.done()
}

// routeStatusEdit makes new RouteStatuses from old ones without writing
// them, or fills new ones.
type routeStatusEdit struct {
	r      RouteStatuses
	copied bool // r.layer is this edit's own
	fresh  bool // r.base is this edit's own, and there is no layer
}

func (r RouteStatuses) edit() *routeStatusEdit { return &routeStatusEdit{r: r} }

// newRouteStatusEdit fills new statuses, for about size routes.
func newRouteStatusEdit(size int) *routeStatusEdit {
	return &routeStatusEdit{r: RouteStatuses{base: make(map[types.NamespacedName]gatewayv1.HTTPRouteStatus, size), baseID: baseIDs.Add(1)}, fresh: true}
}

func (e *routeStatusEdit) writable() map[types.NamespacedName]layeredStatus {
	if !e.copied {
		e.r.layer = maps.Clone(e.r.layer)
		if e.r.layer == nil {
			e.r.layer = map[types.NamespacedName]layeredStatus{}
		}
		e.copied = true
	}
	return e.r.layer
}

func (e *routeStatusEdit) set(key types.NamespacedName, st gatewayv1.HTTPRouteStatus) {
	if e.fresh {
		e.r.base[key] = st
		e.r.n = len(e.r.base)
		return
	}
	if _, had := e.r.Get(key); !had {
		e.r.n++
	}
	e.writable()[key] = layeredStatus{status: st}
}

func (e *routeStatusEdit) delete(key types.NamespacedName) {
	if e.fresh {
		delete(e.r.base, key)
		e.r.n = len(e.r.base)
		return
	}
	if _, had := e.r.Get(key); !had {
		return
	}
	e.r.n--
	if _, inBase := e.r.base[key]; !inBase {
		delete(e.writable(), key)
		return
	}
	e.writable()[key] = layeredStatus{gone: true}
}

// done is the edited statuses, folded into a new base once the layer outgrows √n.
func (e *routeStatusEdit) done() RouteStatuses {
	if len(e.r.layer) <= max(16, int(math.Sqrt(float64(e.r.n)))) {
		return e.r
	}
	out := NewRouteStatuses(e.r.Map())
	out.parentID = e.r.baseID
	out.folded = make([]types.NamespacedName, 0, len(e.r.layer))
	for k := range e.r.layer {
		out.folded = append(out.folded, k)
	}
	return out
}
