package app

import (
	"context"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// policyCache keeps one *tenancy.Policy built from the manager's cache and
// rebuilds it only after an object it depends on changed, so the webhook and
// the translator ask the same engine without re-indexing per request.
type policyCache struct {
	reader   client.Reader
	platform []string

	changes atomic.Uint64
	// changed tells the gateway controller to rebuild after the count moved;
	// its own watches may fire before this handler, on the old policy.
	changed chan event.GenericEvent
	mu      sync.Mutex
	builtAt uint64
	policy  *tenancy.Policy
}

// newPolicyCache counts every change to the objects the policy reads.
func newPolicyCache(ctx context.Context, c cache.Cache, platform []string) (*policyCache, error) {
	pc := &policyCache{reader: c, platform: platform, changed: make(chan event.GenericEvent, 1)}
	pc.changes.Store(1)
	bump := toolsHandler(func() {
		pc.changes.Add(1)
		select {
		case pc.changed <- event.GenericEvent{Object: &v1alpha1.Tenant{}}:
		default: // a rebuild is already pending; it will see this change
		}
	})
	for _, obj := range []client.Object{
		&v1alpha1.Tenant{}, &corev1.Namespace{}, &gatewayv1.Gateway{}, &gatewayv1.HTTPRoute{}, &gatewayv1.ReferenceGrant{},
	} {
		inf, err := c.GetInformer(ctx, obj)
		if err != nil {
			return nil, err
		}
		if _, err := inf.AddEventHandler(bump); err != nil {
			return nil, err
		}
	}
	return pc, nil
}

// Policy returns the policy for the cache's current contents.
func (pc *policyCache) Policy(ctx context.Context) (*tenancy.Policy, error) {
	seen := pc.changes.Load()
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.policy != nil && pc.builtAt == seen {
		return pc.policy, nil
	}
	var (
		tenants    v1alpha1.TenantList
		namespaces corev1.NamespaceList
		gateways   gatewayv1.GatewayList
		routes     gatewayv1.HTTPRouteList
		grants     gatewayv1.ReferenceGrantList
	)
	for _, l := range []client.ObjectList{&tenants, &namespaces, &gateways, &routes, &grants} {
		if err := pc.reader.List(ctx, l); err != nil {
			return nil, err
		}
	}
	pc.policy = tenancy.NewPolicy(tenancy.Inputs{
		Tenants: tenants.Items, Namespaces: namespaces.Items, PlatformNamespaces: pc.platform,
		Gateways: gateways.Items, HTTPRoutes: routes.Items, ReferenceGrants: grants.Items,
	})
	pc.builtAt = seen
	return pc.policy, nil
}
