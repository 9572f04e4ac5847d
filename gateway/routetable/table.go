package routetable

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/tenantgate/tenantgate/gateway/hostname"
)

// Table is a compiled Config. It is immutable once built (apart from the
// round-robin counters of its backends), so many requests may read it while
// the proxy swaps in its successor.
type Table struct {
	sockets map[SocketKey]*Socket
	ordered []*Socket
	// tlsKeys are the CompiledBackendTLS keys any backend uses.
	tlsKeys map[string]bool
	// routes are the routes of every listener with the number of
	// listeners carrying each, for per-route metrics.
	routes shardedMap[RouteKey, int32]
	// id numbers the table; after is the id of the table its Compiler
	// compiled just before it (0: none), and gone the routes that one
	// carried and this one may not.
	id, after uint64
	gone      []RouteKey
}

// tableIDs numbers tables.
var tableIDs atomic.Uint64

// RoutesGoneSince is the routes prev carried that t may no longer carry
// (HasRoute tells), when one Compiler compiled t right after prev; ok is
// false otherwise. Forgetting what a route left behind then costs what
// changed, not every route.
func (t *Table) RoutesGoneSince(prev *Table) (gone []RouteKey, ok bool) {
	if t == nil || prev == nil || t.after == 0 || t.after != prev.id {
		return nil, false
	}
	return t.gone, true
}

// RouteKey names a route of the table.
type RouteKey struct{ Namespace, Name string }

// HasRoute reports whether a listener of the table carries the route.
func (t *Table) HasRoute(k RouteKey) bool {
	if t == nil {
		return false
	}
	_, ok := t.routes.get(k)
	return ok
}

// UsesBackendTLS reports whether a backend of the table connects with the
// TLS settings of key, so the proxy can drop connection pools no table uses.
func (t *Table) UsesBackendTLS(key string) bool {
	return t != nil && t.tlsKeys[key]
}

// SocketKey identifies one socket: the address and port listeners share.
type SocketKey struct {
	Address string
	Port    int32
}

// Socket returns the socket bound to address and port, or nil.
func (t *Table) Socket(address string, port int32) *Socket {
	if t == nil {
		return nil
	}
	return t.sockets[SocketKey{Address: address, Port: port}]
}

// Sockets returns every socket, ordered by address then port.
func (t *Table) Sockets() []*Socket {
	if t == nil {
		return nil
	}
	return t.ordered
}

// Socket is one (address, port) and the listeners that share it, told apart
// by hostname.
type Socket struct {
	SocketKey
	Protocol Protocol
	// Listeners ordered from the most specific hostname to the least.
	Listeners []*CompiledListener
	byHost    hostIndex[CompiledListener]
}

// Listener returns the listener whose hostname matches host most
// specifically (exact, then longest wildcard, then none), or nil.
func (s *Socket) Listener(host string) *CompiledListener {
	return s.byHost.lookup(NormalizeHost(host))
}

// Route finds the listener for host and, on it, the highest-precedence match
// for r. A nil listener means no listener takes host; a nil match means no
// rule matches. Neither allocates unless host has upper-case letters.
func (s *Socket) Route(host string, r *http.Request) (*CompiledListener, *CompiledMatch) {
	host = NormalizeHost(host)
	l := s.byHost.lookup(host)
	if l == nil {
		return nil, nil
	}
	return l, l.match(host, r)
}

// CompiledListener is one listener with its routes indexed by hostname.
type CompiledListener struct {
	// Name is "namespace/gateway/listener".
	Name     string
	Hostname string
	Protocol Protocol
	Port     int32
	// Certificates parsed from the listener's Secrets, for SNI.
	Certificates []tls.Certificate
	// ClientCAs, when not nil, are the CAs a client certificate must chain
	// to; ClientAuth says whether one is required and verified.
	ClientCAs  *x509.CertPool
	ClientAuth tls.ClientAuthType
	hosts      hostIndex[routeGroup]
	sni        hostIndex[CompiledRule] // TLS listeners: the TLSRoute rule by server name (tls.go)
}

// Match returns the highest-precedence match for r on this listener, or nil.
func (l *CompiledListener) Match(host string, r *http.Request) *CompiledMatch {
	return l.match(NormalizeHost(host), r)
}

