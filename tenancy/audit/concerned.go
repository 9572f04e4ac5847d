package audit

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// A route change costs the audit of the tenants it concerns, not of all.
// One handler per route informer counts the route in the tally and records
// the changed route versions, then schedules the concernedTenants item; it
// finds the tenants they concern (Policy.RouteTenants) and audits those, a
// burst of events costing one audit as for allTenants (the policy audits
// every existing route once per snapshot: one audit per burst, not one per
// tenant). Counting and recording in one handler means an audit never
// reads counts older than the event that scheduled it.

// concernedTenants is the work item that audits the tenants changed routes
// concern.
var concernedTenants = reconcile.Request{NamespacedName: types.NamespacedName{Name: "route-tenants"}}

// routeChanges is what route events left for the concernedTenants audit.
type routeChanges struct {
	// routes are changed routes: each version an event reported (before
	// and after an update), since the tenants of both may need an audit.
	routes []client.Object
	// tenants are tenants to audit again (their last audit failed).
	tenants map[string]bool
}

// watchRoutes counts and records the routes of obj's kind from its
// informer's events.
func (r *Reconciler) watchRoutes(mgr ctrl.Manager, obj client.Object) error {
	if r.tally == nil {
		r.tally = newRouteTally()
	}
	// Before the manager starts, this only creates the informer.
	inf, err := mgr.GetCache().GetInformer(context.Background(), obj)
	if err != nil {
		return fmt.Errorf("watching %T for the tenant audit: %w", obj, err)
	}
	reg, err := inf.AddEventHandler(r.routeHandler())
	if err != nil {
		return fmt.Errorf("watching %T for the tenant audit: %w", obj, err)
	}
	r.tally.synced = append(r.tally.synced, reg.HasSynced)
	return nil
}

// routeHandler moves a route between states in the tally (an add counts
// it, an update takes the old state out and counts the new, a delete,
// possibly of a tombstone, takes it out) and records the versions of a
// route whose spec or counted state changed: other status writes change
// nothing the audit reports.
func (r *Reconciler) routeHandler() toolscache.ResourceEventHandlerFuncs {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc: func(obj any) {
			r.tally.move(nil, obj)
			r.changedRoutes(routeObject(obj))
		},
		UpdateFunc: func(old, cur any) {
			r.tally.move(old, cur)
			if o, c := routeObject(old), routeObject(cur); o != nil && c != nil && routeMoved(o, c) {
				r.changedRoutes(o, c)
			}
		},
		DeleteFunc: func(obj any) {
			r.tally.move(obj, nil)
			r.changedRoutes(routeObject(obj))
		},
	}
}

// routeMoved reports a change of spec (generation) or of what the parents
// report (served, refused, pending).
func routeMoved(old, cur client.Object) bool {
	if old.GetGeneration() != cur.GetGeneration() {
		return true
	}
	_, before, _ := parentsOf(old)
	_, after, _ := parentsOf(cur)
	return stateOf(before) != stateOf(after)
}

// changedRoutes records route versions and schedules their audit.
func (r *Reconciler) changedRoutes(routes ...client.Object) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range routes {
		if o != nil {
			r.changes.routes = append(r.changes.routes, o)
		}
	}
	if r.queue != nil {
		r.queue.AddAfter(concernedTenants, batch)
	}
}

// startRouteAudits gives the route handler the queue once the controller
// starts, scheduling what events recorded before.
func (r *Reconciler) startRouteAudits(_ context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = q
	if len(r.changes.routes) > 0 || len(r.changes.tenants) > 0 {
		q.AddAfter(concernedTenants, batch)
	}
	return nil
}

// takeChanges returns what route events left and forgets it.
func (r *Reconciler) takeChanges() routeChanges {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.changes
	r.changes = routeChanges{}
	return c
}

// retry records tenants and routes to audit again.
func (r *Reconciler) retry(c routeChanges) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes.routes = append(r.changes.routes, c.routes...)
	for t := range c.tenants {
		if r.changes.tenants == nil {
			r.changes.tenants = map[string]bool{}
		}
		r.changes.tenants[t] = true
	}
}

// concernedBy names, sorted, the tenants whose status the changes concern:
// the route counts and violations of the tenants Policy.RouteTenants names
// for each route version, and the tenants to audit again.
func concernedBy(p *tenancy.Policy, c routeChanges) []string {
	names := maps.Clone(c.tenants)
	if names == nil {
		names = map[string]bool{}
	}
	for _, route := range c.routes {
		for _, t := range p.RouteTenants(route) {
			names[t] = true
		}
	}
	return slices.Sorted(maps.Keys(names))
}

// auditConcerned audits the tenants route changes concern. Their metrics
// and the Events on grants of their namespaces are updated; those of other
// tenants are left as they are. A tenant deleted or being deleted is left
// to the audit of all tenants its deletion makes. Tenants whose audit
// failed are audited again.
func (r *Reconciler) auditConcerned(ctx context.Context) (reconcile.Result, error) {
	changes := r.takeChanges()
	if len(changes.routes) == 0 && len(changes.tenants) == 0 {
		return reconcile.Result{}, nil // an audit of all tenants covered them
	}
	p, err := r.Policy.Policy(ctx)
	if err != nil || p == nil {
		r.retry(changes)
		return reconcile.Result{}, fmt.Errorf("auditing tenants: the tenant policy is not loaded yet: %v", err)
	}
	counts, err := r.routeCounts(ctx)
	if err != nil {
		r.retry(changes)
		return reconcile.Result{}, err
	}
	now := metav1.NewTime(r.now()).Rfc3339Copy()
	var errs []error
	again := routeChanges{tenants: map[string]bool{}}
	refused := map[types.NamespacedName]grantRefusal{}
	scope := map[string]bool{}
	for _, name := range concernedBy(p, changes) {
		if !r.Leadership.Leading() {
			return reconcile.Result{}, nil // the new leader audits every tenant
		}
		var t v1alpha1.Tenant
		switch err := r.Reader.Get(ctx, client.ObjectKey{Name: name}, &t); {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			errs = append(errs, fmt.Errorf("auditing Tenant %s: %w", name, err))
			again.tenants[name] = true
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
			again.tenants[name] = true
		}
	}
	r.recordGrants(ctx, refused, scope)
	r.retry(again)
	if len(errs) > 0 {
		return reconcile.Result{}, errors.Join(errs...)
	}
	if len(again.tenants) > 0 {
		return reconcile.Result{RequeueAfter: conflictRetry}, nil
	}
	return reconcile.Result{}, nil
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
