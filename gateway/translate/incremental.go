package translate

import (
	"hash/maphash"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
)

// Incremental is Build with a memory: it translates snapshots one after
// another and reuses, per route, what did not change since the previous
// Build. A route's translation (its rules) reads the route,
// BackendTLSPolicies, Secrets and ConfigMaps, the Services it sends to
// with their EndpointSlices, and the ReferenceGrants (with the tenant
// policy's verdicts on them) of the namespaces it sends to; the first
// group is fingerprinted by resourceVersion as a whole (a change there
// retranslates every route, as it is rare), each Service with its
// EndpointSlices apart and each namespace's grants apart (a team editing
// its Service or its grants, or an endpoint change, retranslates only the
// routes that read them). The policy's
// verdict on a route is kept while the route and the policy's indexes are
// unchanged, and the whole route stage (attachment, acceptance, status)
// while the parents' world is too (incremental_stage.go). All of it lives
// in one entry per route, found in the route order kept across Builds
// (incremental_routes.go); listeners keep their routes' sorted places
// (incremental_listeners.go) and equal statuses are shared
// (incremental_status.go), so a Build that changes one route sorts nothing
// and allocates little beyond the Config's route lists. A Result may share
// memory with the last one: neither is ever written. Build and
// Incremental.Build of the same snapshot give equal Results (a randomized
// test checks it). A snapshot that says which HTTPRoutes changed
// (Snapshot.HTTPRouteChanges) skips the others altogether while the last
// Build's route stages hold (incremental_skip.go). A snapshot with an
// object lacking a resourceVersion (fixtures) is translated in full. Not safe for concurrent use: one
// controller owns one.
type Incremental struct {
	// A route's kept translation counts while its epoch is worldEpoch:
	// the world is the one recorded here.
	world      uint64
	worldEpoch uint64
	// order is every route in route order with its kept verdict and stage
	// (incremental_routes.go).
	order routeOrderMemo
	// A kept stage counts while its epoch is stageEpoch: the stage world
	// and the policy's indexes are those recorded here (incremental_stage.go).
	stageEpoch   uint64
	stageWorld   uint64
	stageIndexes any
	// namespaces fingerprints the last Build's namespaces by name, and
	// namespacesSum all of them (namespaceChanges).
	namespaces    map[string]uint64
	namespacesSum uint64
	// services and slices index the Services and EndpointSlices of the
	// last Build that built them (serviceLookups).
	services map[types.NamespacedName]*corev1.Service
	slices   map[types.NamespacedName][]*discoveryv1.EndpointSlice
	// parents fingerprints the last Build's Gateways and ListenerSets, and
	// parentsSum all of them (parentChanges).
	parents    map[parentKey]parentPrint
	parentsSum uint64
	// listenerVerdicts is the last Build's stageRun.listenerVerdicts.
	listenerVerdicts uint64
	// builds counts Builds; endpoints are the last one's Service and
	// EndpointSlice fingerprints (nil when it kept nothing).
	builds    uint64
	endpoints map[types.NamespacedName]uint64
	// stageGrantNS are the namespaces whose grants the last Build read
	// outside route translations (nil when unknown), grants the sum of all
	// grants then.
	stageGrantNS map[string]bool
	grants       uint64
	// spareEndpoints is the map of the Build before the last, filled anew
	// by the next: a map of every Service per Build was a third of a
	// change's garbage.
	spareEndpoints map[types.NamespacedName]uint64
	// statuses are the kept route statuses, one of each (incremental_status.go).
	statuses    map[uint64][][]gatewayv1.RouteParentStatus
	sharedCount int
	// listenerMemos are the listeners' routes of the last Build (incremental_listeners.go).
	listenerMemos map[string]*listenerMemo
	listenerEpoch uint64 // the stage epoch they belong to
	// listenerRoutes is how many routes each listener served last Build.
	listenerRoutes map[string]int
	// skip is what a Build that walks only the changed routes starts from (incremental_skip.go).
	skip  skipMemo
	stats IncrementalStats
}

// IndexedPolicy is a TenantPolicy that identifies its indexes: two with
// equal Indexes give the same verdicts, so Incremental keeps a route's
// verdict while the route and the Indexes are unchanged.
// *tenancy.Policy implements it.
type IndexedPolicy interface {
	TenantPolicy
	Indexes() any
}

