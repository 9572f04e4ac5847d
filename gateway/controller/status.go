package controller

import (
	"context"
	"errors"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// writeStatus updates every owned object whose desired status differs from
// the cached one; unchanged objects cost no API call. A conflict means the
// cache is behind: the update event requeues the reconcile.
func (r *Reconciler) writeStatus(ctx context.Context, s *translate.Snapshot, res translate.Result) error {
	var errs []error
	for i := range s.GatewayClasses {
		obj := &s.GatewayClasses[i]
		desired, ok := res.GatewayClasses[types.NamespacedName{Name: obj.Name}]
		if !ok {
			continue
		}
		next := translate.MergeGatewayClassStatus(obj.Status, desired)
		if !equality.Semantic.DeepEqual(obj.Status, next) {
			obj = obj.DeepCopy()
			obj.Status = next
			errs = append(errs, r.update(ctx, obj))
		}
	}
	for i := range s.Gateways {
		obj := &s.Gateways[i]
		desired, ok := res.Gateways[client.ObjectKeyFromObject(obj)]
		if !ok {
			continue
		}
		next := translate.MergeGatewayStatus(obj.Status, desired)
		if !equality.Semantic.DeepEqual(obj.Status, next) {
			obj = obj.DeepCopy()
			obj.Status = next
			errs = append(errs, r.update(ctx, obj))
		}
	}
	for i := range s.HTTPRoutes {
		obj := &s.HTTPRoutes[i]
		desired, ok := res.HTTPRoutes[client.ObjectKeyFromObject(obj)]
		if !ok {
			continue
		}
		next := translate.MergeRouteStatus(obj.Status, desired, r.controllerName())
		if !equality.Semantic.DeepEqual(obj.Status, next) {
			obj = obj.DeepCopy()
			obj.Status = next
			errs = append(errs, r.update(ctx, obj))
		}
	}
	for i := range s.ListenerSets {
		obj := &s.ListenerSets[i]
		desired, ok := res.ListenerSets[client.ObjectKeyFromObject(obj)]
		if !ok {
			continue
		}
		next := translate.MergeListenerSetStatus(obj.Status, desired)
		if !equality.Semantic.DeepEqual(obj.Status, next) {
			obj = obj.DeepCopy()
			obj.Status = next
			errs = append(errs, r.update(ctx, obj))
		}
	}
	for i := range s.BackendTLSPolicies {
		obj := &s.BackendTLSPolicies[i]
		desired, ok := res.BackendTLSPolicies[client.ObjectKeyFromObject(obj)]
		if !ok {
			continue
		}
		next := translate.MergePolicyStatus(obj.Status, desired, r.controllerName())
		if !equality.Semantic.DeepEqual(obj.Status, next) {
			obj = obj.DeepCopy()
			obj.Status = next
			errs = append(errs, r.update(ctx, obj))
		}
	}
	return errors.Join(errs...)
}

func (r *Reconciler) update(ctx context.Context, obj client.Object) error {
	err := r.Writer.Status().Update(ctx, obj)
	if apierrors.IsNotFound(err) {
		return nil // deleted meanwhile
	}
	if apierrors.IsConflict(err) {
		r.Log.V(1).Info("status conflict; the newer object will be reconciled", "object", client.ObjectKeyFromObject(obj).String())
		return err
	}
	return err
}
