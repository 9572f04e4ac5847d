package tenancy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
)

// The Gateway API semantics the policy needs (listener admission by route
// kind and namespace, ListenerSets admitted by their Gateway, parentRef
// selection) come from gateway/model, which the translator uses too: a
// warning here and a status condition there cannot disagree. This file
// only adapts it to the policy's names.

// Route kinds, as allowedRoutes.kinds and ReferenceGrant from entries name them.
const (
	kindHTTPRoute   = "HTTPRoute"
	kindGRPCRoute   = "GRPCRoute"
	kindTLSRoute    = "TLSRoute"
	kindTCPRoute    = "TCPRoute"
	kindUDPRoute    = "UDPRoute"
	kindGateway     = "Gateway"
	kindListenerSet = "ListenerSet"
)

// listenerInfo is a listener as the shared Gateway API model resolved it:
// hostname, route kinds by protocol and allowedRoutes, namespaces admitted.
type listenerInfo = model.Listener

// listenerHost is the listener's hostname pattern; nil when it accepts any.
func listenerHost(l *listenerInfo) *hostPattern {
	if l.Hostname == "" {
		return nil
	}
	h := hostPattern(l.Hostname)
	return &h
}

// listenerPath names the listener for messages: "namespace/owner/listener".
func listenerPath(l *listenerInfo) string {
	return l.Owner.NamespacedName.String() + "/" + string(l.Spec.Name)
}

// listenerFields is the part of a Gateway listener and a ListenerSet entry
// the policy reads.
type listenerFields struct {
	name     gatewayv1.SectionName
	hostname *gatewayv1.Hostname
	port     gatewayv1.PortNumber
	protocol gatewayv1.ProtocolType
	allowed  *gatewayv1.AllowedRoutes
	tls      *gatewayv1.ListenerTLSConfig
}

func gatewayListeners(gw *gatewayv1.Gateway) []listenerFields {
	out := make([]listenerFields, len(gw.Spec.Listeners))
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		out[i] = listenerFields{l.Name, l.Hostname, l.Port, l.Protocol, l.AllowedRoutes, l.TLS}
	}
	return out
}

func listenerSetListeners(ls *gatewayv1.ListenerSet) []listenerFields {
	out := make([]listenerFields, len(ls.Spec.Listeners))
	for i := range ls.Spec.Listeners {
		l := &ls.Spec.Listeners[i]
		out[i] = listenerFields{l.Name, l.Hostname, l.Port, l.Protocol, l.AllowedRoutes, l.TLS}
	}
	return out
}

// selectListeners returns the listeners a parentRef selects among
// listeners (sectionName and port, when set).
func selectListeners(listeners []*listenerInfo, ref *gatewayv1.ParentReference) []*listenerInfo {
	var out []*listenerInfo
	for _, l := range listeners {
		if model.Selects(ref, l) {
			out = append(out, l)
		}
	}
	return out
}

// parentKindOf classifies a parentRef (model.ParentKind): a Gateway, a
// ListenerSet, or "" for anything else.
func parentKindOf(ref *gatewayv1.ParentReference) string { return string(model.ParentKind(ref)) }

// isGatewayParent reports whether a parentRef points at a Gateway.
func isGatewayParent(ref *gatewayv1.ParentReference) bool { return parentKindOf(ref) == kindGateway }

// parentKey is the namespace/name a parentRef points at (model.ParentKey).
func parentKey(ref *gatewayv1.ParentReference, routeNS string) objectKey {
	k := model.ParentKey(ref, routeNS)
	return objectKey{k.Namespace, k.Name}
}

// parentKind names a parentRef's kind for messages, e.g. "Service" or
// "Gateway.example.com".
func parentKind(ref *gatewayv1.ParentReference) string {
	kind := kindGateway
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Group != nil && *ref.Group != gatewayv1.GroupName && *ref.Group != "" {
		kind += "." + string(*ref.Group)
	}
	return kind
}

// parentListeners resolves a parentRef of a route in namespace routeNS to
// the listeners it selects: a Gateway's own, or those of a ListenerSet that
// its Gateway lets attach. found is false when the parent (or a
// ListenerSet's Gateway) is not in the snapshot or does not accept the
// ListenerSet; why says which, for warnings.
func (p *Policy) parentListeners(ref *gatewayv1.ParentReference, routeNS string) (listeners []*listenerInfo, found bool, why string) {
	key := parentKey(ref, routeNS)
	switch parentKindOf(ref) {
	case kindGateway:
		gw := p.model.Gateway(key.nn())
		if gw == nil {
			return nil, false, fmt.Sprintf("Gateway %s does not exist", key)
		}
		return selectListeners(gw.Listeners, ref), true, ""
	case kindListenerSet:
		ls := p.model.ListenerSet(key.nn())
		if ls == nil {
			return nil, false, fmt.Sprintf("ListenerSet %s does not exist", key)
		}
		if ok, why := p.listenerSetAttached(ls.Object); !ok {
			return nil, false, why
		}
		return selectListeners(ls.Listeners, ref), true, ""
	}
	return nil, false, ""
}

// listenerSetAttached reports whether the ListenerSet's Gateway exists and
// its allowedListeners admits the ListenerSet's namespace.
func (p *Policy) listenerSetAttached(ls *gatewayv1.ListenerSet) (bool, string) {
	parent, isGateway := model.ListenerSetParentKey(ls)
	gw := p.model.Gateway(parent)
	if !isGateway || gw == nil {
		return false, fmt.Sprintf("the parent Gateway %s of ListenerSet %s/%s does not exist", parent, ls.Namespace, ls.Name)
	}
	if why := gw.ListenerSetRefusal(ls.Namespace, p.model.NamespaceLabels(ls.Namespace)); why != "" {
		return false, model.ListenerSetNotAllowed(parent, ls.Namespace, why)
	}
	return true, ""
}

// defaultGateways returns the Gateways that claim routes asking for scope
// (useDefaultGateways), in namespace/name order; none for "" or None.
func (p *Policy) defaultGateways(scope gatewayv1.GatewayDefaultScope) []*model.Gateway {
	if scope == "" || scope == gatewayv1.GatewayDefaultScopeNone {
		return nil
	}
	return p.defaults[scope]
}

// nn is the key as the model's types name it.
func (k objectKey) nn() types.NamespacedName {
	return types.NamespacedName{Namespace: k.namespace, Name: k.name}
}
