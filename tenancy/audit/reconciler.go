package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/leadership"
	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

const (
	// DefaultResync re-audits with no event, bounding how long a status can
	// lag when a reconcile read a policy that had not yet seen the last event.
	DefaultResync = 5 * time.Minute
	// batch delays the audit after an event so a burst of changes (a
	// kubectl apply of many routes) costs one audit, not one per object.
	batch = 200 * time.Millisecond
	// conflictRetry is how soon to retry a status write that lost a race.
	conflictRetry = time.Second
)

// Reconciler writes every Tenant's status from the policy. One work item
// audits all tenants: any change to a Tenant, Namespace, Gateway,
// ListenerSet or ReferenceGrant can change the findings of any tenant. A
// route change concerns only the tenant of its namespace, or the tenants
// whose hostnames a route of no tenant takes (Policy.RouteTenants): route
// events collect those tenants, and a second work item audits the ones
// collected, reading the route counts the tally keeps instead of listing
// every route (see concerned.go).
type Reconciler struct {
	// Reader is the manager's cache.
	Reader client.Reader
	// Writer writes Tenant status.
	Writer client.StatusClient
	Policy tenancy.Source
	// PolicyChanged receives an event after each new tenant policy is
	// published, so the audit runs again with a policy that has seen the
	// event that scheduled it: the policy and the audit watch the same
	// informers through separate handlers, so an audit scheduled by a
	// ListenerSet's event may read a policy built just before it.
	PolicyChanged <-chan event.GenericEvent
	// Now stamps condition transitions; time.Now when nil.
	Now func() time.Time
	// Resync re-audits after this long without events; DefaultResync when 0.
	Resync time.Duration
	// Leadership gates the status writes: only the leader audits; nil
	// always leads.
	Leadership *leadership.State
	// Metrics are set by every audit; nil records nothing.
	Metrics *Metrics
	// Events, when set, records a Tenant's Ready condition turning False
	// (a conflict) or True again, so kubectl describe tells the story.
	Events events.EventRecorder

	// routeLists are the route kinds the cluster serves (set up by
	// SetupWithManager; HTTPRoute alone when nil).
	routeLists []func() client.ObjectList
	// tally counts the routes of each namespace from the informers' events
	// (set up by SetupWithManager); until it has synced, or when nil, an
	// audit counts by listing routeLists.
	tally *routeTally
	// toldGrants is the last Event told on each refused ReferenceGrant, so
	// each refusal is told once.
	toldGrants map[types.UID]toldGrant

	// mu guards what route events leave for the concernedTenants audit,
	// and the queue it is scheduled on (nil until the controller starts).
	mu      sync.Mutex
	changes routeChanges
	queue   workqueue.TypedRateLimitingInterface[reconcile.Request]
}

// Register adds the audit to the manager. It runs on every replica but
// audits only while lead says this replica leads, so one replica writes
// status and losing leadership never needs the process to exit. changed
// (may be nil) says when src publishes a new policy.
func Register(mgr manager.Manager, src tenancy.Source, changed <-chan event.GenericEvent, lead *leadership.State) error {
	m, err := NewMetrics(metrics.Registry)
	if err != nil {
		return err
	}
	r := &Reconciler{Reader: mgr.GetCache(), Writer: mgr.GetClient(), Policy: src, PolicyChanged: changed, Now: time.Now, Leadership: lead, Metrics: m,
		Events: mgr.GetEventRecorder("tenantgate-audit")}
	return r.SetupWithManager(mgr)
}

// allTenants is the work item that audits every tenant.
var allTenants = reconcile.Request{NamespacedName: types.NamespacedName{Name: "all-tenants"}}

// enqueueAllTenants maps every event to the audit of all tenants, a little
// later, so a burst is coalesced by the queue.
var enqueueAllTenants = handler.Funcs{
	CreateFunc: func(_ context.Context, _ event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(allTenants, batch)
	},
	UpdateFunc: func(_ context.Context, _ event.UpdateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(allTenants, batch)
	},
	DeleteFunc: func(_ context.Context, _ event.DeleteEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(allTenants, batch)
	},
	GenericFunc: func(_ context.Context, _ event.GenericEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
		q.AddAfter(allTenants, batch)
	},
}

