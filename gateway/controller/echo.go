package controller

import (
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// desiredRoutes is the HTTPRoute status the last successful build wanted,
// so the echo of our own status write (or a write by another controller
// to its own entries) does not rebuild everything again.
type desiredRoutes struct {
	mu     sync.Mutex
	status translate.RouteStatuses
}

func (d *desiredRoutes) set(status translate.RouteStatuses) {
	d.mu.Lock()
	d.status = status
	d.mu.Unlock()
}

// satisfied reports whether r's status already holds what the last build
// wanted for our controller.
func (d *desiredRoutes) satisfied(r *gatewayv1.HTTPRoute, ours gatewayv1.GatewayController) bool {
	d.mu.Lock()
	want, ok := d.status.Get(types.NamespacedName{Namespace: r.Namespace, Name: r.Name})
	d.mu.Unlock()
	// Any time will do: a condition the merge would stamp differs from r's anyway.
	return ok && equality.Semantic.DeepEqual(translate.MergeRouteStatus(r.Status, want, ours, metav1.Time{}), r.Status)
}

// routeStatusEcho drops HTTPRoute updates that changed only status, when
// that status is what the last build wanted: Build reads a route's status
// only to clear stale entries of ours, and there are none then. Under
// churn this halves the rebuilds (one per change instead of one per change
// and one per status write).
func (r *Reconciler) routeStatusEcho() predicate.Predicate {
	return predicate.Funcs{
		UpdateFunc: func(e event.UpdateEvent) bool {
			old, ok1 := e.ObjectOld.(*gatewayv1.HTTPRoute)
			cur, ok2 := e.ObjectNew.(*gatewayv1.HTTPRoute)
			if !ok1 || !ok2 || old.Generation != cur.Generation || !old.DeletionTimestamp.Equal(cur.DeletionTimestamp) ||
				!maps.Equal(old.Labels, cur.Labels) || !maps.Equal(old.Annotations, cur.Annotations) {
				return true
			}
			return !r.desired.satisfied(cur, r.controllerName())
		},
	}
}