func (l *CompiledListener) match(host string, r *http.Request) *CompiledMatch {
	var found *CompiledMatch
	path := ""
	l.hosts.covering(host, func(g *routeGroup) bool {
		if path == "" {
			path = r.URL.EscapedPath()
		}
		found = g.match(path, r)
		return found == nil
	})
	return found
}

// Certificate picks the first certificate the client supports, else the first.
func (l *CompiledListener) Certificate(hello *tls.ClientHelloInfo) *tls.Certificate {
	if len(l.Certificates) == 0 {
		return nil
	}
	for i := range l.Certificates {
		if hello.SupportsCertificate(&l.Certificates[i]) == nil {
			return &l.Certificates[i]
		}
	}
	return &l.Certificates[0]
}

// Fault is a part of a Config that Compile left out of its Table: a whole
// listener, or one rule of a route on a listener.
type Fault struct {
	// Listener is the listener's name.
	Listener string
	// Route is "namespace/name" and Rule the rule's index when only that
	// rule was left out; Route is "" when the whole listener was.
	Route string
	Rule  int
	Err   error
}

func (f Fault) Error() string { return f.Err.Error() }

// Faults are what Compile left out, in Config order.
type Faults []Fault

// Err joins the faults into one error, nil when there are none.
func (fs Faults) Err() error {
	errs := make([]error, len(fs))
	for i, f := range fs {
		errs[i] = f.Err
	}
	return errors.Join(errs...)
}

// Compile builds cfg's Table. It never fails as a whole: a listener or a
// rule that does not compile is left out and reported as a Fault naming it,
// and everything else is served. The translator validates with the same
// functions (CompileRegex, ParseCACertificates, ...), so a Config it
// produces compiles without faults; one that does not is a bug there.
func Compile(cfg Config) (*Table, Faults) {
	return compileShared(cfg, nil)
}

// compileShared is Compile with the backends' endpoint sets taken from
// endpoints (nil shares none).
func compileShared(cfg Config, endpoints *endpointRegistry) (*Table, Faults) {
	b := newTableBuild()
	n := 0
	for i := range cfg.Listeners {
		n += len(cfg.Listeners[i].Routes)
	}
	routes := newShardEdit[RouteKey, int32](n, hashRouteKey)
	for i := range cfg.Listeners {
		for _, r := range cfg.Listeners[i].Routes {
			k := RouteKey{r.Namespace, r.Name}
			n, _ := routes.get(k)
			routes.set(k, n+1)
		}
	}
	b.t.routes = routes.done()
	var faults Faults
	for i := range cfg.Listeners {
		in := &cfg.Listeners[i]
		key, s, err := b.place(in)
		if err == nil {
			var l *CompiledListener
			var rules Faults
			l, rules, err = compileListener(in, b.t.tlsKeys, endpoints)
			faults = append(faults, rules...)
			if err == nil {
				b.attach(key, s, l)
			}
		}
		if err != nil {
			faults = append(faults, Fault{Listener: in.Name, Err: err})
		}
	}
	return b.done(), faults
}

// tableBuild is a Table being assembled listener by listener.
type tableBuild struct {
	t     *Table
	names map[string]bool
	hosts map[*Socket]*hostEdit[CompiledListener]
}

func newTableBuild() *tableBuild {
	return &tableBuild{
		t:     &Table{sockets: map[SocketKey]*Socket{}, tlsKeys: map[string]bool{}, id: tableIDs.Add(1)},
		names: map[string]bool{},
		hosts: map[*Socket]*hostEdit[CompiledListener]{},
	}
}

