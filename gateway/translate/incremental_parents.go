package translate

import (
	"encoding/binary"
	"hash/maphash"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
)

// A Gateway or ListenerSet edit makes stale only the stages of the routes
// that name it (model.ParentChanges.Touches), and of those naming a
// Gateway that shares its address (their listeners judge each other's
// hostnames and ports) or a ListenerSet of such a Gateway. Everything else
// a stage reads of its parents comes through them.

// parentKey names a Gateway or ListenerSet among the last Build's parents.
type parentKey struct {
	set bool // a ListenerSet
	types.NamespacedName
}

// parentPrint is one parent as the last Build saw it.
type parentPrint struct {
	print   uint64
	gateway types.NamespacedName // a ListenerSet's parent
}

// specPrint fingerprints a GatewayClass, Gateway or ListenerSet. Its status
// is Build's output, never its input: these count by generation (the API
// server bumps it on every spec change) and metadata, so the status
// tenantgate writes after a route is added (attachedRoutes) keeps every
// stage. known is false when it has no resourceVersion.
func specPrint(kind string, m *metav1.ObjectMeta) (print uint64, known bool) {
	if m.Generation == 0 {
		return objectHash(kind, m.Namespace, m.Name, string(m.UID), m.ResourceVersion), m.ResourceVersion != ""
	}
	var h maphash.Hash
	h.SetSeed(objectSeed)
	for _, p := range []string{kind, m.Namespace, m.Name, string(m.UID)} {
		h.WriteString(p)
		h.WriteByte(0)
	}
	deleted := int64(-1)
	if m.DeletionTimestamp != nil {
		deleted = m.DeletionTimestamp.UnixNano()
	}
	for _, v := range []uint64{uint64(m.Generation), uint64(m.CreationTimestamp.UnixNano()), uint64(deleted),
		stringMapPrint(m.Labels), stringMapPrint(m.Annotations)} {
		h.Write(binary.LittleEndian.AppendUint64(make([]byte, 0, 8), v))
	}
	return h.Sum64(), m.ResourceVersion != ""
}

// stringMapPrint fingerprints labels or annotations in any order of
// iteration: the sum of each pair's hash, and their count.
func stringMapPrint(m map[string]string) uint64 {
	sum := uint64(len(m))
	for k, v := range m {
		sum += objectHash(k, v)
	}
	return sum
}

// parentChanges compares the snapshot's Gateways and ListenerSets with the
// last Build's. all is true when there is no last Build to compare with.
// The per-parent fingerprints are compared only when the sum of all
// differs, so an unchanged cluster costs one pass and no garbage.
func (inc *Incremental) parentChanges(s *Snapshot) (changes *model.ParentChanges, all, ok bool) {
	ok = true
	var sum uint64
	prints := func(yield func(parentKey, parentPrint)) {
		for i := range s.Gateways {
			g := &s.Gateways[i]
			p, known := specPrint("Gateway", &g.ObjectMeta)
			ok = ok && known
			yield(parentKey{NamespacedName: types.NamespacedName{Namespace: g.Namespace, Name: g.Name}}, parentPrint{print: p})
		}
		for i := range s.ListenerSets {
			ls := &s.ListenerSets[i]
			p, known := specPrint("ListenerSet", &ls.ObjectMeta)
			ok = ok && known
			gw, _ := model.ListenerSetParentKey(ls)
			yield(parentKey{set: true, NamespacedName: types.NamespacedName{Namespace: ls.Namespace, Name: ls.Name}}, parentPrint{print: p, gateway: gw})
		}
	}
	prints(func(_ parentKey, p parentPrint) { sum += p.print })
	if inc.parents != nil && sum == inc.parentsSum {
		return nil, false, ok
	}
	cur := make(map[parentKey]parentPrint, len(s.Gateways)+len(s.ListenerSets))
	prints(func(k parentKey, p parentPrint) {
		p.print += cur[k].print // names repeat only in a bad snapshot: count both
		cur[k] = p
	})
	old := inc.parents
	inc.parents, inc.parentsSum = cur, sum
	if old == nil {
		return nil, true, ok
	}
	changes = &model.ParentChanges{Gateways: map[types.NamespacedName]bool{}, ListenerSets: map[types.NamespacedName]bool{}}
	mark := func(k parentKey) {
		if k.set {
			changes.ListenerSets[k.NamespacedName] = true
		} else {
			changes.Gateways[k.NamespacedName] = true
		}
	}
	changedKeys(old, cur, mark)
	// Gateways on one address judge each other's listeners (listeners.go conflicts).
	if len(changes.Gateways) > 0 && s.TargetPorts == nil {
		shared := map[string]bool{}
		for k := range changes.Gateways {
			if a := s.Addresses[k]; a != "" {
				shared[a] = true
			}
		}
		for k, a := range s.Addresses {
			if shared[a] {
				changes.Gateways[k] = true
			}
		}
	}
	// A changed Gateway's ListenerSets, then and now: their listeners merge with its own.
	for _, ps := range []map[parentKey]parentPrint{old, cur} {
		for k, p := range ps {
			if k.set && changes.Gateways[p.gateway] {
				changes.ListenerSets[k.NamespacedName] = true
			}
		}
	}
	return changes, false, ok
}

// commonSpec is a route's parentRefs and the rest of its common spec.
func commonSpec(route any) *gatewayv1.CommonRouteSpec {
	switch r := route.(type) {
	case *gatewayv1.HTTPRoute:
		return &r.Spec.CommonRouteSpec
	case *gatewayv1.GRPCRoute:
		return &r.Spec.CommonRouteSpec
	}
	return &gatewayv1.CommonRouteSpec{}
}

// changedParent reports whether the listener's Gateway or ListenerSet
// changed since the last Build.
func changedParent(c *model.ParentChanges, l *listenerState) bool {
	if c.None() {
		return false
	}
	return c.Gateways[l.gateway.key] || l.set != nil && c.ListenerSets[l.set.key]
}

// changedKeys calls mark for every key added, removed or given another
// value from old to cur.
func changedKeys[K, V comparable](old, cur map[K]V, mark func(K)) {
	for k, v := range cur {
		if o, seen := old[k]; !seen || o != v {
			mark(k)
		}
	}
	for k := range old {
		if _, seen := cur[k]; !seen {
			mark(k)
		}
	}
}
