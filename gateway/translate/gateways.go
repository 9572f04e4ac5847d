package translate

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// gatewayState is one Gateway of one of our GatewayClasses.
type gatewayState struct {
	gateway   *gatewayv1.Gateway
	key       types.NamespacedName
	reject    problem // why the whole Gateway is not accepted
	address   string  // the IP it serves on, once usable
	addressed problem // why it has no usable address
	listeners []*listenerState
	// clientCert is presented to TLS backends (spec.tls.backend); clientCertRef
	// says why the reference is unusable.
	clientCert    *routetable.Certificate
	clientCertRef problem
	// sets are the ListenerSets attached to it, in precedence order.
	sets []*listenerSetState
}

// gateways judges every Gateway of our classes: the Gateway itself, its
// address, its listeners, then conflicts between listeners and what the data
// plane reported.
func (b *builder) gateways() {
	b.model = model.New(model.Inputs{
		Gateways: b.s.Gateways, ListenerSets: b.s.ListenerSets, Namespaces: b.s.Namespaces,
		Support: func(*gatewayv1.Gateway) model.Support { return servedKinds },
		Include: func(gw *gatewayv1.Gateway) bool { return b.classes[string(gw.Spec.GatewayClassName)] != nil },
	})
	for _, mg := range b.model.Gateways() {
		gw := mg.Object
		g := &gatewayState{gateway: gw, key: mg.Key}
		g.reject = b.gatewayProblem(g, b.classes[string(gw.Spec.GatewayClassName)])
		if g.reject.ok() {
			g.address, g.addressed = b.address(g)
			g.clientCert, g.clientCertRef = b.backendClientCertificate(gw)
		}
		refused := b.listenerRefusals(gw, nil)
		for _, ml := range mg.Listeners {
			g.listeners = append(g.listeners, b.listener(g, nil, ml, refused(ml.Spec.Name)))
		}
		b.gatewayByKey[g.key] = g
		b.ordered = append(b.ordered, g)
	}
	b.listenerSets()
	b.conflicts()
	for _, g := range b.ordered {
		for _, l := range g.allListeners() {
			b.program(l)
		}
	}
}

// gatewayProblem is why a Gateway cannot be accepted regardless of its
// listeners: its class, parameters, TLS settings or address types.
func (b *builder) gatewayProblem(g *gatewayState, class *classState) problem {
	gw := g.gateway
	switch {
	case !class.accepted:
		return newProblem(gatewayv1.GatewayReasonInvalid,
			"GatewayClass %s is not accepted; fix it as its Accepted condition says.", class.class.Name)
	case gw.Spec.Infrastructure != nil && gw.Spec.Infrastructure.ParametersRef != nil:
		return newProblem(gatewayv1.GatewayReasonInvalidParameters,
			"Gateway %s sets spec.infrastructure.parametersRef, but tenantgate takes no parameters; remove it.", g.key)
	}
	for i, a := range gw.Spec.Addresses {
		if t := deref(a.Type, gatewayv1.IPAddressType); t != gatewayv1.IPAddressType {
			return newProblem(gatewayv1.GatewayReasonUnsupportedAddress,
				"Gateway %s spec.addresses[%d] has type %q; tenantgate supports only IPAddress, so remove it.", g.key, i, t)
		}
	}
	return problem{}
}

// address checks the IP the controller assigned against spec.addresses. A
// Gateway is served on exactly one address.
func (b *builder) address(g *gatewayState) (string, problem) {
	var requested []string
	for _, a := range g.gateway.Spec.Addresses {
		if a.Value != "" {
			requested = append(requested, a.Value)
		}
	}
	assigned, failure := b.s.Addresses[g.key], b.s.AddressErrors[g.key]
	switch {
	case len(requested) > 1:
		return "", newProblem(gatewayv1.GatewayReasonAddressNotUsable,
			"Gateway %s requests addresses %s, but tenantgate serves a Gateway on one address; keep one in spec.addresses.", g.key, strings.Join(requested, ", "))
	case failure != "" && len(requested) == 1:
		return "", newProblem(gatewayv1.GatewayReasonAddressNotUsable, "Gateway %s cannot use address %s: %s", g.key, requested[0], failure)
	case failure != "":
		return "", newProblem(gatewayv1.GatewayReasonAddressNotAssigned, "Gateway %s has no address: %s", g.key, failure)
	case assigned == "":
		return "", newProblem(gatewayv1.GatewayReasonAddressNotAssigned,
			"Gateway %s has not been given an address yet; check the controller's address pool.", g.key)
	case len(requested) == 1 && assigned != requested[0] && b.s.TargetPorts != nil:
		return "", newProblem(gatewayv1.GatewayReasonAddressNotUsable,
			"Gateway %s requests address %s, but its Service got %s; its load balancer cannot give that address (or its class's Service type takes none), so request one the load balancer can assign or remove spec.addresses.", g.key, requested[0], assigned)
	case len(requested) == 1 && assigned != requested[0]:
		return "", newProblem(gatewayv1.GatewayReasonAddressNotUsable,
			"Gateway %s requests address %s, but the controller could only assign %s; request an address from the pool.", g.key, requested[0], assigned)
	}
	return assigned, problem{}
}

