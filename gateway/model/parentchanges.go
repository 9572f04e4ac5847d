package model

import (
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// ParentChanges are the Gateways and ListenerSets that changed between two
// snapshots (added, removed or edited). A route reads a parent's listeners
// only through its parentRefs (and, with useDefaultGateways, the default
// Gateways), so a route naming none of them is judged and attached as
// before. The translator and the tenant policy each decide what changed;
// Touches is how both ask about a route.
type ParentChanges struct {
	Gateways     map[types.NamespacedName]bool
	ListenerSets map[types.NamespacedName]bool
}

// None reports whether no parent changed.
func (c *ParentChanges) None() bool {
	return c == nil || len(c.Gateways) == 0 && len(c.ListenerSets) == 0
}

// CompareParents finds the Gateways and ListenerSets of cur that differ
// from old (by namespace/name, as same says), with every ListenerSet that
// names a changed Gateway in either: their listeners merge with its own.
func CompareParents(old, cur []gatewayv1.Gateway, oldSets, curSets []gatewayv1.ListenerSet,
	sameGateway func(a, b *gatewayv1.Gateway) bool, sameSet func(a, b *gatewayv1.ListenerSet) bool) *ParentChanges {
	c := &ParentChanges{Gateways: diffByKey(old, cur, sameGateway), ListenerSets: diffByKey(oldSets, curSets, sameSet)}
	for _, sets := range [][]gatewayv1.ListenerSet{oldSets, curSets} {
		for i := range sets {
			if parent, _ := ListenerSetParentKey(&sets[i]); c.Gateways[parent] {
				c.ListenerSets[types.NamespacedName{Namespace: sets[i].Namespace, Name: sets[i].Name}] = true
			}
		}
	}
	return c
}

// diffByKey is the keys of objects added, removed or changed from old to cur.
func diffByKey[T any, P interface {
	*T
	GetNamespace() string
	GetName() string
}](old, cur []T, same func(a, b P) bool) map[types.NamespacedName]bool {
	key := func(o P) types.NamespacedName {
		return types.NamespacedName{Namespace: o.GetNamespace(), Name: o.GetName()}
	}
	before := make(map[types.NamespacedName]P, len(old))
	for i := range old {
		before[key(&old[i])] = &old[i]
	}
	changed := map[types.NamespacedName]bool{}
	for i := range cur {
		o := P(&cur[i])
		k := key(o)
		if prev, ok := before[k]; !ok || !same(prev, o) {
			changed[k] = true
		}
		delete(before, k)
	}
	for k := range before {
		changed[k] = true
	}
	return changed
}

// Touches reports whether a route in namespace ns with spec may attach
// differently: it names a changed parent, or takes the default Gateways
// while some Gateway changed.
func (c *ParentChanges) Touches(ns string, spec *gatewayv1.CommonRouteSpec) bool {
	if c.None() {
		return false
	}
	if s := spec.UseDefaultGateways; s != "" && s != gatewayv1.GatewayDefaultScopeNone && len(c.Gateways) > 0 {
		return true
	}
	for i := range spec.ParentRefs {
		ref := &spec.ParentRefs[i]
		switch ParentKind(ref) {
		case KindGateway:
			if c.Gateways[ParentKey(ref, ns)] {
				return true
			}
		case KindListenerSet:
			if c.ListenerSets[ParentKey(ref, ns)] {
				return true
			}
		}
	}
	return false
}
