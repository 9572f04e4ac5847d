package app

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/gateway/translate"
)

// Options are tenantgate's settings, one per flag.
type Options struct {
	// Role is which parts this process runs (see Role); empty means RoleAll.
	Role        Role
	Kubeconfig  string
	MetricsAddr string
	HealthAddr  string
	// PprofAddr serves net/http/pprof; "" or "0" (the default) serves nothing.
	PprofAddr          string
	LeaderElect        bool
	LeaderElectionNS   string
	EnableWebhook      bool
	EnableGateway      bool
	WebhookHost        string
	WebhookPort        int
	WebhookCertDir     string
	GatewayAddressPool string
	// GatewayServiceSelector is the data-plane Pod labels each Gateway's
	// Service selects ("k=v,k2=v2").
	GatewayServiceSelector string
	// GatewayTargetPorts is the data-plane port range ("first-last") Gateways
	// get their own ports from when no address pool is set.
	GatewayTargetPorts string
	// DataPlaneNamespace is where the data-plane Pods run; the controller
	// lists them in each Gateway's EndpointSlice.
	DataPlaneNamespace string
	// DataPlaneImage is the image the controller runs dedicated data planes
	// with (its own); DataPlaneGateway ("namespace/name") makes a data plane
	// serve that one Gateway.
	DataPlaneImage     string
	DataPlaneGateway   string
	PlatformNamespaces []string
	ControllerName     string
	ShutdownGrace      time.Duration
	LogLevel           string
	LogFormat          string
	// KubeAPIQPS and KubeAPIBurst limit this client's API requests; zero
	// means 500 and 1000 (client-go's default of 5/s would make writing the
	// status of thousands of routes take minutes).
	KubeAPIQPS   float64
	KubeAPIBurst int
	// Proxy* bound the data plane's memory and connections (issue 13); see proxy.Options.
	ProxyMaxBufferedBodyBytes           byteSize
	ProxyMaxBufferedBodyBytesPerRequest byteSize
	ProxyMaxConnectionsPerListener      int
	ProxyMetricsRoutes                  int
	ProxyBodyReadTimeout                time.Duration

	// The proxy's HTTP/1.1 fast path and its backend pools (issue 14); see
	// proxy.Options. The zero value keeps the fast path on.
	ProxyDisableFastPath         bool
	ProxyMaxIdleConnsPerEndpoint int
	ProxyMaxConnsPerEndpoint     int
}

// byteSize is a flag holding a byte count, written as an integer or a
// Kubernetes quantity (64Mi, 1Gi).
type byteSize int64

func (b *byteSize) String() string {
	return resource.NewQuantity(int64(*b), resource.BinarySI).String()
}

func (b *byteSize) Set(s string) error {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return fmt.Errorf("%q is not a byte count; write it like 67108864 or 64Mi", s)
	}
	*b = byteSize(q.Value())
	return nil
}

