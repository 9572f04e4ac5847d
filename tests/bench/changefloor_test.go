package bench

import (
	"context"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/hack/bench/results"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"
	"github.com/tenantgate/tenantgate/tests/roles"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// The floor controller's controller name and webhook path, given to
// hack/bench/cmd/floorcontroller.
const (
	floorControllerName = "bench.tenantgate.dev/floor"
	floorWebhookPath    = "/validate-httproute"
)

// changeFloor makes the same single-route changes as changes, with
// tenantgate paused and the HTTPRoute webhook pointed at the floor
// controller: a controller-runtime process that admits every change, takes
// it from its cache's watch and writes one status for it, and nothing
// else. Its CPU per change is what any controller built the same way pays
// on this machine, whatever it then does; it is reported beside
// tenantgate's from the change phase (e.changeCPU), with the ratio.
func (e *env) changeFloor(b *testing.B, set string, n, count int, budget time.Duration) {
	ctx := context.Background()
	floor, metricsAddr := e.startFloorController(b)
	floorMetrics := func() []byte { return scrapeMetrics(b, "http://"+metricsAddr+"/metrics") }
	url := "https://" + net.JoinHostPort(e.s.Options.WebhookHost, floor.port) + floorWebhookPath
	was := e.pointHTTPRouteHook(b, &url)
	defer func() {
		e.pointHTTPRouteHook(b, was)
		e.awaitHookCalled(b, "tenantgate's", func() []byte { return e.tenantgateMetrics(b) }, set)
	}()
	e.awaitHookCalled(b, "the floor controller's", floorMetrics, set)
	e.settle(b, 3*time.Minute)
	// Paused, tenantgate neither competes for the cores nor writes the
	// routes' status (its writes would conflict with the floor's).
	if err := syscall.Kill(e.s.Pid(), syscall.SIGSTOP); err != nil {
		b.Fatal(err)
	}
	defer func() {
		if err := syscall.Kill(e.s.Pid(), syscall.SIGCONT); err != nil {
			b.Errorf("resuming tenantgate: %v", err)
		}
	}()
	watcher := e.watchFloor(b, set, floorObserved)
	// change k of the phase, to the value named; how long until the
	// floor's status for it was seen, false if not within 30 s.
	change := func(k int, name string) (time.Duration, bool) {
		i := k * 997 % n
		value := name + strconv.Itoa(k)
		route := benchRoute(set, i, value)
		start := time.Now()
		if err := e.patchRules(ctx, route); err != nil {
			b.Fatalf("changing route %s/%s: %v", route.Namespace, route.Name, err)
		}
		at, ok := watcher.at(value, start.Add(30*time.Second))
		return at.Sub(start), ok
	}
	// Warm, as tenantgate is after its apply phase (connections, the
	// decoders' type caches), then without the start's garbage.
	for k := range 10 {
		change(k, "warm")
	}
	_ = pprofAt(b, metricsAddr, "heap?gc=1")
	defer profileCPU(b, metricsAddr, "change-floor", 5*time.Second)()
	scrape := func() metricsScrape { return metricsScrape(floorMetrics()) }
	before := scrape()
	cpuBefore := cpuSeconds(b, floor.Pid())
	var took []time.Duration
	missed := 0
	phaseEnd := time.Now().Add(budget)
	for k := 0; k < count && time.Now().Before(phaseEnd); k++ {
		if d, ok := change(k, "f"); ok {
			took = append(took, d)
		} else {
			missed++
		}
	}
	changes := float64(len(took) + missed)
	cpu := cpuSeconds(b, floor.Pid()) - cpuBefore
	after := scrape()
	allocated := after.counter(b, "go_memstats_alloc_bytes_total", nil) - before.counter(b, "go_memstats_alloc_bytes_total", nil)
	slices.Sort(took)
	b.ReportMetric(changes, "changes")
	b.ReportMetric(float64(missed), "changes-not-observed")
	b.ReportMetric(ratio(cpu*1000, changes), "ms-cpu-per-change")
	b.ReportMetric(ratio(allocated/(1<<20), changes), "MiB-allocated-per-change")
	b.ReportMetric(ms(results.Percentile(took, 0.5)), "ms-status-p50")
	b.ReportMetric(ms(results.Percentile(took, 0.99)), "ms-status-p99")
	if e.changeCPU > 0 { // the change phase ran
		b.ReportMetric(e.changeCPU, "ms-tenantgate-cpu-per-change-less-probes")
		b.ReportMetric(ratio(e.changeCPU, ratio(cpu*1000, changes)), "x-tenantgate-over-floor")
	}
}

// awaitHookCalled waits until the API server calls the HTTPRoute webhook
// of the process whose metrics are given: a dry-run change of a route of
// set, repeated until that process counts an admission request.
func (e *env) awaitHookCalled(b *testing.B, whose string, metrics func() []byte, set string) {
	ctx := context.Background()
	requests := func() float64 {
		return metricsScrape(metrics()).counter(b, "controller_runtime_webhook_requests_total", nil)
	}
	before := requests()
	route := benchRoute(set, 0, "dry-run")
	deadline := time.Now().Add(time.Minute)
	for {
		if err := e.patchRules(ctx, route, client.DryRunAll); err != nil && !apierrors.IsTimeout(err) {
			b.Fatalf("dry-run change of route %s/%s: %v", route.Namespace, route.Name, err)
		}
		if requests() > before {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("the API server still does not call %s HTTPRoute webhook after a minute", whose)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// floorObserved reports whether the floor controller's status on r is
// for r's generation.
func floorObserved(r *gatewayv1.HTTPRoute) bool {
	for _, p := range r.Status.Parents {
		if p.ControllerName != floorControllerName {
			continue
		}
		c := meta.FindStatusCondition(p.Conditions, string(gatewayv1.RouteConditionAccepted))
		return c != nil && c.ObservedGeneration == r.Generation
	}
	return false
}

// floorController is the running floor controller.
type floorController struct {
	*proc.Process
	port string
}

// startFloorController builds and starts hack/bench/cmd/floorcontroller,
// serving its webhook with the certificate the API server trusts for
// tenantgate's, and waits until its cache is synced and its webhook up. It
// returns the process and its metrics address.
func (e *env) startFloorController(b *testing.B) (*floorController, string) {
	root, err := cluster.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	bin, err := stack.BuildCommand(b.Context(), root, b.TempDir(), "./hack/bench/cmd/floorcontroller")
	if err != nil {
		b.Fatalf("building the floor controller: %v", err)
	}
	_, port, err := net.SplitHostPort(freeAddr(b))
	if err != nil {
		b.Fatal(err)
	}
	metricsAddr, healthAddr := freeAddr(b), freeAddr(b)
	logPath := filepath.Join(e.s.Cluster.Dir, "floorcontroller.log")
	log, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer log.Close()
	cmd := exec.Command(bin, "-kubeconfig", e.s.Cluster.AdminKubeconfig, "-webhook-host", e.s.Options.WebhookHost, "-webhook-port", port,
		"-webhook-cert-dir", e.s.Options.WebhookCertDir, "-metrics-bind-address", metricsAddr, "-health-probe-bind-address", healthAddr,
		"-controller-name", floorControllerName, "-webhook-path", floorWebhookPath)
	cmd.Stdout, cmd.Stderr = log, log
	p, err := proc.Start(cmd)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Stop(5 * time.Second); err != nil {
			b.Errorf("stopping the floor controller: %v", err)
		}
	})
	deadline := time.Now().Add(3 * time.Minute)
	for {
		select {
		case <-p.Done():
			b.Fatalf("the floor controller exited while starting: %v; its log %s ends:\n%s", p.Err(), logPath, roles.Tail(logPath, 15))
		default:
		}
		if resp, err := http.Get("http://" + healthAddr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return &floorController{Process: p, port: port}, metricsAddr
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("the floor controller was not ready within 3 minutes; its log %s ends:\n%s", logPath, roles.Tail(logPath, 15))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
