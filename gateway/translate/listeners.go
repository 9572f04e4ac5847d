package translate

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/hostname"
	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
)

const kindHTTPRoute = model.KindHTTPRoute

// servedKinds are the route kinds tenantgate's data plane carries on each
// protocol: HTTPRoute and GRPCRoute (h2c, or h2 by ALPN) on HTTP and HTTPS,
// TLSRoute on TLS (tlslisteners.go).
func servedKinds(protocol gatewayv1.ProtocolType) []gatewayv1.Kind {
	if protocol == gatewayv1.TLSProtocolType {
		return tlsKinds
	}
	if protocol == gatewayv1.HTTPProtocolType || protocol == gatewayv1.HTTPSProtocolType {
		return []gatewayv1.Kind{kindHTTPRoute, kindGRPCRoute}
	}
	return nil
}

// listenerState is one listener of one of our Gateways, its own or one a
// ListenerSet adds, as Build judges it; what it admits is the model's.
type listenerState struct {
	m       *model.Listener
	gateway *gatewayState
	// set is the ListenerSet that adds the listener; nil for the Gateway's own.
	set *listenerSetState
	// precedence orders listeners sharing a port: 0 for the Gateway's own,
	// then each ListenerSet's in turn; a listener loses to earlier ones.
	precedence int
	spec       *gatewayv1.Listener
	// name is "namespace/gateway/listener", or for a ListenerSet's
	// "namespace/gateway/set-namespace/set-name/listener".
	name string

	supported bool    // tenantgate serves routes on its protocol
	refused   problem // tenant policy or an impossible shape: it serves nothing and holds no port

	accept   problem // Accepted
	refs     problem // ResolvedRefs
	conflict problem // Conflicted (true when set)
	overlap  string  // OverlappingTLSConfig message, when hostnames overlap

	certificates     []routetable.Certificate
	clientValidation *routetable.ClientValidation
	inConfig         bool    // handed to the data plane
	targetPort       int32   // where the shared data plane listens for it (its Service's targetPort)
	unmapped         bool    // its Gateway's Service has no target port for it yet
	programmed       problem // why Programmed is not True

	attached        int32
	attachedMessage string // route Accepted message for this listener alone
	routes          []*routetable.Route
	routesHint      int            // how many routes it served last Build (Incremental)
	track           *listenerTrack // the routes served against the last Build's (Incremental)
	patch           *listenerPatch // a skipping Build's edit of the last Build's routes
}

func (l *listenerState) hostname() string { return string(deref(l.spec.Hostname, "")) }

// listener judges one listener the model resolved: tenant policy, protocol,
// route kinds, namespaces, TLS. set is nil for the Gateway's own listeners.
func (b *builder) listener(g *gatewayState, set *listenerSetState, ml *model.Listener, tenant problem) *listenerState {
	siblings := g.listeners
	if set != nil {
		siblings = set.listeners
	}
	spec := ml.Spec
	l := &listenerState{
		m:       ml,
		gateway: g,
		set:     set,
		spec:    spec,
		name:    g.key.Namespace + "/" + g.key.Name + "/" + string(spec.Name),
	}
	b.listenerOf[ml] = l
	if set != nil {
		l.precedence = set.precedence
		l.name = g.key.Namespace + "/" + g.key.Name + "/" + set.key.Namespace + "/" + set.key.Name + "/" + string(spec.Name)
	}
	l.supported = len(servedKinds(spec.Protocol)) > 0
	kindsProblem := l.routeKinds()
	if !l.supported {
		l.accept = newProblem(gatewayv1.ListenerReasonUnsupportedProtocol,
			"Listener %s uses protocol %s, which tenantgate does not support; use HTTP, HTTPS or TLS.", spec.Name, spec.Protocol)
		l.refs = kindsProblem
		return l
	}
	if l.refused = firstProblem(tenant, shapeProblem(spec, siblings), b.reservedPort(spec)); !l.refused.ok() {
		l.accept = l.refused
		return l
	}
	var namespacesProblem problem
	if ml.NamespacesProblem != "" {
		namespacesProblem = problem{reason: string(gatewayv1.ListenerReasonUnsupportedValue), message: ml.NamespacesProblem}
	}
	var tlsProblem, certProblem, caAccept, caRefs problem
	if spec.Protocol == gatewayv1.HTTPSProtocolType {
		tlsProblem, certProblem = b.certificates(l)
		caAccept, caRefs = b.clientValidation(l)
	}
	if spec.Protocol == gatewayv1.TLSProtocolType {
		tlsProblem = tlsModeProblem(spec)
		if tlsProblem.ok() && terminates(spec) {
			tlsProblem, certProblem = b.certificates(l)
		}
	}
	l.accept = firstProblem(namespacesProblem, tlsProblem, caAccept)
	l.refs = firstProblem(certProblem, kindsProblem, caRefs)
	return l
}

