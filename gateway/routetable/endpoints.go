package routetable

import (
	"net"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"weak"
)

// EndpointSource names the Service port a backend's endpoints come from.
// Backends with the same source share one EndpointSet per scheme, across
// tables compiled by one Compiler, so an endpoint change is applied to the
// serving table in place (Compiler.SetEndpoints) without translating or
// compiling anything. The zero value shares nothing.
type EndpointSource struct {
	Namespace, Service, Port string
}

// EndpointSet is the ready endpoints of one Service port as the proxy dials
// them. Requests read it concurrently with the controller storing a new list.
type EndpointSet struct {
	scheme string
	list   atomic.Pointer[[]CompiledEndpoint]
	// in is the list last stored, to skip rebuilding the URLs of an equal
	// one; only the compiling goroutine reads it.
	in []Endpoint
}

func newEndpointSet(scheme string, eps []Endpoint) *EndpointSet {
	s := &EndpointSet{scheme: scheme}
	s.store(eps)
	return s
}

// store publishes eps with URLs built for the set's scheme; it reports
// whether the list changed.
func (s *EndpointSet) store(eps []Endpoint) bool {
	if s.list.Load() != nil && slices.Equal(s.in, eps) {
		return false
	}
	out := make([]CompiledEndpoint, 0, len(eps))
	for _, e := range eps {
		hostPort := net.JoinHostPort(e.Address, strconv.Itoa(int(e.Port)))
		out = append(out, CompiledEndpoint{Address: e.Address, Port: e.Port, URL: &url.URL{Scheme: s.scheme, Host: hostPort}})
	}
	s.in = slices.Clone(eps)
	s.list.Store(&out)
	return true
}

// Endpoints is the current list; it is never modified once published. A
// nil set has none.
func (s *EndpointSet) Endpoints() []CompiledEndpoint {
	if s == nil {
		return nil
	}
	return *s.list.Load()
}

type endpointSetKey struct {
	source EndpointSource
	scheme string
}

// endpointRegistry finds the set of a source. It holds sets weakly: a set
// lives as long as a compiled backend of some table refers to it, so no
// sweep has to know which compiled routes a Compiler reused.
type endpointRegistry struct {
	sets map[endpointSetKey]weak.Pointer[EndpointSet]
	// live is the size after the last sweep of collected entries.
	live int
}

// set returns the source's set for scheme holding eps, shared when a
// registry is given and the source is named.
func (r *endpointRegistry) set(src EndpointSource, scheme string, eps []Endpoint) *EndpointSet {
	if r == nil || src == (EndpointSource{}) {
		return newEndpointSet(scheme, eps)
	}
	if r.sets == nil {
		r.sets = map[endpointSetKey]weak.Pointer[EndpointSet]{}
	}
	key := endpointSetKey{source: src, scheme: scheme}
	if s := r.sets[key].Value(); s != nil {
		s.store(eps)
		return s
	}
	s := newEndpointSet(scheme, eps)
	r.sets[key] = weak.Make(s)
	if len(r.sets) > 2*r.live+64 {
		r.sweep()
	}
	return s
}

// sweep forgets the sets no table refers to any more.
func (r *endpointRegistry) sweep() {
	for k, p := range r.sets {
		if p.Value() == nil {
			delete(r.sets, k)
		}
	}
	r.live = len(r.sets)
}

// update stores eps in the source's sets, if any table still uses them; it
// reports whether one changed.
func (r *endpointRegistry) update(src EndpointSource, eps []Endpoint) bool {
	changed := false
	for _, scheme := range []string{"http", "https"} {
		if s := r.sets[endpointSetKey{source: src, scheme: scheme}].Value(); s != nil {
			changed = s.store(eps) || changed
		}
	}
	return changed
}
