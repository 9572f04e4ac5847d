package controller

import (
	"context"
	"fmt"
	"maps"
	"runtime/debug"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	crcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
	"github.com/tenantgate/tenantgate/gateway/translate"
	"github.com/tenantgate/tenantgate/leadership"
	"github.com/tenantgate/tenantgate/tenancy"
)

// DataPlane serves a compiled route table; the proxy implements it. Apply
// returns, by listener name, the listeners it could not bind.
type DataPlane interface {
	Apply(t *routetable.Table) map[string]error
}

// Reconciler runs one reconcile of everything on any change.
type Reconciler struct {
	// Reader is the manager's cache. Secrets and ConfigMaps are read from it
	// as metadata only (PartialObjectMetadata).
	Reader client.Reader
	// APIReader reads the referenced Secrets and ConfigMaps from the API
	// server, bypassing the cache (the manager's GetAPIReader).
	APIReader client.Reader
	// Writer writes status, only while Leadership says this replica leads.
	Writer client.Client
	// Leadership gates status writes and Events; nil always leads.
	Leadership *leadership.State
	DataPlane  DataPlane
	Pool       AddressPool
	// ServiceSelector selects the data-plane Pods each Gateway's Service
	// sends traffic to; nil means DefaultServiceSelector.
	ServiceSelector map[string]string
	// TargetPortRange holds the data-plane ports handed to Gateways when no
	// Pool gives each its own address; zero means translate.DefaultTargetPorts.
	TargetPortRange translate.PortRange
	// DataPlaneNamespace is where the data-plane Pods run (DefaultDataPlaneNamespace
	// when empty); with WatchDataPlanePods the controller caches its Pods and
	// lists them in each Gateway's EndpointSlice.
	DataPlaneNamespace string
	WatchDataPlanePods bool
	// DataPlaneImage is the image of dedicated data planes (the
	// controller's own); DataPlaneArgs are further flags they get.
	DataPlaneImage string
	DataPlaneArgs  []string
	// ServeGateway, when set, makes this process a dedicated data plane:
	// it serves that Gateway only. Otherwise it serves every Gateway but
	// those with a dedicated data plane.
	ServeGateway types.NamespacedName
	// ReservedPorts are the data plane's own ports, refused to listeners
	// (translate.Snapshot.ReservedPorts).
	ReservedPorts  map[int32]string
	ControllerName gatewayv1.GatewayController
	// Policy is the tenant policy the translator re-checks everything
	// against; nil allows everything.
	Policy tenancy.Source
	// PolicyChanged receives an event whenever the tenant policy changed, so a
	// Tenant edit (a type this controller does not watch) rebuilds too.
	PolicyChanged <-chan event.GenericEvent
	Log           logr.Logger
	// Events receives a Warning on each object whose status newly says it
	// could not be programmed; nil records none.
	Events events.EventRecorder
	// Registerer receives the controller's metrics; nil keeps them unregistered.
	Registerer prometheus.Registerer
	// Now stamps condition transitions; time.Now when nil.
	Now func() time.Time

	// assignedAddresses is the pool address each Gateway (by UID) got at
	// the last snapshot: Assign keeps it while the cache lags the status
	// write that reports it.
	assignedAddresses map[types.UID]string
	// build is an Incremental's Build, buildStats its Stats; tests replace build.
	build      func(*translate.Snapshot) translate.Result
	buildStats func() translate.IncrementalStats
	// recycle hands the Incremental a Config nothing reads any more: the
	// one before lastConfig, once the next is compiled.
	recycle    func(routetable.Config)
	lastConfig routetable.Config
	// compiler shares every unchanged route with the previous table.
	compiler   *routetable.Compiler
	compiled   bool // a table was compiled, so endpoint changes can go to it
	desired    desiredRoutes
	metrics    *metrics
	referenced *referencedStore
	statuses   *statusQueue
	// routes logs the HTTPRoute events for the snapshot (nil: the snapshot lists the cache).
	routes *routeLog
	// lists are the last Lists of the other kinds, while none changed.
	lists *listMemo
	// blocked counts the HTTPRoutes not programmed, build after build.
	blocked blockedRoutes
	// routeStatuses is the status writer's pass over the HTTPRoutes.
	routeStatuses *routeStatusPass
	pods          client.Reader // the data-plane namespace's Pods, when watched
	portKey       []byte        // signs the target ports in Services (targetports.go)
	mu            sync.Mutex
	bindErrors    map[string]string
	listening     map[string]bool
}

// everything is the work item of a full rebuild: every event but an
// endpoint change (endpoints.go) asks for it, and the queue coalesces
// bursts into one.
var everything = reconcile.Request{NamespacedName: types.NamespacedName{Name: "everything"}}

