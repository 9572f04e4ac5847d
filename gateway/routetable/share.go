package routetable

import (
	"slices"
	"unsafe"
)

// Compiler is Compile with a memory: it compiles Configs one after another
// and reuses the compiled matches of every route whose rules are the very
// same values as in the previous Config on the same listener (the
// translator hands an unchanged route's rules over unchanged), so a new
// Table shares every unchanged route with its predecessor. Hostname
// indexes, sockets and listeners are assembled afresh each time. The Table
// equals Compile's. Not safe for concurrent use: one controller owns one.
type Compiler struct {
	endpoints endpointRegistry
	routes    map[compiledKey]*compiledRoute
	groups    map[groupKey]*sharedGroup
	reused    int
}

// groupKey names one hostname's route group on one listener.
type groupKey struct{ listener, hostname string }

// sharedGroup is a hostname's route group and the matches it was built
// from, in Config order.
type sharedGroup struct {
	matches []*CompiledMatch
	group   *routeGroup
	seen    bool
}

type compiledKey struct{ listener, namespace, name string }

// compiledRoute is one route compiled for one listener, and its input.
type compiledRoute struct {
	in      Route
	matches []*CompiledMatch
	faults  Faults
	seen    bool
}

// Compile is Compile(cfg), sharing unchanged routes with the previous Table.
func (c *Compiler) Compile(cfg Config) (*Table, Faults) {
	if c.routes == nil {
		c.routes = map[compiledKey]*compiledRoute{}
		c.groups = map[groupKey]*sharedGroup{}
	}
	c.reused = 0
	t, faults := compile(cfg, c)
	for k, r := range c.routes {
		if !r.seen {
			delete(c.routes, k)
		}
		r.seen = false
	}
	for k, g := range c.groups {
		if !g.seen {
			delete(c.groups, k)
		}
		g.seen = false
	}
	return t, faults
}

// Reused is how many route compilations the last Compile reused.
func (c *Compiler) Reused() int { return c.reused }

// route compiles a route of listener l, or returns its compilation from
// the previous Config when its rules are the same values. A listener with
// a backend client certificate parses it afresh each time, so its routes
// are compiled afresh too.
func (c *Compiler) route(r *Route, l *Listener, sc scope) ([]*CompiledMatch, Faults) {
	if c == nil || l.BackendClientCertificate != nil || len(r.Rules) == 0 {
		return compileRoute(r, l.Name, sc)
	}
	key := compiledKey{listener: l.Name, namespace: r.Namespace, name: r.Name}
	if m := c.routes[key]; m != nil && sameRules(m.in.Rules, r.Rules) && m.in.GRPC == r.GRPC && m.in.Created.Equal(r.Created) {
		m.seen = true
		c.reused++
		return m.matches, m.faults
	}
	matches, faults := compileRoute(r, l.Name, sc)
	// The entry keeps the input's rules alive, so their address cannot be reused by others.
	c.routes[key] = &compiledRoute{in: *r, matches: matches, faults: faults, seen: true}
	return matches, faults
}

// sameRules reports whether two rule lists are the same slice: the
// translator's memory hands over an unchanged route's rules as is, and
// whatever it translates afresh lives at a new address.
func sameRules(a, b []Rule) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// group sorts a hostname's matches by precedence and indexes them, or
// returns the group of the previous Config when its matches are the very
// same (compiled matches are shared while their routes are unchanged).
// matches may be sorted in place.
func (c *Compiler) group(listener, hostname string, matches []*CompiledMatch) *routeGroup {
	if c == nil {
		slices.SortStableFunc(matches, comparePrecedence)
		return newRouteGroup(matches)
	}
	key := groupKey{listener: listener, hostname: hostname}
	if g := c.groups[key]; g != nil && slices.Equal(g.matches, matches) {
		g.seen = true
		return g.group
	}
	in := slices.Clone(matches)
	slices.SortStableFunc(matches, comparePrecedence)
	g := &sharedGroup{matches: in, group: newRouteGroup(matches), seen: true}
	c.groups[key] = g
	return g.group
}

// registry is the Compiler's endpoint sets; nil for Compile, which shares none.
func (c *Compiler) registry() *endpointRegistry {
	if c == nil {
		return nil
	}
	return &c.endpoints
}

// SetEndpoints stores the endpoints of a Service port in the sets the
// tables this Compiler compiled share, so requests to every backend of that
// port see them at once; it reports whether any changed. Call it from the
// goroutine that calls Compile.
func (c *Compiler) SetEndpoints(src EndpointSource, eps []Endpoint) bool {
	return c.endpoints.update(src, eps)
}