// shapeProblem refuses what the API's own validation forbids but an object
// written before that validation may hold: a port outside 1-65535, a name
// an earlier listener of the same Gateway or ListenerSet already uses.
func shapeProblem(spec *gatewayv1.Listener, earlier []*listenerState) problem {
	if spec.Port < 1 || spec.Port > 65535 {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue, "Listener %s has port %d; use a port from 1 to 65535.", spec.Name, spec.Port)
	}
	for _, o := range earlier {
		if o.spec.Name == spec.Name {
			return newProblem(gatewayv1.ListenerReasonUnsupportedValue, "Listener name %s is used by an earlier listener too; give each listener its own name.", spec.Name)
		}
	}
	return problem{}
}

// reservedPort refuses a listener on a port the data plane keeps for
// itself: the Gateway's Service would send that port's traffic to it.
func (b *builder) reservedPort(spec *gatewayv1.Listener) problem {
	if what, ok := b.s.ReservedPorts[int32(spec.Port)]; ok {
		return newProblem(gatewayv1.ListenerReasonPortUnavailable,
			"Listener %s uses port %d, which the data plane keeps for %s; use another port.", spec.Name, spec.Port, what)
	}
	return problem{}
}

// routeKinds reports the allowedRoutes kinds tenantgate does not serve on
// the listener (the model keeps those it does).
func (l *listenerState) routeKinds() problem {
	invalid := l.m.InvalidKinds
	switch {
	case len(invalid) == 0:
		return problem{}
	case !l.supported:
		return newProblem(gatewayv1.ListenerReasonInvalidRouteKinds,
			"Listener %s allows route kinds %s, but tenantgate serves no routes on %s listeners; use an HTTP, HTTPS or TLS listener.",
			l.spec.Name, strings.Join(invalid, ", "), l.spec.Protocol)
	}
	return newProblem(gatewayv1.ListenerReasonInvalidRouteKinds,
		"Listener %s allows route kinds %s, which tenantgate does not support on %s listeners; list only %s.",
		l.spec.Name, strings.Join(invalid, ", "), l.spec.Protocol, kindNames(servedKinds(l.spec.Protocol)))
}

// certificates resolves an HTTPS listener's certificateRefs. It returns a
// problem for Accepted (unsupported TLS settings) and one for ResolvedRefs
// (unusable references).
func (b *builder) certificates(l *listenerState) (accept, refs problem) {
	spec := l.spec
	fromKind, fromNamespace := l.origin()
	t := spec.TLS
	if t == nil || len(t.CertificateRefs) == 0 {
		return problem{}, newProblem(gatewayv1.ListenerReasonInvalidCertificateRef,
			"%s listener %s has no tls.certificateRefs; reference a kubernetes.io/tls Secret.", spec.Protocol, spec.Name)
	}
	if mode := deref(t.Mode, gatewayv1.TLSModeTerminate); mode != gatewayv1.TLSModeTerminate {
		accept = newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"HTTPS listener %s sets tls.mode %s; HTTPS listeners terminate TLS, so use Terminate.", spec.Name, mode)
	} else if len(t.Options) > 0 {
		keys := make([]string, 0, len(t.Options))
		for k := range t.Options {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		accept = newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"%s listener %s sets tls.options %s, which tenantgate does not support; remove them.", spec.Protocol, spec.Name, strings.Join(keys, ", "))
	}
	var problems []problem
	for i, ref := range t.CertificateRefs {
		cert, p := b.keyPair(fromKind, fromNamespace, ref, fmt.Sprintf("Listener %s tls.certificateRefs[%d]", spec.Name, i), gatewayv1.ListenerReasonInvalidCertificateRef)
		if !p.ok() {
			problems = append(problems, p)
			continue
		}
		l.certificates = append(l.certificates, cert)
	}
	return accept, joinProblems(problems)
}

