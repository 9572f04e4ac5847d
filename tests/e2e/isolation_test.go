package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// The attacks of issue 12, each first denied by the webhook, then (but for
// the grant, which gets past it by predating the rule) forced in as if the
// webhook had been down: the gateway must refuse them too, and the victim's
// traffic must not move.

// isolationSetup, applied as platform admin on top of the seed: the shared
// Gateway admits ListenerSets from every namespace and routes from every
// namespace on its hostname-less listener; a platform ListenerSet serves
// web.bananas.example.com; apples and bananas share shop.example.com by path.
const isolationSetup = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec:
  gatewayClassName: tenantgate
  allowedListeners: {namespaces: {from: All}}
  listeners:
  - {name: http, protocol: HTTP, port: 80, allowedRoutes: {namespaces: {from: All}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: bananas-web, namespace: infra}
spec:
  parentRef: {name: shared}
  listeners:
  - {name: web, protocol: HTTP, port: 80, hostname: web.bananas.example.com, allowedRoutes: {namespaces: {from: All}}}
---
` + applesTenant + `
---
` + bananasTenantHead + bananasGrantsInfra + `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bananas, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [bananas.example.com]
  rules:
  - backendRefs: [{name: banana-echo, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bananas-web, namespace: bananas}
spec:
  parentRefs: [{kind: ListenerSet, name: bananas-web, namespace: infra}]
  hostnames: [web.bananas.example.com]
  rules:
  - backendRefs: [{name: banana-echo, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /apples}}]
    backendRefs: [{name: apple-echo, port: 80}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /bananas}}]
    backendRefs: [{name: banana-echo, port: 80}]
`

const applesTenant = `apiVersion: tenancy.tenantgate.dev/v1alpha1
kind: Tenant
metadata: {name: apples}
spec:
  namespaces: {names: [apples]}
  hostnames:
  - hostname: apples.example.com
  - hostname: "*.apples.example.com"
  - {hostname: shop.example.com, pathPrefixes: [/apples]}
  gateways: [{namespace: infra, name: shared}]
  referenceGrants: {allowFromNamespaces: {names: [infra]}}
  enforcement: Deny`

const bananasTenantHead = `apiVersion: tenancy.tenantgate.dev/v1alpha1
kind: Tenant
metadata: {name: bananas}
spec:
  namespaces: {names: [bananas]}
  hostnames:
  - hostname: bananas.example.com
  - hostname: "*.bananas.example.com"
  - {hostname: shop.example.com, pathPrefixes: [/bananas]}
  gateways: [{namespace: infra, name: shared}]
  enforcement: Deny
`

// bananasGrantsInfra is the seed's rule; attack (c) drops it, so bananas'
// grants may trust only its own namespaces.
const bananasGrantsInfra = `  referenceGrants: {allowFromNamespaces: {names: [infra]}}`

// Attack (a): apples declares a listener for bananas' hostname on the
// shared Gateway (port 80, where bananas is served by the hostname-less
// listener, and a port no one else uses) and one for every hostname, next
// to one for its own. (No HTTPS variant here: the seed has no certificate.)
const attackListenerSet = `apiVersion: gateway.networking.k8s.io/v1
kind: ListenerSet
metadata: {name: hijack, namespace: apples}
spec:
  parentRef: {name: shared, namespace: infra}
  listeners:
  - {name: steal, protocol: HTTP, port: 80, hostname: bananas.example.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: steal-8080, protocol: HTTP, port: 8080, hostname: bananas.example.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: own, protocol: HTTP, port: 80, hostname: apples.example.com, allowedRoutes: {namespaces: {from: Same}}}
  - {name: any, protocol: HTTP, port: 8080, allowedRoutes: {namespaces: {from: Same}}}
`

// Attack (b): a route without hostnames on the platform's ListenerSet
// inherits web.bananas.example.com; its Exact "/" would beat bananas'
// PathPrefix "/".
const attackInheritingRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: inherit, namespace: apples}
spec:
  parentRefs: [{kind: ListenerSet, name: bananas-web, namespace: infra}]
  rules:
  - matches: [{path: {type: Exact, value: /}}]
    backendRefs: [{name: apple-echo, port: 80}]
`

