package controller

import (
	"context"
	"maps"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// DataPlane serves a compiled route table; the proxy implements it. Apply
// returns, by listener name, the listeners it could not bind.
type DataPlane interface {
	Apply(t *routetable.Table) map[string]error
}

// PolicyFunc returns the tenant policy the translator re-checks routes
// against; a nil policy allows every route.
type PolicyFunc func(ctx context.Context) (translate.TenantPolicy, error)

// Reconciler runs one reconcile of everything on any change.
type Reconciler struct {
	// Reader is the manager's cache.
	Reader client.Reader
	// Writer writes status (only once this replica is the elected leader).
	Writer         client.Client
	DataPlane      DataPlane
	Pool           AddressPool
	ControllerName gatewayv1.GatewayController
	Policy         PolicyFunc
	// PolicyChanged receives an event whenever the tenant policy changed, so a
	// Tenant edit (a type this controller does not watch) rebuilds too.
	PolicyChanged <-chan event.GenericEvent
	Log           logr.Logger
	// Now stamps condition transitions; time.Now when nil.
	Now func() time.Time

	statuses   *statusQueue
	mu         sync.Mutex
	bindErrors map[string]string
	listening  map[string]bool
}

// everything is the single work item: every event asks for a full rebuild,
// and the queue coalesces bursts into one.
var everything = reconcile.Request{NamespacedName: types.NamespacedName{Name: "everything"}}

// SetupWithManager registers the watches. The controller runs on every
// replica (each serves traffic); status writes wait for leadership.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{everything}
	})
	b := ctrl.NewControllerManagedBy(mgr).Named("gateway").
		WithOptions(crcontroller.Options{NeedLeaderElection: ptr.To(false), MaxConcurrentReconciles: 1})
	for _, obj := range watched() {
		b = b.Watches(obj, all)
	}
	r.statuses = newStatusQueue()
	if err := mgr.Add(statusWriter{r}); err != nil {
		return err
	}
	if r.PolicyChanged != nil {
		b = b.WatchesRawSource(source.Channel(r.PolicyChanged, all))
	}
	return b.Complete(r)
}

func watched() []client.Object {
	return []client.Object{
		&gatewayv1.GatewayClass{}, &gatewayv1.Gateway{}, &gatewayv1.ListenerSet{}, &gatewayv1.HTTPRoute{}, &gatewayv1.ReferenceGrant{}, &gatewayv1.BackendTLSPolicy{},
		&corev1.Service{}, &discoveryv1.EndpointSlice{}, &corev1.Secret{}, &corev1.ConfigMap{}, &corev1.Namespace{},
	}
}

// Reconcile translates the whole snapshot, swaps the data plane's table, and
// hands the desired status to the status writer.
func (r *Reconciler) Reconcile(ctx context.Context, _ reconcile.Request) (reconcile.Result, error) {
	s, err := r.snapshot(ctx)
	if err != nil {
		return reconcile.Result{}, err
	}
	res, err := r.program(s)
	if err != nil {
		return reconcile.Result{}, err
	}
	r.statuses.submit(&statusJob{snapshot: s, result: res})
	return reconcile.Result{}, nil
}

// program builds and applies the table; when the data plane's bind results
// differ from what the build assumed, it builds once more so that
// Programmed and PortUnavailable tell the truth.
func (r *Reconciler) program(s *translate.Snapshot) (translate.Result, error) {
	for attempt := 0; ; attempt++ {
		res := translate.Build(s)
		table, faults := routetable.Compile(res.Config)
		for _, f := range faults {
			// Build checks with Compile's own functions, so this is a translator bug; only this part is left out.
			r.Log.Error(f.Err, "Left out of the route table", "listener", f.Listener, "route", f.Route, "rule", f.Rule)
		}
		failed := r.DataPlane.Apply(table)
		for _, f := range faults {
			if f.Route != "" {
				continue
			}
			if failed == nil {
				failed = map[string]error{}
			}
			failed[f.Listener] = f.Err // a listener left out is not served: its status says so
		}
		bind, listening := bindResults(res.Config, failed)
		r.mu.Lock()
		same := maps.Equal(bind, r.bindErrors) && maps.Equal(listening, r.listening)
		r.bindErrors, r.listening = bind, listening
		r.mu.Unlock()
		if same || attempt == 1 {
			return res, nil
		}
		s.BindErrors, s.Listening = bind, listening
	}
}

func bindResults(cfg routetable.Config, failed map[string]error) (map[string]string, map[string]bool) {
	bind := map[string]string{}
	listening := map[string]bool{}
	for _, l := range cfg.Listeners {
		if err, ok := failed[l.Name]; ok && err != nil {
			bind[l.Name] = err.Error()
			continue
		}
		listening[l.Name] = true
	}
	for name, err := range failed {
		if err != nil {
			bind[name] = err.Error()
		}
	}
	return bind, listening
}

func (r *Reconciler) now() metav1.Time {
	if r.Now != nil {
		return metav1.NewTime(r.Now().Truncate(time.Second))
	}
	return metav1.NewTime(time.Now().Truncate(time.Second))
}
