package model

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/hostname"
)

// Parent is what a route's parentRef names: a Gateway (its own listeners)
// or a ListenerSet (its listeners).
type Parent struct {
	Gateway *Gateway
	Set     *ListenerSet // nil for a Gateway
}

// ParentRef resolves a parentRef of a route in namespace routeNS to a
// Gateway or ListenerSet of the model; false when it names neither.
func (m *Model) ParentRef(ref *gatewayv1.ParentReference, routeNS string) (Parent, bool) {
	key := ParentKey(ref, routeNS)
	switch ParentKind(ref) {
	case KindGateway:
		g := m.gateways[key]
		return Parent{Gateway: g}, g != nil
	case KindListenerSet:
		st := m.sets[key]
		if st == nil || st.Parent == nil {
			return Parent{}, false
		}
		return Parent{Gateway: st.Parent, Set: st}, true
	}
	return Parent{}, false
}

// ParentKind classifies a parentRef: KindGateway, KindListenerSet, or ""
// for anything else (another group or kind).
func ParentKind(ref *gatewayv1.ParentReference) gatewayv1.Kind {
	if ref.Group != nil && *ref.Group != gatewayv1.GroupName {
		return ""
	}
	switch {
	case ref.Kind == nil || *ref.Kind == KindGateway:
		return KindGateway
	case *ref.Kind == KindListenerSet:
		return KindListenerSet
	}
	return ""
}

// ParentKey is the namespace/name a parentRef names.
func ParentKey(ref *gatewayv1.ParentReference, routeNS string) types.NamespacedName {
	ns := routeNS
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	return types.NamespacedName{Namespace: ns, Name: string(ref.Name)}
}

// Listeners are the listeners the parent offers routes.
func (p Parent) Listeners() []*Listener {
	if p.Set != nil {
		return p.Set.Listeners
	}
	return p.Gateway.Listeners
}

// String names the parent in messages: "Gateway infra/shared".
func (p Parent) String() string {
	if p.Set != nil {
		return "ListenerSet " + p.Set.Key.String()
	}
	return "Gateway " + p.Gateway.Key.String()
}

// Route is what attachment needs of a route of any kind.
type Route struct {
	Kind      gatewayv1.Kind
	Namespace string
	// Hostnames as the route lists them (none for TCPRoute and UDPRoute).
	Hostnames []gatewayv1.Hostname
}

// Attachment is a route attached to one listener, with the hostnames it
// serves there (nil: every name the listener accepts).
type Attachment struct {
	Listener  *Listener
	Hostnames []string
}

// Finding is one fact about an object that a person must read the same way
// wherever it shows: a condition reason and a one-sentence message.
type Finding struct {
	Reason  string
	Message string
}

// Attach finds the listeners of p a parentRef selects (sectionName, port),
// keeps those that admit the route (kind, namespace), then those whose
// hostname intersects the route's. It depends on nothing else, not even the
// listeners' own conditions. A nil Finding means attached.
func (m *Model) Attach(r Route, ref *gatewayv1.ParentReference, p Parent) ([]Attachment, *Finding) {
	if p.Set != nil && p.Set.Refusal != "" {
		return nil, &Finding{Reason: string(gatewayv1.RouteReasonNoMatchingParent),
			Message: fmt.Sprintf("%s is not attached to its Gateway: %s", p, ListenerSetNotAllowed(p.Gateway.Key, p.Set.Key.Namespace, p.Set.Refusal))}
	}
	nsLabels := m.namespaces[r.Namespace]
	var attachments []Attachment
	var refusals, hostnames []string
	selected := 0
	for _, l := range p.Listeners() {
		if !Selects(ref, l) {
			continue
		}
		selected++
		if why := l.Refusal(r.Kind, r.Namespace, nsLabels); why != "" {
			refusals = append(refusals, why)
			continue
		}
		hostnames = append(hostnames, fmt.Sprintf("%s: %s", l.Spec.Name, l.Hostname))
		if hosts, ok := Hostnames(l.Hostname, r.Hostnames); ok {
			attachments = append(attachments, Attachment{Listener: l, Hostnames: hosts})
		}
	}
	switch {
	case selected == 0:
		return nil, &Finding{Reason: string(gatewayv1.RouteReasonNoMatchingParent),
			Message: fmt.Sprintf("%s has no listener%s; fix the parentRef.", p, parentSelector(ref))}
	case len(hostnames) == 0:
		return nil, &Finding{Reason: string(gatewayv1.RouteReasonNotAllowedByListeners),
			Message: fmt.Sprintf("%s does not admit this route: %s; change the listener's allowedRoutes or the parentRef.", p, strings.Join(refusals, "; "))}
	case len(attachments) == 0:
		return nil, &Finding{Reason: string(gatewayv1.RouteReasonNoMatchingListenerHostname),
			Message: fmt.Sprintf("None of the route's hostnames matches a listener of %s (%s); add a matching hostname.", p, strings.Join(hostnames, ", "))}
	}
	return attachments, nil
}

// Admitting lists the listeners of p that a parentRef selects and that admit
// the route, whatever its hostnames: what a route without hostnames inherits.
func (m *Model) Admitting(r Route, ref *gatewayv1.ParentReference, p Parent) []*Listener {
	if p.Set != nil && p.Set.Refusal != "" {
		return nil
	}
	nsLabels := m.namespaces[r.Namespace]
	var out []*Listener
	for _, l := range p.Listeners() {
		if Selects(ref, l) && l.Admits(r.Kind, r.Namespace, nsLabels) {
			out = append(out, l)
		}
	}
	return out
}

// Hostnames returns the names a route serves on a listener: the
// intersection of the listener's hostname ("" matches all) with each of the
// route's. Nil with ok means every name the listener accepts; !ok means
// they share no name and the route must not attach.
func Hostnames(listener string, route []gatewayv1.Hostname) (hosts []string, ok bool) {
	if len(route) == 0 {
		return nil, true
	}
	for _, h := range route {
		if host, ok := hostname.Intersect(listener, hostname.Normalize(string(h))); ok {
			hosts = append(hosts, host)
		}
	}
	if len(hosts) == 0 {
		return nil, false
	}
	slices.Sort(hosts)
	return slices.Compact(hosts), true
}

func parentSelector(ref *gatewayv1.ParentReference) string {
	var parts []string
	if ref.SectionName != nil {
		parts = append(parts, fmt.Sprintf(" named %s", *ref.SectionName))
	}
	if ref.Port != nil {
		parts = append(parts, fmt.Sprintf(" on port %d", *ref.Port))
	}
	return strings.Join(parts, "")
}
