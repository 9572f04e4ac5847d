package certmanager

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apiext "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	kscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	cmscheme "github.com/cert-manager/cert-manager/pkg/client/clientset/versioned/scheme"
	"github.com/cert-manager/cert-manager/pkg/controller"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	// The controllers and issuers this package runs register themselves.
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/approver"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/ca"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificaterequests/selfsigned"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/issuing"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/keymanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/readiness"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/requestmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/revisionmanager"
	_ "github.com/cert-manager/cert-manager/pkg/controller/certificates/trigger"
	_ "github.com/cert-manager/cert-manager/pkg/controller/clusterissuers"
	_ "github.com/cert-manager/cert-manager/pkg/controller/issuers"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/ca"
	_ "github.com/cert-manager/cert-manager/pkg/issuer/selfsigned"
	logf "github.com/cert-manager/cert-manager/pkg/logs"
	"github.com/cert-manager/cert-manager/pkg/util"
)

// Module is the cert-manager module whose code and CRDs run here; go.mod pins its version.
const Module = "github.com/cert-manager/cert-manager"

// Options says where cert-manager runs.
type Options struct {
	// Config reaches the API server as a cluster administrator.
	Config *rest.Config
	// Kubeconfig is the same identity as a file (cert-manager's controller
	// context builds its clients from one).
	Kubeconfig string
	// ModuleDir is the cert-manager module's directory (the CRDs are in deploy/crds).
	ModuleDir string
	// ClusterResourceNamespace holds ClusterIssuers' Secrets; "kube-system" when empty.
	ClusterResourceNamespace string
	Log                      logr.Logger
}

// CertManager is cert-manager running in this process.
type CertManager struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	errs   []error
}

// Start installs cert-manager's CRDs and starts its controllers and CA
// injector; they run until Stop or until ctx ends.
func Start(ctx context.Context, opts Options) (*CertManager, error) {
	if opts.Config == nil || opts.Kubeconfig == "" || opts.ModuleDir == "" {
		return nil, errors.New("cert-manager needs a rest config, a kubeconfig file and the module directory")
	}
	if opts.ClusterResourceNamespace == "" {
		opts.ClusterResourceNamespace = "kube-system"
	}
	if opts.Log.GetSink() == nil {
		opts.Log = logr.Discard()
	}
	if _, err := envtest.InstallCRDs(opts.Config, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(opts.ModuleDir, "deploy", "crds")}, ErrorIfPathMissing: true,
	}); err != nil {
		return nil, fmt.Errorf("installing cert-manager's CRDs from %s/deploy/crds: %w", opts.ModuleDir, err)
	}
	// cert-manager logs through klog; send it where the caller wants.
	klog.SetLogger(opts.Log)
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	runCtx = logf.NewContext(runCtx, opts.Log)
	cm := &CertManager{cancel: cancel}
	ok := false
	defer func() {
		if !ok {
			cm.Stop()
		}
	}()
	if err := cm.startControllers(runCtx, opts); err != nil {
		return nil, fmt.Errorf("starting cert-manager's controllers: %w", err)
	}
	if err := cm.startCAInjector(runCtx, opts); err != nil {
		return nil, fmt.Errorf("starting cert-manager's CA injector: %w", err)
	}
	ok = true
	return cm, nil
}

// Controllers names the cert-manager controllers Start runs.
func Controllers() []string {
	var names []string
	for name := range controller.Known() {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// startControllers does what cert-manager's cmd/controller app.Run does once
// elected: build the context factory, construct every registered controller,
// start the shared informers and run the controllers.
func (cm *CertManager) startControllers(ctx context.Context, opts Options) error {
	factory, err := controller.NewContextFactory(ctx, controller.ContextOptions{
		Kubeconfig:         opts.Kubeconfig,
		KubernetesAPIQPS:   20, // cert-manager's defaults
		KubernetesAPIBurst: 50,
		IssuerOptions:      controller.IssuerOptions{ClusterResourceNamespace: opts.ClusterResourceNamespace},
		CertificateOptions: controller.CertificateOptions{
			CertificateRequestMinimumBackoffDuration: time.Hour,
			CertificateRequestMaximumBackoffDuration: 32 * time.Hour,
		},
	})
	if err != nil {
		return err
	}
	base, err := factory.Build()
	if err != nil {
		return err
	}
	for name, construct := range controller.Known() {
		c, err := construct(factory)
		if err != nil {
			return fmt.Errorf("controller %s: %w", name, err)
		}
		cm.run(name, func() error { return c.Run(5, ctx) })
	}
	base.SharedInformerFactory.Start(ctx.Done())
	base.KubeSharedInformerFactory.Start(ctx.Done())
	base.HTTP01ResourceMetadataInformersFactory.Start(ctx.Done())
	return nil
}

// startCAInjector does what cert-manager's cmd/cainjector app.Run does:
// a controller-runtime manager with cainjector.RegisterAllInjectors, here
// for webhook configurations and CRDs, reading CAs from Certificates and Secrets.
func (cm *CertManager) startCAInjector(ctx context.Context, opts Options) error {
	scheme := runtime.NewScheme()
	utilruntime.Must(kscheme.AddToScheme(scheme))
	utilruntime.Must(cmscheme.AddToScheme(scheme))
	utilruntime.Must(apiext.AddToScheme(scheme))
	// The injector's field manager comes from the user agent, as in cmd/cainjector.
	mgr, err := ctrl.NewManager(util.RestConfigWithUserAgent(rest.CopyConfig(opts.Config), "cainjector"), ctrl.Options{
		Scheme:  scheme,
		Logger:  opts.Log.WithName("cainjector"),
		Cache:   cache.Options{ReaderFailOnMissingInformer: true},
		Client:  client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
		Metrics: metricsserver.Options{BindAddress: "0"},
		// Several managers may run in one process (tests); names need not be unique.
		Controller:             ctrlConfig(),
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return err
	}
	if err := cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
			cainjector.CustomResourceDefinitionName:       true,
		},
	}); err != nil {
		return err
	}
	cm.run("cainjector", func() error { return mgr.Start(ctx) })
	return nil
}

func ctrlConfig() config.Controller {
	return config.Controller{SkipNameValidation: ptr.To(true)}
}

func (cm *CertManager) run(name string, f func() error) {
	cm.wg.Add(1)
	go func() {
		defer cm.wg.Done()
		if err := f(); err != nil && !errors.Is(err, context.Canceled) {
			cm.mu.Lock()
			cm.errs = append(cm.errs, fmt.Errorf("%s: %w", name, err))
			cm.mu.Unlock()
		}
	}()
}

// Stop ends every controller and waits for them; it returns what they failed with.
func (cm *CertManager) Stop() error {
	cm.cancel()
	cm.wg.Wait()
	cm.mu.Lock()
	defer cm.mu.Unlock()
	return errors.Join(cm.errs...)
}
