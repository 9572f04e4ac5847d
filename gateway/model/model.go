package model

import (
	"cmp"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Inputs is the snapshot a Model indexes. New keeps pointers into the
// slices: do not modify them afterwards.
type Inputs struct {
	Gateways     []gatewayv1.Gateway
	ListenerSets []gatewayv1.ListenerSet
	Namespaces   []corev1.Namespace
	// Support says which route kinds a Gateway's listeners carry; nil means
	// SpecSupport for every Gateway.
	Support func(gw *gatewayv1.Gateway) Support
	// Include, when set, keeps only the Gateways it returns true for (an
	// implementation models only the Gateways of its classes).
	Include func(gw *gatewayv1.Gateway) bool
}

// Model is the attachment graph of one snapshot: Gateways, the ListenerSets
// naming them, and their listeners. It is immutable.
type Model struct {
	gateways   map[types.NamespacedName]*Gateway
	ordered    []*Gateway // by namespace/name
	sets       map[types.NamespacedName]*ListenerSet
	setOrder   []*ListenerSet // every ListenerSet with a parent here, in precedence order
	namespaces map[string]labels.Set
}

// Gateway is one Gateway with its own listeners and the ListenerSets that
// name it as parent.
type Gateway struct {
	Key       types.NamespacedName
	Object    *gatewayv1.Gateway
	Listeners []*Listener
	// AllowedListeners is spec.allowedListeners.namespaces (default None).
	AllowedListeners        NamespaceFilter
	AllowedListenersProblem string
	// Sets are the ListenerSets naming it that allowedListeners admits,
	// oldest first (then by namespace/name): the spec's precedence.
	Sets []*ListenerSet
}

// ListenerSet is one ListenerSet whose parentRef names a Gateway of the model.
type ListenerSet struct {
	Key    types.NamespacedName
	Object *gatewayv1.ListenerSet
	Parent *Gateway
	// Refusal says why the parent's allowedListeners does not admit it; ""
	// when it does, and then Precedence counts it among the parent's Sets
	// from 1.
	Refusal    string
	Precedence int
	Listeners  []*Listener
}

// New indexes a snapshot: cost linear in its objects.
func New(in Inputs) *Model {
	m := &Model{
		gateways:   make(map[types.NamespacedName]*Gateway, len(in.Gateways)),
		sets:       make(map[types.NamespacedName]*ListenerSet, len(in.ListenerSets)),
		namespaces: make(map[string]labels.Set, len(in.Namespaces)),
	}
	for i := range in.Namespaces {
		ns := &in.Namespaces[i]
		m.namespaces[ns.Name] = labels.Set(ns.Labels)
		if ns.Labels == nil {
			m.namespaces[ns.Name] = labels.Set{}
		}
	}
	for i := range in.Gateways {
		gw := &in.Gateways[i]
		if in.Include != nil && !in.Include(gw) {
			continue
		}
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if m.gateways[key] != nil {
			continue // a snapshot holds one object per name; keep the first
		}
		support := SpecSupport
		if in.Support != nil {
			support = in.Support(gw)
		}
		g := &Gateway{Key: key, Object: gw}
		var from *gatewayv1.FromNamespaces
		var selector *metav1.LabelSelector
		if al := gw.Spec.AllowedListeners; al != nil && al.Namespaces != nil {
			from, selector = al.Namespaces.From, al.Namespaces.Selector
		}
		g.AllowedListeners, g.AllowedListenersProblem = newNamespaceFilter(gw.Namespace, from, selector, "None", "allowedListeners")
		owner := Owner{Kind: KindGateway, NamespacedName: key}
		for j := range gw.Spec.Listeners {
			g.Listeners = append(g.Listeners, NewListener(owner, key, &gw.Spec.Listeners[j], support))
		}
		m.gateways[key] = g
		m.ordered = append(m.ordered, g)
	}
	slices.SortFunc(m.ordered, func(x, y *Gateway) int {
		return cmp.Or(cmp.Compare(x.Key.Namespace, y.Key.Namespace), cmp.Compare(x.Key.Name, y.Key.Name))
	})
	m.addListenerSets(in)
	return m
}

// addListenerSets attaches each ListenerSet to the Gateway it names, in
// precedence order.
func (m *Model) addListenerSets(in Inputs) {
	sets := make([]*gatewayv1.ListenerSet, 0, len(in.ListenerSets))
	for i := range in.ListenerSets {
		sets = append(sets, &in.ListenerSets[i])
	}
	slices.SortStableFunc(sets, func(x, y *gatewayv1.ListenerSet) int {
		return cmp.Or(x.CreationTimestamp.Compare(y.CreationTimestamp.Time),
			cmp.Compare(x.Namespace, y.Namespace), cmp.Compare(x.Name, y.Name))
	})
	for _, ls := range sets {
		key := types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}
		if m.sets[key] != nil {
			continue
		}
		parent := m.listenerSetParent(ls)
		if parent == nil {
			// Known, so a route naming it can be told why it attaches nowhere.
			pk, _ := ListenerSetParentKey(ls)
			m.sets[key] = &ListenerSet{Key: key, Object: ls, Refusal: "its parent Gateway " + pk.String() + " is not known"}
			continue
		}
		support := SpecSupport
		if in.Support != nil {
			support = in.Support(parent.Object)
		}
		st := &ListenerSet{Key: key, Object: ls, Parent: parent, Refusal: parent.ListenerSetRefusal(ls.Namespace, m.namespaces[ls.Namespace])}
		m.sets[key] = st
		m.setOrder = append(m.setOrder, st)
		if st.Refusal != "" {
			continue
		}
		parent.Sets = append(parent.Sets, st)
		st.Precedence = len(parent.Sets)
		owner := Owner{Kind: KindListenerSet, NamespacedName: key}
		for i := range ls.Spec.Listeners {
			st.Listeners = append(st.Listeners, NewListener(owner, parent.Key, ListenerOf(&ls.Spec.Listeners[i]), support))
		}
	}
}