// Attack (c): once bananas' rule forbids trusting infra, a new grant like
// the seed's is refused; the seed's, which predates the rule, must open
// nothing.
const attackGrant = `apiVersion: gateway.networking.k8s.io/v1
kind: ReferenceGrant
metadata: {name: infra-to-banana-echo-again, namespace: bananas}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: infra}]
  to: [{group: "", kind: Service, name: banana-echo}]
`

// Attack (d), at admission: apples claims bananas' paths on the shared host.
const attackShopRoute = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: shop-steal, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [shop.example.com]
  rules:
  - matches: [{path: {type: PathPrefix, value: /bananas}}]
    backendRefs: [{name: apple-echo, port: 80}]
`

// Exact kubectl output of each denial, as captured from a run.
const (
	wantListenerSetDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "listenersets.tenantgate.dev" denied the request: ` +
		`spec.listeners[0].hostname: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames
spec.listeners[1].hostname: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames
spec.listeners[3].hostname: unset, so listener "any" takes every hostname, and tenant "apples" does not own them all (tenant "apples", spec.hostnames); set a hostname the tenant owns`
	wantInheritDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "httproutes.tenantgate.dev" denied the request: ` +
		`spec.hostnames: empty, so the route inherits "web.bananas.example.com" from listener infra/bananas-web/web, which tenant "apples" does not own; list hostnames the tenant owns in spec.hostnames`
	wantGrantDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "referencegrants-v1.tenantgate.dev" denied the request: ` +
		`spec.from[0].namespace: "infra" may not be trusted by ReferenceGrants of tenant "bananas" (allowed: none); grant from an allowed namespace or add it to Tenant bananas spec.referenceGrants.allowFromNamespaces`
	wantShopDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "httproutes.tenantgate.dev" denied the request: ` +
		`spec.rules[0].matches[0].path: PathPrefix "/bananas" is outside the paths tenant "apples" owns on shared host "shop.example.com" (/apples); match a path under one of them`
)

// The statuses the gateway writes for the same facts, as captured from a
// run: the same lines as the denials, behind "Refused by tenant policy: ".
const (
	wantStealMessage     = `Refused by tenant policy: spec.listeners[0].hostname: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames.`
	wantSteal8080Message = `Refused by tenant policy: spec.listeners[1].hostname: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames.`
	wantAnyMessage       = `Refused by tenant policy: spec.listeners[3].hostname: unset, so listener "any" takes every hostname, and tenant "apples" does not own them all (tenant "apples", spec.hostnames); set a hostname the tenant owns.`
	wantSetAcceptedMsg   = `Of this ListenerSet, listeners steal, steal-8080, any are not valid and not served; the other listeners are.`
	wantInheritMessage   = `Refused by tenant policy: spec.hostnames: empty, so the route inherits "web.bananas.example.com" from listener infra/bananas-web/web, which tenant "apples" does not own; list hostnames the tenant owns in spec.hostnames.`
	wantGrantMessage     = `spec.rules[0].backendRefs[0] refers to Service bananas/banana-echo in another namespace; ReferenceGrant bananas/infra-to-banana-echo is ignored: it breaks tenant policy: ` +
		`spec.from[0].namespace: "infra" may not be trusted by ReferenceGrants of tenant "bananas" (allowed: none); grant from an allowed namespace or add it to Tenant bananas spec.referenceGrants.allowFromNamespaces; fix the grant or the tenant's spec.referenceGrants.`
	// wantEncodedSlash is the proxy's 400 body for an encoded slash that
	// would pick another rule once decoded.
	wantEncodedSlash = `400 Bad Request: the request path has an encoded "/" or "\" (%2F or %5C) that would route it elsewhere once decoded; send the slash unencoded`
)

