package translate

import (
	"slices"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// A Build whose snapshot says which HTTPRoutes changed since the last
// Build's (Snapshot.HTTPRouteChanges) walks those routes alone, when the
// last Build's route stages all still hold: the same stage epoch (nothing
// but routes changed around them), the same EndpointSlices, no GRPCRoute
// (routes of one kind never judge each other) and every route's stage
// kept. Each listener then starts from the count and the sorted routes it
// had after the last Build, less what the changed routes were served
// there; the changed routes are attached again, and a listener whose routes
// changed merges them into its sorted list. Such a Build costs what changed,
// not the number of routes, and its Result equals a full Build's (the
// randomized test feeds it the changes between its snapshots).

// skipMemo is what the last Build leaves for a Build that skips.
type skipMemo struct {
	seq   uint64 // the snapshot's RouteChanges.Seq; 0: none, or the Build did not finish
	epoch uint64 // the stage epoch ready holds for
	ready bool   // every route's stage is kept, and there is no GRPCRoute
	// listeners are each listener's count and routes after the route stage, by name.
	listeners map[string]listenerRoutes
	lists     routeLists
}

// listenerRoutes is a listener after a Build's route stage.
type listenerRoutes struct {
	attached int32
	routes   []*routetable.Route // sorted, as in the Config
	tls      bool                // a TLS listener: TLSRoutes, which every Build attaches
}

// listenerPatch is a skipping Build's edit of a listener's routes.
type listenerPatch struct {
	base    []*routetable.Route
	removed []*routetable.Route // as served last Build
	added   []*routetable.Route
	// lists recycles the patched lists of the listener named.
	lists *routeLists
	name  string
}

// skippable reports whether this Build may walk the changed routes alone,
// and if so readies every listener from the last Build's.
func (b *builder) skippable() bool {
	run := b.memo
	inc := run.inc
	m := &inc.order
	ch := b.s.HTTPRouteChanges
	if ch == nil || run.changesSince == 0 || ch.Since != run.changesSince || !run.sameEndpoints ||
		run.stage == nil || run.stage.listeners == nil || run.stage.changes != nil || len(run.stage.namespaces) > 0 || run.stage.parents != nil || len(b.s.GRPCRoutes) > 0 ||
		!inc.skip.ready || inc.skip.epoch != inc.stageEpoch || m.byKey == nil || m.statusesGen != m.gen || m.statusesGen == 0 {
		return false
	}
	// Each route named once, and every changed one with a version (not a fixture).
	seen := make(map[types.NamespacedName]bool, len(ch.HTTPRoutes)+len(ch.Gone))
	once := func(k types.NamespacedName) bool {
		if seen[k] {
			return false
		}
		seen[k] = true
		return true
	}
	for _, r := range ch.HTTPRoutes {
		if !once(keyOf(&r.ObjectMeta)) || r.ResourceVersion == "" {
			return false
		}
	}
	for _, k := range ch.Gone {
		if !once(k) {
			return false
		}
	}
	if len(inc.skip.listeners) != len(run.stage.listeners) {
		return false
	}
	for name := range run.stage.listeners {
		if _, ok := inc.skip.listeners[name]; !ok {
			return false
		}
	}
	for name, l := range run.stage.listeners {
		last := inc.skip.listeners[name]
		if last.tls {
			continue
		}
		l.attached = last.attached
		if l.inConfig {
			l.patch = &listenerPatch{base: last.routes, lists: &inc.skip.lists, name: name}
		}
	}
	inc.listenerEpoch = 0 // the walk's placement memory no longer matches the listeners
	return true
}

// skipRoutes is the route stage of the changed routes alone.
func (b *builder) skipRoutes(claims kindClaims) {
	m := &b.memo.inc.order
	prevGen := m.gen
	m.gen++
	ch := b.s.HTTPRouteChanges
	edit := m.editStatuses(prevGen, 0)
	drop := func(e *routeEntry) {
		b.unserve(e)
		m.unpublish(edit, e)
		m.remove(e)
	}
	for _, k := range ch.Gone {
		if e := m.byKey[routeKey{kind: kindHTTPRoute, namespace: k.Namespace, name: k.Name}]; e != nil {
			drop(e)
		}
	}
	changed := make([]*routeEntry, 0, len(ch.HTTPRoutes))
	for _, r := range ch.HTTPRoutes {
		key := routeKey{kind: kindHTTPRoute, namespace: r.Namespace, name: r.Name}
		e := m.byKey[key]
		if e != nil && e.created.Equal(r.CreationTimestamp.Time) {
			b.unserve(e)
			if m.byObject[e.object()] == e {
				delete(m.byObject, e.object())
			}
		} else {
			if e != nil {
				drop(e) // recreated: forget the old one's memory
			}
			e = &routeEntry{key: key, created: r.CreationTimestamp.Time}
			m.byKey[key] = e
			m.insert(e)
		}
		e.key, e.gen, e.http = key, m.gen, r
		m.byObject[e.object()] = e
		changed = append(changed, e)
	}
	slices.SortFunc(changed, compareEntries)
	ready := true
	for _, e := range changed {
		b.current = e
		st, ok := b.httpRouteStatus(e.http, claims)
		m.publish(edit, e, st, ok)
		ready = ready && e.stage != nil && e.stage.epoch == b.memo.inc.stageEpoch
	}
	b.current = nil
	m.doneStatuses(b, edit)
	b.memo.inc.skip.ready = b.memo.inc.skip.ready && ready
	b.memo.inc.stats.Skipped, b.memo.inc.stats.Walked = len(m.order)-len(changed), len(changed)
}

// unserve takes what a route was served on off the listeners.
func (b *builder) unserve(e *routeEntry) {
	if e.stage == nil {
		return
	}
	for _, s := range e.stage.served {
		l := b.memo.stage.listeners[s.listener]
		if l == nil {
			continue
		}
		l.attached--
		if l.patch != nil {
			l.patch.removed = append(l.patch.removed, s.route)
		}
	}
}

// remove takes a route out of the memory.
func (m *routeOrderMemo) remove(e *routeEntry) {
	if m.byKey[e.key] == e {
		delete(m.byKey, e.key)
	}
	if m.byObject[e.object()] == e {
		delete(m.byObject, e.object())
	}
	if i, found := slices.BinarySearchFunc(m.order, e, compareEntries); found && m.order[i] == e {
		m.order = slices.Delete(m.order, i, i+1)
	} else if i := slices.Index(m.order, e); i >= 0 {
		m.order = slices.Delete(m.order, i, i+1)
	}
}

// insert puts a new route at its place in route order.
func (m *routeOrderMemo) insert(e *routeEntry) {
	i, _ := slices.BinarySearchFunc(m.order, e, compareEntries)
	m.order = slices.Insert(m.order, i, e)
}

// patched is the listener's sorted routes: the last Build's, less those
// removed, with those added put in their places. Binary searches find the
// places and each kept route is copied once: a few changes among
// thousands of routes cost one copy of the list.
func (p *listenerPatch) patched() []*routetable.Route {
	if len(p.removed) == 0 && len(p.added) == 0 {
		return p.base
	}
	n := len(p.base)
	gone := make([]int, 0, len(p.removed))
	for _, r := range p.removed {
		if i, found := slices.BinarySearchFunc(p.base, r, compareServed); found {
			gone = append(gone, i)
		}
	}
	slices.Sort(gone)
	gone = slices.Compact(gone)
	slices.SortFunc(p.added, compareServed)
	at := make([]int, len(p.added)) // where each added route goes among the last Build's
	for i, r := range p.added {
		at[i], _ = slices.BinarySearchFunc(p.base, r, compareServed)
	}
	out := p.lists.spare(p.name, n-len(gone)+len(p.added))
	from, g, a := 0, 0, 0
	for g < len(gone) || a < len(p.added) {
		if a < len(p.added) && (g == len(gone) || at[a] <= gone[g]) {
			out = append(append(out, p.base[from:at[a]]...), p.added[a])
			from = at[a]
			a++
			continue
		}
		out = append(out, p.base[from:gone[g]]...)
		from = gone[g] + 1
		g++
	}
	out = append(out, p.base[from:]...)
	if len(out) == 0 {
		return nil
	}
	p.lists.made(p.name, out)
	return out
}

// rememberListeners keeps each listener's count and routes for the next Build.
func (b *builder) rememberListeners(l *listenerState, routes []*routetable.Route) {
	if b.memo == nil {
		return
	}
	b.memo.inc.skip.listeners[l.name] = listenerRoutes{attached: l.attached, routes: routes, tls: l.spec.Protocol == gatewayv1.TLSProtocolType}
}

// stagesReady reports whether every route of the walk kept its stage, so a
// later Build may skip.
func (b *builder) stagesReady(order []*routeEntry) bool {
	if b.memo.stage == nil || b.memo.stage.listeners == nil || len(b.s.GRPCRoutes) > 0 {
		return false
	}
	for _, e := range order {
		if e.grpc != nil || e.stage == nil || e.stage.epoch != b.memo.inc.stageEpoch {
			return false
		}
	}
	return true
}
