package translate

import (
	"unsafe"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// routeLists recycles the route lists a skipping Build patches: each is a
// copy of a listener's sorted routes, and at 20,000 routes that copy was a
// quarter of the garbage of a route change. A list is written again only
// after the caller said, by Incremental.Recycle, that nothing reads the
// Config it was in, and only once it is no longer the list the next
// Build patches.
type routeLists struct {
	// recent are the last lists made per listener, newest first: only
	// these may be recycled, so a caller that never recycles keeps none alive.
	recent map[string][2]**routetable.Route
	free   map[string][]*routetable.Route
}

// spare is an empty list for the listener with room for n routes; a new
// one from a nil routeLists.
func (rl *routeLists) spare(listener string, n int) []*routetable.Route {
	if rl == nil {
		return make([]*routetable.Route, 0, n)
	}
	if free := rl.free[listener]; cap(free) >= n {
		delete(rl.free, listener)
		return free[:0]
	}
	return make([]*routetable.Route, 0, n+n/16) // room for the routes a few adds bring
}

// made notes a list patched for the listener (nothing for a nil routeLists).
func (rl *routeLists) made(listener string, list []*routetable.Route) {
	if rl == nil {
		return
	}
	if rl.recent == nil {
		rl.recent = map[string][2]**routetable.Route{}
	}
	r := rl.recent[listener]
	rl.recent[listener] = [2]**routetable.Route{unsafe.SliceData(list), r[0]}
}

// Recycle tells the Incremental that nothing reads cfg any more, a Config
// of one of its earlier Builds: a later Build may write its lists of
// routes. A Config the last Build returned keeps the lists the next Build
// starts from; those are recycled by a later call, once replaced.
func (inc *Incremental) Recycle(cfg routetable.Config) {
	rl := &inc.skip.lists
	for _, l := range cfg.Listeners {
		data := unsafe.SliceData(l.Routes)
		recent := rl.recent[l.Name]
		if data == nil || data != recent[0] && data != recent[1] ||
			data == unsafe.SliceData(inc.skip.listeners[l.Name].routes) {
			continue // not made by patching, already recycled, or the next Build's start
		}
		if recent[0] == data {
			recent[0] = nil
		} else {
			recent[1] = nil
		}
		rl.recent[l.Name] = recent
		if rl.free == nil {
			rl.free = map[string][]*routetable.Route{}
		}
		rl.free[l.Name] = l.Routes[:cap(l.Routes)]
	}
}