// program decides whether a listener goes to the data plane and whether it
// counts as Programmed, folding in the data plane's bind results. A listener
// that failed to bind stays in the Config so the data plane keeps trying;
// dropping it would clear the error and make the listener flap.
func (b *builder) program(l *listenerState) {
	g := l.gateway
	l.targetPort = b.s.TargetPorts[g.key][int32(l.spec.Port)]
	switch {
	case !l.conflict.ok() && l.set != nil:
		// ListenerSet listeners report what keeps them off the port, as the spec's tests expect.
		l.programmed = problem{reason: l.conflict.reason, message: "The listener conflicts with an earlier one; see its Conflicted condition."}
	case !l.supported:
		l.programmed = newProblem(gatewayv1.ListenerReasonInvalid, "The listener's protocol is not supported.")
	case !g.reject.ok():
		l.programmed = newProblem(gatewayv1.ListenerReasonInvalid, "The Gateway is not accepted; see its Accepted condition.")
	case !g.addressed.ok():
		l.programmed = newProblem(gatewayv1.ListenerReasonPending, "The Gateway has no usable address; see its Programmed condition.")
	case !l.conflict.ok():
		l.programmed = newProblem(gatewayv1.ListenerReasonInvalid, "The listener conflicts with another; see its Conflicted condition.")
	case !l.accept.ok():
		l.programmed = newProblem(gatewayv1.ListenerReasonInvalid, "The listener is not accepted; see its Accepted condition.")
	case terminates(l.spec) && len(l.certificates) == 0:
		l.programmed = newProblem(gatewayv1.ListenerReasonInvalid, "The listener has no usable certificate; see its ResolvedRefs condition.")
	case b.s.TargetPorts != nil && l.targetPort == 0:
		l.unmapped = true
		l.programmed = newProblem(gatewayv1.ListenerReasonPending,
			"Waiting for the Gateway's Service to map port %d to a data-plane port; the controller writes it.", l.spec.Port)
	default:
		l.inConfig = true
	}
	if !l.inConfig {
		return
	}
	if err := b.s.BindErrors[l.name]; err != "" {
		l.accept = newProblem(gatewayv1.ListenerReasonPortUnavailable,
			"The data plane cannot listen on %s: %s", l.bindDescription(), err)
		l.programmed = newProblem(gatewayv1.ListenerReasonPending, "The data plane keeps trying to listen; see the Accepted condition.")
		return
	}
	if b.s.Listening != nil && !b.s.Listening[l.name] {
		l.programmed = newProblem(gatewayv1.ListenerReasonPending, "Waiting for the data plane to listen on %s.", l.bindDescription())
	}
}

// gatewayStatus is the Gateway's status once routes have been attached.
func (b *builder) gatewayStatus(g *gatewayState) gatewayv1.GatewayStatus {
	gen := g.gateway.Generation
	accepted := b.gatewayAccepted(g)
	programmed := b.gatewayProgrammed(g, accepted)
	var unresolved []string
	listeners := make([]gatewayv1.ListenerStatus, 0, len(g.listeners))
	for _, l := range g.listeners {
		if !slices.ContainsFunc(listeners, func(st gatewayv1.ListenerStatus) bool { return st.Name == l.spec.Name }) {
			listeners = append(listeners, b.listenerStatus(l)) // status lists each name once
		}
		if !l.refs.ok() {
			unresolved = append(unresolved, string(l.spec.Name))
		}
	}
	resolved := g.clientCertRef
	if len(unresolved) > 0 && resolved.ok() {
		resolved = newProblem(gatewayv1.GatewayReasonListenersNotResolved,
			"Of this Gateway, %s %s unresolved references; see the listeners' ResolvedRefs conditions.", listenerList(unresolved), verb(len(unresolved), "has", "have"))
	}
	status := gatewayv1.GatewayStatus{
		Conditions: []metav1.Condition{
			b.condition(string(gatewayv1.GatewayConditionAccepted), accepted.ok, accepted.reason, accepted.message, gen),
			b.condition(string(gatewayv1.GatewayConditionProgrammed), programmed.ok(),
				orReason(programmed, gatewayv1.GatewayReasonProgrammed), orMessage(programmed, b.servedOn(g.address, "")), gen),
			b.condition(string(gatewayv1.GatewayConditionResolvedRefs), resolved.ok(),
				orReason(resolved, gatewayv1.GatewayReasonResolvedRefs), orMessage(resolved, "All references resolved."), gen),
		},
		Listeners: listeners,
	}
	if attached := g.attachedSets(); attached > 0 || b.namedBySets(g) {
		status.AttachedListenerSets = &attached
	}
	if insecureFrontendValidation(g.gateway) {
		status.Conditions = append(status.Conditions, b.condition(string(gatewayv1.GatewayConditionInsecureFrontendValidationMode), true,
			string(gatewayv1.GatewayReasonConfigurationChanged),
			"Some listeners let clients through without a valid certificate (AllowInsecureFallback); their backends must authorize clients themselves.", gen))
	}
	if g.reject.ok() && g.address != "" {
		status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: new(addressType(g.address)), Value: g.address}}
	}
	return status
}

