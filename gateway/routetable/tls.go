package routetable

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// ProtocolTLS is a TLS listener in Passthrough mode: the proxy reads the
// ClientHello's server name, never terminates, and splices the bytes to a
// backend of the TLSRoute that claims the name.
const ProtocolTLS Protocol = "TLS"

// compileTLSListener indexes a TLS listener's routes by SNI hostname. Each
// route has one rule (TLSRoute allows one) whose weighted backends take the
// connection. Where two routes claim the same hostname the oldest (then by
// namespace/name) keeps it, the precedence HTTPRoute conflicts use.
func compileTLSListener(in *Listener) (*CompiledListener, error) {
	l := &CompiledListener{Name: in.Name, Hostname: normalizeHostname(in.Hostname), Protocol: in.Protocol, Port: in.Port}
	if len(in.Certificates) > 0 || in.ClientValidation != nil {
		return nil, fmt.Errorf("listener %s passes TLS through yet has certificates or client validation; a Passthrough listener terminates nothing", in.Name)
	}
	routes := make([]*Route, len(in.Routes))
	for i := range in.Routes {
		routes[i] = &in.Routes[i]
	}
	slices.SortStableFunc(routes, func(a, b *Route) int {
		return cmp.Or(a.Created.Compare(b.Created), strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	for _, route := range routes {
		if len(route.Rules) != 1 {
			return nil, fmt.Errorf("TLSRoute %s/%s on listener %s has %d rules; a TLSRoute has exactly one", route.Namespace, route.Name, in.Name, len(route.Rules))
		}
		where := fmt.Sprintf("TLSRoute %s/%s on listener %s", route.Namespace, route.Name, in.Name)
		rule, err := compileRule(route, route.Rules[0], scope{where: where})
		if err != nil {
			return nil, err
		}
		for _, h := range routeHostnames(route, l.Hostname) {
			if l.sni.get(h) == nil {
				l.sni.add(h, rule)
			}
		}
	}
	return l, nil
}

// TLSRoute returns the rule of the TLSRoute that takes a connection with
// server name sni on this listener: the exact name, else the longest
// matching wildcard, else a route without hostnames; nil when none does.
func (l *CompiledListener) TLSRoute(sni string) *CompiledRule {
	return l.sni.lookup(NormalizeHost(sni))
}
