package translate

import (
	"fmt"
	"maps"
	"slices"
	"strconv"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/tenancy"
)

// The route stage (parents, attachment, acceptance, status) is kept per
// route too, while everything it reads besides the route is unchanged: the
// parents' world (GatewayClasses, Gateways, ListenerSets, Namespaces,
// Secrets, ConfigMaps, the ReferenceGrants the listeners read, addresses
// and bind results, reserved ports, the policy's indexes; stageWorld and
// Incremental.stageGrantsChanged) and the route's own verdict and
// translation. Routes of one kind conflict only with routes of the other
// kind (HTTPRoute against GRPCRoute on one hostname), so the stage is kept
// only while no route of the other kind exists. Replaying a kept stage
// serves the route on the same listeners and returns its kept status (route
// statuses carry no time: routeCondition). A stage belongs to a stage epoch: a change
// of the parents' world starts a new one, making every kept stage stale.

// stageMemo is one route's stage as last computed.
type stageMemo struct {
	epoch           uint64 // Incremental.stageEpoch when computed
	indexes         any    // the policy's indexes the verdict in it was given under
	uid             types.UID
	resourceVersion string
	t               *routeTranslation
	status          gatewayv1.RouteStatus
	ok              bool
	served          []servedOn // in the order served
}

// servedOn is one listener a route was served on, by name, with the route as served there.
type servedOn struct {
	listener string
	route    *routetable.Route
}

// stageRun is the stage memory's view for one Build.
type stageRun struct {
	listeners map[string]*listenerState // by name; nil when names repeat
	recording *[]servedOn
	// indexes are the policy's this Build, prevIndexes the last Build's;
	// changes, when they differ, says which verdicts the change may reach
	// (nil: the stage epoch is new).
	indexes, prevIndexes any
	changes              *tenancy.VerdictChanges
	// namespaces changed since the last Build while no Gateway or
	// ListenerSet is in one: only the stages of their routes are stale
	// (a route's namespace labels decide which listeners admit it).
	namespaces map[string]bool
	// parents are the Gateways and ListenerSets changed since the last
	// Build (with those sharing an address with them): only the stages of
	// the routes naming one are stale.
	parents *model.ParentChanges
	// listenerVerdicts fingerprints the policy's verdicts on every
	// Gateway and ListenerSet this Build: a change of one makes every
	// stage stale, since every route attaches through listeners.
	listenerVerdicts uint64
}

// stageWorld fingerprints what a route's stage reads other than the route,
// namespaces (namespaceChanges) and its parents (parentChanges); ok is
// false when some object has no resourceVersion.
func stageWorld(s *Snapshot) (uint64, bool) {
	ok := true
	var world uint64
	add := func(kind string, m *metav1.ObjectMeta) {
		if m.ResourceVersion == "" {
			ok = false
		}
		world += objectHash(kind, m.Namespace, m.Name, string(m.UID), m.ResourceVersion)
	}
	for i := range s.GatewayClasses {
		p, known := specPrint("GatewayClass", &s.GatewayClasses[i].ObjectMeta)
		world, ok = world+p, ok && known
	}
	for i := range s.BackendTLSPolicies {
		add("BackendTLSPolicy", &s.BackendTLSPolicies[i].ObjectMeta)
	}
	mapHash := func(kind string, m map[string]string) {
		for _, k := range slices.Sorted(maps.Keys(m)) {
			world += objectHash(kind, k, m[k])
		}
	}
	keyed := func(m map[types.NamespacedName]string) map[string]string {
		out := make(map[string]string, len(m))
		for k, v := range m {
			out[k.String()] = v
		}
		return out
	}
	mapHash("Address", keyed(s.Addresses))
	mapHash("AddressError", keyed(s.AddressErrors))
	mapHash("BindError", s.BindErrors)
	listening := map[string]string{}
	for k, v := range s.Listening {
		listening[k] = strconv.FormatBool(v)
	}
	if s.Listening != nil {
		world += objectHash("Listening known")
	}
	mapHash("Listening", listening)
	for port, what := range s.ReservedPorts {
		world += objectHash("ReservedPort", strconv.Itoa(int(port)), what)
	}
	world += objectHash("Controller", string(s.ControllerName), fmt.Sprint(s.SupportedFeatures))
	return world, ok
}

