package e2e

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// TestSeedWalkthrough is the seed scenario of the README, step by step.
func TestSeedWalkthrough(t *testing.T) {
	s := stack.Start(t, stack.Options{AddressPool: "127.20.0.0/16", PlatformNamespaces: []string{"infra"}})
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(root, "manifests", "examples", "seed")
	apply := func(t *testing.T, files ...string) string {
		t.Helper()
		args := []string{"apply"}
		for _, f := range files {
			args = append(args, "-f", filepath.Join(seed, f))
		}
		out, err := s.Kubectl("", args...)
		if err != nil {
			t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	apply(t, "00-namespaces.yaml", "01-workloads.yaml", "02-gateway.yaml", "03-tenants.yaml")
	addr := gatewayAddress(t, s, "infra", "shared")
	for _, d := range []types.NamespacedName{{Namespace: "apples", Name: "apple-echo"}, {Namespace: "bananas", Name: "banana-echo"}} {
		stack.Eventually(t, 2*time.Minute, "Deployment "+d.String()+" ready", func(ctx context.Context) (bool, string) {
			var dep appsv1.Deployment
			if err := s.Client.Get(ctx, d, &dep); err != nil {
				return false, err.Error()
			}
			return dep.Status.ReadyReplicas == 2, dep.Status.String()
		})
	}

	// Team members who may only read and edit routes in their own namespace.
	pluginDir := stack.BuildPlugin(t)
	for _, m := range []struct{ user, ns string }{{"platform-dev", "infra"}, {"apple-dev", "apples"}} {
		if out, err := s.Kubectl(fmt.Sprintf(routeEditor, m.ns, m.user), "apply", "-f", "-"); err != nil {
			t.Fatalf("giving %s rights in %s: %v\n%s", m.user, m.ns, err, out)
		}
	}
	explain := func(t *testing.T, user, ns, route, want string) {
		t.Helper()
		out, code := s.KubectlAs(t, user, pluginDir, "", "tenantgate", "explain", "httproute", route, "-n", ns)
		t.Logf("kubectl tenantgate explain httproute %s -n %s --as %s (exit %d):\n%s", route, ns, user, code, out)
		if !strings.Contains(out, want) || code != 1 {
			t.Errorf("explain exited %d; want 1 and the line %q", code, want)
		}
	}

	t.Run("1 no grants: RefNotPermitted and 500", func(t *testing.T) {
		apply(t, "scenario-a/httproute.yaml")
		c := routeCondition(t, s, "infra", "fruits", "ResolvedRefs", "False", "RefNotPermitted")
		if !strings.Contains(c.Message, "bananas") || !strings.Contains(c.Message, "ReferenceGrant") {
			t.Errorf("ResolvedRefs message %q does not name the namespace and the missing ReferenceGrant", c.Message)
		}
		routeCondition(t, s, "infra", "fruits", "Accepted", "True", "Accepted")
		if got := send(t, addr, "fruits.example.com", "/fruits", 50); got.byStatus[500] != 50 {
			t.Fatalf("want every request 500, got %s", got)
		}
		explain(t, "platform-dev", "infra", "fruits", "✗ ResolvedRefs (RefNotPermitted): ")
	})

	t.Run("2 bananas grant: 70% bananas, 30% 500", func(t *testing.T) {
		apply(t, "scenario-a/referencegrant-bananas.yaml")
		stack.Eventually(t, 10*time.Second, "bananas serving", func(context.Context) (bool, string) {
			got := send(t, addr, "fruits.example.com", "/fruits", 20)
			return got.byNS["bananas"] > 0, got.String()
		})
		got := send(t, addr, "fruits.example.com", "/fruits", 1000)
		if !within(got.share("bananas"), 0.70, 0.06) || got.byNS["apples"] != 0 || !within(float64(got.byStatus[500])/1000, 0.30, 0.06) {
			t.Fatalf("want about 70%% bananas and 30%% 500, got %s", got)
		}
		routeCondition(t, s, "infra", "fruits", "ResolvedRefs", "False", "RefNotPermitted")
	})

	t.Run("3 both grants: 70/30 split from real pods", func(t *testing.T) {
		apply(t, "scenario-a/referencegrant-apples.yaml")
		routeCondition(t, s, "infra", "fruits", "ResolvedRefs", "True", "ResolvedRefs")
		stack.Eventually(t, 10*time.Second, "no more 500s", func(context.Context) (bool, string) {
			got := send(t, addr, "fruits.example.com", "/fruits", 20)
			return got.byStatus[200] == 20, got.String()
		})
		got := send(t, addr, "fruits.example.com", "/fruits", 1000)
		if got.byStatus[200] != 1000 || !within(got.share("bananas"), 0.70, 0.06) || !within(got.share("apples"), 0.30, 0.06) {
			t.Fatalf("want 1000 200s split 70/30 within 6%%, got %s", got)
		}
		real := map[string]map[string]bool{"apples": podsOf(t, s, "apples"), "bananas": podsOf(t, s, "bananas")}
		for pod, ns := range got.pods {
			if !real[ns][pod] {
				t.Errorf("response named pod %s/%s, which does not exist", ns, pod)
			}
		}
	})

	t.Run("4 deleting the apples grant revokes within 2s", func(t *testing.T) {
		if out, err := s.Kubectl("", "delete", "-f", filepath.Join(seed, "scenario-a/referencegrant-apples.yaml")); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		time.Sleep(2 * time.Second)
		// Backends are picked at random by weight: 1,000 requests put 30% within
		// ±0.06 at over four standard deviations (300 at ±0.07 failed now and then).
		got := send(t, addr, "fruits.example.com", "/fruits", 1000)
		if got.byNS["apples"] != 0 || !within(float64(got.byStatus[500])/1000, 0.30, 0.06) {
			t.Fatalf("2s after deleting the grant: want no apples and about 30%% 500, got %s", got)
		}
	})

	t.Run("5 team route: NotAllowedByListeners until allowedRoutes admits it", func(t *testing.T) {
		out := apply(t, "scenario-b/httproute-apples.yaml")
		if !strings.Contains(out, "Warning:") || !strings.Contains(out, "allowedRoutes") {
			t.Errorf("kubectl apply printed no warning about the listener's allowedRoutes:\n%s", out)
		}
		routeCondition(t, s, "apples", "apples", "Accepted", "False", "NotAllowedByListeners")
		if got := send(t, addr, "apples.example.com", "/", 10); got.byStatus[404] != 10 {
			t.Fatalf("a route that is not accepted must serve nothing, got %s", got)
		}
		explain(t, "apple-dev", "apples", "apples", "✗ Accepted (NotAllowedByListeners): ")
		stack.Eventually(t, 30*time.Second, "the audit counts apples' route as refused", func(context.Context) (bool, string) {
			out, err := s.Kubectl("", "get", "tnt")
			return err == nil && strings.Contains(out, "0/1"), out
		})
		out, _ = s.Kubectl("", "get", "tnt")
		t.Logf("kubectl get tnt:\n%s", out)
		apply(t, "scenario-b/gateway-allow-teams.yaml")
		routeCondition(t, s, "apples", "apples", "Accepted", "True", "Accepted")
		stack.Eventually(t, 10*time.Second, "apples.example.com serving", func(context.Context) (bool, string) {
			got := send(t, addr, "apples.example.com", "/", 10)
			return got.byNS["apples"] == 10, got.String()
		})
		// The team's traffic is counted under its tenant, namespace and route.
		series := map[string]string{"tenant": "apples", "namespace": "apples", "route": "apples", "code": "2xx"}
		before := counter(t, s.MetricsURL, "tenantgate_proxy_requests_total", series)
		if got := send(t, addr, "apples.example.com", "/", 25); got.byNS["apples"] != 25 {
			t.Fatalf("want 25 answers from apples, got %s", got)
		}
		if after := counter(t, s.MetricsURL, "tenantgate_proxy_requests_total", series); after-before != 25 {
			t.Errorf("tenantgate_proxy_requests_total%v moved by %v for 25 requests", series, after-before)
		}
	})

	t.Run("6 hijack: denied at apply, refused by the gateway when forced in", func(t *testing.T) {
		out, err := s.Kubectl("", "apply", "-f", filepath.Join(seed, "scenario-b/hijack-apples-hostname.yaml"))
		if err == nil {
			t.Fatalf("kubectl apply of a route claiming apples' hostname succeeded:\n%s", out)
		}
		for _, want := range []string{"denied the request", "spec.hostnames[0]", `"apples.example.com"`, "apples"} {
			if !strings.Contains(out, want) {
				t.Errorf("denial %q does not contain %q", out, want)
			}
		}
		// Force it in as if the webhook had been down.
		var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
		if err := s.Client.List(context.Background(), &hooks); err != nil {
			t.Fatal(err)
		}
		for i := range hooks.Items {
			if err := s.Client.Delete(context.Background(), &hooks.Items[i]); err != nil {
				t.Fatal(err)
			}
		}
		route := readRoute(t, filepath.Join(seed, "scenario-b/hijack-apples-hostname.yaml"))
		stack.Eventually(t, 10*time.Second, "hijack route created without the webhook", func(ctx context.Context) (bool, string) {
			if err := client.IgnoreAlreadyExists(s.Client.Create(ctx, route.DeepCopy())); err != nil {
				return false, err.Error()
			}
			return true, ""
		})
		c := routeCondition(t, s, "bananas", "hijack", "Accepted", "False", "NotAllowedByTenant")
		if !strings.Contains(c.Message, "apples.example.com") {
			t.Errorf("NotAllowedByTenant message %q does not name the hostname", c.Message)
		}
		got := send(t, addr, "apples.example.com", "/", 100)
		if got.byNS["apples"] != 100 {
			t.Fatalf("the refused route must carry no traffic; got %s", got)
		}
	})

	t.Run("7 a new apple pod gets traffic through the endpoint fast path", func(t *testing.T) {
		updates := func() float64 { return counter(t, s.MetricsURL, "tenantgate_gateway_endpoint_updates_total", nil) }
		before, known := updates(), podsOf(t, s, "apples")
		if out, err := s.Kubectl("", "scale", "deployment/apple-echo", "-n", "apples", "--replicas=3"); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		stack.Eventually(t, time.Minute, "the third apple pod answering", func(context.Context) (bool, string) {
			got := send(t, addr, "apples.example.com", "/", 30)
			for pod := range got.pods {
				if !known[pod] {
					return true, ""
				}
			}
			return false, got.String()
		})
		// Only the fast path counts here: the EndpointSlice change was stored
		// in the serving table, not rebuilt into a new one.
		if after := updates(); after <= before {
			t.Errorf("tenantgate_gateway_endpoint_updates_total stayed at %v while a new pod started getting traffic", after)
		}
	})
}

func readRoute(t *testing.T, path string) *gatewayv1.HTTPRoute {
	t.Helper()
	data, err := readFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r gatewayv1.HTTPRoute
	if err := yaml.UnmarshalStrict(data, &r); err != nil {
		t.Fatal(err)
	}
	return &r
}

// routeEditor is a Role and RoleBinding giving user (%[2]s) rights on routes
// in namespace %[1]s only: what a team member has.
const routeEditor = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {namespace: %[1]s, name: route-editor}
rules:
- apiGroups: [gateway.networking.k8s.io]
  resources: [httproutes, referencegrants]
  verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {namespace: %[1]s, name: %[2]s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: route-editor}
subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: %[2]s}]
`
