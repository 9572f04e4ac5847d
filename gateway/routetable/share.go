package routetable

import (
	"bytes"
	"crypto/tls"
	"slices"
	"unsafe"
)

// Compiler is Compile with a memory: it compiles Configs one after another
// and does again only what changed since the previous one. Per listener it
// keeps the compiled routes, the route group of each hostname and the
// hostname index; a route whose rules are the very same values as before
// (the translator hands an unchanged route's rules over unchanged) is not
// compiled again, only the groups of the hostnames a changed route had or
// has are rebuilt, and the new Table shares every other group, the
// unchanged shards of the hostname index and every unchanged listener with
// its predecessor. A published Table is never written again. The Table
// answers as Compile's does. Not safe for concurrent use: one controller
// owns one.
type Compiler struct {
	gen       uint64
	listeners map[string]*listenerMemo
	// routes counts the Config's listeners carrying each route.
	routes shardedMap[RouteKey, int32]
	reused int
}

// Compile is Compile(cfg), sharing everything unchanged with the previous Table.
func (c *Compiler) Compile(cfg Config) (*Table, Faults) {
	c.reused = 0
	if !c.align(cfg) {
		// A listener or a route named twice: Compile reports it, and the
		// next Config starts afresh.
		*c = Compiler{}
		return Compile(cfg)
	}
	b := newTableBuild()
	b.t.routes = c.routes
	var faults Faults
	for i := range cfg.Listeners {
		in := &cfg.Listeners[i]
		lm := c.listeners[in.Name]
		key, s, err := b.place(in)
		if err == nil {
			var l *CompiledListener
			var rules Faults
			l, rules, err = c.listener(lm, in)
			faults = append(faults, rules...)
			if err == nil {
				b.attach(key, s, l)
				for k := range lm.tlsKeys {
					b.t.tlsKeys[k] = true
				}
			}
		}
		if err != nil {
			lm.invalidate()
			faults = append(faults, Fault{Listener: in.Name, Err: err})
		}
	}
	return b.done(), faults
}

// Reused is how many route compilations the last Compile reused.
func (c *Compiler) Reused() int { return c.reused }

// align matches cfg's routes to those of the previous Config, listener by
// listener, and updates the route counts; false when a name repeats.
func (c *Compiler) align(cfg Config) bool {
	if c.listeners == nil {
		c.listeners = map[string]*listenerMemo{}
	}
	c.gen++
	routes := c.routes.edit(hashRouteKey)
	for i := range cfg.Listeners {
		in := &cfg.Listeners[i]
		lm := c.listeners[in.Name]
		if lm == nil {
			lm = &listenerMemo{byKey: map[RouteKey]*routeEntry{}}
			c.listeners[in.Name] = lm
		}
		if lm.gen == c.gen || !lm.align(in.Routes, c.gen, routes) {
			return false
		}
		lm.gen = c.gen
	}
	for name, lm := range c.listeners {
		if lm.gen != c.gen {
			for _, e := range lm.entries {
				countRoute(routes, e.key, -1)
			}
			delete(c.listeners, name)
		}
	}
	c.routes = routes.done()
	return true
}

func countRoute(routes *shardEdit[RouteKey, int32], k RouteKey, delta int32) {
	n, _ := routes.get(k)
	if n += delta; n == 0 {
		routes.delete(k)
		return
	}
	routes.set(k, n)
}

// listenerMemo is what a Compiler keeps of one listener.
type listenerMemo struct {
	gen uint64
	// entries are the listener's routes in Config order; spare is the
	// previous order's slice, reused for the next.
	entries, spare []*routeEntry
	byKey          map[RouteKey]*routeEntry
	// changed are entries added or changed since the last Compile, removed
	// those gone; both are consumed by the listener's compilation.
	changed, removed []*routeEntry

	// ok says the fields below are the compilation of in and entries.
	ok         bool
	in         Listener // without routes
	base       *CompiledListener
	clientCert *tls.Certificate
	groups     map[string]*hostGroup
	hosts      hostIndex[routeGroup]
	tlsKeys    map[string]int // backend TLS keys of the routes, with their uses
	withFaults int            // entries with rule faults
	compiled   *CompiledListener
}

// routeEntry is one route of a listener and its compilation.
type routeEntry struct {
	key RouteKey
	in  Route // keeps the rules alive, so their address is not reused by others
	gen uint64
	pos int // index in the listener's entries
	// compiled says matches, faults and tlsKeys are the compilation of in.
	compiled bool
	matches  []*CompiledMatch
	faults   Faults
	tlsKeys  []string
	// joined says the entry is in the groups of hosts and its tlsKeys counted.
	joined bool
	hosts  []string
}

// hostGroup is a hostname's routes and the group compiled from them.
type hostGroup struct {
	members []*routeEntry
	group   *routeGroup
}

