package app

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/gateway/proxy"
	"github.com/tenantgate/tenantgate/gateway/translate"
	"github.com/tenantgate/tenantgate/leadership"
)

// addProxy adds the proxy to the manager; it binds the listeners of every
// table applied to it and drains on shutdown. tenantOf labels its metrics.
func addProxy(mgr ctrl.Manager, opts Options, tenantOf func(namespace string) string, log logr.Logger) (*proxy.Server, error) {
	srv := proxy.NewServer(proxy.Options{
		Registerer:                metrics.Registry,
		Logger:                    log.WithName("proxy"),
		MaxBufferedBodyBytes:      int64(opts.ProxyMaxBufferedBodyBytes),
		MirrorBodyLimit:           int64(opts.ProxyMaxBufferedBodyBytesPerRequest),
		RetryBodyLimit:            int64(opts.ProxyMaxBufferedBodyBytesPerRequest),
		MaxConnectionsPerListener: opts.ProxyMaxConnectionsPerListener,
		BodyReadTimeout:           opts.ProxyBodyReadTimeout,
		TenantOf:                  tenantOf,
		MetricsRoutes:             opts.ProxyMetricsRoutes,
		DisableFastPath:           opts.ProxyDisableFastPath,
		MaxIdleConnsPerHost:       opts.ProxyMaxIdleConnsPerEndpoint,
		MaxConnsPerEndpoint:       opts.ProxyMaxConnsPerEndpoint,
	})
	return srv, mgr.Add(everyReplica(func(ctx context.Context) error {
		<-ctx.Done()
		// Drain: stop accepting, let in-flight requests finish.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownGrace)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	}))
}

// setupGateway adds the gateway controller to the manager, programming
// plane. It runs on every replica; status is written only by a writer, and
// only while lead says it leads. Events are a writer's too.
func setupGateway(mgr ctrl.Manager, opts Options, policy *policyCache, lead *leadership.State, plane controller.DataPlane, writer bool, log logr.Logger) error {
	pool, err := controller.ParsePool(opts.GatewayAddressPool)
	if err != nil {
		return err
	}
	selector := map[string]string(nil) // empty (Options built in code): the default
	if opts.GatewayServiceSelector != "" {
		if selector, err = controller.ParseServiceSelector(opts.GatewayServiceSelector); err != nil {
			return err
		}
	}
	var targets translate.PortRange // empty (Options built in code): the default
	if opts.GatewayTargetPorts != "" {
		if targets, err = translate.ParsePortRange(opts.GatewayTargetPorts); err != nil {
			return err
		}
	}
	var serve types.NamespacedName
	if opts.DataPlaneGateway != "" {
		if serve, err = parseGatewayKey(opts.DataPlaneGateway); err != nil {
			return err
		}
	}
	r := &controller.Reconciler{
		Reader:          mgr.GetCache(),
		APIReader:       mgr.GetAPIReader(),
		Writer:          mgr.GetClient(),
		Leadership:      lead,
		DataPlane:       plane,
		Pool:            pool,
		ServiceSelector: selector,
		TargetPortRange: targets,
		// Only a writer lists the data-plane Pods, into the EndpointSlices it writes.
		DataPlaneNamespace: opts.DataPlaneNamespace,
		WatchDataPlanePods: writer,
		DataPlaneImage:     opts.DataPlaneImage,
		DataPlaneArgs:      dedicatedArgs(opts),
		ServeGateway:       serve,
		ReservedPorts:      reservedPorts(opts),
		ControllerName:     gatewayv1.GatewayController(opts.ControllerName),
		Policy:             policy,
		PolicyChanged:      policy.changed,
		Log:                log.WithName("gateway"),
		Registerer:         metrics.Registry,
		Now:                time.Now,
	}
	if writer {
		r.Events = mgr.GetEventRecorder("tenantgate-gateway")
	}
	return r.SetupWithManager(mgr)
}

// dedicatedArgs are the flags a dedicated data plane shares with this
// controller, so it translates exactly as the shared one does.
func dedicatedArgs(opts Options) []string {
	args := []string{"-controller-name=" + opts.ControllerName, "-shutdown-grace=" + opts.ShutdownGrace.String()}
	if len(opts.PlatformNamespaces) > 0 {
		args = append(args, "-platform-namespaces="+strings.Join(opts.PlatformNamespaces, ","))
	}
	if opts.LogFormat != "" {
		args = append(args, "-log-format="+opts.LogFormat)
	}
	return args
}

// reservedPorts are the data plane's own ports, which no Gateway listener
// may use: its Service would send that port's traffic to them. They are
// taken to be this process's metrics and health ports, as in
// manifests/default, where every role uses :8080 and :8081.
func reservedPorts(opts Options) map[int32]string {
	out := map[int32]string{}
	for addr, what := range map[string]string{opts.MetricsAddr: "its metrics endpoint", opts.HealthAddr: "its health probes"} {
		if _, port, err := net.SplitHostPort(addr); err == nil {
			if n, err := strconv.ParseInt(port, 10, 32); err == nil && n > 0 {
				out[int32(n)] = what
			}
		}
	}
	return out
}

// everyReplica is a runnable that does not wait for leader election.
type everyReplica func(ctx context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }
