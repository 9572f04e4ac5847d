package app

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// policyCache keeps one *tenancy.Policy built from the manager's cache.
//
// The indexes (Tenants, Namespaces, Gateways, ListenerSets,
// ReferenceGrants) are rebuilt in the background after a change to one of
// them (a status-only update of a Tenant, Gateway or ListenerSet is no change), one
// build at a time, so a burst of changes costs one build. Route changes
// rebuild nothing: decisions never read existing routes, and the audit
// reads them through Policy.WithRoutes, listed when first needed.
//
// Freshness: Policy returns a policy no older than the last index event
// this process has seen when it is called; if a build is due it waits for
// it (a build of 2,000 tenants takes milliseconds, and route changes never
// make one due). An admission racing the watch event of an admission just
// before it (a Tenant edit, say, not yet in the cache) is decided without
// that edit: the gateway re-checks every route against the policy once the
// event arrives, and the audit reports what slipped through.
type policyCache struct {
	reader   client.Reader
	platform []string
	log      logr.Logger
	// served is the optional kinds the cluster serves (see optionalKinds).
	served map[string]bool

	// changes counts index events; built is the count the current policy covers.
	changes, built atomic.Uint64
	current        atomic.Pointer[tenancy.Policy]
	// mu orders publishing a new index against a route event's WithRoutes.
	mu   sync.Mutex
	core *tenancy.Policy // the indexes, without routes
	// published is closed at each publish, then replaced: waiters wake.
	published chan struct{}
	// kick wakes the builder; ready is closed after the first build.
	kick  chan struct{}
	ready chan struct{}
	// changed tells the gateway controller to rebuild with the new policy,
	// audited tells the tenant audit to run again with it.
	changed, audited chan event.GenericEvent
}

// tenantOf names the tenant of a namespace by the current policy; "" before
// the first build.
func (pc *policyCache) tenantOf(namespace string) string {
	if p := pc.current.Load(); p != nil {
		return p.TenantOf(namespace)
	}
	return ""
}

// newPolicyCache counts every change to the objects the policy reads.
func newPolicyCache(ctx context.Context, c cache.Cache, platform []string, log logr.Logger) (*policyCache, error) {
	pc := &policyCache{
		reader: c, platform: platform, log: log, served: map[string]bool{},
		kick: make(chan struct{}, 1), ready: make(chan struct{}), changed: make(chan event.GenericEvent, 1),
		audited:   make(chan event.GenericEvent, 1),
		published: make(chan struct{}),
	}
	index := toolsHandler(pc.indexChanged)
	specOnly := toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(any) { pc.indexChanged() }, DeleteFunc: func(any) { pc.indexChanged() },
		UpdateFunc: func(old, cur any) {
			if specChanged(old, cur) {
				pc.indexChanged()
			}
		},
	}
	routes := toolsHandler(pc.routesChanged)
	watch := func(obj client.Object, h toolscache.ResourceEventHandler) error {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		_, err = inf.AddEventHandler(h)
		return err
	}
	for _, w := range []struct {
		obj client.Object
		h   toolscache.ResourceEventHandler
	}{
		{&v1alpha1.Tenant{}, specOnly}, {&corev1.Namespace{}, index}, {&gatewayv1.Gateway{}, specOnly},
		{&gatewayv1.HTTPRoute{}, routes}, {&gatewayv1.ReferenceGrant{}, index},
	} {
		if err := watch(w.obj, w.h); err != nil {
			return nil, err
		}
	}
	// A kind the cluster does not serve (no CRD) is simply left out; the
	// policy then sees none of it. Installing its CRD later needs a restart.
	for _, k := range optionalKinds {
		h := routes
		if k.name == "ListenerSet" {
			h = specOnly
		}
		switch err := watch(k.obj, h); {
		case err == nil:
			pc.served[k.name] = true
		case meta.IsNoMatchError(err):
			log.Info("the cluster does not serve this kind; the tenant policy leaves it out", "kind", k.name)
		default:
			return nil, err
		}
	}
	return pc, nil
}

// specChanged is false for an update that changed neither spec
// (generation) nor labels: the policy reads no status.
func specChanged(old, cur any) bool {
	o, ok1 := old.(client.Object)
	c, ok2 := cur.(client.Object)
	if !ok1 || !ok2 {
		return true
	}
	return o.GetGeneration() != c.GetGeneration() || !maps.Equal(o.GetLabels(), c.GetLabels())
}

// indexChanged makes a build due.
func (pc *policyCache) indexChanged() {
	pc.changes.Add(1)
	select {
	case pc.kick <- struct{}{}:
	default: // a build is already due; it will see this change
	}
}

// routesChanged publishes the same indexes with the routes listed anew when
// the audit next needs them.
func (pc *policyCache) routesChanged() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.core != nil {
		pc.current.Store(pc.core.WithRoutes(pc.listRoutes))
	}
}

// publish makes p, built from the index events up to seen, the current policy.
func (pc *policyCache) publish(p *tenancy.Policy, seen uint64) {
	pc.mu.Lock()
	pc.core = p
	pc.current.Store(p.WithRoutes(pc.listRoutes))
	pc.built.Store(seen)
	close(pc.published)
	pc.published = make(chan struct{})
	pc.mu.Unlock()
}

