package routetable

import (
	"cmp"
	"crypto/tls"
	"fmt"
	"slices"
	"strings"
)

// ProtocolTLS is a TLS listener: the proxy reads the ClientHello's server
// name, which picks the listener and the TLSRoute claiming it. A listener
// without certificates (Passthrough) splices the bytes, ClientHello
// included, to a backend of that route; one with certificates (Terminate)
// completes the handshake itself and sends the plaintext stream on.
// Listeners of both modes may share a socket.
const ProtocolTLS Protocol = "TLS"

// compileTLSListener indexes a TLS listener's routes by SNI hostname. Each
// route has one rule (TLSRoute allows one) whose weighted backends take the
// connection. Where two routes claim the same hostname the oldest (then by
// namespace/name) keeps it, the precedence HTTPRoute conflicts use.
func compileTLSListener(in *Listener, endpoints *endpointRegistry) (*CompiledListener, error) {
	l := &CompiledListener{Name: in.Name, Hostname: normalizeHostname(in.Hostname), Protocol: in.Protocol, Port: in.Port}
	if in.ClientValidation != nil {
		return nil, fmt.Errorf("listener %s is TLS with client certificate validation, which the proxy applies only on HTTPS listeners; leave it out", in.Name)
	}
	for _, c := range in.Certificates {
		cert, err := tls.X509KeyPair(c.CertPEM, c.KeyPEM)
		if err != nil {
			return nil, fmt.Errorf("listener %s has a certificate from Secret %s that does not parse (%v); fix the Secret's tls.crt and tls.key", in.Name, c.Secret, err)
		}
		l.Certificates = append(l.Certificates, cert)
	}
	routes := slices.Clone(in.Routes)
	slices.SortStableFunc(routes, func(a, b *Route) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	var empty hostIndex[CompiledRule]
	sni := empty.edit()
	for _, route := range routes {
		if len(route.Rules) != 1 {
			return nil, fmt.Errorf("TLSRoute %s/%s on listener %s has %d rules; a TLSRoute has exactly one", route.Namespace, route.Name, in.Name, len(route.Rules))
		}
		where := fmt.Sprintf("TLSRoute %s/%s on listener %s", route.Namespace, route.Name, in.Name)
		rule, err := compileRule(route, route.Rules[0], scope{where: where, endpoints: endpoints})
		if err != nil {
			return nil, err
		}
		for _, h := range routeHostnames(route, l.Hostname) {
			if sni.get(h) == nil {
				sni.set(h, rule)
			}
		}
	}
	l.sni = sni.done()
	return l, nil
}

// Terminates reports whether the proxy ends TLS on this TLS listener
// (Terminate mode) rather than passing it through.
func (l *CompiledListener) Terminates() bool { return len(l.Certificates) > 0 }

// TLSRoute returns the rule of the TLSRoute that takes a connection with
// server name sni on this listener: the exact name, else the longest
// matching wildcard, else a route without hostnames; nil when none does.
func (l *CompiledListener) TLSRoute(sni string) *CompiledRule {
	return l.sni.lookup(NormalizeHost(sni))
}