// ScopedPolicy is an IndexedPolicy that says which route verdicts a change
// of its indexes may reach: a Tenant edit then has the routes it can touch
// judged again, and every other route keeps its verdict and stage.
// *tenancy.Policy implements it.
type ScopedPolicy interface {
	IndexedPolicy
	VerdictChangesSince(prevIndexes any) *tenancy.VerdictChanges
}

// refusalMemo is the tenant policy's verdict on one route.
type refusalMemo struct {
	uid             types.UID
	resourceVersion string
	indexes         any
	refused         problem
}

// IncrementalStats counts, for the last Build, the routes translated again
// and those reused.
type IncrementalStats struct {
	Translated, Reused int
	// Replayed counts routes whose whole stage (attachment, status) was reused.
	Replayed int
	// Skipped counts routes the Build did not look at: unchanged, as the
	// snapshot's RouteChanges said (incremental_skip.go); Walked those it did.
	Skipped, Walked int
}

type routeKey struct {
	kind      gatewayv1.Kind
	namespace string
	name      string
}

// routeMemo is one route's translation and what it was computed from.
type routeMemo struct {
	uid             types.UID
	resourceVersion string
	t               *routeTranslation
	// endpoints are the fingerprints (Service and EndpointSlices) of the Services read: a
	// slice, as a route reads one or a few (a map each was 11 MB at 20,000 routes).
	endpoints []serviceFingerprint
	epoch     uint64 // Incremental.worldEpoch when translated
	checked   uint64 // the last Build (Incremental.builds) that found it fresh
}

// memoRun is one Build's view of the memory.
type memoRun struct {
	inc       *Incremental
	stage     *stageRun                       // nil: every route stage is computed
	endpoints map[types.NamespacedName]uint64 // Service and EndpointSlices fingerprint, by Service
	reading   *[]serviceFingerprint           // Services read by the translation under way
	// changesSince is the RouteChanges.Seq of the last Build's snapshot (0: none).
	changesSince uint64
	// stageGrants are the namespaces whose ReferenceGrants this Build read
	// outside route translations (listeners' certificate and CA refs).
	stageGrants map[string]bool
	// sameEndpoints: no Service or EndpointSlice changed since the last Build, so a
	// translation fresh then is fresh now.
	sameEndpoints bool
}

// Stats says how much the last Build reused.
func (inc *Incremental) Stats() IncrementalStats { return inc.stats }

// Build is Build(s), reusing what the previous snapshots' translations share with it.
func (inc *Incremental) Build(s *Snapshot) Result {
	inc.stats = IncrementalStats{}
	endpoints := inc.spareEndpoints
	if endpoints == nil {
		endpoints = map[types.NamespacedName]uint64{}
	}
	clear(endpoints)
	world, grants, ok := fingerprints(s, endpoints)
	if !ok || world != inc.world || inc.worldEpoch == 0 {
		inc.worldEpoch++ // every kept translation is stale
	}
	inc.world = world
	inc.builds++
	since := inc.skip.seq
	inc.skip.seq = 0 // until this Build finishes
	var run *memoRun
	if ok {
		run = &memoRun{inc: inc, endpoints: endpoints, stage: inc.stageRun(s, world, inc.stageGrantsChanged(endpoints, grants)), stageGrants: map[string]bool{},
			sameEndpoints: inc.endpoints != nil && maps.Equal(endpoints, inc.endpoints), changesSince: since}
		inc.endpoints, inc.spareEndpoints = endpoints, inc.endpoints
	} else {
		inc.endpoints, inc.spareEndpoints = nil, endpoints
		inc.skip.ready = false
	}
	res := build(s, run)
	inc.stageGrantNS = nil
	if run != nil {
		inc.stageGrantNS = run.stageGrants
	}
	if inc.stats.Walked == 0 && inc.stats.Skipped == 0 {
		inc.stats.Walked = len(s.HTTPRoutes) + len(s.GRPCRoutes) // translated without the route memory
	}
	inc.countListenerRoutes(res)
	if s.HTTPRouteChanges != nil {
		inc.skip.seq = s.HTTPRouteChanges.Seq
	}
	return res
}

// routeRefusal is refusal, from memory while the route and the policy's
// indexes are unchanged.
func (b *builder) routeRefusal(r *routeObject) problem {
	p, ok := b.s.Policy.(IndexedPolicy)
	if b.current == nil || !ok || r.ResourceVersion == "" {
		return b.refusal(r)
	}
	indexes := p.Indexes()
	if e := b.current.refusal; e != nil && e.uid == r.UID && e.resourceVersion == r.ResourceVersion && b.sameVerdict(e.indexes, r.obj) {
		e.indexes = indexes
		return e.refused
	}
	refused := b.refusal(r)
	b.current.refusal = &refusalMemo{uid: r.UID, resourceVersion: r.ResourceVersion, indexes: indexes, refused: refused}
	return refused
}

