package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"net/http/pprof"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func main() {
	host := flag.String("webhook-host", "127.0.0.1", "address the webhook listens on")
	port := flag.Int("webhook-port", 9443, "port the webhook listens on")
	certDir := flag.String("webhook-cert-dir", "", "folder with tls.crt and tls.key")
	metrics := flag.String("metrics-bind-address", "0", "address of /metrics (0: none)")
	health := flag.String("health-probe-bind-address", "", "address of /readyz")
	flag.StringVar(&controllerName, "controller-name", "", "controller name of the floor's route status entries (required)")
	path := flag.String("webhook-path", "", "path of the allow-all HTTPRoute webhook (required)")
	flag.Parse()
	if controllerName == "" || *path == "" {
		fmt.Fprintln(os.Stderr, "floorcontroller: -controller-name and -webhook-path are required")
		os.Exit(2)
	}
	if err := run(*host, *port, *certDir, *metrics, *health, *path); err != nil {
		fmt.Fprintln(os.Stderr, "floorcontroller:", err)
		os.Exit(1)
	}
}

// controllerName names the floor's route status entries.
var controllerName string

// run serves until a signal; the cluster is controller-runtime's
// -kubeconfig flag's.
func run(host string, port int, certDir, metrics, health, path string) error {
	cfg, err := ctrl.GetConfig()
	if err != nil {
		return err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := gatewayv1.Install(scheme); err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		// Profiles for the bench; the heap profile's gc=1 lets it collect
		// the start's garbage (every route listed) before it measures.
		Metrics: metricsserver.Options{BindAddress: metrics, ExtraHandlers: map[string]http.Handler{
			"/debug/pprof/heap": pprof.Handler("heap"), "/debug/pprof/allocs": pprof.Handler("allocs"),
			"/debug/pprof/profile": http.HandlerFunc(pprof.Profile),
		}},
		HealthProbeBindAddress: health,
		WebhookServer:          webhook.NewServer(webhook.Options{Host: host, Port: port, CertDir: certDir}),
		// As any controller holding every route would: managedFields are
		// most of a route's bytes and nothing reads them.
		Cache: cache.Options{DefaultTransform: cache.TransformStripManagedFields()},
	})
	if err != nil {
		return err
	}
	if err := ctrl.NewWebhookManagedBy(mgr, &gatewayv1.HTTPRoute{}).WithValidator(allowAll{}).WithValidatorCustomPath(path).Complete(); err != nil {
		return err
	}
	// Only a new generation is a change to answer: neither the routes
	// there at start nor the echo of the floor's own status write.
	changed := predicate.And(predicate.GenerationChangedPredicate{}, predicate.Funcs{CreateFunc: func(event.CreateEvent) bool { return false }})
	err = ctrl.NewControllerManagedBy(mgr).Named("floor").
		For(&gatewayv1.HTTPRoute{}, builder.WithPredicates(changed)).
		Complete(reconcile.Func(func(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
			return reconcile.Result{}, observe(ctx, mgr.GetClient(), req.NamespacedName)
		}))
	if err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("cache", func(*http.Request) error { return synced(mgr) }); err != nil {
		return err
	}
	return mgr.Start(ctrl.SetupSignalHandler())
}

// synced fails until the cache holds every watched kind.
func synced(mgr ctrl.Manager) error {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("cache not synced")
	}
	return nil
}

// observe writes, on each parent of the route, the floor's Accepted
// condition for the route's generation: one status write per change.
func observe(ctx context.Context, c client.Client, key client.ObjectKey) error {
	var route gatewayv1.HTTPRoute
	if err := c.Get(ctx, key, &route); err != nil {
		return client.IgnoreNotFound(err)
	}
	for _, ref := range route.Spec.ParentRefs {
		i := parentIndex(route.Status.Parents, ref)
		if i < 0 {
			route.Status.Parents = append(route.Status.Parents, gatewayv1.RouteParentStatus{ParentRef: ref, ControllerName: gatewayv1.GatewayController(controllerName)})
			i = len(route.Status.Parents) - 1
		}
		meta.SetStatusCondition(&route.Status.Parents[i].Conditions, metav1.Condition{
			Type: string(gatewayv1.RouteConditionAccepted), Status: metav1.ConditionTrue,
			Reason: string(gatewayv1.RouteReasonAccepted), ObservedGeneration: route.Generation,
		})
	}
	return c.Status().Update(ctx, &route)
}

// parentIndex is the floor's entry for ref, or -1.
func parentIndex(parents []gatewayv1.RouteParentStatus, ref gatewayv1.ParentReference) int {
	for i, p := range parents {
		if p.ControllerName == gatewayv1.GatewayController(controllerName) && p.ParentRef.Name == ref.Name && ptr.Equal(p.ParentRef.Namespace, ref.Namespace) && ptr.Equal(p.ParentRef.SectionName, ref.SectionName) {
			return i
		}
	}
	return -1
}

// allowAll admits every route, as the floor's webhook.
type allowAll struct{}

func (allowAll) ValidateCreate(context.Context, *gatewayv1.HTTPRoute) (admission.Warnings, error) {
	return nil, nil
}

func (allowAll) ValidateUpdate(context.Context, *gatewayv1.HTTPRoute, *gatewayv1.HTTPRoute) (admission.Warnings, error) {
	return nil, nil
}

func (allowAll) ValidateDelete(context.Context, *gatewayv1.HTTPRoute) (admission.Warnings, error) {
	return nil, nil
}
