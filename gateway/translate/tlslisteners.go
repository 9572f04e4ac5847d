package translate

import (
	"strings"

	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// tlsKinds are the route kinds a TLS listener carries.
var tlsKinds = []gatewayv1.Kind{kindTLSRoute}

// passthroughProblem refuses a TLS listener tenantgate cannot serve: it
// passes TLS through to backends (Passthrough) and does not terminate on
// TLS listeners (the extended TLSRouteModeTerminate feature), which the
// spec answers with Accepted=False/UnsupportedValue.
func passthroughProblem(spec *gatewayv1.Listener) problem {
	if spec.TLS == nil || spec.TLS.Mode == nil {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"TLS listener %s has no tls.mode; set tls.mode to Passthrough.", spec.Name)
	}
	if mode := *spec.TLS.Mode; mode != gatewayv1.TLSModePassthrough {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"TLS listener %s sets tls.mode %s, which tenantgate does not support on TLS listeners; use Passthrough, or an HTTPS listener to terminate TLS.", spec.Name, mode)
	}
	return problem{}
}

// supportedKinds is the listener's status.supportedKinds: what it carries
// "for that Listener configuration", so nothing on a TLS listener in a mode
// tenantgate does not serve.
func (l *listenerState) supportedKinds() []gatewayv1.RouteGroupKind {
	if l.spec.Protocol == gatewayv1.TLSProtocolType && !passthroughProblem(l.spec).ok() {
		return []gatewayv1.RouteGroupKind{}
	}
	return l.m.Kinds
}

// kindNames lists route kinds for messages: "HTTPRoute, GRPCRoute".
func kindNames(kinds []gatewayv1.Kind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}