// SetupWithManager registers the watches. The controller runs on every
// replica (each serves traffic); status writes wait for leadership. Secrets
// and ConfigMaps are watched as metadata only, and only events about the
// ones the last build referenced trigger a rebuild.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	if r.APIReader == nil {
		r.APIReader = mgr.GetAPIReader()
	}
	if err := r.init(); err != nil {
		return err
	}
	all := handler.EnqueueRequestsFromMapFunc(func(context.Context, client.Object) []reconcile.Request {
		return []reconcile.Request{everything}
	})
	b := ctrl.NewControllerManagedBy(mgr).Named("gateway").WithOptions(controllerOptions())
	if r.Reader == client.Reader(mgr.GetCache()) {
		r.lists = newListMemo() // the events counted are those of the cache read
	}
	for _, obj := range watched() {
		switch obj.(type) {
		case *gatewayv1.HTTPRoute:
			r.routes = newRouteLog()
			b = b.Watches(obj, r.routes.events(r.routeStatusEcho().Update))
			continue
		case *discoveryv1.EndpointSlice:
			b = b.Watches(obj, r.lists.counted(obj, endpointSliceEvents()))
			continue
		}
		b = b.Watches(obj, r.lists.counted(obj, all))
	}
	b = b.Watches(&corev1.Secret{}, all, builder.OnlyMetadata, builder.WithPredicates(r.referencedOnly(kindSecret))).
		Watches(&corev1.ConfigMap{}, all, builder.OnlyMetadata, builder.WithPredicates(r.referencedOnly(kindConfigMap)))
	if r.WatchDataPlanePods {
		src, err := r.watchDataPlanePods(mgr)
		if err != nil {
			return err
		}
		b = b.WatchesRawSource(src)
	}
	if err := mgr.Add(statusWriter{r}); err != nil {
		return err
	}
	if r.PolicyChanged != nil {
		b = b.WatchesRawSource(source.Channel(r.PolicyChanged, all))
	}
	// A new leader rebuilds, so it writes the latest desired status rather
	// than one built while another replica was writing.
	b = b.WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
		go r.Leadership.Gained(ctx, func() { q.Add(everything) })
		return nil
	}))
	return b.Complete(r)
}

// init fills in what SetupWithManager (or a test) needs before the first reconcile.
func (r *Reconciler) init() error {
	m, err := newMetrics(r.Registerer)
	if err != nil {
		return err
	}
	r.metrics = m
	if r.build == nil {
		inc := &translate.Incremental{}
		r.build, r.buildStats, r.recycle = inc.Build, inc.Stats, inc.Recycle
	}
	r.compiler = &routetable.Compiler{}
	r.referenced = newReferencedStore(r.Reader, r.APIReader)
	r.statuses = newStatusQueue()
	return nil
}

// Backoff of the single work item after a failed reconcile: 100ms, doubling
// to at most a minute; an event about a watched object still rebuilds at once.
const (
	backoffBase = 100 * time.Millisecond
	backoffMax  = time.Minute
)

// controllerOptions: one reconcile at a time on every replica, and a failed
// one retried with exponential backoff rather than in a hot loop.
func controllerOptions() crcontroller.Options {
	return crcontroller.Options{
		NeedLeaderElection:      ptr.To(false),
		MaxConcurrentReconciles: 1,
		RateLimiter:             workqueue.NewTypedItemExponentialFailureRateLimiter[reconcile.Request](backoffBase, backoffMax),
	}
}

// referencedOnly lets through only events about Secrets or ConfigMaps the
// last build referenced (and, for updates, only a new resourceVersion): a
// tenant writing its own unreferenced Secrets causes no rebuild.
func (r *Reconciler) referencedOnly(kind string) predicate.Predicate {
	return predicate.Funcs{
		CreateFunc: func(e event.CreateEvent) bool { return r.referenced.wants(kind, e.Object) },
		DeleteFunc: func(e event.DeleteEvent) bool { return r.referenced.wants(kind, e.Object) },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return e.ObjectOld.GetResourceVersion() != e.ObjectNew.GetResourceVersion() && r.referenced.wants(kind, e.ObjectNew)
		},
		GenericFunc: func(e event.GenericEvent) bool { return r.referenced.wants(kind, e.Object) },
	}
}

// watched are the kinds cached in full, every change of which rebuilds.
func watched() []client.Object {
	return []client.Object{
		&gatewayv1.GatewayClass{}, &gatewayv1.Gateway{}, &gatewayv1.ListenerSet{}, &gatewayv1.HTTPRoute{}, &gatewayv1.GRPCRoute{}, &gatewayv1.ReferenceGrant{}, &gatewayv1.BackendTLSPolicy{},
		&gatewayv1.TLSRoute{},
		&corev1.Service{}, &discoveryv1.EndpointSlice{}, &corev1.Namespace{},
	}
}

