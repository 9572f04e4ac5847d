package roles

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/gateway/controller"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// targetPorts is this test's own data-plane port range: without an address
// pool every Gateway's listeners bind 0.0.0.0 on ports from it.
const targetPorts = "41200-41299"

// topologyWorld: two classes (shared and dedicated data planes, both with
// ClusterIP Services, as the local cluster has no load balancer), and in
// apples and bananas a Gateway "web" on port 80 with a route to the team's
// echo Deployment.
const topologyWorld = `apiVersion: v1
kind: ConfigMap
metadata: {name: shared-class, namespace: tenantgate-system}
data: {serviceType: ClusterIP}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: dedicated-class, namespace: tenantgate-system}
data: {serviceType: ClusterIP, dataPlane: dedicated, replicas: "1", cpu: 250m, memory: 128Mi}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate}
spec:
  controllerName: tenantgate.dev/gateway-controller
  parametersRef: {group: "", kind: ConfigMap, name: shared-class, namespace: tenantgate-system}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: tenantgate-dedicated}
spec:
  controllerName: tenantgate.dev/gateway-controller
  parametersRef: {group: "", kind: ConfigMap, name: dedicated-class, namespace: tenantgate-system}
`

func teamGateway(team, class string) string {
	return fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: %[1]s}
spec:
  gatewayClassName: %[2]s
  infrastructure: {labels: {team: %[1]s}}
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: %[1]s}
spec:
  parentRefs: [{name: web}]
  rules: [{backendRefs: [{name: %[3]s-echo, port: 80}]}]
