package controller

import (
	"context"
	"errors"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// statusWriters bounds the status updates in flight: thousands of new routes
// are written in parallel, within the client's rate limit.
const statusWriters = 16

// writeStatus updates every owned object whose desired status differs from
// the cached one; unchanged objects cost no API call. A conflict means the
// cache is behind: the update event requeues the reconcile.
func (r *Reconciler) writeStatus(ctx context.Context, s *translate.Snapshot, res translate.Result) error {
	var objs []client.Object
	objs = append(objs, changed(s.GatewayClasses, res.GatewayClasses,
		func(o *gatewayv1.GatewayClass) *gatewayv1.GatewayClassStatus { return &o.Status }, translate.MergeGatewayClassStatus)...)
	objs = append(objs, changed(s.Gateways, res.Gateways,
		func(o *gatewayv1.Gateway) *gatewayv1.GatewayStatus { return &o.Status }, translate.MergeGatewayStatus)...)
	objs = append(objs, changed(s.HTTPRoutes, res.HTTPRoutes,
		func(o *gatewayv1.HTTPRoute) *gatewayv1.HTTPRouteStatus { return &o.Status },
		func(current, desired gatewayv1.HTTPRouteStatus) gatewayv1.HTTPRouteStatus {
			return translate.MergeRouteStatus(current, desired, r.controllerName())
		})...)
	objs = append(objs, changed(s.ListenerSets, res.ListenerSets,
		func(o *gatewayv1.ListenerSet) *gatewayv1.ListenerSetStatus { return &o.Status }, translate.MergeListenerSetStatus)...)
	objs = append(objs, changed(s.BackendTLSPolicies, res.BackendTLSPolicies,
		func(o *gatewayv1.BackendTLSPolicy) *gatewayv1.PolicyStatus { return &o.Status },
		func(current, desired gatewayv1.PolicyStatus) gatewayv1.PolicyStatus {
			return translate.MergePolicyStatus(current, desired, r.controllerName())
		})...)
	return r.updateAll(ctx, objs)
}

// changed returns copies, with the merged status, of the items whose status
// would change; the snapshot itself is left as it was.
func changed[T any, P interface {
	*T
	client.Object
}, S any](items []T, desired map[types.NamespacedName]S, status func(P) *S, merge func(current, desired S) S) []client.Object {
	var out []client.Object
	for i := range items {
		obj := P(&items[i])
		want, ok := desired[types.NamespacedName{Namespace: obj.GetNamespace(), Name: obj.GetName()}]
		if !ok {
			continue
		}
		next := merge(*status(obj), want)
		if equality.Semantic.DeepEqual(*status(obj), next) {
			continue
		}
		cp := obj.DeepCopyObject().(P)
		*status(cp) = next
		out = append(out, cp)
	}
	return out
}

// updateAll writes the statuses with a bounded number of requests in flight.
func (r *Reconciler) updateAll(ctx context.Context, objs []client.Object) error {
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
		sem  = make(chan struct{}, statusWriters)
	)
	for _, obj := range objs {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := r.update(ctx, obj); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (r *Reconciler) update(ctx context.Context, obj client.Object) error {
	err := r.Writer.Status().Update(ctx, obj)
	if apierrors.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if apierrors.IsConflict(err) {
		r.Log.V(1).Info("status conflict; the newer object will be reconciled", "object", client.ObjectKeyFromObject(obj).String())
	}
	return err
}
