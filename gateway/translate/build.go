package translate

import (
	"cmp"
	"slices"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// Build translates a snapshot into the data plane's Config and the status of
// every GatewayClass, Gateway and HTTPRoute our controller owns. It is pure
// and deterministic.
func Build(s *Snapshot) Result {
	return build(s, nil)
}

// build is Build, reusing route translations from memo when it is not nil.
func build(s *Snapshot, memo *memoRun) Result {
	b := newBuilder(s, memo)
	b.memo = memo
	b.gatewayClasses()
	b.gateways()
	b.backendTLSPolicies()
	b.startStage()
	b.routes()
	b.tlsRoutes()
	b.policyStatuses()
	b.listenerSetStatuses()
	return b.finish()
}

// builder holds one Build's indexes and intermediate state; it lives only for
// the duration of Build.
type builder struct {
	s          *Snapshot
	controller gatewayv1.GatewayController
	now        metav1.Time

	services   map[types.NamespacedName]*corev1.Service
	slices     map[types.NamespacedName][]*discoveryv1.EndpointSlice // by Service
	secrets    map[types.NamespacedName]*corev1.Secret
	configMaps map[types.NamespacedName]*corev1.ConfigMap
	grants     *model.Grants
	model      *model.Model // built once the classes we own are known
	listenerOf map[*model.Listener]*listenerState
	endpoints  map[servicePort]endpointSet // memoized per Service port

	setByKey    map[types.NamespacedName]*listenerSetState
	orderedSets []*listenerSetState // ListenerSets of ours, oldest first

	policies       []*policyState                  // BackendTLSPolicies, oldest first
	policyByTarget map[policyTarget]*policyState   // the policy that applies
	policiesOn     map[policyTarget][]*policyState // every policy naming the target

	classes      map[string]*classState // our GatewayClasses by name
	gatewayByKey map[types.NamespacedName]*gatewayState
	ordered      []*gatewayState // sorted by namespace/name

	result Result
	memo   *memoRun // nil: translate every route
	// skipping: the route stage walks the changed routes alone (incremental_skip.go).
	skipping bool
	// current is the route under way's memory; nil when it has none.
	current *routeEntry
}

func newBuilder(s *Snapshot, memo *memoRun) *builder {
	b := &builder{
		s:              s,
		controller:     cmp.Or(s.ControllerName, ControllerName),
		now:            s.Now,
		secrets:        make(map[types.NamespacedName]*corev1.Secret, len(s.Secrets)),
		configMaps:     make(map[types.NamespacedName]*corev1.ConfigMap, len(s.ConfigMaps)),
		grants:         model.NewGrants(s.ReferenceGrants, grantFilter(s.Policy)),
		listenerOf:     make(map[*model.Listener]*listenerState),
		endpoints:      make(map[servicePort]endpointSet),
		classes:        make(map[string]*classState),
		policyByTarget: make(map[policyTarget]*policyState),
		setByKey:       make(map[types.NamespacedName]*listenerSetState),
		policiesOn:     make(map[policyTarget][]*policyState),
		gatewayByKey:   make(map[types.NamespacedName]*gatewayState),
		result: Result{
			GatewayClasses:     make(map[types.NamespacedName]gatewayv1.GatewayClassStatus),
			Gateways:           make(map[types.NamespacedName]gatewayv1.GatewayStatus),
			GRPCRoutes:         make(map[types.NamespacedName]gatewayv1.GRPCRouteStatus, len(s.GRPCRoutes)),
			TLSRoutes:          make(map[types.NamespacedName]gatewayv1.TLSRouteStatus),
			BackendTLSPolicies: make(map[types.NamespacedName]gatewayv1.PolicyStatus),
			ListenerSets:       make(map[types.NamespacedName]gatewayv1.ListenerSetStatus),
			// HTTPRoutes is made by the route stage (routes.go).
		},
	}
	b.services, b.slices = serviceLookups(s, memo)
	for i := range s.Secrets {
		b.secrets[keyOf(&s.Secrets[i].ObjectMeta)] = &s.Secrets[i]
	}
	for i := range s.ConfigMaps {
		b.configMaps[keyOf(&s.ConfigMaps[i].ObjectMeta)] = &s.ConfigMaps[i]
	}
	return b
}

// finish assembles the Config from the programmed listeners and records the
// Gateway statuses, now that routes have been counted.
func (b *builder) finish() Result {
	var listeners []routetable.Listener
	if b.memo != nil {
		b.memo.inc.skip.listeners = make(map[string]listenerRoutes, len(b.listenerOf))
	}
	for _, g := range b.ordered {
		b.result.Gateways[g.key] = b.gatewayStatus(g)
		for _, l := range g.allListeners() {
			var routes []*routetable.Route
			if l.inConfig {
				cfg := l.config()
				listeners = append(listeners, cfg)
				routes = cfg.Routes
			}
			b.rememberListeners(l, routes)
		}
	}
	slices.SortFunc(listeners, func(x, y routetable.Listener) int {
		return cmp.Or(cmp.Compare(x.Address, y.Address), cmp.Compare(x.Port, y.Port), cmp.Compare(x.Name, y.Name))
	})
	b.result.Config = routetable.Config{Listeners: listeners}
	return b.result
}

// condition builds one status condition stamped with the snapshot's time.
func (b *builder) condition(typ string, ok bool, reason, message string, generation int64) metav1.Condition {
	status := metav1.ConditionFalse
	if ok {
		status = metav1.ConditionTrue
	}
	return metav1.Condition{
		Type:               typ,
		Status:             status,
		ObservedGeneration: generation,
		LastTransitionTime: b.now,
		Reason:             reason,
		Message:            message,
	}
}

// routeCondition is condition without a time: a route's status then stays
// the same from one Build to the next while nothing it reads changes, so
// Incremental shares the kept statuses of 20,000 routes instead of
// restamping each every second. MergeRouteStatus stamps the time a
// condition is first written or changes status.
func (b *builder) routeCondition(typ string, ok bool, reason, message string, generation int64) metav1.Condition {
	c := b.condition(typ, ok, reason, message, generation)
	c.LastTransitionTime = metav1.Time{}
	return c
}

func keyOf(m *metav1.ObjectMeta) types.NamespacedName {
	return types.NamespacedName{Namespace: m.Namespace, Name: m.Name}
}

// sortedPointers returns pointers to items ordered by namespace/name, leaving
// the caller's slice untouched.
func sortedPointers[T any, P interface {
	*T
	metav1.Object
}](items []T) []P {
	out := make([]P, len(items))
	for i := range items {
		out[i] = &items[i]
	}
	slices.SortFunc(out, func(x, y P) int {
		return cmp.Or(cmp.Compare(x.GetNamespace(), y.GetNamespace()), cmp.Compare(x.GetName(), y.GetName()))
	})
	return out
}

// sortedByAge is sortedPointers ordered oldest first, then by
// namespace/name: the precedence the spec gives policies and ListenerSets.
func sortedByAge[T any, P interface {
	*T
	metav1.Object
}](items []T) []P {
	out := sortedPointers[T, P](items)
	slices.SortStableFunc(out, func(x, y P) int {
		tx, ty := x.GetCreationTimestamp(), y.GetCreationTimestamp()
		return tx.Compare(ty.Time)
	})
	return out
}

// grantFilter ignores the ReferenceGrants the tenancy policy refuses.
func grantFilter(p TenantPolicy) model.GrantFilter {
	if p == nil {
		return nil
	}
	return model.RefuseBy(p.GrantViolations)
}

// serviceLookups indexes the snapshot's Services and their EndpointSlices
// by Service. While no Service or EndpointSlice changed since the last
// Build (the same fingerprints, so the same objects by UID and
// resourceVersion), the last Build's indexes serve: a cluster's thousands
// of Services then cost a change nothing.
func serviceLookups(s *Snapshot, memo *memoRun) (map[types.NamespacedName]*corev1.Service, map[types.NamespacedName][]*discoveryv1.EndpointSlice) {
	if memo != nil && memo.sameEndpoints && memo.inc.services != nil {
		return memo.inc.services, memo.inc.slices
	}
	services := make(map[types.NamespacedName]*corev1.Service, len(s.Services))
	bySvc := make(map[types.NamespacedName][]*discoveryv1.EndpointSlice, len(s.EndpointSlices))
	for i := range s.Services {
		services[keyOf(&s.Services[i].ObjectMeta)] = &s.Services[i]
	}
	for i := range s.EndpointSlices {
		es := &s.EndpointSlices[i]
		svc, ok := es.Labels[discoveryv1.LabelServiceName]
		if !ok {
			continue
		}
		key := types.NamespacedName{Namespace: es.Namespace, Name: svc}
		bySvc[key] = append(bySvc[key], es)
	}
	for key := range bySvc {
		slices.SortFunc(bySvc[key], func(x, y *discoveryv1.EndpointSlice) int { return cmp.Compare(x.Name, y.Name) })
	}
	if memo != nil {
		memo.inc.services, memo.inc.slices = services, bySvc
	}
	return services, bySvc
}