// place finds the socket a listener joins (nil when it opens one) and
// checks that it may; an error leaves the table as it was.
func (b *tableBuild) place(in *Listener) (SocketKey, *Socket, error) {
	if b.names[in.Name] {
		return SocketKey{}, nil, fmt.Errorf("listener %s appears twice in the route table; give each listener a unique name", in.Name)
	}
	key, err := socketKey(in)
	if err != nil {
		return SocketKey{}, nil, err
	}
	s := b.t.sockets[key]
	if s != nil && s.Protocol != in.Protocol {
		return SocketKey{}, nil, fmt.Errorf("listener %s uses %s on %s:%d where listener %s uses %s; one port serves one protocol", in.Name, in.Protocol, key.Address, key.Port, s.Listeners[0].Name, s.Protocol)
	}
	if s != nil {
		if other := b.hosts[s].get(normalizeHostname(in.Hostname)); other != nil {
			return SocketKey{}, nil, fmt.Errorf("listener %s has hostname %q on %s:%d like listener %s; listeners sharing a port need distinct hostnames", in.Name, normalizeHostname(in.Hostname), key.Address, key.Port, other.Name)
		}
	}
	return key, s, nil
}

// attach adds a compiled listener to its socket, opening it when s is nil.
func (b *tableBuild) attach(key SocketKey, s *Socket, l *CompiledListener) {
	if s == nil {
		s = &Socket{SocketKey: key, Protocol: l.Protocol}
		b.t.sockets[key] = s
		b.t.ordered = append(b.t.ordered, s)
		var empty hostIndex[CompiledListener]
		b.hosts[s] = empty.edit()
	}
	s.Listeners = append(s.Listeners, l)
	b.hosts[s].set(l.Hostname, l)
	b.names[l.Name] = true
}

// done orders the sockets and their listeners and returns the Table.
func (b *tableBuild) done() *Table {
	t := b.t
	for _, s := range t.ordered {
		s.byHost = b.hosts[s].done()
		slices.SortStableFunc(s.Listeners, func(a, b *CompiledListener) int { return compareHostnames(a.Hostname, b.Hostname) })
	}
	slices.SortFunc(t.ordered, func(a, b *Socket) int {
		if c := strings.Compare(a.Address, b.Address); c != 0 {
			return c
		}
		return int(a.Port - b.Port)
	})
	return t
}

// socketKey validates a listener's address and port; "" binds every address.
func socketKey(in *Listener) (SocketKey, error) {
	port := cmp.Or(in.BindPort, in.Port)
	if port < 1 || port > 65535 {
		return SocketKey{}, fmt.Errorf("listener %s has port %d; use a port from 1 to 65535", in.Name, port)
	}
	if in.Address == "" {
		return SocketKey{Port: port}, nil
	}
	addr, err := netip.ParseAddr(in.Address)
	if err != nil {
		return SocketKey{}, fmt.Errorf("listener %s has address %q that is not an IP address; give the Gateway an IP address", in.Name, in.Address)
	}
	return SocketKey{Address: addr.String(), Port: port}, nil
}

// compileListener compiles a listener and the rules of its routes; a rule
// that does not compile is left out and returned as a Fault.
func compileListener(in *Listener, tlsKeys map[string]bool, endpoints *endpointRegistry) (*CompiledListener, Faults, error) {
	if in.Protocol == ProtocolTLS {
		l, err := compileTLSListener(in, endpoints)
		return l, nil, err
	}
	l, clientCert, err := compileListenerBase(in)
	if err != nil {
		return nil, nil, err
	}
	var faults Faults
	byHostname := make(map[string][]*CompiledMatch, len(in.Routes))
	for i := range in.Routes {
		route := in.Routes[i]
		matches, routeFaults := compileRoute(route, in.Name, scope{clientCert: clientCert, endpoints: endpoints})
		faults = append(faults, routeFaults...)
		addTLSKeys(matches, tlsKeys)
		for _, h := range routeHostnames(route, l.Hostname) {
			byHostname[h] = append(byHostname[h], matches...)
		}
	}
	hosts := newHostEdit[routeGroup](len(byHostname))
	for h, matches := range byHostname {
		slices.SortStableFunc(matches, comparePrecedence)
		hosts.set(h, newRouteGroup(matches))
	}
	l.hosts = hosts.done()
	return l, faults, nil
}

// addTLSKeys adds the backend TLS keys of the matches' rules to keys.
func addTLSKeys(matches []*CompiledMatch, keys map[string]bool) {
	for i, m := range matches {
		if i == 0 || m.Rule != matches[i-1].Rule {
			m.Rule.tlsKeys(keys)
		}
	}
}