// origin is the kind and namespace a listener's references come from: its
// ListenerSet's, else its Gateway's.
func (l *listenerState) origin() (kind, namespace string) {
	if l.set != nil {
		return kindListenerSet, l.set.key.Namespace
	}
	return "Gateway", l.gateway.key.Namespace
}

// keyPair resolves a reference from a Gateway or ListenerSet (fromKind in
// fromNamespace) to a kubernetes.io/tls Secret into its PEM chain and key.
// where names the reference in messages; invalid is the reason for an
// unusable one (RefNotPermitted when a ReferenceGrant is missing).
func (b *builder) keyPair(fromKind, fromNamespace string, ref gatewayv1.SecretObjectReference, where string, invalid gatewayv1.ListenerConditionReason) (routetable.Certificate, problem) {
	group, kind := deref(ref.Group, ""), deref(ref.Kind, "Secret")
	if group != "" || kind != "Secret" {
		return routetable.Certificate{}, newProblem(invalid, "%s refers to %s %q in group %q; only core Secrets are supported.", where, kind, ref.Name, group)
	}
	key := types.NamespacedName{Namespace: string(deref(ref.Namespace, gatewayv1.Namespace(fromNamespace))), Name: string(ref.Name)}
	allowed := b.referenceAllowed(reference{
		fromGroup: gatewayv1.GroupName, fromKind: fromKind, fromNamespace: fromNamespace,
		toGroup: "", toKind: "Secret", toNamespace: key.Namespace, toName: key.Name,
	})
	if !allowed {
		return routetable.Certificate{}, newProblem(gatewayv1.ListenerReasonRefNotPermitted,
			"%s refers to Secret %s in another namespace, and no ReferenceGrant there allows %ss from %s; create one in %s.",
			where, key, fromKind, fromNamespace, key.Namespace)
	}
	secret := b.secrets[key]
	switch {
	case secret == nil:
		return routetable.Certificate{}, newProblem(invalid, "%s refers to Secret %s, which does not exist; create it.", where, key)
	case secret.Type != corev1.SecretTypeTLS:
		return routetable.Certificate{}, newProblem(invalid, "%s refers to Secret %s of type %q; use a Secret of type kubernetes.io/tls.", where, key, secret.Type)
	}
	crt, keyPEM := secret.Data[corev1.TLSCertKey], secret.Data[corev1.TLSPrivateKeyKey]
	if _, err := tls.X509KeyPair(crt, keyPEM); err != nil {
		return routetable.Certificate{}, newProblem(invalid,
			"%s refers to Secret %s, which does not hold a matching PEM certificate and key (%v); fix tls.crt and tls.key.", where, key, err)
	}
	return routetable.Certificate{Secret: key.String(), CertPEM: bytes.Clone(crt), KeyPEM: bytes.Clone(keyPEM)}, problem{}
}

// backendClientCertificate resolves spec.tls.backend.clientCertificateRef,
// the certificate the Gateway presents to backends reached over TLS. An
// unusable one leaves the Gateway accepted with ResolvedRefs False, and its
// TLS backends are reached without a client certificate.
func (b *builder) backendClientCertificate(gw *gatewayv1.Gateway) (*routetable.Certificate, problem) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Backend == nil || gw.Spec.TLS.Backend.ClientCertificateRef == nil {
		return nil, problem{}
	}
	where := fmt.Sprintf("Gateway %s/%s spec.tls.backend.clientCertificateRef", gw.Namespace, gw.Name)
	cert, p := b.keyPair("Gateway", gw.Namespace, *gw.Spec.TLS.Backend.ClientCertificateRef, where, gatewayv1.ListenerConditionReason(gatewayv1.GatewayReasonInvalidClientCertificateRef))
	if !p.ok() {
		return nil, p
	}
	return &cert, problem{}
}