// TestGatewayRefusesWhatWebhookRefuses is issue 12's "Must show": every
// attack denied at admission is also refused by the gateway when it gets
// in anyway, with the victim's traffic unchanged.
func TestGatewayRefusesWhatWebhookRefuses(t *testing.T) {
	if os.Getenv(ownProcessEnv) == "" {
		runInOwnProcess(t)
		return
	}
	s := stack.Start(t, stack.Options{AddressPool: "127.21.0.0/16", PlatformNamespaces: []string{"infra"}})
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(root, "manifests", "examples", "seed")
	args := []string{"apply"}
	for _, f := range []string{"00-namespaces.yaml", "01-workloads.yaml", "02-gateway.yaml", "03-tenants.yaml",
		"scenario-a/httproute.yaml", "scenario-a/referencegrant-bananas.yaml", "scenario-a/referencegrant-apples.yaml"} {
		args = append(args, "-f", filepath.Join(seed, f))
	}
	if out, err := s.Kubectl("", args...); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	// The webhook judges each object by its cache, which may not hold the
	// Tenants and ListenerSet of the same apply yet: retry until it does.
	stack.Eventually(t, 20*time.Second, "setup applied", func(context.Context) (bool, string) {
		out, err := s.Kubectl(isolationSetup, "apply", "-f", "-")
		return err == nil, out
	})
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
	for _, h := range []struct{ host, path string }{{"bananas.example.com", "/"}, {"web.bananas.example.com", "/"}} {
		stack.Eventually(t, 20*time.Second, h.host+" served by bananas", func(context.Context) (bool, string) {
			got := send(t, addr, h.host, h.path, 10)
			return got.byNS["bananas"] == 10, got.String()
		})
	}
	stack.Eventually(t, 20*time.Second, "fruits.example.com served by both teams", func(context.Context) (bool, string) {
		got := send(t, addr, "fruits.example.com", "/fruits", 20)
		return got.byStatus[200] == 20, got.String()
	})
	victimOnly(t, "(a) bananas.example.com/ before", send(t, addr, "bananas.example.com", "/", 200), "bananas")
	victimOnly(t, "(b) web.bananas.example.com/ before", send(t, addr, "web.bananas.example.com", "/", 200), "bananas")

	// Phase 1: the webhook is registered and denies each attack.
	t.Run("a webhook denies a ListenerSet listener for another tenant's hostname", func(t *testing.T) {
		assertExact(t, "kubectl apply", denied(t, s, attackListenerSet), wantListenerSetDenial)
	})
	t.Run("b webhook denies a route inheriting another tenant's hostname from a ListenerSet", func(t *testing.T) {
		assertExact(t, "kubectl apply", denied(t, s, attackInheritingRoute), wantInheritDenial)
	})
	t.Run("d webhook denies a route on another tenant's paths of a shared host", func(t *testing.T) {
		assertExact(t, "kubectl apply", denied(t, s, attackShopRoute), wantShopDenial)
	})
	t.Run("c a grant that predates its tenant's rule opens nothing", func(t *testing.T) {
		before := send(t, addr, "fruits.example.com", "/fruits", 200)
		figures("(c) fruits.example.com/fruits before", before)
		// The split is random: the bounds are 4 standard deviations wide.
		if before.byStatus[200] != 200 || !within(before.share("bananas"), 0.70, 0.13) {
			t.Fatalf("before: want every request served, about 70%% by bananas; got %s", before)
		}
		out, err := s.Kubectl(bananasTenantHead, "apply", "-f", "-")
		if err != nil {
			t.Fatalf("tightening Tenant bananas: %v\n%s", err, out)
		}
		tightened := time.Now()
		t.Logf("kubectl apply (tighten Tenant bananas): %s", out)
		c := routeCondition(t, s, "infra", "fruits", "ResolvedRefs", "False", "RefNotPermitted")
		statusAfter := time.Since(tightened)
		assertExact(t, "HTTPRoute infra/fruits ResolvedRefs message", c.Message, wantGrantMessage)
		routeCondition(t, s, "infra", "fruits", "Accepted", "True", "Accepted")
		stack.Eventually(t, 5*time.Second, "bananas' share gone", func(context.Context) (bool, string) {
			got := send(t, addr, "fruits.example.com", "/fruits", 20)
			return got.byNS["bananas"] == 0, got.String()
		})
		trafficAfter := time.Since(tightened)
		after := send(t, addr, "fruits.example.com", "/fruits", 200)
		figures(fmt.Sprintf("(c) fruits.example.com/fruits after (status %s, traffic %s after the Tenant change)",
			statusAfter.Round(time.Millisecond), trafficAfter.Round(time.Millisecond)), after)
		if after.byNS["bananas"] != 0 || !within(float64(after.byStatus[500])/200, 0.70, 0.13) || after.byNS["apples"]+after.byStatus[500] != 200 {
			t.Fatalf("after: want bananas' share answered 500 and apples' still served; got %s", after)
		}
		// And a new grant like it is refused at admission.
		assertExact(t, "kubectl apply", denied(t, s, attackGrant), wantGrantDenial)
	})

	// Phase 2: the webhook is down; the attacks get in.
	unregisterWebhooks(t, s)
	t.Run("a gateway refuses the ListenerSet's listeners for bananas' hostname", func(t *testing.T) {
		ls := decode[gatewayv1.ListenerSet](t, attackListenerSet)
		forceCreate(t, s, ls)
		st := listenerSetStatus(t, s, "apples", "hijack", "steal")
		for name, want := range map[string]string{"steal": wantStealMessage, "steal-8080": wantSteal8080Message, "any": wantAnyMessage} {
			l := listenerOf(st, name)
			assertCondition(t, "ListenerSet apples/hijack listener "+name, l.Conditions, "Accepted", "False", "NotAllowedByTenant", want)
			assertCondition(t, "ListenerSet apples/hijack listener "+name, l.Conditions, "Programmed", "False", "Invalid", "The listener is not accepted; see its Accepted condition.")
		}
		host, _, _ := net.SplitHostPort(addr)
		own := listenerOf(st, "own").Conditions
		assertCondition(t, "ListenerSet apples/hijack listener own", own, "Accepted", "True", "Accepted", "The listener is valid.")
		// The controller swaps the proxy's table before it writes status, so
		// the traffic below runs against a table holding this ListenerSet.
		assertCondition(t, "ListenerSet apples/hijack listener own", own, "Programmed", "True", "Programmed", "The data plane listens on "+host+" port 80.")
		assertCondition(t, "ListenerSet apples/hijack", st.Conditions, "Accepted", "True", "ListenersNotValid", wantSetAcceptedMsg)
		victimOnly(t, "(a) bananas.example.com/ after", send(t, addr, "bananas.example.com", "/", 200), "bananas")
		// The refused listeners hold no port.
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(host, "8080"), 2*time.Second); err == nil {
			conn.Close()
			t.Errorf("%s:8080 accepts connections, but its only listeners (steal-8080, any) are refused", host)
		} else if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("dialing %s:8080: want connection refused, got %v", host, err)
		}
	})
	t.Run("b gateway refuses the route inheriting bananas' hostname", func(t *testing.T) {
		forceCreate(t, s, decode[gatewayv1.HTTPRoute](t, attackInheritingRoute))
		c := routeCondition(t, s, "apples", "inherit", "Accepted", "False", "NotAllowedByTenant")
		assertExact(t, "HTTPRoute apples/inherit Accepted message", c.Message, wantInheritMessage)
		victimOnly(t, "(b) web.bananas.example.com/ after", send(t, addr, "web.bananas.example.com", "/", 200), "bananas")
	})
	t.Run("d dot segments and encoded slashes cannot leave /apples", func(t *testing.T) {
		for _, c := range []struct {
			target   string
			ns, path string // the one backend and path that may answer 200; none: only 400 may answer
			may400   bool
		}{
			{target: "/apples/x", ns: "apples", path: "/apples/x"},
			{target: "/bananas/x", ns: "bananas", path: "/bananas/x"},
			{target: "/apples/%2e%2e/bananas/x", ns: "bananas", path: "/bananas/x", may400: true},
			{target: "/apples/%2E%2E/bananas/x", ns: "bananas", path: "/bananas/x", may400: true},
			{target: "/apples/../bananas/x", ns: "bananas", path: "/bananas/x", may400: true},
			{target: "/apples/%2F..%2Fbananas", may400: true},
			{target: "/apples/..%2Fbananas/x", may400: true},
		} {
			got := rawSend(t, addr, "shop.example.com", c.target, 40)
			figures("(d) shop.example.com"+c.target, got.tally)
			for a, n := range got.answers {
				ok := c.may400 && a.status == http.StatusBadRequest ||
					c.ns != "" && a.status == http.StatusOK && a.ns == c.ns && a.path == c.path
				if !ok {
					t.Errorf("GET %s (Host shop.example.com): %d answered %d by namespace %q with path %q; want only 200 from %q with path %q (or 400: %t)",
						c.target, n, a.status, a.ns, a.path, c.ns, c.path, c.may400)
				}
				if a.status == http.StatusBadRequest && c.ns == "" && a.body != wantEncodedSlash {
					t.Errorf("GET %s: 400 saying %q; want %q", c.target, a.body, wantEncodedSlash)
				}
			}
		}
	})
}

