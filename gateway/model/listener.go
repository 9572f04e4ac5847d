package model

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/hostname"
)

// Route kinds of the gateway.networking.k8s.io group.
const (
	KindHTTPRoute gatewayv1.Kind = "HTTPRoute"
	KindGRPCRoute gatewayv1.Kind = "GRPCRoute"
	KindTLSRoute  gatewayv1.Kind = "TLSRoute"
	KindTCPRoute  gatewayv1.Kind = "TCPRoute"
	KindUDPRoute  gatewayv1.Kind = "UDPRoute"

	KindGateway     gatewayv1.Kind = "Gateway"
	KindListenerSet gatewayv1.Kind = "ListenerSet"
)

// Support lists the route kinds a listener of a protocol can carry; it is
// where an implementation's limits enter the model.
type Support func(protocol gatewayv1.ProtocolType) []gatewayv1.Kind

// SpecSupport is what the Gateway API lets each core protocol carry. The
// tenant policy judges Gateways of every implementation by it.
func SpecSupport(protocol gatewayv1.ProtocolType) []gatewayv1.Kind {
	switch protocol {
	case gatewayv1.HTTPProtocolType, gatewayv1.HTTPSProtocolType:
		return []gatewayv1.Kind{KindHTTPRoute, KindGRPCRoute}
	case gatewayv1.TLSProtocolType:
		return []gatewayv1.Kind{KindTLSRoute}
	case gatewayv1.TCPProtocolType:
		return []gatewayv1.Kind{KindTCPRoute}
	case gatewayv1.UDPProtocolType:
		return []gatewayv1.Kind{KindUDPRoute}
	}
	return nil
}

// Owner is the Gateway or ListenerSet that declares a listener.
type Owner struct {
	Kind gatewayv1.Kind // KindGateway or KindListenerSet
	types.NamespacedName
}

func (o Owner) String() string { return string(o.Kind) + " " + o.NamespacedName.String() }

// Listener is one listener of a Gateway or of a ListenerSet attached to
// one, with what it admits resolved.
type Listener struct {
	Owner Owner
	// Gateway is the Gateway serving the listener (the Owner itself for a
	// Gateway's own listeners).
	Gateway types.NamespacedName
	Spec    *gatewayv1.Listener
	// Hostname is normalized; "" accepts every name.
	Hostname string
	// Kinds are the route kinds it admits, in the order first listed; never nil.
	Kinds []gatewayv1.RouteGroupKind
	// InvalidKinds are requested allowedRoutes.kinds it cannot carry, as
	// "group/Kind".
	InvalidKinds []string
	// Namespaces is allowedRoutes.namespaces; NamespacesProblem says why it
	// is unusable ("" when valid), and then it admits nothing.
	Namespaces        NamespaceFilter
	NamespacesProblem string
}

// NewListener resolves a listener declared by owner (in the owner's
// namespace) on a Gateway, for an implementation that carries support.
func NewListener(owner Owner, gateway types.NamespacedName, spec *gatewayv1.Listener, support Support) *Listener {
	l := &Listener{Owner: owner, Gateway: gateway, Spec: spec, Kinds: []gatewayv1.RouteGroupKind{}}
	if spec.Hostname != nil {
		l.Hostname = hostname.Normalize(string(*spec.Hostname))
	}
	l.resolveKinds(support(spec.Protocol))
	var from *gatewayv1.FromNamespaces
	var selector *metav1.LabelSelector
	if ar := spec.AllowedRoutes; ar != nil && ar.Namespaces != nil {
		from, selector = ar.Namespaces.From, ar.Namespaces.Selector
	}
	l.Namespaces, l.NamespacesProblem = newNamespaceFilter(owner.Namespace, from, selector, gatewayv1.NamespacesFromSame, "allowedRoutes")
	if l.NamespacesProblem != "" {
		l.NamespacesProblem = fmt.Sprintf("Listener %s %s", spec.Name, l.NamespacesProblem)
	}
	return l
}

// resolveKinds keeps the requested kinds the protocol carries, defaulting
// to all it carries when none are listed.
func (l *Listener) resolveKinds(carried []gatewayv1.Kind) {
	group := gatewayv1.Group(gatewayv1.GroupName)
	var requested []gatewayv1.RouteGroupKind
	if l.Spec.AllowedRoutes != nil {
		requested = l.Spec.AllowedRoutes.Kinds
	}
	if len(requested) == 0 {
		for _, k := range carried {
			l.Kinds = append(l.Kinds, gatewayv1.RouteGroupKind{Group: &group, Kind: k})
		}
		return
	}
	for _, k := range requested {
		g := group
		if k.Group != nil {
			g = *k.Group
		}
		if g == group && slices.Contains(carried, k.Kind) {
			if !l.AllowsKind(k.Kind) {
				l.Kinds = append(l.Kinds, gatewayv1.RouteGroupKind{Group: &group, Kind: k.Kind})
			}
			continue
		}
		l.InvalidKinds = append(l.InvalidKinds, fmt.Sprintf("%s/%s", g, k.Kind))
	}
}

