package routetable

import (
	"crypto/tls"
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
	routes map[compiledKey]*compiledRoute
	reused int
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
	}
	c.reused = 0
	t, faults := compile(cfg, c)
	for k, r := range c.routes {
		if !r.seen {
			delete(c.routes, k)
		}
		r.seen = false
	}
	return t, faults
}

// Reused is how many route compilations the last Compile reused.
func (c *Compiler) Reused() int { return c.reused }

// route compiles a route of listener l, or returns its compilation from
// the previous Config when its rules are the same values. A listener with
// a backend client certificate parses it afresh each time, so its routes
// are compiled afresh too.
func (c *Compiler) route(r *Route, l *Listener, clientCert *tls.Certificate) ([]*CompiledMatch, Faults) {
	if c == nil || l.BackendClientCertificate != nil || len(r.Rules) == 0 {
		return compileRoute(r, l.Name, clientCert)
	}
	key := compiledKey{listener: l.Name, namespace: r.Namespace, name: r.Name}
	if m := c.routes[key]; m != nil && sameRules(m.in.Rules, r.Rules) && m.in.GRPC == r.GRPC && m.in.Created.Equal(r.Created) {
		m.seen = true
		c.reused++
		return m.matches, m.faults
	}
	matches, faults := compileRoute(r, l.Name, clientCert)
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