// stageRun readies the stage memory for s, forgetting it when what the
// stages read besides routes changed; nil when stages cannot be kept.
func (inc *Incremental) stageRun(s *Snapshot, world uint64, grantsChanged bool) *stageRun {
	stage, ok := stageWorld(s)
	var indexes any
	if s.Policy != nil {
		p, indexed := s.Policy.(IndexedPolicy)
		if !indexed {
			ok = false
		} else {
			indexes = p.Indexes()
		}
	}
	stage += world
	namespaces, nsListeners, nsOK := inc.namespaceChanges(s)
	parents, allParents, parentsOK := inc.parentChanges(s)
	ok = ok && nsOK && parentsOK
	run := &stageRun{indexes: indexes, prevIndexes: inc.stageIndexes, namespaces: namespaces}
	if !parents.None() {
		run.parents = parents
	}
	if p, scoped := s.Policy.(ScopedPolicy); scoped && indexes != inc.stageIndexes && inc.stageIndexes != nil {
		if changes := p.VerdictChangesSince(inc.stageIndexes); !changes.All() {
			run.changes = changes // the stages of the routes it cannot reach stay
		}
	}
	if !ok || stage != inc.stageWorld || indexes != inc.stageIndexes && run.changes == nil || grantsChanged || nsListeners || allParents {
		// Every kept stage is stale. The shared statuses stay: a stage
		// computed again to the same status publishes the same copy, so
		// the Result's statuses are not rewritten route by route.
		inc.stageEpoch++
	}
	inc.stageWorld, inc.stageIndexes = stage, indexes
	if !ok {
		return nil
	}
	return run
}

// sameVerdict reports whether a verdict given under the policy indexes of
// then holds for the route now: the same indexes, or the last Build's when
// this Build's policy change cannot reach the route.
func (b *builder) sameVerdict(then, route any) bool {
	st := b.memo.stage
	if st == nil {
		p, _ := b.s.Policy.(IndexedPolicy)
		return p != nil && then == p.Indexes()
	}
	if then == st.indexes {
		return true
	}
	return st.changes != nil && then == st.prevIndexes && !st.changes.Route(route)
}

// translated returns the route's translation, from memory when its inputs
// are unchanged.
func (b *builder) translated(kind gatewayv1.Kind, m *metav1.ObjectMeta, translate func() *routeTranslation) *routeTranslation {
	run, entry := b.memo, b.current
	if run == nil || entry == nil {
		return translate()
	}
	if e := entry.translation; e != nil && e.epoch == run.inc.worldEpoch && e.uid == m.UID && e.resourceVersion == m.ResourceVersion &&
		(run.sameEndpoints && e.checked == run.inc.builds-1 || run.fresh(e.endpoints)) {
		e.checked = run.inc.builds
		run.inc.stats.Reused++
		return e.t
	}
	entry.translation = nil
	var deps []serviceFingerprint
	run.reading = &deps
	t := translate()
	run.reading = nil
	run.inc.stats.Translated++
	if len(t.policies) > 0 {
		// BackendTLSPolicy states belong to one Build; such routes are translated every time.
		return t
	}
	for i := range deps {
		deps[i].fingerprint = run.endpoints[deps[i].service]
	}
	entry.translation = &routeMemo{uid: m.UID, resourceVersion: m.ResourceVersion, t: t, endpoints: deps, epoch: run.inc.worldEpoch, checked: run.inc.builds}
	return t
}

// readsInput notes that the translation under way reads a Service (and
// its endpoints), or with grantsKey a namespace's ReferenceGrants.
func (b *builder) readsInput(svc types.NamespacedName) {
	if b.memo == nil || b.memo.reading == nil {
		return
	}
	for _, d := range *b.memo.reading {
		if d.service == svc {
			return
		}
	}
	*b.memo.reading = append(*b.memo.reading, serviceFingerprint{service: svc})
}

// serviceFingerprint is a Service read by a translation (or a namespace's
// grants: grantsKey), with its fingerprint then.
type serviceFingerprint struct {
	service     types.NamespacedName
	fingerprint uint64
}

