package app

import (
	"context"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/gateway/proxy"
	"github.com/tenantgate/tenantgate/leadership"
)

// setupGateway adds the proxy and the gateway controller to the manager.
// Both run on every replica; only the leader writes status.
func setupGateway(mgr ctrl.Manager, opts Options, policy *policyCache, lead *leadership.State, log logr.Logger) error {
	pool, err := controller.ParsePool(opts.GatewayAddressPool)
	if err != nil {
		return err
	}
	srv := proxy.NewServer(proxy.Options{
		Registerer:                metrics.Registry,
		Logger:                    log.WithName("proxy"),
		MaxBufferedBodyBytes:      int64(opts.ProxyMaxBufferedBodyBytes),
		MirrorBodyLimit:           int64(opts.ProxyMaxBufferedBodyBytesPerRequest),
		RetryBodyLimit:            int64(opts.ProxyMaxBufferedBodyBytesPerRequest),
		MaxConnectionsPerListener: opts.ProxyMaxConnectionsPerListener,
		BodyReadTimeout:           opts.ProxyBodyReadTimeout,
	})
	if err := mgr.Add(everyReplica(func(ctx context.Context) error {
		<-ctx.Done()
		// Drain: stop accepting, let in-flight requests finish.
		shutdownCtx, cancel := context.WithTimeout(context.Background(), opts.ShutdownGrace)
		defer cancel()
		return srv.Shutdown(shutdownCtx)
	})); err != nil {
		return err
	}
	r := &controller.Reconciler{
		Reader:         mgr.GetCache(),
		APIReader:      mgr.GetAPIReader(),
		Writer:         mgr.GetClient(),
		Leadership:     lead,
		DataPlane:      srv,
		Pool:           pool,
		ControllerName: gatewayv1.GatewayController(opts.ControllerName),
		Policy:         policy,
		PolicyChanged:  policy.changed,
		Log:            log.WithName("gateway"),
		Events:         mgr.GetEventRecorder("tenantgate-gateway"),
		Registerer:     metrics.Registry,
		Now:            time.Now,
	}
	return r.SetupWithManager(mgr)
}

// everyReplica is a runnable that does not wait for leader election.
type everyReplica func(ctx context.Context) error

func (f everyReplica) Start(ctx context.Context) error { return f(ctx) }
func (everyReplica) NeedLeaderElection() bool          { return false }
