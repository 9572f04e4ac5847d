package roles

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// pool is this package's own loopback range for Gateway addresses.
const pool = "127.76.0.0/24" // no other test package uses it: tests/faults runs at the same time

// hijackDenial is what the webhook answers when bananas claims apples' hostname.
const hijackDenial = `spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`

// TestThreeRolesAsSeparateProcesses runs the webhook, the controller and
// the data plane as three processes of the built binary, started in that
// order against one API server, and checks what each does and never does.
func TestThreeRolesAsSeparateProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	hooks := envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}, LocalServingHost: "127.0.0.1"}
	b := newBed(t, ctx, root, cluster.Options{Webhooks: hooks})
	c, w := b.c, b.w
	start := func(role app.Role, args ...string) *Process {
		t.Helper()
		return b.start(t, ctx, role, string(role), append([]string{"-platform-namespaces=infra", "-shutdown-grace=2s"}, args...)...)
	}
	wh := c.Env.WebhookInstallOptions
	webhook := start(app.RoleWebhook, "-webhook-host=127.0.0.1", "-webhook-port="+strconv.Itoa(wh.LocalServingPort), "-webhook-cert-dir="+wh.LocalServingCertDir)
	webhookAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(wh.LocalServingPort))

	// Only the webhook runs: Tenants and routes are admitted by it alone.
	w.applySeed(t, "00-namespaces.yaml", "01-workloads.yaml", "02-gateway.yaml", "03-tenants.yaml",
		"scenario-b/gateway-allow-teams.yaml", "scenario-b/httproute-apples.yaml")
	t.Run("webhook: denies a hijack with no controller or data plane running", func(t *testing.T) {
		var denial string
		stack.Eventually(t, 10*time.Second, "the hijack denied", func(ctx context.Context) (bool, string) {
			err := w.tryApply(ctx, seedFile(t, w.seed, "scenario-b/hijack-apples-hostname.yaml"))
			denial = fmt.Sprint(err)
			return err != nil && strings.Contains(denial, hijackDenial), denial
		})
		t.Logf("denied: %s", denial)
	})

	controller := start(app.RoleController, "-leader-elect", "-leader-election-namespace="+Namespace, "-gateway-address-pool="+pool)
	gatewayAddr := w.gatewayAddress(t)
	t.Run("controller: writes status, holds the Lease, binds no proxy port", func(t *testing.T) {
		w.routeAccepted(t, "apples", "apples")
		m := scrape(t, controller)
		if got := stack.Sum(m["leader_election_master_status"], map[string]string{"name": app.LeaseName}); got != 1 {
			t.Errorf("leader_election_master_status %v; want 1, the controller leads", got)
		}
		assertListening(t, controller, controller.MetricsAddr, controller.HealthAddr)
		// Status says the Gateway has an address, but nothing listens there yet.
		if conn, err := net.DialTimeout("tcp", gatewayAddr, time.Second); err == nil {
			conn.Close()
			t.Errorf("%s accepts connections with only the webhook and the controller running", gatewayAddr)
		}
	})

	w.awaitEchoDeployments(t)
	dataplane := start(app.RoleDataPlane, "-gateway-address-pool="+pool)
	t.Run("dataplane: serves traffic on the Gateway's address", func(t *testing.T) {
		w.eventuallyServes(t, gatewayAddr, "apples.example.com", "apple-echo")
		assertListening(t, dataplane, dataplane.MetricsAddr, dataplane.HealthAddr, gatewayAddr)
	})
	t.Run("webhook: binds only its webhook port", func(t *testing.T) {
		assertListening(t, webhook, webhook.MetricsAddr, webhook.HealthAddr, webhookAddr)
	})

	t.Run("each role has its own metrics and readiness checks", func(t *testing.T) {
		for _, tc := range []struct {
			p         *Process
			has, hasn []string // metric families
			checks    []string // /readyz?verbose lines
		}{
			{webhook, []string{"tenantgate_admission_decisions_total"},
				[]string{"tenantgate_proxy_requests_total", "tenantgate_gateway_rebuilds_total", "leader_election_master_status"},
				[]string{"[+]tenant-policy ok", "[+]webhook-server ok"}},
			{controller, []string{"tenantgate_gateway_rebuilds_total", "leader_election_master_status"},
				[]string{"tenantgate_proxy_requests_total", "tenantgate_admission_decisions_total"},
				[]string{"[+]tenant-policy ok", "[+]caches-synced ok"}},
			{dataplane, []string{"tenantgate_gateway_rebuilds_total", "tenantgate_proxy_requests_total"},
				[]string{"tenantgate_admission_decisions_total", "leader_election_master_status"},
				[]string{"[+]tenant-policy ok", "[+]route-table ok"}},
		} {
			m := scrape(t, tc.p)
			if got := stack.Sum(m["tenantgate_role_info"], map[string]string{"role": string(tc.p.Role)}); got != 1 || len(m["tenantgate_role_info"].GetMetric()) != 1 {
				t.Errorf("%s: tenantgate_role_info %v; want one series, role=%q, value 1", tc.p.Role, m["tenantgate_role_info"], tc.p.Role)
			}
			for _, name := range tc.has {
				if m[name] == nil {
					t.Errorf("%s exposes no %s", tc.p.Role, name)
				}
			}
			for _, name := range tc.hasn {
				if m[name] != nil {
					t.Errorf("%s exposes %s, which is another role's", tc.p.Role, name)
				}
			}
			code, body, err := tc.p.Readyz()
			if err != nil || code != http.StatusOK {
				t.Errorf("%s /readyz: %d %v", tc.p.Role, code, err)
			}
			for _, check := range tc.checks {
				if !strings.Contains(body, check) {
					t.Errorf("%s /readyz?verbose lacks %q:\n%s", tc.p.Role, check, body)
				}
			}
		}
	})

	// The controller goes away. Each data-plane replica translates from its
	// own watches, so a new route is still served; nobody writes its status.
	if err := controller.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	t.Run("dataplane: programs a new route with the controller down, writing nothing", func(t *testing.T) {
		w.apply(t, `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bananas, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [bananas.example.com]
  rules: [{backendRefs: [{name: banana-echo, port: 80}]}]
`)
		w.eventuallyServes(t, gatewayAddr, "bananas.example.com", "banana-echo")
		var route gatewayv1.HTTPRoute
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: "bananas", Name: "bananas"}, &route); err != nil {
			t.Fatal(err)
		}
		if len(route.Status.Parents) != 0 {
			t.Errorf("HTTPRoute bananas/bananas has status %+v with no controller running; the data plane must not write it", route.Status.Parents)
		}
		for _, p := range []*Process{dataplane, webhook} {
			if n := writes(t, p); n != 0 {
				t.Errorf("%s made %v API requests that write (POST, PUT, PATCH, DELETE); want 0", p.Role, n)
			}
			if p.Exited() {
				t.Errorf("%s exited", p.Role)
			}
		}
	})
}