// ownProcessEnv marks the process runInOwnProcess starts.
const ownProcessEnv = "TENANTGATE_E2E_OWN_PROCESS"

// runInOwnProcess re-runs the calling test alone in a new process of this
// test binary. tenantgate's app runs only once per process (controller-
// runtime refuses a second controller named "tenant-audit", and metrics are
// process-wide), and TestSeedWalkthrough runs one in this process. Lines of
// figures pass through as they are; the rest is indented like test output.
func runInOwnProcess(t *testing.T) {
	t.Helper()
	args := []string{"-test.run=^" + t.Name() + "$", "-test.count=1", "-test.v=" + fmt.Sprint(testing.Verbose())}
	if deadline, ok := t.Deadline(); ok {
		args = append(args, "-test.timeout="+time.Until(deadline).String())
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), ownProcessEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout // the pipe's writer: one stream, in order
	// The child dies with this test: Pdeathsig follows the thread that
	// started it, so keep this goroutine on it.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s in its own process: %v", t.Name(), err)
	}
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if line := lines.Text(); strings.HasPrefix(line, "figures:") {
			fmt.Println(line)
		} else {
			fmt.Println("    " + line)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s in its own process: %v (its output is above)", t.Name(), err)
	}
}

// figures prints one line of traffic figures for the report.
func figures(what string, got tally) {
	fmt.Printf("figures: %s: %d requests: bananas %d, apples %d, by status %v\n",
		what, got.total, got.byNS["bananas"], got.byNS["apples"], got.byStatus)
}

