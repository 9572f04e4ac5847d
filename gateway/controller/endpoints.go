package controller

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// The endpoint fast path: an EndpointSlice change of a Service (other than
// the Gateway Services' slices the controller writes) changes only which
// addresses requests to that Service's ports are sent to. Nothing in any
// status depends on it, so instead of a rebuild the controller computes the
// ports' endpoints as Build would (translate.ServicePortEndpoints) and
// stores them in the endpoint sets the serving table shares
// (routetable.Compiler.SetEndpoints). The next Build reads the same slices
// and computes the same endpoints.

// endpointsPrefix marks the work item of one Service's endpoints; a
// Kubernetes name has no "/", so it cannot collide with an object's.
const endpointsPrefix = "endpoints/"

// endpointsRequest is the work item for the endpoints of Service svc.
func endpointsRequest(svc types.NamespacedName) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: svc.Namespace, Name: endpointsPrefix + svc.Name}}
}

// endpointsService returns the Service of an endpoints work item.
func endpointsService(req reconcile.Request) (types.NamespacedName, bool) {
	name, ok := strings.CutPrefix(req.Name, endpointsPrefix)
	return types.NamespacedName{Namespace: req.Namespace, Name: name}, ok
}

// endpointSliceEvents maps an EndpointSlice event to its Service's
// endpoints work item. A slice the controller writes for a Gateway's
// Service rebuilds everything, since the rebuild is what restores it; a
// slice without a Service is read by nothing.
func endpointSliceEvents() handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(_ context.Context, o client.Object) []reconcile.Request {
		svc, ok := o.GetLabels()[discoveryv1.LabelServiceName]
		switch {
		case o.GetLabels()[discoveryv1.LabelManagedBy] == EndpointSliceManager:
			return []reconcile.Request{everything}
		case !ok:
			return nil
		}
		return []reconcile.Request{endpointsRequest(types.NamespacedName{Namespace: o.GetNamespace(), Name: svc})}
	})
}

// updateEndpoints stores the current endpoints of every port of svc in
// the serving table. It reports false when there is no table yet, so the
// caller rebuilds instead.
func (r *Reconciler) updateEndpoints(ctx context.Context, svc types.NamespacedName) (bool, error) {
	if !r.compiled {
		return false, nil
	}
	var service corev1.Service
	if err := r.Reader.Get(ctx, svc, &service); err != nil {
		// A Service that is gone takes its routes' backends with it, which
		// its own delete event rebuilds.
		return true, client.IgnoreNotFound(err)
	}
	var list discoveryv1.EndpointSliceList
	if err := r.Reader.List(ctx, &list, client.InNamespace(svc.Namespace),
		client.MatchingLabels{discoveryv1.LabelServiceName: svc.Name}, client.UnsafeDisableDeepCopy); err != nil {
		return true, err
	}
	slices := make([]*discoveryv1.EndpointSlice, len(list.Items))
	for i := range list.Items {
		slices[i] = &list.Items[i]
	}
	for _, p := range service.Spec.Ports {
		src := routetable.EndpointSource{Namespace: svc.Namespace, Service: svc.Name, Port: p.Name}
		if r.compiler.SetEndpoints(src, translate.ServicePortEndpoints(slices, p.Name)) {
			r.metrics.endpointUpdates.Inc()
		}
	}
	return true, nil
}