// Name is the listener's section name.
func (l *Listener) Name() gatewayv1.SectionName { return l.Spec.Name }

// AllowsKind reports whether routes of kind (in the Gateway API group) may attach.
func (l *Listener) AllowsKind(kind gatewayv1.Kind) bool {
	return slices.ContainsFunc(l.Kinds, func(k gatewayv1.RouteGroupKind) bool { return k.Kind == kind })
}

// Admits reports whether a route of kind in namespace ns (whose labels are
// nsLabels; nil when the namespace is unknown) may attach.
func (l *Listener) Admits(kind gatewayv1.Kind, ns string, nsLabels labels.Set) bool {
	return l.AllowsKind(kind) && l.Namespaces.Admits(ns, nsLabels)
}

// Refusal says why the listener does not admit a route of kind from ns,
// for messages; "" when it does.
func (l *Listener) Refusal(kind gatewayv1.Kind, ns string, nsLabels labels.Set) string {
	switch {
	case !l.AllowsKind(kind):
		return fmt.Sprintf("listener %s does not allow %ss", l.Spec.Name, kind)
	case !l.Namespaces.Admits(ns, nsLabels):
		return fmt.Sprintf("listener %s admits %s, not %s", l.Spec.Name, l.Namespaces.Describe(), ns)
	}
	return ""
}

// Selects reports whether a parentRef's sectionName and port, when set,
// name the listener.
func Selects(ref *gatewayv1.ParentReference, l *Listener) bool {
	return (ref.SectionName == nil || *ref.SectionName == l.Spec.Name) && (ref.Port == nil || *ref.Port == l.Spec.Port)
}

// NamespaceFilter is an allowedRoutes or allowedListeners namespaces rule.
type NamespaceFilter struct {
	From gatewayv1.FromNamespaces
	// Selector is set for From Selector when valid; nil admits nothing.
	Selector labels.Selector
	// Own is the namespace of the Gateway or ListenerSet declaring the rule.
	Own string
}

// newNamespaceFilter reads a namespaces rule; problem is a sentence tail
// ("sets ...; fix ...") when the rule is unusable, and then it admits nothing.
func newNamespaceFilter(own string, from *gatewayv1.FromNamespaces, selector *metav1.LabelSelector, def gatewayv1.FromNamespaces, field string) (NamespaceFilter, string) {
	f := NamespaceFilter{From: def, Own: own}
	if from != nil {
		f.From = *from
	}
	switch f.From {
	case gatewayv1.NamespacesFromAll, gatewayv1.NamespacesFromSame, "None":
		return f, ""
	case gatewayv1.NamespacesFromSelector:
		if selector == nil {
			return f, fmt.Sprintf("sets %s.namespaces.from to Selector without a selector; add %s.namespaces.selector.", field, field)
		}
		sel, err := metav1.LabelSelectorAsSelector(selector)
		if err != nil {
			return f, fmt.Sprintf("has an invalid %s.namespaces.selector: %v; fix the selector.", field, err)
		}
		f.Selector = sel
		return f, ""
	}
	return f, fmt.Sprintf("sets %s.namespaces.from to %q; use Same, All or Selector.", field, f.From)
}

// Admits reports whether the rule admits namespace ns with labels nsLabels
// (nil when the namespace is unknown, which no selector matches).
func (f NamespaceFilter) Admits(ns string, nsLabels labels.Set) bool {
	switch f.From {
	case gatewayv1.NamespacesFromAll:
		return true
	case gatewayv1.NamespacesFromSame:
		return ns == f.Own
	case gatewayv1.NamespacesFromSelector:
		return f.Selector != nil && nsLabels != nil && f.Selector.Matches(nsLabels)
	}
	return false
}

// Describe says which namespaces the rule admits, for messages.
func (f NamespaceFilter) Describe() string {
	switch f.From {
	case gatewayv1.NamespacesFromAll:
		return "every namespace"
	case gatewayv1.NamespacesFromSame:
		return "only its own namespace " + f.Own
	case gatewayv1.NamespacesFromSelector:
		if f.Selector == nil {
			return "no namespace (its selector is invalid)"
		}
		return fmt.Sprintf("only namespaces matching %q", f.Selector.String())
	}
	return "no namespace (namespaces.from is " + string(f.From) + ")"
}

// kindList names route kinds for messages: "HTTPRoute, GRPCRoute".
func kindList(kinds []gatewayv1.RouteGroupKind) string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k.Kind)
	}
	return strings.Join(names, ", ")
}