// addressType tells an IP from a hostname (a cloud load balancer may report
// either for the Gateway's Service).
func addressType(a string) gatewayv1.AddressType {
	if _, err := netip.ParseAddr(a); err != nil {
		return gatewayv1.HostnameAddressType
	}
	return gatewayv1.IPAddressType
}

// servedOn is the Programmed message: what the data plane confirmed when it
// reports its sockets, what it was given otherwise.
func (b *builder) servedOn(address, port string) string {
	where := address
	if port != "" {
		where += " port " + port
	}
	if b.s.Listening != nil {
		return "The data plane listens on " + where + "."
	}
	return "The data plane is configured to serve on " + where + "."
}

// acceptance is the Gateway's Accepted condition; unlike a problem it may be
// True with a reason other than Accepted: ListenersNotValid is used both when
// some listeners are valid (True) and when none is (False).
type acceptance struct {
	ok      bool
	reason  string
	message string
}

func (b *builder) gatewayAccepted(g *gatewayState) acceptance {
	if !g.reject.ok() {
		return acceptance{reason: g.reject.reason, message: g.reject.message}
	}
	var invalid []string
	for _, l := range g.listeners {
		if !l.accept.ok() || !l.conflict.ok() {
			invalid = append(invalid, string(l.spec.Name))
		}
	}
	switch {
	case len(invalid) == 0:
		return acceptance{ok: true, reason: string(gatewayv1.GatewayReasonAccepted), message: "The Gateway and all its listeners are valid."}
	case len(invalid) == len(g.listeners):
		return acceptance{reason: string(gatewayv1.GatewayReasonListenersNotValid),
			message: fmt.Sprintf("No listener is valid (%s); see the listeners' conditions.", strings.Join(invalid, ", "))}
	}
	return acceptance{ok: true, reason: string(gatewayv1.GatewayReasonListenersNotValid),
		message: fmt.Sprintf("Of this Gateway, %s %s not valid and not served; the other listeners are.", listenerList(invalid), verb(len(invalid), "is", "are"))}
}

// listenerList names listeners in a message: "listener a", "listeners a, b".
func listenerList(names []string) string {
	if len(names) == 1 {
		return "listener " + names[0]
	}
	return "listeners " + strings.Join(names, ", ")
}

// verb picks the singular or plural form for a list of n subjects.
func verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func (b *builder) gatewayProgrammed(g *gatewayState, accepted acceptance) problem {
	if !accepted.ok {
		return newProblem(gatewayv1.GatewayReasonInvalid, "The Gateway is not accepted; see its Accepted condition.")
	}
	if !g.addressed.ok() {
		return g.addressed
	}
	pending, unmapped := false, false
	for _, l := range g.listeners {
		if l.programmed.ok() {
			return problem{}
		}
		pending = pending || l.inConfig
		unmapped = unmapped || l.unmapped
	}
	if pending {
		return newProblem(gatewayv1.GatewayReasonPending, "Waiting for the data plane to listen on %s.", g.address)
	}
	if unmapped {
		return newProblem(gatewayv1.GatewayReasonPending,
			"Waiting for the Gateway's Service to map its listener ports to data-plane ports; the data plane binds no listener of it until then.")
	}
	return newProblem(gatewayv1.GatewayReasonInvalid, "No listener can be served; see the listeners' conditions.")
}