// noteListenerVerdicts adds the policy's verdicts on a Gateway's or
// ListenerSet's listeners to this Build's fingerprint of them.
func (b *builder) noteListenerVerdicts(gw *gatewayv1.Gateway, ls *gatewayv1.ListenerSet, v tenancy.ListenerViolations) {
	if b.memo == nil || b.memo.stage == nil {
		return
	}
	var kind string
	var m *metav1.ObjectMeta
	if ls != nil {
		kind, m = "ListenerSet", &ls.ObjectMeta
	} else {
		kind, m = "Gateway", &gw.ObjectMeta
	}
	parts := append([]string{kind, m.Namespace, m.Name}, v.Object...)
	for _, name := range slices.Sorted(maps.Keys(v.Listeners)) {
		parts = append(append(parts, "listener", string(name)), v.Listeners[name]...)
	}
	b.memo.stage.listenerVerdicts += objectHash(parts...)
}

// startStage readies the stage memory after the stages before routes ran.
// A policy change that judges some listener differently makes every
// stage stale here, before any route replays one.
func (b *builder) startStage() {
	run := b.memo
	if run == nil || run.stage == nil {
		return
	}
	st := run.stage
	inc := run.inc
	if st.changes != nil && st.listenerVerdicts != inc.listenerVerdicts {
		inc.stageEpoch++
		st.changes = nil
	}
	inc.listenerVerdicts = st.listenerVerdicts
	st.listeners = make(map[string]*listenerState, len(b.listenerOf))
	for _, l := range b.listenerOf {
		if st.listeners[l.name] != nil {
			st.listeners = nil // names repeat (a bad snapshot): keep nothing
			return
		}
		st.listeners[l.name] = l
		l.routesHint = run.inc.listenerRoutes[l.name]
	}
	if b.skipping = b.skippable(); !b.skipping {
		b.trackListeners()
	}
}

// countListenerRoutes remembers how many routes each listener serves.
func (inc *Incremental) countListenerRoutes(res Result) {
	if inc.listenerRoutes == nil {
		inc.listenerRoutes = map[string]int{}
	}
	clear(inc.listenerRoutes)
	for _, l := range res.Config.Listeners {
		inc.listenerRoutes[l.Name] = len(l.Routes)
	}
}

// stageKept reports whether a route of the kind may keep its stage in this snapshot.
func (b *builder) stageKept(m *metav1.ObjectMeta, kind gatewayv1.Kind) bool {
	if b.current == nil || b.memo == nil || b.memo.stage == nil || b.memo.stage.listeners == nil || m.ResourceVersion == "" {
		return false
	}
	switch kind {
	case kindHTTPRoute:
		return len(b.s.GRPCRoutes) == 0
	case kindGRPCRoute:
		return len(b.s.HTTPRoutes) == 0
	}
	return false
}

// replayRoute serves the route as its kept stage says and returns its
// status; hit is false when the stage must be computed. The route is
// unchanged and the kept verdict holds: the policy's indexes are those it
// was given under, or the policy's change cannot reach the route.
func (b *builder) replayRoute(m *metav1.ObjectMeta, kind gatewayv1.Kind, obj any, translate func() *routeTranslation) (st gatewayv1.RouteStatus, ok, hit bool) {
	if !b.stageKept(m, kind) {
		return st, false, false
	}
	e := b.current.stage
	if e == nil || e.epoch != b.memo.inc.stageEpoch || e.uid != m.UID || e.resourceVersion != m.ResourceVersion ||
		b.memo.stage.namespaces[m.Namespace] || b.memo.stage.parents.Touches(m.Namespace, commonSpec(obj)) || !b.sameVerdict(e.indexes, obj) {
		return st, false, false
	}
	if e.ok && len(e.status.Parents) > 0 && translate() != e.t {
		return st, false, false // a route with parents of ours: its translation must be the kept one
	}
	var last *listenerState
	for i := range e.served {
		s := &e.served[i]
		if last == nil || last.name != s.listener {
			last = b.memo.stage.listeners[s.listener]
			if last == nil {
				return st, false, false // cannot happen with the same world; compute to be safe
			}
		}
		last.served(s.route, b.current)
	}
	e.indexes = b.memo.stage.indexes
	b.memo.inc.stats.Replayed++
	return e.status, e.ok, true
}