// world is the cluster as the test sees it: an admin client and the seed.
type world struct {
	client client.Client
	seed   string
}

func newWorld(t *testing.T, c *cluster.Cluster, root string) *world {
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.CopyConfig(c.Admin)
	cfg.QPS, cfg.Burst = 200, 400
	k, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return &world{client: k, seed: filepath.Join(root, "manifests", "examples", "seed")}
}

// applyRBAC applies the ServiceAccounts, roles and bindings of
// manifests/default as `kubectl apply -k` would.
func (w *world) applyRBAC(t *testing.T, root string) {
	t.Helper()
	rbac, err := RBAC(context.Background(), root)
	if err != nil {
		t.Fatal(err)
	}
	w.apply(t, rbac)
}

// impersonating is a kubeconfig acting as the role's ServiceAccount.
func impersonating(t *testing.T, path string, role app.Role) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), string(role)+".kubeconfig")
	if err := Impersonating(path, Account(role), out); err != nil {
		t.Fatal(err)
	}
	return out
}

func (w *world) apply(t *testing.T, manifests string) {
	t.Helper()
	if err := w.tryApply(context.Background(), manifests); err != nil {
		t.Fatal(err)
	}
}

// tryApply server-side applies every object of a YAML stream, as `kubectl
// apply --server-side` does, and returns the first error.
func (w *world) tryApply(ctx context.Context, manifests string) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifests)), 4096)
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("decoding manifests: %w", err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := w.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("roles-test"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
}

func (w *world) applySeed(t *testing.T, files ...string) {
	t.Helper()
	for _, f := range files {
		w.apply(t, seedFile(t, w.seed, f))
	}
}

func seedFile(t *testing.T, seed, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(seed, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// gatewayAddress waits until Gateway infra/shared is Programmed with an
// address and returns it with port 80.
func (w *world) gatewayAddress(t *testing.T) string {
	t.Helper()
	var addr string
	stack.Eventually(t, time.Minute, "Gateway infra/shared Programmed with an address", func(ctx context.Context) (bool, string) {
		var gw gatewayv1.Gateway
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: "infra", Name: "shared"}, &gw); err != nil {
			return false, err.Error()
		}
		if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) || len(gw.Status.Addresses) == 0 {
			return false, fmt.Sprintf("status %+v", gw.Status)
		}
		addr = net.JoinHostPort(gw.Status.Addresses[0].Value, "80")
		return true, ""
	})
	return addr
}