// ParseFlags reads Options from command-line arguments.
func ParseFlags(args []string) (Options, error) {
	var o Options
	var platform, role string
	fs := flag.NewFlagSet("tenantgate", flag.ContinueOnError)
	fs.StringVar(&role, "role", string(RoleAll), "which parts this process runs: all (webhook, controller and proxy, as -enable-webhook and -enable-gateway say), webhook, controller or dataplane")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", "", "kubeconfig file; in-cluster configuration when empty")
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", ":8080", "address of the Prometheus metrics endpoint; 0 disables it")
	fs.StringVar(&o.HealthAddr, "health-probe-bind-address", ":8081", "address of the /healthz and /readyz endpoints")
	fs.StringVar(&o.PprofAddr, "pprof-bind-address", "0", "address of the Go profiler's /debug/pprof endpoints, for profiling a live process; 0 disables it (keep it on loopback: profiles show what the process holds)")
	fs.BoolVar(&o.LeaderElect, "leader-elect", false, "elect one replica to write status; every replica still serves traffic and admission")
	fs.StringVar(&o.LeaderElectionNS, "leader-election-namespace", "", "namespace of the leader-election Lease; the Pod's own namespace when empty")
	fs.BoolVar(&o.EnableWebhook, "enable-webhook", true, "serve the tenant-policy admission webhook")
	fs.BoolVar(&o.EnableGateway, "enable-gateway", true, "run the Gateway API controller and proxy")
	fs.StringVar(&o.WebhookHost, "webhook-host", "", "address the webhook server listens on; all addresses when empty")
	fs.IntVar(&o.WebhookPort, "webhook-port", 9443, "port of the webhook server")
	fs.StringVar(&o.WebhookCertDir, "webhook-cert-dir", "/tmp/k8s-webhook-server/serving-certs", "folder with tls.crt and tls.key for the webhook, reloaded when they change")
	fs.StringVar(&o.GatewayAddressPool, "gateway-address-pool", "", "CIDR from which each Gateway gets its own address, e.g. 127.10.0.0/16 locally")
	fs.StringVar(&o.GatewayServiceSelector, "gateway-service-selector", controller.DefaultServiceSelector, "labels (k=v,k2=v2) of the data-plane Pods that the Service tenantgate creates for each Gateway selects")
	fs.StringVar(&o.GatewayTargetPorts, "gateway-target-ports", translate.DefaultTargetPorts, "without -gateway-address-pool: the data-plane ports (first-last) each Gateway listener port gets one of, so Gateways sharing the data plane never share a socket; the controller and the data plane must agree")
	fs.StringVar(&o.DataPlaneNamespace, "data-plane-namespace", controller.DefaultDataPlaneNamespace, "namespace of the data-plane Pods, which the controller lists in each Gateway's EndpointSlice")
	fs.StringVar(&o.DataPlaneImage, "data-plane-image", "", "image of the dedicated data planes the controller runs for Gateways whose class asks for one (dataPlane: dedicated); the controller's own image")
	fs.StringVar(&o.DataPlaneGateway, "data-plane-gateway", "", "with -role=dataplane: serve only this Gateway (namespace/name), as its dedicated data plane; empty serves every Gateway without one")
	fs.StringVar(&platform, "platform-namespaces", "", "comma-separated namespaces trusted by tenant policy (e.g. infra)")
	fs.StringVar(&o.ControllerName, "controller-name", "tenantgate.dev/gateway-controller", "GatewayClass controllerName this gateway implements")
	fs.DurationVar(&o.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long in-flight requests may finish on shutdown")
	fs.Float64Var(&o.KubeAPIQPS, "kube-api-qps", 500, "API requests per second this process may send (the API server's priority and fairness still applies)")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", 1000, "API requests this process may send in a burst")
	o.ProxyMaxBufferedBodyBytes, o.ProxyMaxBufferedBodyBytesPerRequest = 64<<20, 1<<20
	fs.Var(&o.ProxyMaxBufferedBodyBytes, "proxy-max-buffered-body-bytes", "request body bytes the proxy may hold in memory for mirrors and retries, all requests together; a request beyond it is streamed to its backend unmirrored and tried once")
	fs.Var(&o.ProxyMaxBufferedBodyBytesPerRequest, "proxy-max-buffered-body-bytes-per-request", "largest request body the proxy holds to mirror it or send it again; larger ones are streamed unmirrored and tried once")
	fs.IntVar(&o.ProxyMetricsRoutes, "proxy-metrics-routes", 1000, "routes whose traffic gets metric series of their own (route label); later ones count under route=\"_overflow\"; -1 drops the route label, keeping tenant and namespace")
	fs.IntVar(&o.ProxyMaxConnectionsPerListener, "proxy-max-connections-per-listener", 10000, "client connections open at once on one proxy socket (address and port); more wait in the accept queue")
	fs.DurationVar(&o.ProxyBodyReadTimeout, "proxy-body-read-timeout", 30*time.Second, "time a client has to send a request body, plus 1s per 500 bytes received; a slower client gets 408")
	// Fast path (issue 14).
	fastPath := fs.Bool("proxy-fast-path", true, "serve HTTP/1.1 requests to plain HTTP/1.1 backends on the connection's own goroutine with pooled buffers; false leaves every request to net/http")
	fs.IntVar(&o.ProxyMaxIdleConnsPerEndpoint, "proxy-max-idle-conns-per-endpoint", 256, "idle connections the proxy keeps to each backend endpoint for reuse")
	fs.IntVar(&o.ProxyMaxConnsPerEndpoint, "proxy-max-conns-per-endpoint", 0, "connections the fast path opens to one backend endpoint at most; a request finding them all busy waits up to the dial timeout, then gets 503; 0 means no limit")
	fs.StringVar(&o.LogLevel, "log-level", "info", "debug, info or error")
	fs.StringVar(&o.LogFormat, "log-format", "json", "json or console")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q; tenantgate takes only flags (see -help)", fs.Arg(0))
	}
	o.ProxyDisableFastPath = !*fastPath
	for _, ns := range strings.Split(platform, ",") {
		if ns = strings.TrimSpace(ns); ns != "" {
			o.PlatformNamespaces = append(o.PlatformNamespaces, ns)
		}
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["gateway-service-selector"] && o.GatewayServiceSelector == "" {
		_, err := controller.ParseServiceSelector("") // given empty: say so rather than fall back to the default
		return o, err
	}
	if err := o.setRole(Role(role), set); err != nil {
		return o, err
	}
	return o, o.Validate()
}

// Validate reports settings that cannot work together.
func (o Options) Validate() error {
	if _, err := parseRole(o.Role); err != nil {
		return err
	}
	if !o.EnableWebhook && !o.EnableGateway {
		return errors.New("both -enable-webhook and -enable-gateway are false; enable at least one")
	}
	if o.GatewayServiceSelector != "" {
		if _, err := controller.ParseServiceSelector(o.GatewayServiceSelector); err != nil {
			return err
		}
	}
	if o.DataPlaneGateway != "" {
		if _, err := parseGatewayKey(o.DataPlaneGateway); err != nil {
			return err
		}
		if o.Role != RoleDataPlane {
			return fmt.Errorf("-data-plane-gateway is set but -role is %q; only -role=dataplane serves one Gateway, so drop it or set -role=dataplane", o.Role)
		}
	}
	if o.GatewayTargetPorts != "" {
		if _, err := translate.ParsePortRange(o.GatewayTargetPorts); err != nil {
			return err
		}
	}
	switch o.LogFormat {
	case "json", "console":
	default:
		return fmt.Errorf("-log-format %q is not json or console", o.LogFormat)
	}
	if err := o.validateFastPath(); err != nil {
		return err
	}
	return o.validateProxy()
}

// validateFastPath checks the fast path's pool limits.
func (o Options) validateFastPath() error {
	switch {
	case o.ProxyMaxIdleConnsPerEndpoint < 0:
		return fmt.Errorf("-proxy-max-idle-conns-per-endpoint %d is negative; give a count such as 256 (0 means the default)", o.ProxyMaxIdleConnsPerEndpoint)
	case o.ProxyMaxConnsPerEndpoint < 0:
		return fmt.Errorf("-proxy-max-conns-per-endpoint %d is negative; give a count such as 1024, or 0 for no limit", o.ProxyMaxConnsPerEndpoint)
	}
	return nil
}

// validateProxy checks the data plane's limits.
func (o Options) validateProxy() error {
	switch {
	case o.ProxyMaxBufferedBodyBytes < 0:
		return fmt.Errorf("-proxy-max-buffered-body-bytes %d is negative; give a byte count such as 64Mi", o.ProxyMaxBufferedBodyBytes)
	case o.ProxyMaxBufferedBodyBytesPerRequest < 0:
		return fmt.Errorf("-proxy-max-buffered-body-bytes-per-request %d is negative; give a byte count such as 1Mi", o.ProxyMaxBufferedBodyBytesPerRequest)
	case o.ProxyMaxBufferedBodyBytes > 0 && o.ProxyMaxBufferedBodyBytesPerRequest > o.ProxyMaxBufferedBodyBytes:
		return fmt.Errorf("-proxy-max-buffered-body-bytes-per-request %s is over -proxy-max-buffered-body-bytes %s, so no such body could ever be held; raise the total or lower the per-request limit", o.ProxyMaxBufferedBodyBytesPerRequest.String(), o.ProxyMaxBufferedBodyBytes.String())
	case o.ProxyMaxConnectionsPerListener < 0:
		return fmt.Errorf("-proxy-max-connections-per-listener %d is negative; give a positive count such as 10000 (0 means the default)", o.ProxyMaxConnectionsPerListener)
	case o.ProxyBodyReadTimeout < 0 || o.ProxyBodyReadTimeout > 0 && o.ProxyBodyReadTimeout < time.Second:
		return fmt.Errorf("-proxy-body-read-timeout %s is under 1s, which would cut ordinary uploads; give at least 1s (0 means the default of 30s)", o.ProxyBodyReadTimeout)
	}
	return nil
}

// parseGatewayKey reads -data-plane-gateway: "namespace/name".
func parseGatewayKey(s string) (types.NamespacedName, error) {
	ns, name, ok := strings.Cut(s, "/")
	if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
		return types.NamespacedName{}, fmt.Errorf("-data-plane-gateway %q is not namespace/name of a Gateway, such as infra/shared", s)
	}
	return types.NamespacedName{Namespace: ns, Name: name}, nil
}
