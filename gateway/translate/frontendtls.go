package translate

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// frontendValidation is the client certificate validation that applies to
// an HTTPS listener on port: the Gateway's perPort entry for it, else its
// default. where locates it for messages.
func frontendValidation(gw *gatewayv1.Gateway, port gatewayv1.PortNumber) (v *gatewayv1.FrontendTLSValidation, where string) {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return nil, ""
	}
	f := gw.Spec.TLS.Frontend
	for i := range f.PerPort {
		if f.PerPort[i].Port == port {
			return f.PerPort[i].TLS.Validation, fmt.Sprintf("spec.tls.frontend.perPort[%d].tls.validation", i)
		}
	}
	return f.Default.Validation, "spec.tls.frontend.default.validation"
}

// clientValidation resolves the CA certificates an HTTPS listener checks
// client certificates against. refs names every unusable reference
// (InvalidCACertificateKind, InvalidCACertificateRef, RefNotPermitted);
// accept is NoValidCACertificate when none is usable, and the listener is
// then not served rather than served without the validation it asks for.
func (b *builder) clientValidation(l *listenerState) (accept, refs problem) {
	gw := l.gateway.gateway
	v, where := frontendValidation(gw, l.spec.Port)
	if v == nil {
		return problem{}, problem{}
	}
	mode := v.Mode
	if mode == "" {
		mode = gatewayv1.AllowValidOnly
	}
	if mode != gatewayv1.AllowValidOnly && mode != gatewayv1.AllowInsecureFallback {
		return newProblem(gatewayv1.ListenerReasonUnsupportedValue,
			"Listener %s takes client validation mode %q from %s.mode; use AllowValidOnly or AllowInsecureFallback.", l.spec.Name, mode, where), problem{}
	}
	cv := &routetable.ClientValidation{InsecureFallback: mode == gatewayv1.AllowInsecureFallback}
	var problems []problem
	for i, ref := range v.CACertificateRefs {
		refWhere := fmt.Sprintf("%s.caCertificateRefs[%d]", where, i)
		group, kind := string(ref.Group), string(ref.Kind)
		key := types.NamespacedName{Namespace: string(deref(ref.Namespace, gatewayv1.Namespace(gw.Namespace))), Name: string(ref.Name)}
		allowed := b.referenceAllowed(reference{
			fromGroup: gatewayv1.GroupName, fromKind: "Gateway", fromNamespace: gw.Namespace,
			toGroup: group, toKind: kind, toNamespace: key.Namespace, toName: key.Name,
		})
		if !allowed {
			problems = append(problems, newProblem(gatewayv1.ListenerReasonRefNotPermitted,
				"Listener %s uses %s, which refers to %s %s in another namespace, and no ReferenceGrant there allows Gateways from %s; create one in %s.",
				l.spec.Name, refWhere, kind, key, gw.Namespace, key.Namespace))
			continue
		}
		pem, fault, detail := b.caBundle(group, kind, key)
		if fault != caUsable {
			reason := gatewayv1.ListenerReasonInvalidCACertificateRef
			if fault == caUnsupportedKind {
				reason = gatewayv1.ListenerReasonInvalidCACertificateKind
			}
			problems = append(problems, newProblem(reason, "Listener %s uses %s, which refers to %s.", l.spec.Name, refWhere, fault.describe(group, kind, key, detail)))
			continue
		}
		cv.CAPEM = append(cv.CAPEM, pem...)
		cv.CACertificates = append(cv.CACertificates, kind+" "+key.String())
	}
	refs = joinProblems(problems)
	if len(cv.CACertificates) == 0 {
		return newProblem(gatewayv1.ListenerReasonNoValidCACertificate,
			"Listener %s has no usable CA certificate in %s.caCertificateRefs, so it cannot validate clients; see its ResolvedRefs condition.", l.spec.Name, where), refs
	}
	l.clientValidation = cv
	return problem{}, refs
}

// insecureFrontendValidation reports whether any of a Gateway's client
// validations lets clients without a valid certificate through.
func insecureFrontendValidation(gw *gatewayv1.Gateway) bool {
	if gw.Spec.TLS == nil || gw.Spec.TLS.Frontend == nil {
		return false
	}
	f := gw.Spec.TLS.Frontend
	if v := f.Default.Validation; v != nil && v.Mode == gatewayv1.AllowInsecureFallback {
		return true
	}
	for _, p := range f.PerPort {
		if v := p.TLS.Validation; v != nil && v.Mode == gatewayv1.AllowInsecureFallback {
			return true
		}
	}
	return false
}
