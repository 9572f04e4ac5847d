package controller

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// snapshot copies everything the translator reads out of the cache, adds the
// referenced Secrets and ConfigMaps and what only the controller knows:
// addresses, bind results, the policy. When some referenced object could not
// be fetched it returns the snapshot (with that object's last copy) and the
// error.
func (r *Reconciler) snapshot(ctx context.Context) (*translate.Snapshot, error) {
	var (
		classes   gatewayv1.GatewayClassList
		gateways  gatewayv1.GatewayList
		sets      gatewayv1.ListenerSetList
		tlsRoutes gatewayv1.TLSRouteList
		grants    gatewayv1.ReferenceGrantList
		policies  gatewayv1.BackendTLSPolicyList
		services  corev1.ServiceList
		slices    discoveryv1.EndpointSliceList
		namespace corev1.NamespaceList
	)
	lists := []struct {
		into client.ObjectList
		of   client.Object
	}{
		{&classes, &gatewayv1.GatewayClass{}}, {&gateways, &gatewayv1.Gateway{}}, {&sets, &gatewayv1.ListenerSet{}},
		{&tlsRoutes, &gatewayv1.TLSRoute{}}, {&grants, &gatewayv1.ReferenceGrant{}}, {&policies, &gatewayv1.BackendTLSPolicy{}},
		{&services, &corev1.Service{}}, {&slices, &discoveryv1.EndpointSlice{}}, {&namespace, &corev1.Namespace{}},
	}
	for _, l := range lists {
		// The cache's own objects, not copies: Build never modifies its
		// snapshot and the status writer copies what it writes.
		if err := r.lists.list(ctx, r.Reader, l.into, l.of); err != nil {
			return nil, err
		}
	}
	// Routes are the bulk: pointers to the cache's objects, not copies,
	// with what changed since the last snapshot when the events are logged.
	var (
		httpRoutes []*gatewayv1.HTTPRoute
		changes    *translate.RouteChanges
		err        error
	)
	if r.routes != nil {
		httpRoutes, changes = r.routes.take()
	} else {
		var routes gatewayv1.HTTPRouteList
		if httpRoutes, err = CachedObjects[gatewayv1.HTTPRoute](ctx, r.Reader, &routes, func() []gatewayv1.HTTPRoute { return routes.Items }); err != nil {
			return nil, err
		}
	}
	var grpc gatewayv1.GRPCRouteList
	grpcRoutes, err := CachedObjects[gatewayv1.GRPCRoute](ctx, r.Reader, &grpc, func() []gatewayv1.GRPCRoute { return grpc.Items })
	if err != nil {
		return nil, err
	}
	s := &translate.Snapshot{
		ControllerName:     r.ControllerName,
		Now:                r.now(),
		GatewayClasses:     classes.Items,
		Gateways:           gateways.Items,
		ListenerSets:       sets.Items,
		HTTPRoutes:         httpRoutes,
		HTTPRouteChanges:   changes,
		GRPCRoutes:         grpcRoutes,
		TLSRoutes:          tlsRoutes.Items,
		ReferenceGrants:    grants.Items,
		BackendTLSPolicies: policies.Items,
		Services:           services.Items,
		EndpointSlices:     slices.Items,
		Namespaces:         namespace.Items,
		ReservedPorts:      r.ReservedPorts,
	}
	ours := r.ours(classes.Items, gateways.Items)
	s.Addresses, s.AddressErrors = r.addresses(ours, services.Items)
	if !r.Pool.Prefix.IsValid() {
		// Every process reads the assignment the leader wrote (and signed) into the Services.
		key, err := r.targetPortKey(ctx, false)
		if err != nil {
			r.Log.V(1).Info("binding no Gateway until the target-port signing key is readable", "error", err.Error())
		}
		s.TargetPorts, _ = translate.AssignTargetPorts(r.portClaims(ours, services.Items, nil, key), r.targetRange())
	}
	r.mu.Lock()
	s.BindErrors, s.Listening = r.bindErrors, r.listening
	r.mu.Unlock()
	if r.Policy != nil {
		p, err := r.Policy.Policy(ctx)
		if err != nil {
			return nil, err
		}
		if p != nil { // a nil *Policy must not become a non-nil interface
			s.Policy = p
		}
	}
	refs := refInputs{GatewayClasses: r.ourClasses(classes.Items), Gateways: ours, ListenerSets: sets.Items, BackendTLSPolicies: policies.Items, ReferenceGrants: grants.Items}
	if s.Policy != nil {
		refs.RefuseGrant = model.RefuseBy(s.Policy.GrantViolations)
	}
	r.referenced.want(referenced(refs))
	var fetchErr error
	s.Secrets, s.ConfigMaps, fetchErr = r.referenced.sync(ctx)
	r.metrics.referenced.Set(float64(len(s.Secrets) + len(s.ConfigMaps)))
	return s, fetchErr
}

// ourClasses keeps the GatewayClasses naming our controller.
func (r *Reconciler) ourClasses(classes []gatewayv1.GatewayClass) []gatewayv1.GatewayClass {
	var out []gatewayv1.GatewayClass
	for _, c := range classes {
		if c.Spec.ControllerName == r.controllerName() {
			out = append(out, c)
		}
	}
	return out
}

// ours keeps the Gateways whose class names our controller, so other
// implementations' Gateways never take addresses from our pool.
func (r *Reconciler) ours(classes []gatewayv1.GatewayClass, gateways []gatewayv1.Gateway) []gatewayv1.Gateway {
	mine := map[string]bool{}
	for _, c := range classes {
		if c.Spec.ControllerName == r.controllerName() {
			mine[c.Name] = true
		}
	}
	var out []gatewayv1.Gateway
	for _, g := range gateways {
		if mine[string(g.Spec.GatewayClassName)] {
			out = append(out, g)
		}
	}
	return out
}

func (r *Reconciler) controllerName() gatewayv1.GatewayController {
	if r.ControllerName == "" {
		return translate.ControllerName
	}
	return r.ControllerName
}
