package routetable

import (
	"bytes"
	"crypto/tls"
	"slices"
	"time"
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
	// endpoints are the endpoint sets its tables share (endpoints.go).
	endpoints endpointRegistry
	gen       uint64
	listeners map[string]*listenerMemo
	// routes counts the Config's listeners carrying each route.
	routes shardedMap[RouteKey, int32]
	reused int
	// last is the id of the last Table compiled; gone the routes whose
	// count fell to zero in this Compile.
	last uint64
	gone []RouteKey
}

// Compile is Compile(cfg), sharing everything unchanged with the previous Table.
func (c *Compiler) Compile(cfg Config) (*Table, Faults) {
	c.reused, c.gone = 0, nil
	finished := false
	defer func() {
		if !finished {
			*c = Compiler{endpoints: c.endpoints} // a panic (a bug) left the memory half updated: start afresh
		}
	}()
	if !c.align(cfg) {
		// A listener or a route named twice: Compile reports it, and the
		// next Config starts afresh.
		*c = Compiler{endpoints: c.endpoints}
		finished = true
		return compileShared(cfg, &c.endpoints)
	}
	b := newTableBuild()
	b.t.routes = c.routes
	b.t.after, b.t.gone, c.last = c.last, c.gone, b.t.id
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
	finished = true
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
			lm = &listenerMemo{byKey: map[RouteKey]*routeEntry{}, endpoints: &c.endpoints}
			c.listeners[in.Name] = lm
		}
		if lm.gen == c.gen || !lm.align(in.Routes, c.gen, routes, c.uncount) {
			return false
		}
		lm.gen = c.gen
	}
	for name, lm := range c.listeners {
		if lm.gen != c.gen {
			for _, e := range lm.entries {
				c.uncount(routes, e.key)
			}
			delete(c.listeners, name)
		}
	}
	c.routes = routes.done()
	return true
}

func countRoute(routes *shardEdit[RouteKey, int32], k RouteKey, delta int32) (gone bool) {
	n, _ := routes.get(k)
	if n += delta; n == 0 {
		routes.delete(k)
		return true
	}
	routes.set(k, n)
	return false
}

// uncount takes a listener's route off the counts, noting it when no listener carries it.
func (c *Compiler) uncount(routes *shardEdit[RouteKey, int32], k RouteKey) {
	if countRoute(routes, k, -1) {
		c.gone = append(c.gone, k)
	}
}