// victimOnly prints got and fails unless victim's pods answered every request.
func victimOnly(t *testing.T, what string, got tally, victim string) {
	t.Helper()
	figures(what, got)
	if got.byNS[victim] != got.total {
		t.Fatalf("%s: want every request answered by %s's pods, got %s", what, victim, got)
	}
}

func assertExact(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n got: %q\nwant: %q", what, got, want)
	}
}

// denied applies manifest with kubectl, which must fail, and returns what
// kubectl printed.
func denied(t *testing.T, s *stack.Stack, manifest string) string {
	t.Helper()
	out, err := s.Kubectl(manifest, "apply", "-f", "-")
	if err == nil {
		t.Fatalf("kubectl apply succeeded:\n%s\n%s", out, manifest)
	}
	return strings.TrimSpace(out)
}

// unregisterWebhooks deletes every ValidatingWebhookConfiguration, as if
// tenantgate's webhook had been down with a failurePolicy of Ignore.
func unregisterWebhooks(t *testing.T, s *stack.Stack) {
	t.Helper()
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := s.Client.List(context.Background(), &hooks); err != nil {
		t.Fatal(err)
	}
	for i := range hooks.Items {
		if err := s.Client.Delete(context.Background(), &hooks.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
}

func decode[T any](t *testing.T, manifest string) *T {
	t.Helper()
	obj := new(T)
	if err := yaml.UnmarshalStrict([]byte(manifest), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

// forceCreate creates obj, retrying while the API server still calls the
// webhook it has just lost.
func forceCreate(t *testing.T, s *stack.Stack, obj client.Object) {
	t.Helper()
	what := fmt.Sprintf("%T %s/%s created without the webhook", obj, obj.GetNamespace(), obj.GetName())
	stack.Eventually(t, 10*time.Second, what, func(ctx context.Context) (bool, string) {
		if err := client.IgnoreAlreadyExists(s.Client.Create(ctx, obj.DeepCopyObject().(client.Object))); err != nil {
			return false, err.Error()
		}
		return true, ""
	})
}

// listenerSetStatus waits until our controller has judged listener of the
// ListenerSet (its Accepted condition is no longer Pending) and returns the
// status.
func listenerSetStatus(t *testing.T, s *stack.Stack, ns, name, listener string) gatewayv1.ListenerSetStatus {
	t.Helper()
	var st gatewayv1.ListenerSetStatus
	stack.Eventually(t, 30*time.Second, fmt.Sprintf("ListenerSet %s/%s listener %s judged", ns, name, listener), func(ctx context.Context) (bool, string) {
		var ls gatewayv1.ListenerSet
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &ls); err != nil {
			return false, err.Error()
		}
		st = ls.Status
		c := meta.FindStatusCondition(listenerOf(st, listener).Conditions, "Accepted")
		return c != nil && c.Reason != "Pending", fmt.Sprintf("status %+v", st)
	})
	return st
}

func listenerOf(st gatewayv1.ListenerSetStatus, name string) gatewayv1.ListenerEntryStatus {
	for _, l := range st.Listeners {
		if string(l.Name) == name {
			return l
		}
	}
	return gatewayv1.ListenerEntryStatus{}
}

func assertCondition(t *testing.T, what string, conds []metav1.Condition, typ, status, reason, message string) {
	t.Helper()
	c := meta.FindStatusCondition(conds, typ)
	if c == nil {
		t.Errorf("%s: no %s condition in %+v", what, typ, conds)
		return
	}
	if string(c.Status) != status || c.Reason != reason || c.Message != message {
		t.Errorf("%s: %s=%s/%s %q; want %s=%s/%s %q", what, typ, c.Status, c.Reason, c.Message, typ, status, reason, message)
	}
}

// answer is what one raw request got: the status and, for echo-basic's
// 200s, who answered and the path it saw; for others, the body.
type answer struct {
	status   int
	ns, path string
	body     string
}

type rawTally struct {
	tally
	answers map[answer]int
}

// rawSend makes n requests for target exactly as written (no client-side
// cleaning or escaping) over a fresh connection each.
func rawSend(t *testing.T, addr, host, target string, n int) rawTally {
	t.Helper()
	out := rawTally{tally: tally{byNS: map[string]int{}, byStatus: map[int]int{}, pods: map[string]string{}}, answers: map[answer]int{}}
	for range n {
		a := rawGet(t, addr, host, target)
		out.total++
		out.byStatus[a.status]++
		if a.ns != "" {
			out.byNS[a.ns]++
		}
		out.answers[a]++
	}
	return out
}

func rawGet(t *testing.T, addr, host, target string) answer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dialing %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host); err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s (Host %s): %v", target, host, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: reading the body: %v", target, err)
	}
	a := answer{status: resp.StatusCode}
	if resp.StatusCode != http.StatusOK {
		a.body = strings.TrimSpace(string(body))
		return a
	}
	var echo struct{ Namespace, Path string }
	if err := json.Unmarshal(body, &echo); err != nil {
		t.Fatalf("GET %s: 200 with a body that is not echo-basic's: %q", target, body)
	}
	a.ns, a.path = echo.Namespace, echo.Path
	return a
}