// recordRoute starts recording the listeners the route is served on; keep
// stores what was recorded with the route's status, the shared copy of
// which (sharedStatus) it returns in *st.
func (b *builder) recordRoute(r *routeObject) (keep func(st *gatewayv1.RouteStatus, ok bool, refused problem, t *routeTranslation)) {
	if !b.stageKept(r.ObjectMeta, r.kind) {
		return func(*gatewayv1.RouteStatus, bool, problem, *routeTranslation) {}
	}
	entry := b.current
	entry.stage = nil
	var served []servedOn
	b.memo.stage.recording = &served
	return func(st *gatewayv1.RouteStatus, ok bool, refused problem, t *routeTranslation) {
		b.memo.stage.recording = nil
		if t != nil && len(t.policies) > 0 {
			return // policies gain ancestors: computed every time
		}
		*st = b.memo.inc.sharedStatus(*st)
		entry.stage = &stageMemo{epoch: b.memo.inc.stageEpoch, indexes: b.memo.stage.indexes, uid: r.UID, resourceVersion: r.ResourceVersion, t: t,
			status: *st, ok: ok, served: served}
	}
}

// noteServed records a listener the route under way is served on.
func (b *builder) noteServed(l *listenerState, route *routetable.Route) {
	if b.memo != nil && b.memo.stage != nil && b.memo.stage.recording != nil {
		*b.memo.stage.recording = append(*b.memo.stage.recording, servedOn{listener: l.name, route: route})
	}
}

// namespaceChanges compares the snapshot's namespaces with the last
// Build's: changed names the namespaces added, removed or changed, and
// listeners is true when a Gateway or ListenerSet is in one of them (its
// listeners may admit other routes: every stage is stale). ok is false
// when some namespace has no resourceVersion. The per-namespace
// fingerprints are computed only when the sum of all differs, so an
// unchanged cluster costs one pass and no garbage.
func (inc *Incremental) namespaceChanges(s *Snapshot) (changed map[string]bool, listeners, ok bool) {
	ok = true
	var sum uint64
	print := func(m *metav1.ObjectMeta) uint64 {
		if m.ResourceVersion == "" {
			ok = false
		}
		return objectHash("Namespace", m.Name, string(m.UID), m.ResourceVersion)
	}
	for i := range s.Namespaces {
		sum += print(&s.Namespaces[i].ObjectMeta)
	}
	if inc.namespaces != nil && sum == inc.namespacesSum {
		return nil, false, ok
	}
	prints := make(map[string]uint64, len(s.Namespaces))
	for i := range s.Namespaces {
		prints[s.Namespaces[i].Name] += print(&s.Namespaces[i].ObjectMeta)
	}
	if inc.namespaces != nil {
		changed = map[string]bool{}
		changedKeys(inc.namespaces, prints, func(name string) { changed[name] = true })
	}
	inc.namespaces, inc.namespacesSum = prints, sum
	if changed == nil {
		return nil, true, ok // no last Build to compare with
	}
	for i := range s.Gateways {
		listeners = listeners || changed[s.Gateways[i].Namespace]
	}
	for i := range s.ListenerSets {
		listeners = listeners || changed[s.ListenerSets[i].Namespace]
	}
	return changed, listeners, ok
}
