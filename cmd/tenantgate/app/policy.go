package app

import (
	"context"
	"sync/atomic"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// policyCache keeps one *tenancy.Policy built from the manager's cache. It
// rebuilds in the background after an object the policy reads changed, one
// build at a time, so a burst of changes costs one build and admission never
// waits for indexing: the webhook and the translator decide against the last
// complete policy.
type policyCache struct {
	reader   client.Reader
	platform []string
	log      logr.Logger
	// served is the optional kinds the cluster serves (see optionalKinds).
	served map[string]bool

	changes atomic.Uint64
	current atomic.Pointer[tenancy.Policy]
	// kick wakes the builder; ready is closed after the first build.
	kick  chan struct{}
	ready chan struct{}
	// changed tells the gateway controller to rebuild with the new policy.
	changed chan event.GenericEvent
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
	}
	bump := toolsHandler(func() {
		pc.changes.Add(1)
		select {
		case pc.kick <- struct{}{}:
		default: // a build is already due; it will see this change
		}
	})
	watch := func(obj client.Object) error {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return err
		}
		_, err = inf.AddEventHandler(bump)
		return err
	}
	for _, obj := range []client.Object{
		&v1alpha1.Tenant{}, &corev1.Namespace{}, &gatewayv1.Gateway{}, &gatewayv1.HTTPRoute{}, &gatewayv1.ReferenceGrant{},
	} {
		if err := watch(obj); err != nil {
			return nil, err
		}
	}
	// A kind the cluster does not serve (no CRD) is simply left out; the
	// policy then sees none of it. Installing its CRD later needs a restart.
	for _, k := range optionalKinds {
		switch err := watch(k.obj); {
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

// optionalKinds are the Gateway API kinds the policy reads if the cluster
// serves them.
var optionalKinds = []struct {
	name string
	obj  client.Object
	list func() client.ObjectList
}{
	{"ListenerSet", &gatewayv1.ListenerSet{}, func() client.ObjectList { return &gatewayv1.ListenerSetList{} }},
	{"GRPCRoute", &gatewayv1.GRPCRoute{}, func() client.ObjectList { return &gatewayv1.GRPCRouteList{} }},
	{"TLSRoute", &gatewayv1.TLSRoute{}, func() client.ObjectList { return &gatewayv1.TLSRouteList{} }},
	{"TCPRoute", &gatewayv1.TCPRoute{}, func() client.ObjectList { return &gatewayv1.TCPRouteList{} }},
	{"UDPRoute", &gatewayv1.UDPRoute{}, func() client.ObjectList { return &gatewayv1.UDPRouteList{} }},
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
				pc.current.Store(p)
				built = seen
				if !isClosed(pc.ready) {
					close(pc.ready)
				}
				select {
				case pc.changed <- event.GenericEvent{Object: &v1alpha1.Tenant{}}:
				default:
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

// Policy returns the last complete policy, waiting only for the first build.
func (pc *policyCache) Policy(ctx context.Context) (*tenancy.Policy, error) {
	select {
	case <-pc.ready:
		return pc.current.Load(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (pc *policyCache) build(ctx context.Context) (*tenancy.Policy, error) {
	var (
		tenants    v1alpha1.TenantList
		namespaces corev1.NamespaceList
		gateways   gatewayv1.GatewayList
		routes     gatewayv1.HTTPRouteList
		grants     gatewayv1.ReferenceGrantList
	)
	for _, l := range []client.ObjectList{&tenants, &namespaces, &gateways, &routes, &grants} {
		// The lists are the policy's own: it keeps pointers into them.
		if err := pc.reader.List(ctx, l); err != nil {
			return nil, err
		}
	}
	in := tenancy.Inputs{
		Tenants: tenants.Items, Namespaces: namespaces.Items, PlatformNamespaces: pc.platform,
		Gateways: gateways.Items, HTTPRoutes: routes.Items, ReferenceGrants: grants.Items,
	}
	for _, k := range optionalKinds {
		if !pc.served[k.name] {
			continue
		}
		l := k.list()
		if err := pc.reader.List(ctx, l); err != nil {
			return nil, err
		}
		switch l := l.(type) {
		case *gatewayv1.ListenerSetList:
			in.ListenerSets = l.Items
		case *gatewayv1.GRPCRouteList:
			in.GRPCRoutes = l.Items
		case *gatewayv1.TLSRouteList:
			in.TLSRoutes = l.Items
		case *gatewayv1.TCPRouteList:
			in.TCPRoutes = l.Items
		case *gatewayv1.UDPRouteList:
			in.UDPRoutes = l.Items
		}
	}
	return tenancy.NewPolicy(in), nil
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
