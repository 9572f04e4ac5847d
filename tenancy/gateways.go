package tenancy

import (
	"fmt"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// The Gateway API semantics the policy needs (listener admission by route
// kind and namespace, ListenerSet listeners of a Gateway, parentRef →
// listeners selection) live in this file only, so they can be swapped for
// a shared model in one place.

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

// protocolKinds are the route kinds each listener protocol carries: the
// default of allowedRoutes.kinds, and the only kinds it may list.
var protocolKinds = map[gatewayv1.ProtocolType][]string{
	gatewayv1.HTTPProtocolType:  {kindHTTPRoute, kindGRPCRoute},
	gatewayv1.HTTPSProtocolType: {kindHTTPRoute, kindGRPCRoute},
	gatewayv1.TLSProtocolType:   {kindTLSRoute},
	gatewayv1.TCPProtocolType:   {kindTCPRoute},
	gatewayv1.UDPProtocolType:   {kindUDPRoute},
}

// gatewayInfo is a Gateway's listeners, parsed once, and the ListenerSets
// its allowedListeners lets attach.
type gatewayInfo struct {
	key          objectKey
	defaultScope gatewayv1.GatewayDefaultScope // routes asking for this scope attach without parentRefs
	listeners    []*listenerInfo
	// allowedListeners: which namespaces' ListenerSets may attach.
	listenersFrom gatewayv1.FromNamespaces
	listenersSel  labels.Selector // for from: Selector; nil when invalid or absent
}

// listenerSetInfo is a ListenerSet's listeners, parsed once.
type listenerSetInfo struct {
	key       objectKey
	parent    objectKey // the Gateway of spec.parentRef
	gatewayOK bool      // spec.parentRef names a Gateway (group and kind)
	listeners []*listenerInfo
}

// listenerInfo is what the policy needs of a listener: its hostname and
// which routes its allowedRoutes admits.
type listenerInfo struct {
	owner      string // "namespace/gateway" or "namespace/listenerset", for messages
	ownerNS    string // the namespace "from: Same" means
	name       string
	port       gatewayv1.PortNumber
	hostname   *hostPattern // nil: the listener accepts any hostname
	kinds      []string     // route kinds admitted: allowedRoutes.kinds within what the protocol carries
	from       gatewayv1.FromNamespaces
	selector   labels.Selector // for from: Selector; nil when invalid or absent
	selectorAt string          // the selector as text, for messages
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

func newGatewayInfo(gw *gatewayv1.Gateway) *gatewayInfo {
	info := &gatewayInfo{key: objectKey{gw.Namespace, gw.Name}, defaultScope: gw.Spec.DefaultScope,
		listenersFrom: gatewayv1.NamespacesFromNone}
	info.listeners = newListeners(info.key, gatewayListeners(gw))
	if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil {
		if al.Namespaces.From != nil {
			info.listenersFrom = *al.Namespaces.From
		}
		info.listenersSel = selectorOf(info.listenersFrom, al.Namespaces.Selector)
	}
	return info
}

func newListenerSetInfo(ls *gatewayv1.ListenerSet) *listenerSetInfo {
	ref := &ls.Spec.ParentRef
	ns := ls.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	info := &listenerSetInfo{
		key:       objectKey{ls.Namespace, ls.Name},
		parent:    objectKey{ns, string(ref.Name)},
		gatewayOK: (ref.Group == nil || *ref.Group == gatewayv1.GroupName) && (ref.Kind == nil || *ref.Kind == kindGateway),
	}
	info.listeners = newListeners(info.key, listenerSetListeners(ls))
	return info
}

func newListeners(owner objectKey, specs []listenerFields) []*listenerInfo {
	out := make([]*listenerInfo, 0, len(specs))
	for _, l := range specs {
		li := &listenerInfo{owner: owner.String(), ownerNS: owner.namespace, name: string(l.name), port: l.port,
			from: gatewayv1.NamespacesFromSame}
		if l.hostname != nil && *l.hostname != "" {
			h := parseHost(string(*l.hostname))
			li.hostname = &h
		}
		carried := protocolKinds[l.protocol]
		li.kinds = carried
		if ar := l.allowed; ar != nil {
			if len(ar.Kinds) > 0 {
				li.kinds = nil
				for _, k := range ar.Kinds {
					if (k.Group == nil || *k.Group == gatewayv1.GroupName) && slices.Contains(carried, string(k.Kind)) &&
						!slices.Contains(li.kinds, string(k.Kind)) {
						li.kinds = append(li.kinds, string(k.Kind))
					}
				}
			}
			if ar.Namespaces != nil && ar.Namespaces.From != nil {
				li.from = *ar.Namespaces.From
			}
			if ar.Namespaces != nil {
				li.selector = selectorOf(li.from, ar.Namespaces.Selector)
				if li.selector != nil {
					li.selectorAt = li.selector.String()
				}
			}
		}
		out = append(out, li)
	}
	return out
}

// selectorOf converts a from: Selector selector; nil (admitting nothing)
// when from is not Selector or the selector is missing or invalid.
func selectorOf(from gatewayv1.FromNamespaces, s *metav1.LabelSelector) labels.Selector {
	if from != gatewayv1.NamespacesFromSelector || s == nil {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil
	}
	return sel
}

// fromAdmits applies a from/selector pair to a namespace.
func fromAdmits(from gatewayv1.FromNamespaces, sel labels.Selector, ownerNS, ns string, nsLabels labels.Set) bool {
	switch from {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSame:
		return ns == ownerNS
	case gatewayv1.NamespacesFromSelector:
		return sel != nil && sel.Matches(nsLabels)
	default:
		return false
	}
}

// admits reports whether the listener accepts a route of kind from
// namespace routeNS, whose labels are nsLabels.
func (l *listenerInfo) admits(kind, routeNS string, nsLabels labels.Set) bool {
	return slices.Contains(l.kinds, kind) && fromAdmits(l.from, l.selector, l.ownerNS, routeNS, nsLabels)
}

// path names the listener for messages: "namespace/owner/listener".
func (l *listenerInfo) path() string { return l.owner + "/" + l.name }

// admission describes what the listener admits, for warnings.
func (l *listenerInfo) admission(kind string) string {
	if !slices.Contains(l.kinds, kind) {
		return fmt.Sprintf("listener %q does not admit %ss", l.name, kind)
	}
	switch l.from {
	case gatewayv1.NamespacesFromSame:
		return fmt.Sprintf("listener %q admits only namespace %q", l.name, l.ownerNS)
	case gatewayv1.NamespacesFromSelector:
		if l.selector == nil {
			return fmt.Sprintf("listener %q has no valid namespace selector", l.name)
		}
		return fmt.Sprintf("listener %q admits namespaces labelled %s", l.name, l.selectorAt)
	default:
		return fmt.Sprintf("listener %q admits no namespaces (from: %s)", l.name, l.from)
	}
}

// admitsListenerSet reports whether the Gateway's allowedListeners lets a
// ListenerSet in namespace ns attach.
func (g *gatewayInfo) admitsListenerSet(ns string, nsLabels labels.Set) bool {
	return fromAdmits(g.listenersFrom, g.listenersSel, g.key.namespace, ns, nsLabels)
}

// selectListeners returns the listeners a parentRef points at among
// listeners: the one named by sectionName, those on port, or all of them.
func selectListeners(listeners []*listenerInfo, ref *gatewayv1.ParentReference) []*listenerInfo {
	if ref.SectionName == nil && ref.Port == nil {
		return listeners
	}
	var out []*listenerInfo
	for _, l := range listeners {
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

// selected returns the Gateway's own listeners a parentRef points at (a
// Gateway parent never selects the listeners of its ListenerSets).
func (g *gatewayInfo) selected(ref *gatewayv1.ParentReference) []*listenerInfo {
	return selectListeners(g.listeners, ref)
}

// parentKindOf classifies a parentRef: a Gateway, a ListenerSet, or other.
func parentKindOf(ref *gatewayv1.ParentReference) string {
	if ref.Group != nil && *ref.Group != gatewayv1.GroupName {
		return ""
	}
	switch {
	case ref.Kind == nil || *ref.Kind == kindGateway:
		return kindGateway
	case *ref.Kind == kindListenerSet:
		return kindListenerSet
	}
	return ""
}

// isGatewayParent reports whether a parentRef points at a Gateway.
func isGatewayParent(ref *gatewayv1.ParentReference) bool { return parentKindOf(ref) == kindGateway }

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
		gw := p.gateways[key]
		if gw == nil {
			return nil, false, fmt.Sprintf("Gateway %s does not exist", key)
		}
		return gw.selected(ref), true, ""
	case kindListenerSet:
		ls := p.listenerSets[key]
		if ls == nil {
			return nil, false, fmt.Sprintf("ListenerSet %s does not exist", key)
		}
		if ok, why := p.listenerSetAttached(ls); !ok {
			return nil, false, why
		}
		return selectListeners(ls.listeners, ref), true, ""
	}
	return nil, false, ""
}

// listenerSetAttached reports whether the ListenerSet's Gateway exists and
// its allowedListeners admits the ListenerSet's namespace.
func (p *Policy) listenerSetAttached(ls *listenerSetInfo) (bool, string) {
	gw := p.gateways[ls.parent]
	if !ls.gatewayOK || gw == nil {
		return false, fmt.Sprintf("the parent Gateway %s of ListenerSet %s does not exist", ls.parent, ls.key)
	}
	if !gw.admitsListenerSet(ls.key.namespace, p.members.labels[ls.key.namespace]) {
		return false, fmt.Sprintf("Gateway %s does not admit ListenerSets from namespace %q (allowedListeners from: %s)",
			gw.key, ls.key.namespace, gw.listenersFrom)
	}
	return true, ""
}

// defaultGateways returns the Gateways that claim routes asking for scope
// (useDefaultGateways), in namespace/name order; none for "" or None.
func (p *Policy) defaultGateways(scope gatewayv1.GatewayDefaultScope) []*gatewayInfo {
	if scope == "" || scope == gatewayv1.GatewayDefaultScopeNone {
		return nil
	}
	return p.defaults[scope]
}
