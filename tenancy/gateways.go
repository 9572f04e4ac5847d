package tenancy

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// gatewayInfo is a Gateway's listeners, parsed once.
type gatewayInfo struct {
	key          objectKey
	defaultScope gatewayv1.GatewayDefaultScope // routes asking for this scope attach without parentRefs
	listeners    []*listenerInfo
}

// listenerInfo is what the policy needs of a listener: its hostname and
// which routes its allowedRoutes admits.
type listenerInfo struct {
	name       string
	port       gatewayv1.PortNumber
	hostname   *hostPattern // nil: the listener accepts any hostname
	httpRoutes bool         // allowedRoutes.kinds (or the protocol) admits HTTPRoute
	from       gatewayv1.FromNamespaces
	selector   labels.Selector // for from: Selector; nil when invalid or absent
	selectorAt string          // the selector as text, for messages
}

func newGatewayInfo(gw *gatewayv1.Gateway) *gatewayInfo {
	info := &gatewayInfo{key: objectKey{gw.Namespace, gw.Name}, defaultScope: gw.Spec.DefaultScope}
	for i := range gw.Spec.Listeners {
		l := &gw.Spec.Listeners[i]
		li := &listenerInfo{name: string(l.Name), port: l.Port, from: gatewayv1.NamespacesFromSame}
		if l.Hostname != nil && *l.Hostname != "" {
			h := parseHost(string(*l.Hostname))
			li.hostname = &h
		}
		li.httpRoutes = l.Protocol == gatewayv1.HTTPProtocolType || l.Protocol == gatewayv1.HTTPSProtocolType
		if ar := l.AllowedRoutes; ar != nil {
			if len(ar.Kinds) > 0 {
				li.httpRoutes = false
				for _, k := range ar.Kinds {
					if k.Kind == "HTTPRoute" && (k.Group == nil || *k.Group == gatewayv1.GroupName) {
						li.httpRoutes = true
					}
				}
			}
			if ar.Namespaces != nil && ar.Namespaces.From != nil {
				li.from = *ar.Namespaces.From
			}
			if li.from == gatewayv1.NamespacesFromSelector && ar.Namespaces.Selector != nil {
				if sel, err := metav1.LabelSelectorAsSelector(ar.Namespaces.Selector); err == nil {
					li.selector = sel
					li.selectorAt = sel.String()
				}
			}
		}
		info.listeners = append(info.listeners, li)
	}
	return info
}

// admits reports whether the listener accepts an HTTPRoute from namespace
// routeNS, whose labels are nsLabels.
func (l *listenerInfo) admits(gatewayNS, routeNS string, nsLabels labels.Set) bool {
	if !l.httpRoutes {
		return false
	}
	switch l.from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSame:
		return routeNS == gatewayNS
	case gatewayv1.NamespacesFromSelector:
		return l.selector != nil && l.selector.Matches(nsLabels)
	default:
		return false
	}
}

// admission describes what the listener admits, for warnings.
func (l *listenerInfo) admission(gatewayNS string) string {
	if !l.httpRoutes {
		return fmt.Sprintf("listener %q does not admit HTTPRoutes", l.name)
	}
	switch l.from {
	case gatewayv1.NamespacesFromSame:
		return fmt.Sprintf("listener %q admits only namespace %q", l.name, gatewayNS)
	case gatewayv1.NamespacesFromSelector:
		if l.selector == nil {
			return fmt.Sprintf("listener %q has no valid namespace selector", l.name)
		}
		return fmt.Sprintf("listener %q admits namespaces labelled %s", l.name, l.selectorAt)
	default:
		return fmt.Sprintf("listener %q admits no namespaces (from: %s)", l.name, l.from)
	}
}

// selected returns the listeners a parentRef points at: the one named by
// sectionName, those on port, or all of them.
func (g *gatewayInfo) selected(ref *gatewayv1.ParentReference) []*listenerInfo {
	if ref.SectionName == nil && ref.Port == nil {
		return g.listeners
	}
	var out []*listenerInfo
	for _, l := range g.listeners {
		if ref.SectionName != nil && string(*ref.SectionName) != l.name {
			continue
		}
		if ref.Port != nil && *ref.Port != l.port {
			continue
		}
		out = append(out, l)
	}
	return out
}

// isGatewayParent reports whether a parentRef points at a Gateway.
func isGatewayParent(ref *gatewayv1.ParentReference) bool {
	return (ref.Group == nil || *ref.Group == gatewayv1.GroupName) && (ref.Kind == nil || *ref.Kind == "Gateway")
}

// parentKey is the namespace/name a parentRef points at.
func parentKey(ref *gatewayv1.ParentReference, routeNS string) objectKey {
	ns := routeNS
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return objectKey{ns, string(ref.Name)}
}

// parentKind names a parentRef's kind for messages, e.g. "Service" or
// "Gateway.example.com".
func parentKind(ref *gatewayv1.ParentReference) string {
	kind := "Gateway"
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Group != nil && *ref.Group != gatewayv1.GroupName && *ref.Group != "" {
		kind += "." + string(*ref.Group)
	}
	return kind
}

// defaultGateways returns the Gateways that claim routes asking for scope
// (useDefaultGateways), in namespace/name order; none for "" or None.
func (p *Policy) defaultGateways(scope gatewayv1.GatewayDefaultScope) []*gatewayInfo {
	if scope == "" || scope == gatewayv1.GatewayDefaultScopeNone {
		return nil
	}
	return p.defaults[scope]
}
