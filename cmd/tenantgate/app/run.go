package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	crwebhook "sigs.k8s.io/controller-runtime/pkg/webhook"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/leadership"
	tenancyv1alpha1 "github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Scheme holds every API type tenantgate reads or writes.
func Scheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, gatewayv1.Install, gatewayv1beta1.Install, tenancyv1alpha1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Run starts tenantgate and blocks until ctx ends. cfg, when not nil,
// overrides -kubeconfig (the local runner passes its own identity).
func Run(ctx context.Context, opts Options, cfg *rest.Config) error {
	return RunWithLogOutput(ctx, opts, cfg, nil)
}

// RunWithLogOutput is Run with the log written to out.
func RunWithLogOutput(ctx context.Context, opts Options, cfg *rest.Config, out io.Writer) error {
	log, err := NewLogger(opts.LogLevel, opts.LogFormat, out)
	if err != nil {
		return err
	}
	ctrl.SetLogger(log)
	limitMemory(log)
	if cfg == nil {
		if cfg, err = restConfig(opts.Kubeconfig); err != nil {
			return err
		}
	}
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = float32(opts.KubeAPIQPS), opts.KubeAPIBurst
	if cfg.QPS == 0 {
		cfg.QPS = 500
	}
	if cfg.Burst == 0 {
		cfg.Burst = 1000
	}
	scheme, err := Scheme()
	if err != nil {
		return err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		// Secrets and ConfigMaps are never cached in full: the gateway
		// watches their metadata and fetches only the referenced ones, and a
		// cached Get would start an informer holding every one of them.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}, &corev1.ConfigMap{}}}},
		// Nothing reads managedFields or kubectl's last-applied copy (transform.go).
		// Informers retry an unreachable API server every few seconds
		// instead of backing off for up to a minute (reconnect.go).
		Cache:                  cache.Options{DefaultTransform: cacheTransform(), NewInformer: newReconnectingInformer},
		Metrics:                metricsserver.Options{BindAddress: opts.MetricsAddr},
		HealthProbeBindAddress: opts.HealthAddr,
		PprofBindAddress:       opts.PprofAddr,
		// No manager leader election: losing its Lease would end the
		// process and this replica's proxy. leadership gates the writers.
		WebhookServer: crwebhook.NewServer(crwebhook.Options{
			Host: opts.WebhookHost, Port: opts.WebhookPort, CertDir: opts.WebhookCertDir,
		}),
	})
	if err != nil {
		return fmt.Errorf("creating the controller manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return err
	}
	policy, err := newPolicyCache(ctx, mgr.GetCache(), opts.PlatformNamespaces, log.WithName("policy"))
	if err != nil {
		return err
	}
	if err := mgr.Add(policy); err != nil {
		return err
	}
	// Not ready to admit or route until the tenant policy has been built once.
	if err := mgr.AddReadyzCheck("tenant-policy", func(*http.Request) error {
		if !isClosed(policy.ready) {
			return errors.New("the tenant policy has not been built from the cache yet")
		}
		return nil
	}); err != nil {
		return err
	}
	if err := setupRole(mgr, cfg, opts, policy, log); err != nil {
		return err
	}
	role, _ := parseRole(opts.Role)
	log.Info("starting tenantgate", "role", role, "webhook", opts.EnableWebhook, "gateway", opts.EnableGateway)
	return mgr.Start(ctx)
}

// LeaseName names the Lease whose holder writes status and Events.
const LeaseName = "tenantgate-status-writer"

// addLeadership returns the state the writers are gated on: always leading
// with -leader-elect=false, else decided by an Elector campaigning for the
// Lease on every replica for as long as the process runs.
func addLeadership(mgr ctrl.Manager, cfg *rest.Config, opts Options, log logr.Logger) (*leadership.State, error) {
	if !opts.LeaderElect {
		return leadership.Always(), nil
	}
	ns := opts.LeaderElectionNS
	if ns == "" {
		data, err := os.ReadFile(inClusterNamespace)
		if err != nil {
			return nil, fmt.Errorf("-leader-election-namespace is empty and this is not a Pod (%v); set it to the namespace of the %s Lease", err, LeaseName)
		}
		ns = strings.TrimSpace(string(data))
	}
	state := &leadership.State{}
	e, err := leadership.NewElector(cfg, ns, LeaseName, state, log.WithName("leader-election"))
	if err != nil {
		return nil, err
	}
	return state, mgr.Add(e)
}

// inClusterNamespace holds the Pod's own namespace.
const inClusterNamespace = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

func restConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		return ctrl.GetConfig()
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("reading -kubeconfig %s: %w", kubeconfig, err)
	}
	return cfg, nil
}
