package routetable

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Table is a compiled Config. It is immutable once built (apart from the
// round-robin counters of its backends), so many requests may read it while
// the proxy swaps in its successor.
type Table struct {
	sockets map[SocketKey]*Socket
	ordered []*Socket
	// tlsKeys are the CompiledBackendTLS keys any backend uses.
	tlsKeys map[string]bool
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
	hosts      hostIndex[hostRoutes]
}

// hostRoutes is what a hostname sees: its own route group, then the groups
// of less specific hostnames that also match it, most specific first.
type hostRoutes struct {
	chain []*routeGroup
}

// Match returns the highest-precedence match for r on this listener, or nil.
func (l *CompiledListener) Match(host string, r *http.Request) *CompiledMatch {
	return l.match(NormalizeHost(host), r)
}

func (l *CompiledListener) match(host string, r *http.Request) *CompiledMatch {
	routes := l.hosts.lookup(host)
	if routes == nil {
		return nil
	}
	path := r.URL.EscapedPath()
	for _, g := range routes.chain {
		if m := g.match(path, r); m != nil {
			return m
		}
	}
	return nil
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

// Compile checks cfg and builds its Table. Errors name the listener or route
// at fault; a Config the translator produced from accepted objects compiles.
func Compile(cfg Config) (*Table, error) {
	t := &Table{sockets: map[SocketKey]*Socket{}, tlsKeys: map[string]bool{}}
	names := map[string]bool{}
	for i := range cfg.Listeners {
		in := &cfg.Listeners[i]
		if names[in.Name] {
			return nil, fmt.Errorf("listener %s appears twice in the route table; give each listener a unique name", in.Name)
		}
		names[in.Name] = true
		key, err := socketKey(in)
		if err != nil {
			return nil, err
		}
		s := t.sockets[key]
		if s != nil && s.Protocol != in.Protocol {
			return nil, fmt.Errorf("listener %s uses %s on %s:%d where listener %s uses %s; one port serves one protocol", in.Name, in.Protocol, key.Address, key.Port, s.Listeners[0].Name, s.Protocol)
		}
		l, err := compileListener(in, t.tlsKeys)
		if err != nil {
			return nil, err
		}
		if s == nil {
			s = &Socket{SocketKey: key, Protocol: l.Protocol}
			t.sockets[key] = s
			t.ordered = append(t.ordered, s)
		}
		if s.byHost.get(l.Hostname) != nil {
			return nil, fmt.Errorf("listener %s has hostname %q on %s:%d like listener %s; listeners sharing a port need distinct hostnames", l.Name, l.Hostname, key.Address, key.Port, s.byHost.get(l.Hostname).Name)
		}
		s.Listeners = append(s.Listeners, l)
		s.byHost.add(l.Hostname, l)
	}
	for _, s := range t.ordered {
		slices.SortStableFunc(s.Listeners, func(a, b *CompiledListener) int { return compareHostnames(a.Hostname, b.Hostname) })
	}
	slices.SortFunc(t.ordered, func(a, b *Socket) int {
		if c := strings.Compare(a.Address, b.Address); c != 0 {
			return c
		}
		return int(a.Port - b.Port)
	})
	return t, nil
}

// socketKey validates a listener's address and port; "" binds every address.
func socketKey(in *Listener) (SocketKey, error) {
	if in.Port < 1 || in.Port > 65535 {
		return SocketKey{}, fmt.Errorf("listener %s has port %d; use a port from 1 to 65535", in.Name, in.Port)
	}
	if in.Address == "" {
		return SocketKey{Port: in.Port}, nil
	}
	addr, err := netip.ParseAddr(in.Address)
	if err != nil {
		return SocketKey{}, fmt.Errorf("listener %s has address %q that is not an IP address; give the Gateway an IP address", in.Name, in.Address)
	}
	return SocketKey{Address: addr.String(), Port: in.Port}, nil
}

func compileListener(in *Listener, tlsKeys map[string]bool) (*CompiledListener, error) {
	l := &CompiledListener{Name: in.Name, Hostname: normalizeHostname(in.Hostname), Protocol: in.Protocol, Port: in.Port}
	switch in.Protocol {
	case ProtocolHTTP:
	case ProtocolHTTPS:
		if len(in.Certificates) == 0 {
			return nil, fmt.Errorf("listener %s is HTTPS without a certificate; reference a TLS Secret in certificateRefs", in.Name)
		}
	default:
		return nil, fmt.Errorf("listener %s has protocol %q; the proxy serves HTTP and HTTPS", in.Name, in.Protocol)
	}
	if v := in.ClientValidation; v != nil {
		if in.Protocol != ProtocolHTTPS {
			return nil, fmt.Errorf("listener %s validates client certificates but is %s; only HTTPS listeners can", in.Name, in.Protocol)
		}
		l.ClientCAs = x509.NewCertPool()
		if !l.ClientCAs.AppendCertsFromPEM(v.CAPEM) {
			return nil, fmt.Errorf("listener %s has no CA certificate that parses in %s; fix their ca.crt", in.Name, strings.Join(v.CACertificates, ", "))
		}
		l.ClientAuth = tls.RequireAndVerifyClientCert
		if v.InsecureFallback {
			l.ClientAuth = tls.RequestClientCert // asks, but lets every client through
		}
	}
	var clientCert *tls.Certificate
	if c := in.BackendClientCertificate; c != nil {
		cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("listener %s has a backend client certificate from Secret %s that does not parse (%v); fix the Secret's tls.crt and tls.key", in.Name, c.Secret, err)
		}
		clientCert = &cert
	}
	for _, c := range in.Certificates {
		cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("listener %s has a certificate from Secret %s that does not parse (%v); fix the Secret's tls.crt and tls.key", in.Name, c.Secret, err)
		}
		l.Certificates = append(l.Certificates, cert)
	}
	byHostname := map[string][]*CompiledMatch{}
	for i := range in.Routes {
		route := &in.Routes[i]
		matches, err := compileRoute(route, in.Name, clientCert)
		if err != nil {
			return nil, err
		}
		for i, m := range matches {
			if i == 0 || m.Rule != matches[i-1].Rule {
				m.Rule.tlsKeys(tlsKeys)
			}
		}
		for _, h := range routeHostnames(route, l.Hostname) {
			byHostname[h] = append(byHostname[h], matches...)
		}
	}
	hostnames := make([]string, 0, len(byHostname))
	for h := range byHostname {
		hostnames = append(hostnames, h)
	}
	slices.SortFunc(hostnames, compareHostnames)
	groups := map[string]*routeGroup{}
	for _, h := range hostnames {
		slices.SortStableFunc(byHostname[h], comparePrecedence)
		groups[h] = newRouteGroup(byHostname[h])
	}
	// Only wildcards can extend a chain; there are few, so this stays linear.
	var wildcards []string
	for _, h := range hostnames {
		if isWildcard(h) {
			wildcards = append(wildcards, h)
		}
	}
	for _, h := range hostnames {
		chain := []*routeGroup{groups[h]}
		for _, w := range wildcards {
			if w != h && covers(w, h) {
				chain = append(chain, groups[w])
			}
		}
		if h != "" && groups[""] != nil {
			chain = append(chain, groups[""])
		}
		l.hosts.add(h, &hostRoutes{chain: chain})
	}
	return l, nil
}

// compileRoute compiles every match of every rule; a rule without matches
// gets the spec's default PathPrefix "/".
func compileRoute(route *Route, listener string, clientCert *tls.Certificate) ([]*CompiledMatch, error) {
	var out []*CompiledMatch
	for _, rule := range route.Rules {
		where := fmt.Sprintf("HTTPRoute %s/%s rule %d on listener %s", route.Namespace, route.Name, rule.Index, listener)
		cr, err := compileRule(route, rule, scope{where: where, clientCert: clientCert})
		if err != nil {
			return nil, err
		}
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []Match{{Path: PathMatch{Type: PathPrefix, Value: "/"}}}
		}
		for i, m := range matches {
			cm, err := compileMatch(cr, i, m, where)
			if err != nil {
				return nil, err
			}
			out = append(out, cm)
		}
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

// normalizeHostname lower-cases a configured hostname and drops a trailing dot.
func normalizeHostname(h string) string {
	return strings.ToLower(strings.TrimSuffix(h, "."))
}