// listenerMemo is what a Compiler keeps of one listener.
type listenerMemo struct {
	gen       uint64
	endpoints *endpointRegistry
	// entries are the listener's routes in Config order and sigs what
	// each was last compiled from, side by side so an unchanged route is
	// recognized without reading its entry; spare and spareSigs are the
	// previous order's slices, reused when the order changes.
	entries, spare  []*routeEntry
	sigs, spareSigs []routeSig
	byKey           map[RouteKey]*routeEntry
	// changed are entries added or changed since the last Compile, removed
	// those gone; both are consumed by the listener's compilation.
	changed, removed []*routeEntry

	// ok says the fields below are the compilation of in and entries; tls
	// that compiled is that of a TLS listener, in and entries.
	ok, tls    bool
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
	in  *Route // keeps the rules alive, so their address is not reused by others
	gen uint64 // the last Compile that placed it, when not in place
	pos int    // index in the listener's entries
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

// routeSig is what an entry was last compiled from, by identity: the
// translator hands an unchanged route's rules and hostnames over as the
// same slices.
type routeSig struct {
	route           *Route // the very Route: a Config's Routes are never written
	namespace, name string
	rules           *Rule
	hostnames       *string
	nRules, nHosts  int
	created         time.Time
	grpc            bool
	claimed         uint64 // the last Compile that matched a route to it
}

func signature(r *Route, gen uint64) routeSig {
	return routeSig{
		route: r, namespace: r.Namespace, name: r.Name,
		rules: unsafe.SliceData(r.Rules), nRules: len(r.Rules),
		hostnames: unsafe.SliceData(r.Hostnames), nHosts: len(r.Hostnames),
		created: r.Created, grpc: r.GRPC, claimed: gen,
	}
}

func (s *routeSig) named(r *Route) bool {
	return sameString(s.name, r.Name) && sameString(s.namespace, r.Namespace)
}

// sameString is a == b, without a call when both are the same bytes (the
// translator hands names over as the objects' own strings).
func sameString(a, b string) bool {
	return len(a) == len(b) && (unsafe.StringData(a) == unsafe.StringData(b) || a == b)
}

// same reports whether r is, by identity, what the entry was compiled from.
func (s *routeSig) same(r *Route) bool {
	return s.rules == unsafe.SliceData(r.Rules) && s.nRules == len(r.Rules) &&
		s.hostnames == unsafe.SliceData(r.Hostnames) && s.nHosts == len(r.Hostnames) &&
		s.grpc == r.GRPC && s.created == r.Created
}

// align walks the listener's new routes along the previous ones: a route
// at its old place or found by name keeps its entry, and those changed,
// added and gone are noted. While every route is at its old index (the
// usual case, and routes appended at the end) the slices are updated in
// place and an unchanged route costs a comparison of its signature. False
// when a route appears twice.
func (lm *listenerMemo) align(routes []*Route, gen uint64, counts *shardEdit[RouteKey, int32], uncount func(*shardEdit[RouteKey, int32], RouteKey)) bool {
	old, oldSigs := lm.entries, lm.sigs
	n := len(old)
	ents, sigs := old, oldSigs
	copied := false
	j, kept := 0, 0
	for i := range routes {
		r := routes[i]
		if !copied && j == i {
			if j < n && oldSigs[j].route == r {
				oldSigs[j].claimed = gen // the same Route at its old place
				j++
				kept++
				continue
			}
			if j < n && oldSigs[j].named(r) {
				s := &oldSigs[j]
				s.claimed, s.route = gen, r
				if !s.same(r) {
					lm.update(old[j], r)
					*s = signature(r, gen)
				}
				j++
				kept++
				continue
			}
			if j >= n {
				e := lm.add(r, gen, counts)
				if e == nil {
					return false
				}
				e.pos = i
				ents, sigs = append(ents, e), append(sigs, signature(r, gen))
				j++
				continue
			}
			ents = append(lm.spare[:0], old[:i]...)
			sigs = append(lm.spareSigs[:0], oldSigs[:i]...)
			copied = true
		}
		var e *routeEntry
		var s routeSig
		if j < n && oldSigs[j].named(r) {
			e, s = old[j], oldSigs[j]
			oldSigs[j].claimed = gen
			j++
		} else if e = lm.byKey[RouteKey{r.Namespace, r.Name}]; e != nil {
			if e.gen == gen || e.pos < n && old[e.pos] == e && oldSigs[e.pos].claimed == gen {
				return false
			}
			s = oldSigs[e.pos]
			oldSigs[e.pos].claimed = gen
			if e.pos >= j {
				j = e.pos + 1
			}
		}
		if e == nil {
			if e = lm.add(r, gen, counts); e == nil {
				return false
			}
			s = signature(r, gen)
		} else {
			kept++
			if !s.same(r) {
				lm.update(e, r)
				s = signature(r, gen)
			}
		}
		e.gen, e.pos, s.claimed = gen, i, gen
		ents, sigs = append(ents, e), append(sigs, s)
	}
	if kept < n {
		for k := range n {
			if oldSigs[k].claimed != gen {
				e := old[k]
				delete(lm.byKey, e.key)
				uncount(counts, e.key)
				lm.removed = append(lm.removed, e)
			}
		}
	}
	if copied {
		clear(old)
		clear(oldSigs)
		lm.spare, lm.spareSigs = old[:0], oldSigs[:0]
	} else if len(routes) < n {
		clear(old[len(routes):])
		clear(oldSigs[len(routes):])
		ents, sigs = ents[:len(routes)], sigs[:len(routes)]
	}
	lm.entries, lm.sigs = ents, sigs
	return true
}

// add makes the entry of a route the listener did not have; nil when the
// route is already placed (named twice).
func (lm *listenerMemo) add(r *Route, gen uint64, counts *shardEdit[RouteKey, int32]) *routeEntry {
	key := RouteKey{r.Namespace, r.Name}
	if lm.byKey[key] != nil {
		return nil
	}
	e := &routeEntry{key: key, in: r, gen: gen}
	lm.byKey[key] = e
	countRoute(counts, key, 1)
	lm.changed = append(lm.changed, e)
	return e
}

// update notes a kept route whose input differs from its entry's.
func (lm *listenerMemo) update(e *routeEntry, r *Route) {
	sameRoute := sameRules(e.in.Rules, r.Rules) && e.in.GRPC == r.GRPC && e.in.Created.Equal(r.Created)
	if sameRoute && slices.Equal(e.in.Hostnames, r.Hostnames) {
		return
	}
	e.in = r
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
	lm.ok, lm.tls, lm.base, lm.compiled, lm.groups, lm.tlsKeys = false, false, nil, nil, nil, nil
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
		if lm.tls && len(lm.changed) == 0 && len(lm.removed) == 0 && sameListener(&lm.in, in) {
			c.reused += len(lm.entries)
			return lm.compiled, nil, nil
		}
		// A TLS listener's routes claim names in age order, so any change compiles it afresh.
		lm.invalidate()
		l, err := compileTLSListener(in, lm.endpoints)
		if err != nil {
			return nil, nil, err
		}
		lm.in, lm.compiled, lm.tls = *in, l, true
		lm.in.Routes = nil
		return l, nil, nil
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
	lm.groups, lm.tlsKeys, lm.withFaults = make(map[string]*hostGroup, len(lm.entries)), map[string]int{}, 0
	lm.changed, lm.removed = nil, nil
	compiled, scratch := 0, map[string]bool{}
	for _, e := range lm.entries {
		if !e.compiled {
			lm.compileEntry(e, scratch)
			compiled++
		}
		lm.join(e)
	}
	hosts := newHostEdit[routeGroup](len(lm.groups))
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
	e.matches, e.faults = compileRoute(e.in, lm.in.Name, scope{clientCert: lm.clientCert, endpoints: lm.endpoints})
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
	e.hosts = routeHostnames(e.in, lm.base.Hostname)
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

// SetEndpoints stores the endpoints of a Service port in the sets the
// tables this Compiler compiled share, so requests to every backend of that
// port see them at once; it reports whether any changed. Call it from the
// goroutine that calls Compile.
func (c *Compiler) SetEndpoints(src EndpointSource, eps []Endpoint) bool {
	return c.endpoints.update(src, eps)
}