func (w *world) routeAccepted(t *testing.T, ns, name string) {
	t.Helper()
	stack.Eventually(t, 30*time.Second, "HTTPRoute "+ns+"/"+name+" Accepted", func(ctx context.Context) (bool, string) {
		var r gatewayv1.HTTPRoute
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r); err != nil {
			return false, err.Error()
		}
		for _, p := range r.Status.Parents {
			if meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("parents %+v", r.Status.Parents)
	})
}

func (w *world) awaitEchoDeployments(t *testing.T) {
	t.Helper()
	for _, d := range []types.NamespacedName{{Namespace: "apples", Name: "apple-echo"}, {Namespace: "bananas", Name: "banana-echo"}} {
		stack.Eventually(t, 2*time.Minute, "Deployment "+d.String()+" ready", func(ctx context.Context) (bool, string) {
			var dep appsv1.Deployment
			if err := w.client.Get(ctx, d, &dep); err != nil {
				return false, err.Error()
			}
			return dep.Status.ReadyReplicas == *dep.Spec.Replicas, dep.Status.String()
		})
	}
}

// eventuallyServes waits until a request for host through addr gets 200
// from a Pod whose name starts with app (echo-basic reports its Pod).
func (w *world) eventuallyServes(t *testing.T, addr, host, app string) {
	t.Helper()
	hc := &http.Client{Timeout: 2 * time.Second}
	stack.Eventually(t, 30*time.Second, host+" served through "+addr, func(ctx context.Context) (bool, string) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/", nil)
		if err != nil {
			return false, err.Error()
		}
		req.Host = host
		resp, err := hc.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var echo struct{ Pod string }
		ok := resp.StatusCode == http.StatusOK && json.Unmarshal(body, &echo) == nil && strings.HasPrefix(echo.Pod, app+"-")
		return ok, fmt.Sprintf("%d %s", resp.StatusCode, body)
	})
}

// assertListening checks that p listens on exactly the addresses want.
func assertListening(t *testing.T, p *Process, want ...string) {
	t.Helper()
	got, err := p.Listening()
	if err != nil {
		t.Fatalf("reading the sockets of the %s process: %v", p.Role, err)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the %s process listens on %v; want exactly %v", p.Role, got, want)
	}
}

func scrape(t *testing.T, p *Process) map[string]*dto.MetricFamily {
	t.Helper()
	m, err := p.Metrics()
	if err != nil {
		t.Fatalf("scraping the %s process: %v", p.Role, err)
	}
	return m
}

// writes counts the API requests that change something the process's
// clients have made, from client-go's metrics.
func writes(t *testing.T, p *Process) float64 {
	t.Helper()
	m := scrape(t, p)
	var n float64
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		n += stack.Sum(m["rest_client_requests_total"], map[string]string{"method": method})
	}
	return n
}