// SetupWithManager watches what the policy reads. Status-only updates
// (generation unchanged) are ignored, so the audit's own writes and the
// gateway's route status do not re-trigger it; a Namespace matters when its
// labels change (tenant selectors, listener allowedRoutes).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	specChanged := builder.WithPredicates(predicate.GenerationChangedPredicate{})
	b := ctrl.NewControllerManagedBy(mgr).Named("tenant-audit").
		WithOptions(crcontroller.Options{MaxConcurrentReconciles: 1, NeedLeaderElection: ptr.To(false)}).
		// A new leader audits at once, from the latest state.
		WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			go r.Leadership.Gained(ctx, func() { q.Add(allTenants) })
			return nil
		})).
		Watches(&v1alpha1.Tenant{}, enqueueAllTenants, specChanged).
		Watches(&corev1.Namespace{}, enqueueAllTenants, builder.WithPredicates(predicate.LabelChangedPredicate{})).
		Watches(&gatewayv1.Gateway{}, enqueueAllTenants, specChanged).
		Watches(&gatewayv1.ReferenceGrant{}, enqueueAllTenants, specChanged)
	served := func(obj client.Object) (bool, error) {
		gvk, err := apiutil.GVKForObject(obj, mgr.GetScheme())
		if err != nil {
			return false, err
		}
		switch _, err := mgr.GetRESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version); {
		case err == nil:
			return true, nil
		case meta.IsNoMatchError(err):
			return false, nil
		default:
			return false, fmt.Errorf("finding whether the cluster serves %s: %w", gvk.Kind, err)
		}
	}
	if r.PolicyChanged != nil {
		b = b.WatchesRawSource(source.Channel(r.PolicyChanged, enqueueAllTenants))
	}
	if ok, err := served(&gatewayv1.ListenerSet{}); err != nil {
		return err
	} else if ok {
		b = b.Watches(&gatewayv1.ListenerSet{}, enqueueAllTenants, specChanged)
	}
	// Routes count by what their parents report, so their status matters
	// too; their events are the route handler's (concerned.go), which
	// audits only the tenants a change concerns.
	r.routeLists, r.tally = nil, nil
	for _, k := range routeKinds {
		ok, err := served(k.obj)
		if err != nil {
			return err
		}
		if ok {
			r.routeLists = append(r.routeLists, k.list)
			if err := r.watchRoutes(mgr, k.obj); err != nil {
				return err
			}
		}
	}
	return b.WatchesRawSource(source.Func(r.startRouteAudits)).Complete(r)
}

// Reconcile audits every Tenant, or those route changes concern, and
// writes the statuses that changed; a replica that does not lead does
// nothing (it audits every tenant once it leads).
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if !r.Leadership.Leading() {
		return reconcile.Result{}, nil
	}
	if req == concernedTenants {
		return r.auditConcerned(ctx)
	}
	r.takeChanges() // this audit covers them: its policy and counts are newer than their events
	p, err := r.Policy.Policy(ctx)
	if err != nil || p == nil {
		return reconcile.Result{}, fmt.Errorf("auditing tenants: the tenant policy is not loaded yet: %v", err)
	}
	counts, err := r.routeCounts(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	now := metav1.NewTime(r.now()).Rfc3339Copy()
	var tenants v1alpha1.TenantList
	if err := r.Reader.List(ctx, &tenants); err != nil {
		return reconcile.Result{}, fmt.Errorf("auditing tenants: listing Tenants: %w", err)
	}
	var errs []error
	lost := false
	audited := map[string]bool{}
	defer func() { r.Metrics.forgetExcept(audited) }()
	refusedGrants := map[types.NamespacedName]grantRefusal{}
	defer func() { r.recordGrants(ctx, refusedGrants, nil) }()
	for i := range tenants.Items {
		t := &tenants.Items[i]
		if !t.DeletionTimestamp.IsZero() {
			continue
		}
		if !r.Leadership.Leading() {
			return reconcile.Result{}, nil // lost leadership mid-audit: the new leader audits
		}
		audited[t.Name] = true
		_, conflict, err := r.audit(ctx, p, counts, t, now, refusedGrants)
		lost = lost || conflict
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return reconcile.Result{}, errors.Join(errs...)
	}
	if lost {
		return reconcile.Result{RequeueAfter: conflictRetry}, nil
	}
	return reconcile.Result{RequeueAfter: r.resync()}, nil
}

