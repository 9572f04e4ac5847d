package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// A route change costs the audit of the tenants it concerns, not of all:
// route events add those tenants to Reconciler.concerned and schedule the
// concernedTenants item, which audits them, a burst of events costing one
// audit as for allTenants (the policy audits every existing route once per
// snapshot, so one audit per burst, not one per tenant). The route counts
// come from the tally, kept up to date by the route informers' events.

// concernedTenants is the work item that audits the tenants route events
// concern.
var concernedTenants = reconcile.Request{NamespacedName: types.NamespacedName{Name: "route-tenants"}}

// policyWait bounds how long a route event waits for the policy to find
// the tenants it concerns before it audits them all instead.
const policyWait = time.Second

// enqueueConcernedTenants maps a route event to an audit, a little later,
// of the tenants the old and new route concern.
func (r *Reconciler) enqueueConcernedTenants() handler.Funcs {
	enqueue := func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], routes ...client.Object) {
		names, all := r.routeTenants(ctx, routes...)
		switch {
		case all:
			q.AddAfter(allTenants, batch)
		case len(names) > 0:
			r.addConcerned(names)
			q.AddAfter(concernedTenants, batch)
		}
	}
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		UpdateFunc: func(ctx context.Context, e event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.ObjectOld, e.ObjectNew)
		},
		DeleteFunc: func(ctx context.Context, e event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
		GenericFunc: func(ctx context.Context, e event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			enqueue(ctx, q, e.Object)
		},
	}
}

// routeTenants names the tenants whose status the routes (a route's
// versions before and after a change) concern: their counts and the
// violations filed under them. all is true while the policy is not loaded:
// then every tenant must be audited.
func (r *Reconciler) routeTenants(ctx context.Context, routes ...client.Object) (names []string, all bool) {
	ctx, cancel := context.WithTimeout(ctx, policyWait)
	defer cancel()
	p, err := r.Policy.Policy(ctx)
	if err != nil || p == nil {
		return nil, true
	}
	for _, route := range routes {
		for _, t := range p.RouteTenants(route) {
			if !slices.Contains(names, t) {
				names = append(names, t)
			}
		}
	}
	return names, false
}

func (r *Reconciler) addConcerned(names []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.concerned == nil {
		r.concerned = map[string]bool{}
	}
	for _, n := range names {
		r.concerned[n] = true
	}
}

// takeConcerned returns the tenants to audit, sorted, and forgets them.
func (r *Reconciler) takeConcerned() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := slices.Sorted(maps.Keys(r.concerned))
	r.concerned = nil
	return names
}

// auditConcerned audits the tenants route events concern. Their metrics
// and the Events on grants of their namespaces are updated; those of other
// tenants are left as they are. A tenant deleted or being deleted is left
// to the audit of all tenants its deletion makes. Tenants whose audit
// failed are audited again.
func (r *Reconciler) auditConcerned(ctx context.Context) (reconcile.Result, error) {
	names := r.takeConcerned()
	if len(names) == 0 {
		return reconcile.Result{}, nil // an audit of all tenants covered them
	}
	p, err := r.Policy.Policy(ctx)
	if err != nil || p == nil {
		r.addConcerned(names)
		return reconcile.Result{}, fmt.Errorf("auditing tenants: the tenant policy is not loaded yet: %v", err)
	}
	counts, err := r.routeCounts(ctx)
	if err != nil {
		r.addConcerned(names)
		return reconcile.Result{}, err
	}
	now := metav1.NewTime(r.now()).Rfc3339Copy()
	var errs []error
	var retry []string
	refused := map[types.NamespacedName]grantRefusal{}
	scope := map[string]bool{}
	for i, name := range names {
		if !r.Leadership.Leading() {
			return reconcile.Result{}, nil // the new leader audits every tenant
		}
		var t v1alpha1.Tenant
		switch err := r.Reader.Get(ctx, client.ObjectKey{Name: name}, &t); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("auditing Tenant %s: %w", name, err))
			retry = append(retry, names[i])
			continue
		case !t.DeletionTimestamp.IsZero():
			continue
		}
		want, conflict, err := r.audit(ctx, p, counts, &t, now, refused)
		for _, ns := range want.Namespaces {
			scope[ns] = true
		}
		if err != nil {
			errs = append(errs, err)
		}
		if err != nil || conflict {
			retry = append(retry, name)
		}
	}
	r.recordGrants(ctx, refused, scope)
	r.addConcerned(retry)
	if len(errs) > 0 {
		return reconcile.Result{}, errors.Join(errs...)
	}
	if len(retry) > 0 {
		return reconcile.Result{RequeueAfter: conflictRetry}, nil
	}
	return reconcile.Result{}, nil
}

// tallyRoutes counts the routes of obj's kind from its informer's events.
func (r *Reconciler) tallyRoutes(mgr ctrl.Manager, obj client.Object) error {
	if r.tally == nil {
		r.tally = newRouteTally()
	}
	// Before the manager starts, this only creates the informer.
	inf, err := mgr.GetCache().GetInformer(context.Background(), obj)
	if err != nil {
		return fmt.Errorf("watching %T for the tenant audit's route counts: %w", obj, err)
	}
	reg, err := inf.AddEventHandler(r.tally.handler())
	if err != nil {
		return fmt.Errorf("watching %T for the tenant audit's route counts: %w", obj, err)
	}
	r.tally.synced = append(r.tally.synced, reg.HasSynced)
	return nil
}

// routeCounter sums the route counts of namespaces.
type routeCounter interface {
	forNamespaces(namespaces []string) []v1alpha1.TenantRouteCount
}

// routeCounts is the tally once it covers the cache, else a count of the
// listed routes.
func (r *Reconciler) routeCounts(ctx context.Context) (routeCounter, error) {
	if r.tally.ready() {
		return r.tally, nil
	}
	lists := r.routeLists
	if lists == nil {
		lists = []func() client.ObjectList{routeKinds[0].list}
	}
	counts, err := countRoutes(ctx, r.Reader, lists)
	if err != nil {
		return nil, fmt.Errorf("auditing tenants: counting routes: %w", err)
	}
	return counts, nil
}