// Reconcile translates the whole snapshot, swaps the data plane's table, and
// hands the desired status to the status writer. An error keeps the last
// good table serving and is retried with backoff.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	if svc, ok := endpointsService(req); ok {
		done, err := r.updateEndpoints(ctx, svc)
		if err != nil || done {
			return reconcile.Result{}, err
		}
	}
	job, err := r.rebuild(ctx)
	if err != nil {
		r.metrics.reconcileErrors.Inc() // controller-runtime logs the error and requeues with backoff
		return reconcile.Result{}, err
	}
	r.statuses.submit(job)
	return reconcile.Result{}, nil
}

// rebuild is one reconcile; its job is nil when it failed.
func (r *Reconciler) rebuild(ctx context.Context) (job *statusJob, err error) {
	s, fetchErr := r.snapshot(ctx)
	if s == nil {
		return nil, fetchErr
	}
	done := r.recycleRoutes(s)
	defer func() {
		if job == nil {
			done() // no status job reads the snapshot
		}
	}()
	res, err := r.program(s)
	if err != nil {
		return nil, err
	}
	for kind, n := range notProgrammedCounts(res, r.controllerName(), &r.blocked) {
		r.metrics.notProgrammed.WithLabelValues(kind).Set(float64(n))
	}
	if fetchErr != nil {
		// The table was built with the last copies of the Secrets or
		// ConfigMaps that could not be fetched; its status would not be true.
		return nil, fetchErr
	}
	r.desired.set(res.HTTPRoutes)
	return &statusJob{snapshot: s, result: res, routeChanges: s.HTTPRouteChanges, done: done}, nil
}

// recycleRoutes is what gives the snapshot's route list back to the route
// log, for a later snapshot, once nothing reads the snapshot.
func (r *Reconciler) recycleRoutes(s *translate.Snapshot) func() {
	if r.routes == nil || s.HTTPRouteChanges == nil {
		return func() {}
	}
	return func() { r.routes.recycle(s.HTTPRoutes) }
}

// program builds and applies the table; when the data plane's bind results
// differ from what the build assumed, it builds once more so that
// Programmed and PortUnavailable tell the truth.
func (r *Reconciler) program(s *translate.Snapshot) (translate.Result, error) {
	for attempt := 0; ; attempt++ {
		res, table, faults, err := r.compile(s)
		if err != nil {
			// The last good table keeps serving.
			return res, err
		}
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

// compile runs Build and Compile. A panic in either is a bug: it is
// recovered here (never hidden by controller-runtime's own recovery),
// counted, logged with the snapshot's size and returned as an error, so the
// last good table keeps serving and the retry backs off.
func (r *Reconciler) compile(s *translate.Snapshot) (res translate.Result, table *routetable.Table, faults routetable.Faults, err error) {
	defer func() {
		if p := recover(); p != nil {
			r.metrics.buildPanics.Inc()
			err = fmt.Errorf("translating the snapshot panicked (a bug in tenantgate): %v", p)
			r.Log.Error(err, "BUG: recovered a panic in Build or Compile; keeping the last good route table",
				"snapshot", snapshotSize(s), "stack", string(debug.Stack()))
		}
	}()
	r.metrics.rebuilds.Inc()
	res = r.build(s)
	r.countBuildRoutes()
	table, faults = r.compiler.Compile(r.servedConfig(s, res.Config))
	r.compiled = true
	if r.recycle != nil {
		// The last Config was read by its Compile and bind results alone;
		// the status writer reads statuses, never a Config.
		r.recycle(r.lastConfig)
		r.lastConfig = res.Config
	}
	return res, table, faults, nil
}

// countBuildRoutes adds the last build's routes to the metric by what it reused.
func (r *Reconciler) countBuildRoutes() {
	if r.buildStats == nil {
		return
	}
	st := r.buildStats()
	r.metrics.buildRoutes.WithLabelValues("replayed").Add(float64(st.Replayed))
	r.metrics.buildRoutes.WithLabelValues("reused").Add(float64(st.Reused))
	r.metrics.buildRoutes.WithLabelValues("translated").Add(float64(st.Translated))
	r.metrics.buildRoutes.WithLabelValues("skipped").Add(float64(st.Skipped))
	r.metrics.buildRoutes.WithLabelValues("walked").Add(float64(st.Walked))
}

// snapshotSize counts a snapshot's objects by kind, for the log of a bug.
func snapshotSize(s *translate.Snapshot) map[string]int {
	return map[string]int{
		"GatewayClass": len(s.GatewayClasses), "Gateway": len(s.Gateways), "ListenerSet": len(s.ListenerSets),
		"HTTPRoute": len(s.HTTPRoutes), "GRPCRoute": len(s.GRPCRoutes), "TLSRoute": len(s.TLSRoutes), "ReferenceGrant": len(s.ReferenceGrants), "BackendTLSPolicy": len(s.BackendTLSPolicies),
		"Service": len(s.Services), "EndpointSlice": len(s.EndpointSlices), "Secret": len(s.Secrets),
		"ConfigMap": len(s.ConfigMaps), "Namespace": len(s.Namespaces),
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