// align walks the listener's new routes along the previous ones: a route
// at its old place or found by name keeps its entry, and those changed,
// added and gone are noted. False when a route appears twice.
func (lm *listenerMemo) align(routes []Route, gen uint64, counts *shardEdit[RouteKey, int32]) bool {
	old := lm.entries
	next := lm.spare[:0]
	if cap(next) < len(routes) {
		next = make([]*routeEntry, 0, len(routes)+len(routes)/8)
	}
	j, kept := 0, 0
	for i := range routes {
		r := &routes[i]
		var e *routeEntry
		if j < len(old) && old[j].key.Name == r.Name && old[j].key.Namespace == r.Namespace {
			e = old[j]
			j++
		} else if e = lm.byKey[RouteKey{r.Namespace, r.Name}]; e != nil && e.gen != gen && e.pos >= j {
			j = e.pos + 1
		}
		switch {
		case e == nil:
			e = &routeEntry{key: RouteKey{r.Namespace, r.Name}, in: *r}
			lm.byKey[e.key] = e
			countRoute(counts, e.key, 1)
			lm.changed = append(lm.changed, e)
		case e.gen == gen:
			return false
		default:
			kept++
			lm.update(e, r)
		}
		e.gen, e.pos = gen, i
		next = append(next, e)
	}
	if kept < len(old) {
		for _, e := range old {
			if e.gen != gen {
				delete(lm.byKey, e.key)
				countRoute(counts, e.key, -1)
				lm.removed = append(lm.removed, e)
			}
		}
	}
	clear(old)
	lm.entries, lm.spare = next, old[:0]
	return true
}

// update notes a kept route whose input differs from its entry's.
func (lm *listenerMemo) update(e *routeEntry, r *Route) {
	sameRoute := sameRules(e.in.Rules, r.Rules) && e.in.GRPC == r.GRPC && e.in.Created.Equal(r.Created)
	if sameRoute && slices.Equal(e.in.Hostnames, r.Hostnames) {
		return
	}
	e.in = *r
	e.compiled = e.compiled && sameRoute
	lm.changed = append(lm.changed, e)
}

// sameRules reports whether two rule lists are the same slice: the
// translator's memory hands over an unchanged route's rules as is, and
// whatever it translates afresh lives at a new address.
func sameRules(a, b []Rule) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

// invalidate forgets the listener's compilation (not its routes' own), so
// the next one starts from its entries.
func (lm *listenerMemo) invalidate() {
	lm.ok, lm.base, lm.compiled, lm.groups, lm.tlsKeys = false, nil, nil, nil, nil
	lm.hosts = hostIndex[routeGroup]{}
	lm.changed, lm.removed = nil, nil
	for _, e := range lm.entries {
		e.joined, e.hosts = false, nil
	}
}

// listener compiles an HTTP or HTTPS listener from its memo: afresh when
// the listener itself changed, else only what its changed routes touch.
func (c *Compiler) listener(lm *listenerMemo, in *Listener) (*CompiledListener, Faults, error) {
	if in.Protocol == ProtocolTLS {
		lm.invalidate()
		l, err := compileTLSListener(in)
		return l, nil, err
	}
	compiled := 0
	if !lm.ok || !sameListener(&lm.in, in) {
		lm.invalidate()
		base, clientCert, err := compileListenerBase(in)
		if err != nil {
			return nil, nil, err
		}
		if clientCert != nil || lm.clientCert != nil {
			for _, e := range lm.entries {
				e.compiled = false // their backends present the old certificate
			}
		}
		lm.in, lm.base, lm.clientCert = *in, base, clientCert
		lm.in.Routes = nil
		compiled = lm.rebuild()
		lm.ok = true
	} else if len(lm.changed) > 0 || len(lm.removed) > 0 {
		compiled = lm.apply()
	}
	c.reused += len(lm.entries) - compiled
	if lm.compiled == nil {
		l := *lm.base
		l.hosts = lm.hosts
		lm.compiled = &l
	}
	var faults Faults
	if lm.withFaults > 0 {
		for _, e := range lm.entries {
			faults = append(faults, e.faults...)
		}
	}
	return lm.compiled, faults, nil
}

// rebuild compiles the listener's groups from all its entries and returns
// how many entries it compiled.
func (lm *listenerMemo) rebuild() int {
	lm.groups, lm.tlsKeys, lm.withFaults = map[string]*hostGroup{}, map[string]int{}, 0
	lm.changed, lm.removed = nil, nil
	compiled, scratch := 0, map[string]bool{}
	for _, e := range lm.entries {
		if !e.compiled {
			lm.compileEntry(e, scratch)
			compiled++
		}
		lm.join(e)
	}
	var empty hostIndex[routeGroup]
	hosts := empty.edit()
	for h, g := range lm.groups {
		g.group = newSortedGroup(g.members)
		hosts.set(h, g.group)
	}
	lm.hosts = hosts.done()
	return compiled
}

