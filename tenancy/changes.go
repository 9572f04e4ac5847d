package tenancy

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
)

// VerdictChanges says which route verdicts may differ between an earlier
// policy and this one, so that a Tenant, Namespace, Gateway or ListenerSet
// edit makes the gateway ask again about the routes it can touch, not
// about every route of the cluster.
//
// A route's verdict reads the tenant of its namespace (that tenant's spec
// and member namespaces), the owners of the namespaces of its parents and
// backends, the namespace labels, the hostnames every tenant owns (through
// the hostname index), the Gateways and ListenerSets it names (or the
// default Gateways), the ReferenceGrants and the policy's verdicts on
// them, and the platform namespaces. A change to either of the last two
// may reach any route: all. Otherwise a route may be judged differently
// only when it names a changed parent (model.ParentChanges), when one of
// its namespaces (own, parents', backends') changed owner or labels or
// belongs, before or after, to a tenant that changed, or when one of its
// hostnames overlaps a hostname such a tenant owned before or owns now.
// Everything else is the same input, so the same verdict.
type VerdictChanges struct {
	all        bool
	namespaces map[string]bool
	hosts      []hostPattern
	parents    *model.ParentChanges
}

// All reports whether every verdict may differ.
func (c *VerdictChanges) All() bool { return c == nil || c.all }

// VerdictChangesSince compares this policy with prev, the Indexes of an
// earlier one. A prev that is not a *Policy changes all.
func (p *Policy) VerdictChangesSince(prev any) *VerdictChanges {
	old, ok := prev.(*Policy)
	if !ok || old == nil {
		return &VerdictChanges{all: true}
	}
	old, cur := old.indexes(), p.indexes()
	c := &VerdictChanges{namespaces: map[string]bool{}}
	if old == cur {
		return c
	}
	if !maps.Equal(old.members.platform, cur.members.platform) ||
		!sameObjects(old.in.ReferenceGrants, cur.in.ReferenceGrants) || !sameGrantVerdicts(old, cur) {
		return &VerdictChanges{all: true}
	}
	c.parents = model.CompareParents(old.in.Gateways, cur.in.Gateways, old.in.ListenerSets, cur.in.ListenerSets,
		sameObject[*gatewayv1.Gateway], sameObject[*gatewayv1.ListenerSet])
	namespaces := keysOf(keysOf(keysOf(keysOf(map[string]bool{}, old.members.owner), cur.members.owner), old.members.labels), cur.members.labels)
	for ns := range namespaces {
		if old.TenantOf(ns) != cur.TenantOf(ns) || !maps.Equal(old.members.labels[ns], cur.members.labels[ns]) {
			c.namespaces[ns] = true
		}
	}
	for name := range keysOf(keysOf(map[string]bool{}, old.byName), cur.byName) {
		before, after := old.byName[name], cur.byName[name]
		if before != nil && after != nil && sameTenant(before, after) &&
			slices.Equal(old.members.members[name], cur.members.members[name]) {
			continue
		}
		for _, side := range []struct {
			p *Policy
			t *tenantInfo
		}{{old, before}, {cur, after}} {
			for _, ns := range side.p.members.members[name] {
				c.namespaces[ns] = true
			}
			if side.t != nil {
				for _, o := range side.t.hosts {
					c.hosts = append(c.hosts, o.pattern)
				}
			}
		}
	}
	return c
}

// Route reports whether the route's verdict may differ; true for what is
// not a route.
func (c *VerdictChanges) Route(route any) bool {
	if c.All() {
		return true
	}
	v := routeViewOf(route)
	if v == nil {
		return true
	}
	if c.parents.Touches(v.namespace, v.common) {
		return true
	}
	if len(c.namespaces) == 0 && len(c.hosts) == 0 {
		return false
	}
	if c.namespaces[v.namespace] {
		return true
	}
	for i := range v.common.ParentRefs {
		if c.namespaces[parentKey(&v.common.ParentRefs[i], v.namespace).namespace] {
			return true
		}
	}
	touched := false
	v.targets(func(t target) {
		ns := v.namespace
		if t.ref.Namespace != nil {
			ns = string(*t.ref.Namespace)
		}
		touched = touched || c.namespaces[ns]
	})
	if touched {
		return true
	}
	if len(c.hosts) == 0 || !v.hostnamed {
		return false
	}
	if len(v.hostnames) == 0 {
		return true // it takes its listeners' hostnames: whatever they are, ask again
	}
	for _, h := range v.hostnames {
		pat := parseHost(string(h))
		for _, o := range c.hosts {
			if pat.overlaps(o) {
				return true
			}
		}
	}
	return false
}

// sameTenant compares what the policy reads of a Tenant: its spec, labels
// and annotations (the status is the audit's output).
func sameTenant(a, b *tenantInfo) bool {
	return a.obj.UID == b.obj.UID && equality.Semantic.DeepEqual(a.obj.Spec, b.obj.Spec) &&
		maps.Equal(a.obj.Labels, b.obj.Labels) && maps.Equal(a.obj.Annotations, b.obj.Annotations)
}

// sameObjects compares two lists of ReferenceGrants (or other objects) as
// the policy reads them, in any order: by key and sameObject.
func sameObjects[T any, P interface {
	*T
	metav1.Object
}](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	type key struct{ namespace, name string }
	byKey := make(map[key]P, len(a))
	for i := range a {
		o := P(&a[i])
		byKey[key{o.GetNamespace(), o.GetName()}] = o
	}
	for i := range b {
		o := P(&b[i])
		if prev := byKey[key{o.GetNamespace(), o.GetName()}]; prev == nil || !sameObject(prev, o) {
			return false
		}
	}
	return true
}

// sameObject compares what the policy reads of a Gateway, ListenerSet or
// ReferenceGrant: UID, labels, annotations, deletion and spec.
func sameObject[P metav1.Object](a, b P) bool {
	return a.GetUID() == b.GetUID() && (a.GetDeletionTimestamp() == nil) == (b.GetDeletionTimestamp() == nil) &&
		maps.Equal(a.GetLabels(), b.GetLabels()) && maps.Equal(a.GetAnnotations(), b.GetAnnotations()) &&
		equality.Semantic.DeepEqual(specOf(a), specOf(b))
}

// specOf is the spec of a Gateway, ListenerSet or ReferenceGrant.
func specOf(o metav1.Object) any {
	switch o := o.(type) {
	case *gatewayv1.Gateway:
		return &o.Spec
	case *gatewayv1.ListenerSet:
		return &o.Spec
	case *gatewayv1.ReferenceGrant:
		return &o.Spec
	}
	return o
}

// sameGrantVerdicts reports whether both policies judge every grant alike:
// a grant the policy refuses opens nothing, and the verdict reads tenants.
func sameGrantVerdicts(a, b *Policy) bool {
	for i := range b.in.ReferenceGrants {
		g := &b.in.ReferenceGrants[i]
		if !slices.Equal(a.GrantViolations(g), b.GrantViolations(g)) {
			return false
		}
	}
	return true
}

// keysOf adds every key of m to into.
func keysOf[V any](into map[string]bool, m map[string]V) map[string]bool {
	for k := range m {
		into[k] = true
	}
	return into
}