// compileListenerBase compiles what an HTTP or HTTPS listener is apart from
// its routes: its certificates, client validation and the client
// certificate it presents to backends.
func compileListenerBase(in *Listener) (*CompiledListener, *tls.Certificate, error) {
	l := &CompiledListener{Name: in.Name, Hostname: normalizeHostname(in.Hostname), Protocol: in.Protocol, Port: in.Port}
	switch in.Protocol {
	case ProtocolHTTP:
	case ProtocolHTTPS:
		if len(in.Certificates) == 0 {
			return nil, nil, fmt.Errorf("listener %s is HTTPS without a certificate; reference a TLS Secret in certificateRefs", in.Name)
		}
	default:
		return nil, nil, fmt.Errorf("listener %s has protocol %q; the proxy serves HTTP, HTTPS and TLS", in.Name, in.Protocol)
	}
	if v := in.ClientValidation; v != nil {
		if in.Protocol != ProtocolHTTPS {
			return nil, nil, fmt.Errorf("listener %s validates client certificates but is %s; only HTTPS listeners can", in.Name, in.Protocol)
		}
		pool, err := caPool(v.CAPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("listener %s cannot use the CA certificates of %s: %v; fix their ca.crt", in.Name, strings.Join(v.CACertificates, ", "), err)
		}
		l.ClientCAs = pool
		l.ClientAuth = tls.RequireAndVerifyClientCert
		if v.InsecureFallback {
			l.ClientAuth = tls.RequestClientCert // asks, but lets every client through
		}
	}
	var clientCert *tls.Certificate
	if c := in.BackendClientCertificate; c != nil {
		cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("listener %s has a backend client certificate from Secret %s that does not parse (%v); fix the Secret's tls.crt and tls.key", in.Name, c.Secret, err)
		}
		clientCert = &cert
	}
	for _, c := range in.Certificates {
		cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return nil, nil, fmt.Errorf("listener %s has a certificate from Secret %s that does not parse (%v); fix the Secret's tls.crt and tls.key", in.Name, c.Secret, err)
		}
		l.Certificates = append(l.Certificates, cert)
	}
	return l, clientCert, nil
}

// compileRoute compiles every match of every rule; a rule without matches
// gets the spec's default PathPrefix "/". A rule that does not compile is
// left out whole and reported.
func compileRoute(route *Route, listener string, sc scope) ([]*CompiledMatch, Faults) {
	var out []*CompiledMatch
	var faults Faults
	for _, rule := range route.Rules {
		matches, err := compileRuleMatches(route, rule, listener, sc)
		if err != nil {
			faults = append(faults, Fault{Listener: listener, Route: route.Namespace + "/" + route.Name, Rule: rule.Index, Err: err})
			continue
		}
		out = append(out, matches...)
	}
	return out, faults
}

func compileRuleMatches(route *Route, rule Rule, listener string, sc scope) ([]*CompiledMatch, error) {
	kind := "HTTPRoute"
	if route.GRPC {
		kind = "GRPCRoute"
	}
	where := kind + " " + route.Namespace + "/" + route.Name + " rule " + strconv.Itoa(rule.Index) + " on listener " + listener
	sc.where = where
	cr, err := compileRule(route, rule, sc)
	if err != nil {
		return nil, err
	}
	matches := rule.Matches
	switch {
	case len(matches) > 0:
	case route.GRPC:
		matches = []Match{{}} // every gRPC method
	default:
		matches = []Match{{Path: PathMatch{Type: PathPrefix, Value: "/"}}}
	}
	out := make([]*CompiledMatch, 0, len(matches))
	for i, m := range matches {
		cm, err := compileMatch(cr, i, m, where)
		if err != nil {
			return nil, err
		}
		out = append(out, cm)
	}
	return out, nil
}

// routeHostnames normalizes a route's hostnames; a route without any takes
// the listener's hostname.
func routeHostnames(route *Route, listenerHostname string) []string {
	if len(route.Hostnames) == 0 {
		return []string{listenerHostname}
	}
	var out []string
	for _, h := range route.Hostnames {
		if h = normalizeHostname(h); !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// normalizeHostname is a configured hostname as the translator's conflict
// check compares it, so listeners it lets share a port stay distinct here.
func normalizeHostname(h string) string { return hostname.Normalize(h) }