// apply brings the groups up to date with the changed and removed entries
// and returns how many entries it compiled.
func (lm *listenerMemo) apply() int {
	dirty := map[string]bool{}
	for _, e := range lm.removed {
		lm.leave(e, dirty)
	}
	compiled, scratch := 0, map[string]bool{}
	for _, e := range lm.changed {
		lm.leave(e, dirty)
		if !e.compiled {
			lm.compileEntry(e, scratch)
			compiled++
		}
		lm.join(e)
		for _, h := range e.hosts {
			dirty[h] = true
		}
	}
	lm.changed, lm.removed = lm.changed[:0], lm.removed[:0]
	hosts := lm.hosts.edit()
	for h := range dirty {
		g := lm.groups[h]
		if g == nil {
			hosts.set(h, nil)
			continue
		}
		g.group = newSortedGroup(g.members)
		hosts.set(h, g.group)
	}
	lm.hosts, lm.compiled = hosts.done(), nil
	return compiled
}

func (lm *listenerMemo) compileEntry(e *routeEntry, scratch map[string]bool) {
	e.matches, e.faults = compileRoute(&e.in, lm.in.Name, lm.clientCert)
	clear(scratch)
	addTLSKeys(e.matches, scratch)
	e.tlsKeys = e.tlsKeys[:0]
	for k := range scratch {
		e.tlsKeys = append(e.tlsKeys, k)
	}
	e.compiled = true
}

// join adds a compiled entry to the groups of its hostnames.
func (lm *listenerMemo) join(e *routeEntry) {
	e.hosts = routeHostnames(&e.in, lm.base.Hostname)
	for _, h := range e.hosts {
		g := lm.groups[h]
		if g == nil {
			g = &hostGroup{}
			lm.groups[h] = g
		}
		g.members = append(g.members, e)
	}
	for _, k := range e.tlsKeys {
		lm.tlsKeys[k]++
	}
	if len(e.faults) > 0 {
		lm.withFaults++
	}
	e.joined = true
}

// leave takes a joined entry out of its hostnames' groups, marking them dirty.
func (lm *listenerMemo) leave(e *routeEntry, dirty map[string]bool) {
	if !e.joined {
		return
	}
	for _, h := range e.hosts {
		dirty[h] = true
		g := lm.groups[h]
		if i := slices.Index(g.members, e); i >= 0 {
			last := len(g.members) - 1
			g.members[i] = g.members[last]
			g.members[last] = nil
			g.members = g.members[:last]
		}
		if len(g.members) == 0 {
			delete(lm.groups, h)
		}
	}
	for _, k := range e.tlsKeys {
		if lm.tlsKeys[k]--; lm.tlsKeys[k] == 0 {
			delete(lm.tlsKeys, k)
		}
	}
	if len(e.faults) > 0 {
		lm.withFaults--
	}
	e.joined, e.hosts = false, nil
}

// newSortedGroup indexes the matches of a hostname's routes. Precedence is
// a total order (it ends in route name, rule and match index), so the
// routes' order does not matter.
func newSortedGroup(members []*routeEntry) *routeGroup {
	n := 0
	for _, e := range members {
		n += len(e.matches)
	}
	matches := make([]*CompiledMatch, 0, n)
	for _, e := range members {
		matches = append(matches, e.matches...)
	}
	slices.SortStableFunc(matches, comparePrecedence)
	return newRouteGroup(matches)
}

// sameListener reports whether a listener compiles as before apart from its
// routes: the same hostname, protocol, port, certificates and client
// validation.
func sameListener(a, b *Listener) bool {
	return a.Name == b.Name && a.Hostname == b.Hostname && a.Protocol == b.Protocol && a.Port == b.Port &&
		slices.EqualFunc(a.Certificates, b.Certificates, sameCertificate) &&
		sameOptional(a.BackendClientCertificate, b.BackendClientCertificate, sameCertificate) &&
		sameOptional(a.ClientValidation, b.ClientValidation, func(x, y ClientValidation) bool {
			return x.InsecureFallback == y.InsecureFallback && slices.Equal(x.CACertificates, y.CACertificates) && bytes.Equal(x.CAPEM, y.CAPEM)
		})
}

func sameCertificate(a, b Certificate) bool {
	return a.Secret == b.Secret && bytes.Equal(a.CertPEM, b.CertPEM) && bytes.Equal(a.KeyPEM, b.KeyPEM)
}

func sameOptional[T any](a, b *T, same func(T, T) bool) bool {
	if a == nil || b == nil {
		return a == b
	}
	return same(*a, *b)
}