// listenerSetParent is the Gateway of the model a ListenerSet names, if any.
func (m *Model) listenerSetParent(ls *gatewayv1.ListenerSet) *Gateway {
	key, ok := ListenerSetParentKey(ls)
	if !ok {
		return nil
	}
	return m.gateways[key]
}

// ListenerSetParentKey is the namespace/name of the Gateway a ListenerSet's
// parentRef names; false when it names another group or kind.
func ListenerSetParentKey(ls *gatewayv1.ListenerSet) (types.NamespacedName, bool) {
	ref := ls.Spec.ParentRef
	ns := ls.Namespace
	if ref.Namespace != nil && *ref.Namespace != "" {
		ns = string(*ref.Namespace)
	}
	key := types.NamespacedName{Namespace: ns, Name: string(ref.Name)}
	return key, (ref.Group == nil || *ref.Group == gatewayv1.GroupName) && (ref.Kind == nil || *ref.Kind == KindGateway)
}

// ListenerSetRefusal says why allowedListeners refuses ListenerSets from a
// namespace (labels nil when unknown), "" when it admits them.
func (g *Gateway) ListenerSetRefusal(ns string, nsLabels labels.Set) string {
	f := g.AllowedListeners
	switch {
	case f.Admits(ns, nsLabels):
		return ""
	case f.From == gatewayv1.NamespacesFromSame:
		return "it allows only its own namespace " + g.Key.Namespace
	case f.From == gatewayv1.NamespacesFromSelector && f.Selector == nil:
		return "its allowedListeners.namespaces.selector is missing or invalid"
	case f.From == gatewayv1.NamespacesFromSelector:
		return fmt.Sprintf("it allows only namespaces matching %q", f.Selector.String())
	}
	return "it allows none (allowedListeners.namespaces.from is " + string(f.From) + ")"
}

// ListenerSetNotAllowed is the sentence for a Gateway whose
// allowedListeners refuses ListenerSets from a namespace, wherever it shows
// (the ListenerSet's status, a route's, a webhook warning).
func ListenerSetNotAllowed(gateway types.NamespacedName, ns, refusal string) string {
	return fmt.Sprintf("Gateway %s does not allow ListenerSets from namespace %s: %s; change the Gateway's allowedListeners.", gateway, ns, refusal)
}

// ListenerOf reads a ListenerSet entry as a listener; the fields are the
// same and point into the snapshot.
func ListenerOf(e *gatewayv1.ListenerEntry) *gatewayv1.Listener {
	return &gatewayv1.Listener{Name: e.Name, Hostname: e.Hostname, Port: e.Port, Protocol: e.Protocol, TLS: e.TLS, AllowedRoutes: e.AllowedRoutes}
}

// Gateway returns the Gateway with the key, or nil.
func (m *Model) Gateway(key types.NamespacedName) *Gateway { return m.gateways[key] }

// ListenerSet returns the ListenerSet with the key, or nil; one whose
// parent is not in the model has a nil Parent and a Refusal saying so.
func (m *Model) ListenerSet(key types.NamespacedName) *ListenerSet { return m.sets[key] }

// Gateways lists the Gateways by namespace/name.
func (m *Model) Gateways() []*Gateway { return m.ordered }

// ListenerSets lists every ListenerSet whose parent is in the model,
// admitted or not, oldest first (then by namespace/name).
func (m *Model) ListenerSets() []*ListenerSet { return m.setOrder }

// NamespaceLabels returns a namespace's labels; nil when it is unknown.
func (m *Model) NamespaceLabels(ns string) labels.Set { return m.namespaces[ns] }

// AllListeners are the Gateway's own listeners, then those of its admitted
// ListenerSets in precedence order.
func (g *Gateway) AllListeners() []*Listener {
	all := slices.Clip(g.Listeners)
	for _, st := range g.Sets {
		all = append(all, st.Listeners...)
	}
	return all
}