// portKey groups listeners that would share one socket: the same address and
// port, or the same Gateway and port while it has no address.
type portKey struct {
	address string
	port    gatewayv1.PortNumber
}

// conflicts marks listeners that cannot be told apart on a shared port:
// different protocols (ProtocolConflict) or the same hostname
// (HostnameConflict), across Gateways that share an address too. Among a
// Gateway's own listeners (one precedence) both sides are conflicted; a
// ListenerSet's listener loses to every earlier one it clashes with, which
// keeps the port. It also flags HTTPS listeners whose hostnames overlap
// (OverlappingTLSConfig).
func (b *builder) conflicts() {
	groups := make(map[portKey][]*listenerState)
	var keys []portKey
	for _, g := range b.ordered {
		if !g.reject.ok() {
			continue
		}
		for _, l := range g.allListeners() {
			if (!l.supported && l.set == nil) || !l.refused.ok() {
				continue // never served, so it takes no port
			}
			k := portKey{address: g.address, port: l.spec.Port}
			if g.address == "" || b.s.TargetPorts != nil {
				k.address = "gateway " + g.key.String() // on its own target ports, it shares sockets with no other Gateway
			}
			if groups[k] == nil {
				keys = append(keys, k)
			}
			groups[k] = append(groups[k], l)
		}
	}
	for _, k := range keys {
		markConflicts(groups[k])
	}
}

// markConflicts judges each listener of one port against the others it
// competes with: its peers of the same precedence and the earlier ones. A
// listener that is not served (unsupported, or itself conflicted with an
// earlier one) holds the port against nobody.
func markConflicts(group []*listenerState) {
	slices.SortStableFunc(group, func(x, y *listenerState) int { return cmp.Compare(x.precedence, y.precedence) })
	for _, l := range group {
		var protocols, hostnames, overlaps []string
		for _, o := range group {
			if o == l || o.precedence > l.precedence || !o.supported || (o.precedence < l.precedence && !o.conflict.ok()) {
				continue
			}
			if !l.supported && o.precedence == l.precedence {
				continue
			}
			switch {
			case o.spec.Protocol != l.spec.Protocol:
				protocols = append(protocols, o.name)
			case o.m.Hostname == l.m.Hostname:
				hostnames = append(hostnames, o.name)
			case l.spec.Protocol == gatewayv1.HTTPSProtocolType && hostname.Overlaps(o.m.Hostname, l.m.Hostname):
				overlaps = append(overlaps, o.name)
			}
		}
		switch {
		case len(protocols) > 0:
			l.conflict = newProblem(gatewayv1.ListenerReasonProtocolConflict,
				"Listener %s uses %s on port %d, which %s also uses with another protocol; give them different ports.",
				l.name, l.spec.Protocol, l.spec.Port, strings.Join(protocols, ", "))
		case len(hostnames) > 0:
			l.conflict = newProblem(gatewayv1.ListenerReasonHostnameConflict,
				"Listener %s uses %s on port %d, as does %s; give each listener on a port its own hostname.",
				l.name, describeHostname(l.hostname()), l.spec.Port, strings.Join(hostnames, ", "))
		}
		if len(overlaps) > 0 {
			l.overlap = fmt.Sprintf("Listener %s (%s) serves hosts that %s also serve on port %d, so a client reusing a TLS connection may reach the wrong listener.",
				l.name, describeHostname(l.hostname()), strings.Join(overlaps, ", "), l.spec.Port)
		}
	}
}

// bind is where the data plane listens for l: every address on its
// Gateway's target port when Gateways share the data plane's ports,
// otherwise its Gateway's own address on its own port (bindPort 0).
func (l *listenerState) bind() (address string, bindPort int32) {
	if l.targetPort != 0 {
		return "", l.targetPort
	}
	return l.gateway.address, 0
}

