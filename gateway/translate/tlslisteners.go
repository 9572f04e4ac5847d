package translate

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// tlsKinds are the route kinds a TLS listener carries.
var tlsKinds = []gatewayv1.Kind{kindTLSRoute}

// tlsModeProblem refuses a TLS listener without a mode tenantgate serves:
// Passthrough (the ClientHello picks the route, the bytes go through) or
// Terminate (the extended TLSRouteModeTerminate feature: the gateway
// terminates with the listener's certificate and sends the plaintext
// stream on). Anything else is Accepted=False/UnsupportedValue.
func tlsModeProblem(spec *gatewayv1.Listener) problem {
	if spec.TLS == nil || spec.TLS.Mode == nil {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"TLS listener %s has no tls.mode; set tls.mode to Passthrough or Terminate.", spec.Name)
	}
	if mode := *spec.TLS.Mode; mode != gatewayv1.TLSModePassthrough && mode != gatewayv1.TLSModeTerminate {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"TLS listener %s sets tls.mode %s; use Passthrough or Terminate.", spec.Name, mode)
	}
	return problem{}
}

// terminates reports whether the gateway ends TLS on the listener: every
// HTTPS listener, and TLS listeners in Terminate mode.
func terminates(spec *gatewayv1.Listener) bool {
	switch spec.Protocol {
	case gatewayv1.HTTPSProtocolType:
		return true
	case gatewayv1.TLSProtocolType:
		return spec.TLS != nil && deref(spec.TLS.Mode, gatewayv1.TLSModeTerminate) == gatewayv1.TLSModeTerminate
	}
	return false
}

// supportedKinds is the listener's status.supportedKinds: what it carries
// "for that Listener configuration", so nothing on a TLS listener in a mode
// tenantgate does not serve.
func (l *listenerState) supportedKinds() []gatewayv1.RouteGroupKind {
	if l.spec.Protocol == gatewayv1.TLSProtocolType && !tlsModeProblem(l.spec).ok() {
		return []gatewayv1.RouteGroupKind{}
	}
	return l.m.Kinds
}

// kindNames lists route kinds for messages: "HTTPRoute or GRPCRoute".
func kindNames(kinds []gatewayv1.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