// optionalKinds are the Gateway API kinds the policy reads if the cluster
// serves them.
var optionalKinds = []struct {
	name string
	obj  client.Object
}{
	{"ListenerSet", &gatewayv1.ListenerSet{}},
	{"GRPCRoute", &gatewayv1.GRPCRoute{}},
	{"TLSRoute", &gatewayv1.TLSRoute{}},
	{"TCPRoute", &gatewayv1.TCPRoute{}},
	{"UDPRoute", &gatewayv1.UDPRoute{}},
}

// Start builds the policy whenever it is due, until ctx ends. The manager
// runs it on every replica once the cache has synced.
func (pc *policyCache) Start(ctx context.Context) error {
	built := uint64(0)
	for {
		if seen := pc.changes.Load(); seen != built || pc.current.Load() == nil {
			p, err := pc.build(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				pc.log.Error(err, "building the tenant policy; keeping the previous one")
			} else {
				pc.publish(p, seen)
				built = seen
				if !isClosed(pc.ready) {
					close(pc.ready)
				}
				for _, c := range []chan event.GenericEvent{pc.changed, pc.audited} {
					select {
					case c <- event.GenericEvent{Object: &v1alpha1.Tenant{}}:
					default: // one is pending; it will read this policy
					}
				}
			}
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-pc.kick:
		}
	}
}

// NeedLeaderElection is false: every replica answers admission and serves traffic.
func (pc *policyCache) NeedLeaderElection() bool { return false }

// Policy returns a policy covering every index event seen so far, waiting
// for the build that covers them when one is due.
func (pc *policyCache) Policy(ctx context.Context) (*tenancy.Policy, error) {
	select {
	case <-pc.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	seen := pc.changes.Load()
	for {
		pc.mu.Lock()
		p, wait := pc.current.Load(), pc.published
		done := pc.built.Load() >= seen
		pc.mu.Unlock()
		if done {
			return p, nil
		}
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, fmt.Errorf("the tenant policy is being rebuilt after a change to Tenants, namespaces, Gateways or ReferenceGrants: %w", ctx.Err())
		}
	}
}

func (pc *policyCache) build(ctx context.Context) (*tenancy.Policy, error) {
	var (
		tenants    v1alpha1.TenantList
		namespaces corev1.NamespaceList
		gateways   gatewayv1.GatewayList
		grants     gatewayv1.ReferenceGrantList
		sets       gatewayv1.ListenerSetList
	)
	lists := []client.ObjectList{&tenants, &namespaces, &gateways, &grants}
	if pc.served["ListenerSet"] {
		lists = append(lists, &sets)
	}
	for _, l := range lists {
		// The lists are the policy's own (it keeps pointers into them); the
		// objects are the cache's, which nobody modifies.
		if err := pc.reader.List(ctx, l, client.UnsafeDisableDeepCopy); err != nil {
			return nil, err
		}
	}
	return tenancy.NewPolicy(tenancy.Inputs{
		Tenants: tenants.Items, Namespaces: namespaces.Items, PlatformNamespaces: pc.platform,
		Gateways: gateways.Items, ListenerSets: sets.Items, ReferenceGrants: grants.Items,
	}), nil
}

// listRoutes lists every route from the cache, for the audit: the cache's
// own objects, not copies, as the policy holds them while it lives. A kind
// that cannot be listed is left out and logged (the audit then sees fewer
// routes, as before the cache synced).
func (pc *policyCache) listRoutes() tenancy.Routes {
	ctx := context.Background() // the cache answers from memory
	var out tenancy.Routes
	list := func(kind string, fetch func() error) {
		if kind != "HTTPRoute" && !pc.served[kind] {
			return
		}
		if err := fetch(); err != nil {
			pc.log.Error(err, "listing routes for the tenant audit", "kind", kind)
		}
	}
	var http gatewayv1.HTTPRouteList
	list("HTTPRoute", func() (err error) {
		out.HTTPRoutes, err = controller.CachedObjects[gatewayv1.HTTPRoute](ctx, pc.reader, &http, func() []gatewayv1.HTTPRoute { return http.Items })
		return err
	})
	var grpc gatewayv1.GRPCRouteList
	list("GRPCRoute", func() (err error) {
		out.GRPCRoutes, err = controller.CachedObjects[gatewayv1.GRPCRoute](ctx, pc.reader, &grpc, func() []gatewayv1.GRPCRoute { return grpc.Items })
		return err
	})
	var tls gatewayv1.TLSRouteList
	list("TLSRoute", func() (err error) {
		out.TLSRoutes, err = controller.CachedObjects[gatewayv1.TLSRoute](ctx, pc.reader, &tls, func() []gatewayv1.TLSRoute { return tls.Items })
		return err
	})
	var tcp gatewayv1.TCPRouteList
	list("TCPRoute", func() (err error) {
		out.TCPRoutes, err = controller.CachedObjects[gatewayv1.TCPRoute](ctx, pc.reader, &tcp, func() []gatewayv1.TCPRoute { return tcp.Items })
		return err
	})
	var udp gatewayv1.UDPRouteList
	list("UDPRoute", func() (err error) {
		out.UDPRoutes, err = controller.CachedObjects[gatewayv1.UDPRoute](ctx, pc.reader, &udp, func() []gatewayv1.UDPRoute { return udp.Items })
		return err
	})
	return out
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