// audit sets one tenant's metrics, adds the grants it refuses to refused,
// and writes its status if it changed; conflict means the write lost a
// race and should be retried.
func (r *Reconciler) audit(ctx context.Context, p *tenancy.Policy, counts routeCounter, t *v1alpha1.Tenant, now metav1.Time,
	refused map[types.NamespacedName]grantRefusal) (want v1alpha1.TenantStatus, conflict bool, err error) {
	report := p.TenantStatus(t.Name)
	want = Status(t.Status, report, counts.forNamespaces(report.Namespaces), t.Generation, now)
	r.Metrics.set(t.Name, want)
	for _, v := range want.Violations {
		if v.Kind == "ReferenceGrant" {
			key := types.NamespacedName{Namespace: v.Namespace, Name: v.Name}
			g := refused[key]
			g.messages = append(g.messages, v.Message)
			g.enforced = t.Spec.Enforcement != v1alpha1.EnforcementWarn
			refused[key] = g
		}
	}
	if equality.Semantic.DeepEqual(t.Status, want) {
		return want, false, nil
	}
	was := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
	t.Status = want
	switch err := r.Writer.Status().Update(ctx, t); {
	case err == nil:
		r.recordReady(t, was)
		log.FromContext(ctx).V(1).Info("wrote tenant status", "tenant", t.Name, "violations", len(want.Violations))
	case apierrors.IsNotFound(err):
		// Deleted meanwhile: nothing to report on.
	case apierrors.IsConflict(err):
		// The cache was behind: retry once it has caught up.
		return want, true, nil
	default:
		return want, false, fmt.Errorf("writing the status of Tenant %s: %w", t.Name, err)
	}
	return want, false, nil
}

// recordReady records an Event when the Tenant's Ready condition changed
// status from was (nil for a new tenant that is Ready: nothing to tell).
func (r *Reconciler) recordReady(t *v1alpha1.Tenant, was *metav1.Condition) {
	is := meta.FindStatusCondition(t.Status.Conditions, v1alpha1.ConditionReady)
	if r.Events == nil || is == nil || (was == nil && is.Status == metav1.ConditionTrue) || (was != nil && was.Status == is.Status) {
		return
	}
	if is.Status == metav1.ConditionTrue {
		r.Events.Eventf(t, nil, corev1.EventTypeNormal, is.Reason, "Audit", "%s", is.Message)
		return
	}
	r.Events.Eventf(t, nil, corev1.EventTypeWarning, is.Reason, "Audit", "%s", is.Message)
}

// grantRefusal is what the audit found wrong with one ReferenceGrant.
type grantRefusal struct {
	messages []string
	enforced bool // Deny: the gateway ignores the grant
}

// toldGrant is the last Event told on a refused ReferenceGrant.
type toldGrant struct {
	namespace, note string
}

// recordGrants records a Warning Event on each ReferenceGrant that breaks
// its tenant's rules, once per finding, so `kubectl describe
// referencegrant` says why the grant opens nothing (or, in Warn mode, that
// it would). refused holds the findings in the namespaces of scope (every
// namespace when nil): a refusal told there and no longer found is
// forgotten, so it is told again if it comes back.
func (r *Reconciler) recordGrants(ctx context.Context, refused map[types.NamespacedName]grantRefusal, scope map[string]bool) {
	if r.Events == nil || !r.Leadership.Leading() {
		return
	}
	if r.toldGrants == nil {
		r.toldGrants = map[types.UID]toldGrant{}
	}
	seen := map[types.UID]bool{}
	for key, found := range refused {
		var g gatewayv1.ReferenceGrant
		if err := r.Reader.Get(ctx, key, &g); err != nil {
			continue // deleted meanwhile, or not cached yet: the next audit tells
		}
		note := strings.Join(found.messages, " ") + " The gateway ignores this grant: it opens nothing."
		if !found.enforced {
			note = strings.Join(found.messages, " ") + " The tenant's enforcement is Warn, so the gateway still honours it."
		}
		seen[g.UID] = true
		if r.toldGrants[g.UID].note == note {
			continue
		}
		r.toldGrants[g.UID] = toldGrant{namespace: g.Namespace, note: note}
		reason := "NotAllowedByTenant"
		if !found.enforced {
			reason = "TenantPolicyViolation"
		}
		r.Events.Eventf(&g, nil, corev1.EventTypeWarning, reason, "Audit", "%s", note)
	}
	for uid, told := range r.toldGrants {
		if !seen[uid] && (scope == nil || scope[told.namespace]) {
			delete(r.toldGrants, uid) // fixed or gone: a new refusal is told again
		}
	}
}

func (r *Reconciler) now() time.Time {
	if r.Now == nil {
		return time.Now()
	}
	return r.Now()
}

func (r *Reconciler) resync() time.Duration {
	if r.Resync <= 0 {
		return DefaultResync
	}
	return r.Resync
}
