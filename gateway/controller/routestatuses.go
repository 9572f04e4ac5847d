package controller

import (
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// routeStatusPass finds the HTTPRoutes whose status to write, job after
// job. After a pass whose writes all succeeded, the next looks only at the
// routes whose object changed since (the route log's changes, carried
// across coalesced jobs by the queue) or whose desired status changed
// (RouteStatuses.ChangedSince), and at those whose write failed (a
// conflict with a newer object, mostly): every other route is the object
// it was, with the status it was found or written to hold. A job put back
// after a failed write is told too: its changes are taken in already.
// Anything else (a job without told changes, a folded statuses base, a
// write cut short, a new leadership) makes the next pass look at every
// route. Only the status writer's goroutine uses it.
type routeStatusPass struct {
	memo *statusMemo[gatewayv1.HTTPRouteStatus]
	// objs is every route as the last pass's snapshot held it.
	objs map[types.NamespacedName]*gatewayv1.HTTPRoute
	// last is the desired statuses and seq the route log's number of the
	// last pass; synced says its writes all succeeded.
	last   translate.RouteStatuses
	seq    uint64
	synced bool
	// retry are the routes whose write failed since the last pass.
	retry map[types.NamespacedName]bool
	// full and told count the passes over every route and over the changes.
	full, told uint64
}

func newRouteStatusPass() *routeStatusPass {
	return &routeStatusPass{retry: map[types.NamespacedName]bool{}, memo: newStatusMemo(func(a, b gatewayv1.HTTPRouteStatus) bool { return sameRouteStatus(a.RouteStatus, b.RouteStatus) })}
}

// updates are the routes of s whose status of ours would change to res's;
// ch is what changed among s's routes since the job of the last pass (nil
// when unknown).
func (p *routeStatusPass) updates(s *translate.Snapshot, ch *translate.RouteChanges, res translate.Result, ours gatewayv1.GatewayController) []statusUpdate {
	status := func(o *gatewayv1.HTTPRoute) *gatewayv1.HTTPRouteStatus { return &o.Status }
	merge := func(current, desired gatewayv1.HTTPRouteStatus) gatewayv1.HTTPRouteStatus {
		return translate.MergeRouteStatus(current, desired, ours, s.Now)
	}
	desiredChanged, ok := res.HTTPRoutes.ChangedSince(p.last)
	told := p.synced && ok && ch != nil && (ch.Since == p.seq || ch.Seq == p.seq)
	p.last, p.synced = res.HTTPRoutes, true
	if ch != nil {
		p.seq = ch.Seq
	} else {
		p.synced = false // the next pass cannot be told what changed since this one
	}
	if !told {
		p.full++
		p.objs = make(map[types.NamespacedName]*gatewayv1.HTTPRoute, len(s.HTTPRoutes))
		for _, o := range s.HTTPRoutes {
			p.objs[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = o
		}
		clear(p.retry)
		p.memo.begin()
		defer p.memo.end()
		return p.retried(changed(s.HTTPRoutes, res.HTTPRoutes.Get, status, merge, routeFacts(ours), p.memo))
	}
	p.told++
	look := make(map[types.NamespacedName]bool, len(ch.HTTPRoutes)+len(desiredChanged))
	for _, k := range ch.Gone {
		delete(p.objs, k)
		delete(p.memo.entries, k)
	}
	for _, o := range ch.HTTPRoutes {
		k := types.NamespacedName{Namespace: o.Namespace, Name: o.Name}
		p.objs[k] = o
		look[k] = true
	}
	for _, k := range desiredChanged {
		look[k] = true
	}
	for k := range p.retry {
		look[k] = true
	}
	clear(p.retry)
	items := make([]*gatewayv1.HTTPRoute, 0, len(look))
	for k := range look {
		if o, ok := p.objs[k]; ok {
			items = append(items, o)
		}
	}
	return p.retried(changed(items, res.HTTPRoutes.Get, status, merge, routeFacts(ours), p.memo))
}

// retried has each update's failure note its route for the next pass.
func (p *routeStatusPass) retried(updates []statusUpdate) []statusUpdate {
	for i := range updates {
		k := client.ObjectKeyFromObject(updates[i].obj)
		updates[i].failed = func() { p.retry[k] = true }
	}
	return updates
}

// failed makes the next pass look at every route: a write of this one may
// not have happened, and which is not known.
func (p *routeStatusPass) failed() { p.synced = false }

// toldChangesMax bounds the changes the queue carries across replaced
// jobs: past it (thousands of routes applied while the writer was busy) a
// pass over every route costs about the same, and merging again on every
// submit would not.
const toldChangesMax = 2048

// routeChangeSet is what changed among the routes over replaced jobs.
type routeChangeSet struct {
	since, seq uint64
	latest     map[types.NamespacedName]*gatewayv1.HTTPRoute // nil: deleted
}

// newRouteChangeSet starts from ch; nil when ch is unknown.
func newRouteChangeSet(ch *translate.RouteChanges) *routeChangeSet {
	if ch == nil {
		return nil
	}
	set := &routeChangeSet{since: ch.Since, seq: ch.Since, latest: map[types.NamespacedName]*gatewayv1.HTTPRoute{}}
	return set.add(ch)
}

// add is the set with ch, which follows it; nil when either is unknown,
// ch does not follow, or they are too many to carry.
func (set *routeChangeSet) add(ch *translate.RouteChanges) *routeChangeSet {
	if set == nil || ch == nil || ch.Since != set.seq || len(set.latest)+len(ch.HTTPRoutes)+len(ch.Gone) > toldChangesMax {
		return nil
	}
	for _, k := range ch.Gone {
		set.latest[k] = nil
	}
	for _, o := range ch.HTTPRoutes {
		set.latest[types.NamespacedName{Namespace: o.Namespace, Name: o.Name}] = o
	}
	set.seq = ch.Seq
	return set
}

// changes is the set as the RouteChanges of one job; nil when unknown.
func (set *routeChangeSet) changes() *translate.RouteChanges {
	if set == nil {
		return nil
	}
	out := &translate.RouteChanges{Since: set.since, Seq: set.seq}
	for k, o := range set.latest {
		if o == nil {
			out.Gone = append(out.Gone, k)
		} else {
			out.HTTPRoutes = append(out.HTTPRoutes, o)
		}
	}
	return out
}