func (run *memoRun) fresh(deps []serviceFingerprint) bool {
	for _, d := range deps {
		if run.endpoints[d.service] != d.fingerprint {
			return false
		}
	}
	return true
}

// fingerprints sums, order-independently, the identity and resourceVersion of
// every object a route's translation may read other than Services,
// EndpointSlices and ReferenceGrants (world); of each Service with its
// EndpointSlices, and of each namespace's grants (grantsKey), into
// endpoints; and of all grants (grants). ok is false when some object has
// no resourceVersion.
func fingerprints(s *Snapshot, endpoints map[types.NamespacedName]uint64) (world, grants uint64, ok bool) {
	ok = true
	add := func(kind string, m *metav1.ObjectMeta, extra ...string) uint64 {
		if m.ResourceVersion == "" {
			ok = false
		}
		return objectHash(kind, m.Namespace, m.Name, string(m.UID), m.ResourceVersion, strings.Join(extra, "\n"))
	}
	for i := range s.Services {
		// Per Service, like its EndpointSlices: one team editing its
		// Service re-translates the routes that read it, not every route.
		endpoints[keyOf(&s.Services[i].ObjectMeta)] += add("Service", &s.Services[i].ObjectMeta)
	}
	for i := range s.ReferenceGrants {
		g := &s.ReferenceGrants[i]
		var verdict []string
		if s.Policy != nil {
			verdict = s.Policy.GrantViolations(g) // the policy decides whether a grant opens anything
		}
		h := add("ReferenceGrant", &g.ObjectMeta, verdict...)
		endpoints[grantsKey(g.Namespace)] += h // route translations read the grants of the namespaces they send to
		grants += h                            // listeners read grants too: their stages count all
	}
	for i := range s.BackendTLSPolicies {
		world += add("BackendTLSPolicy", &s.BackendTLSPolicies[i].ObjectMeta)
	}
	for i := range s.Secrets {
		world += add("Secret", &s.Secrets[i].ObjectMeta)
	}
	for i := range s.ConfigMaps {
		world += add("ConfigMap", &s.ConfigMaps[i].ObjectMeta)
	}
	if s.Policy != nil {
		world++ // with or without a policy, grants filter differently
	}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		svc := types.NamespacedName{Namespace: es.Namespace, Name: es.Labels[discoveryv1.LabelServiceName]}
		endpoints[svc] += add("EndpointSlice", &es.ObjectMeta, svc.Name)
	}
	return world, grants, ok
}

// stageGrantsChanged reports whether the grants the stages read changed
// since the last Build: those of the namespaces the last Build's listeners
// read (a function of the Gateways' and ListenerSets' specs, which the
// stage world holds), all grants when that is unknown. One team's grant
// then keeps every route stage. fingerprints are this Build's, all the sum
// of every grant.
func (inc *Incremental) stageGrantsChanged(fingerprints map[types.NamespacedName]uint64, all uint64) bool {
	last := inc.grants
	inc.grants = all
	if inc.stageGrantNS == nil || inc.endpoints == nil {
		return all != last
	}
	for ns := range inc.stageGrantNS {
		if fingerprints[grantsKey(ns)] != inc.endpoints[grantsKey(ns)] {
			return true
		}
	}
	return false
}

// readsGrants notes that the Build reads the grants of r's target
// namespace: for the route translation under way, or for the stages.
func (b *builder) readsGrants(r reference) {
	if b.memo == nil || r.fromNamespace == r.toNamespace {
		return
	}
	if b.memo.reading != nil {
		b.readsInput(grantsKey(r.toNamespace))
		return
	}
	if b.memo.stageGrants != nil {
		b.memo.stageGrants[r.toNamespace] = true
	}
}

// grantsKey stands for the ReferenceGrants of namespace ns among the
// fingerprints by Service: no Service has an empty name.
func grantsKey(ns string) types.NamespacedName { return types.NamespacedName{Namespace: ns} }

// objectSeed keys the fingerprints of this process: they are compared
// only with those of earlier Builds.
var objectSeed = maphash.MakeSeed()

// objectHash hashes the parts, each followed by a zero byte. Builds hash
// every Service and EndpointSlice of the cluster, so it is maphash's.
func objectHash(parts ...string) uint64 {
	var h maphash.Hash
	h.SetSeed(objectSeed)
	for _, p := range parts {
		h.WriteString(p)
		h.WriteByte(0)
	}
	return h.Sum64()
}