`, team, class, strings.TrimSuffix(team, "s"))
}

// TestGatewaysOnTheirOwnPorts runs the controller and the shared data plane
// without an address pool: two Gateways on port 80 get distinct target
// ports (kept across a controller restart), the data plane binds them, and
// a Gateway moved to a dedicated class gets its own Deployment, is left by
// the shared data plane to its own process, keeps its rate while the shared
// one is saturated, and loses its Deployment when deleted, even while the
// controller was down.
func TestGatewaysOnTheirOwnPorts(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	b := newBed(t, ctx, root, cluster.Options{})
	w := b.w
	start := func(role app.Role, name string, args ...string) *Process {
		t.Helper()
		return b.start(t, ctx, role, name, append([]string{"-shutdown-grace=2s", "-gateway-target-ports=" + targetPorts}, args...)...)
	}
	startController := func() *Process {
		return start(app.RoleController, "controller", "-leader-elect", "-leader-election-namespace="+Namespace, "-data-plane-image=tenantgate:under-test")
	}

	w.applySeed(t, "00-namespaces.yaml", "01-workloads.yaml")
	w.apply(t, topologyWorld)
	w.apply(t, teamGateway("apples", "tenantgate"))
	w.apply(t, teamGateway("bananas", "tenantgate"))
	ctrl := startController()
	shared := start(app.RoleDataPlane, "dataplane-shared", "-proxy-max-connections-per-listener=8")
	w.awaitEchoDeployments(t)

	var apples, bananas int32
	t.Run("two Gateways on port 80 get distinct target ports", func(t *testing.T) {
		apples, bananas = w.targetPort(t, "apples"), w.targetPort(t, "bananas")
		if apples == bananas {
			t.Fatalf("both Gateways' Services send port 80 to data-plane port %d", apples)
		}
		t.Logf("figures: apples/web port 80 -> data-plane port %d, bananas/web port 80 -> %d", apples, bananas)
	})
	t.Run("the shared data plane binds every address on both", func(t *testing.T) {
		w.gatewayProgrammed(t, "apples")
		w.gatewayProgrammed(t, "bananas")
		w.eventuallyServes(t, portAddr(apples), "any.example.com", "apple-echo")
		w.eventuallyServes(t, portAddr(bananas), "any.example.com", "banana-echo")
		got, err := shared.Listening()
		if err != nil {
			t.Fatal(err)
		}
		for _, port := range []int32{apples, bananas} {
			if !listensEverywhere(got, port) {
				t.Errorf("the shared data plane listens on %v; want every address (0.0.0.0 or [::]) on port %d among them", got, port)
			}
		}
	})
	t.Run("target ports are stable across a controller restart", func(t *testing.T) {
		if err := ctrl.Stop(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		ctrl = startController()
		// A third Gateway makes the new leader write Services; the first two keep their ports.
		w.apply(t, strings.ReplaceAll(teamGateway("apples", "tenantgate"), "name: web", "name: web2"))
		stack.Eventually(t, time.Minute, "Service apples/web2-tenantgate", func(ctx context.Context) (bool, string) {
			var svc corev1.Service
			err := w.client.Get(ctx, types.NamespacedName{Namespace: "apples", Name: "web2-tenantgate"}, &svc)
			return err == nil, fmt.Sprint(err)
		})
		third := w.targetPort(t, "apples", "web2")
		if a, b := w.targetPort(t, "apples"), w.targetPort(t, "bananas"); a != apples || b != bananas || third == apples || third == bananas {
			t.Errorf("after the restart: apples %d (was %d), bananas %d (was %d), the new Gateway %d; want the old ones kept and a new one distinct", a, apples, b, bananas, third)
		}
	})

	t.Run("a tenant editing its Service to take another Gateway's port is not believed", func(t *testing.T) {
		var svc corev1.Service
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: "apples", Name: "web-tenantgate"}, &svc); err != nil {
			t.Fatal(err)
		}
		svc.Spec.Ports[0].TargetPort = intstr.FromInt32(bananas) // apples/web is the older Gateway
		if err := w.client.Update(ctx, &svc, client.FieldOwner("kubectl-edit")); err != nil {
			t.Fatal(err)
		}
		stack.Eventually(t, 30*time.Second, "the leader rewrites apples/web's Service", func(ctx context.Context) (bool, string) {
			err := w.client.Get(ctx, client.ObjectKeyFromObject(&svc), &svc)
			return err == nil && svc.Spec.Ports[0].TargetPort.IntVal != bananas, fmt.Sprint(svc.Spec.Ports, err)
		})
		if got := w.targetPort(t, "bananas"); got != bananas {
			t.Errorf("bananas/web's target port moved from %d to %d after another tenant's edit", bananas, got)
		}
		apples = svc.Spec.Ports[0].TargetPort.IntVal
		w.eventuallyServes(t, portAddr(bananas), "any.example.com", "banana-echo")
		w.eventuallyServes(t, portAddr(apples), "any.example.com", "apple-echo")
	})

	var dedicated *Process
	t.Run("a dedicated Gateway gets its own Deployment and the shared data plane leaves it", func(t *testing.T) {
		w.apply(t, teamGateway("bananas", "tenantgate-dedicated"))
		dep := w.dedicatedDeployment(t, "bananas")
		if img := dep.Spec.Template.Spec.Containers[0].Image; img != "tenantgate:under-test" {
			t.Errorf("image %q; want -data-plane-image", img)
		}
		if args := dep.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "-data-plane-gateway=bananas/web") || !slices.Contains(args, "-gateway-target-ports="+targetPorts) {
			t.Errorf("args %v; want it restricted to bananas/web on the same target ports", args)
		}
		if sa := dep.Spec.Template.Spec.ServiceAccountName; sa != "tenantgate-dataplane" || dep.Namespace != Namespace || dep.Labels["team"] != "bananas" {
			t.Errorf("Deployment %s/%s with ServiceAccount %s, labels %v; want it in %s as tenantgate-dataplane with the Gateway's infrastructure labels", dep.Namespace, dep.Name, sa, dep.Labels, Namespace)
		}
		if q := dep.Spec.Template.Spec.Containers[0].Resources.Limits.Memory(); q.String() != "128Mi" {
			t.Errorf("memory limit %s; want the class's 128Mi", q)
		}
		// The controller writes the PodDisruptionBudget right after the Deployment.
		stack.Eventually(t, 30*time.Second, "PodDisruptionBudget "+dep.Name+" with minAvailable 1", func(ctx context.Context) (bool, string) {
			var pdb policyv1.PodDisruptionBudget
			err := w.client.Get(ctx, client.ObjectKeyFromObject(dep), &pdb)
			return err == nil && pdb.Spec.MinAvailable.IntValue() == 1, fmt.Sprintf("%v, minAvailable %v", err, pdb.Spec.MinAvailable)
		})
		stack.Eventually(t, 30*time.Second, "the shared data plane stops listening on "+portAddr(bananas), func(context.Context) (bool, string) {
			got, err := shared.Listening()
			return err == nil && !listensEverywhere(got, bananas), fmt.Sprint(got, err)
		})
		// The Deployment's Pods would run the image; here its process is started as they would be.
		dedicated = start(app.RoleDataPlane, "dataplane-bananas", "-data-plane-gateway=bananas/web")
		w.eventuallyServes(t, portAddr(bananas), "any.example.com", "banana-echo")
		w.eventuallyServes(t, portAddr(apples), "any.example.com", "apple-echo")
		if got, err := dedicated.Listening(); err != nil || listensEverywhere(got, apples) || !listensEverywhere(got, bananas) {
			t.Errorf("the dedicated data plane listens on %v (%v); want bananas/web's port %d and not apples/web's", got, err, bananas)
		}
	})
	if dedicated == nil {
		t.FailNow()
	}

	t.Run("the dedicated Gateway keeps its rate while the shared data plane is saturated", func(t *testing.T) {
		testIsolation(t, portAddr(bananas), portAddr(apples))
	})

	t.Run("deleting the Gateway while the controller is down still removes its data plane", func(t *testing.T) {
		dep := w.dedicatedDeployment(t, "bananas")
		if err := ctrl.Stop(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		gw := &gatewayv1.Gateway{}
		gw.Namespace, gw.Name = "bananas", "web"
		if err := w.client.Delete(ctx, gw); err != nil {
			t.Fatal(err)
		}
		ctrl = startController()
		stack.Eventually(t, time.Minute, "Deployment and PodDisruptionBudget "+dep.Name+" deleted", func(ctx context.Context) (bool, string) {
			errD := w.client.Get(ctx, client.ObjectKeyFromObject(dep), &appsv1.Deployment{})
			errP := w.client.Get(ctx, client.ObjectKeyFromObject(dep), &policyv1.PodDisruptionBudget{})
			return apierrors.IsNotFound(errD) && apierrors.IsNotFound(errP), fmt.Sprint(errD, errP)
		})
	})
}

// listensEverywhere: one of the addresses is port on every address (the
// unspecified IPv4 or, dual-stack, IPv6 address).
func listensEverywhere(addrs []string, port int32) bool {
	p := strconv.Itoa(int(port))
	return slices.Contains(addrs, net.JoinHostPort("0.0.0.0", p)) || slices.Contains(addrs, net.JoinHostPort("::", p))
}

func portAddr(port int32) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(int(port))) }

// targetPort waits for the Service of Gateway ns/name (default "web") and
// returns its port 80's targetPort, which must be in this test's range.
func (w *world) targetPort(t *testing.T, ns string, name ...string) int32 {
	t.Helper()
	gw := append(name, "web")[0]
	var port int32
	stack.Eventually(t, time.Minute, "Service "+ns+"/"+controller.ServiceName(gw)+" with a target port", func(ctx context.Context) (bool, string) {
		var svc corev1.Service
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: controller.ServiceName(gw)}, &svc); err != nil {
			return false, err.Error()
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 80 || len(svc.Spec.Selector) != 0 {
			return false, fmt.Sprintf("ports %+v, selector %v; want port 80 only and no selector", svc.Spec.Ports, svc.Spec.Selector)
		}
		port = svc.Spec.Ports[0].TargetPort.IntVal
		return port >= 41200 && port <= 41299, fmt.Sprintf("targetPort %v, want one in %s", svc.Spec.Ports[0].TargetPort, targetPorts)
	})
	return port
}

func (w *world) gatewayProgrammed(t *testing.T, ns string) {
	t.Helper()
	stack.Eventually(t, time.Minute, "Gateway "+ns+"/web Programmed with its Service's cluster IP", func(ctx context.Context) (bool, string) {
		var gw gatewayv1.Gateway
		var svc corev1.Service
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "web"}, &gw); err != nil {
			return false, err.Error()
		}
		if err := w.client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "web-tenantgate"}, &svc); err != nil {
			return false, err.Error()
		}
		ok := meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) &&
			len(gw.Status.Addresses) == 1 && gw.Status.Addresses[0].Value == svc.Spec.ClusterIP
		return ok, fmt.Sprintf("status %+v, Service cluster IP %s", gw.Status, svc.Spec.ClusterIP)
	})
}

func (w *world) dedicatedDeployment(t *testing.T, ns string) *appsv1.Deployment {
	t.Helper()
	var dep appsv1.Deployment
	name := controller.DataPlaneName(types.NamespacedName{Namespace: ns, Name: "web"})
	stack.Eventually(t, time.Minute, "Deployment "+Namespace+"/"+name, func(ctx context.Context) (bool, string) {
		err := w.client.Get(ctx, types.NamespacedName{Namespace: Namespace, Name: name}, &dep)
		return err == nil, fmt.Sprint(err)
	})
	return &dep
}