// bindDescription names the socket in status messages.
func (l *listenerState) bindDescription() string {
	address, bindPort := l.bind()
	if bindPort != 0 {
		return fmt.Sprintf("data-plane port %d (for port %d)", bindPort, l.spec.Port)
	}
	return fmt.Sprintf("%s port %d", address, l.spec.Port)
}

// config is the data plane's view of a programmed listener.
func (l *listenerState) config() routetable.Listener {
	address, bindPort := l.bind()
	return routetable.Listener{
		Name:                     l.name,
		Address:                  address,
		Port:                     int32(l.spec.Port),
		BindPort:                 bindPort,
		Protocol:                 routetable.Protocol(l.spec.Protocol),
		Hostname:                 l.hostname(),
		Certificates:             l.certificates,
		ClientValidation:         l.clientValidation,
		BackendClientCertificate: l.gateway.clientCert,
		Routes:                   l.sortedRoutes(),
	}
}

// status is the listener's entry in its Gateway's status.
func (b *builder) listenerStatus(l *listenerState) gatewayv1.ListenerStatus {
	gen := l.gateway.gateway.Generation
	// A conflicted listener must not be accepted either; one a ListenerSet
	// adds reports the conflict first, since an earlier listener owns the port.
	accept := firstProblem(l.accept, l.conflict)
	if l.set != nil {
		accept = firstProblem(l.conflict, l.accept)
	}
	conds := []metav1.Condition{
		b.condition(string(gatewayv1.ListenerConditionAccepted), accept.ok(),
			orReason(accept, gatewayv1.ListenerReasonAccepted), orMessage(accept, "The listener is valid."), gen),
		b.condition(string(gatewayv1.ListenerConditionProgrammed), l.programmed.ok(),
			orReason(l.programmed, gatewayv1.ListenerReasonProgrammed), orMessage(l.programmed, b.servedOn(l.gateway.address, strconv.Itoa(int(l.spec.Port)))), gen),
		b.condition(string(gatewayv1.ListenerConditionResolvedRefs), l.refs.ok(),
			orReason(l.refs, gatewayv1.ListenerReasonResolvedRefs), orMessage(l.refs, "All references resolved."), gen),
		b.condition(string(gatewayv1.ListenerConditionConflicted), !l.conflict.ok(),
			orReason(l.conflict, gatewayv1.ListenerReasonNoConflicts), orMessage(l.conflict, "No other listener shares this port and hostname."), gen),
	}
	if l.overlap != "" {
		conds = append(conds, b.condition(string(gatewayv1.ListenerConditionOverlappingTLSConfig), true,
			string(gatewayv1.ListenerReasonOverlappingHostnames), l.overlap, gen))
	}
	return gatewayv1.ListenerStatus{
		Name:           l.spec.Name,
		SupportedKinds: l.supportedKinds(),
		AttachedRoutes: l.attached,
		Conditions:     conds,
	}
}

func describeHostname(h string) string {
	if h == "" {
		return "no hostname"
	}
	return fmt.Sprintf("hostname %q", h)
}

func orReason[R ~string](p problem, fallback R) string {
	if p.ok() {
		return string(fallback)
	}
	return p.reason
}

func orMessage(p problem, fallback string) string {
	if p.ok() {
		return fallback
	}
	return p.message
}

// listenerRefusals asks the tenancy policy about the listeners a Gateway
// or ListenerSet declares: the whole object's violations apply to each.
func (b *builder) listenerRefusals(gw *gatewayv1.Gateway, ls *gatewayv1.ListenerSet) func(gatewayv1.SectionName) problem {
	var v tenancy.ListenerViolations
	switch {
	case b.s.Policy == nil:
	case ls != nil:
		v = b.s.Policy.ListenerSetViolations(ls)
	default:
		v = b.s.Policy.GatewayViolations(gw)
	}
	b.noteListenerVerdicts(gw, ls, v)
	return func(name gatewayv1.SectionName) problem {
		return tenantProblem(append(slices.Clip(v.Object), v.Listeners[name]...))
	}
}
