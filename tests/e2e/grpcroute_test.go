package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	pb "sigs.k8s.io/gateway-api/conformance/echo-basic/grpcechoserver"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// grpcSetup is apples' gRPC echo service (echo-basic in gRPC mode, spoken
// to over h2c) with a GRPCRoute on its own hostname, and bananas' HTTPRoute
// for its hostname: the victim of the hijack below.
const grpcSetup = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: grpc-echo, namespace: apples}
spec:
  replicas: 1
  selector: {matchLabels: {app: grpc-echo}}
  template:
    metadata: {labels: {app: grpc-echo}}
    spec:
      containers:
      - name: echo
        image: registry.k8s.io/gateway-api/echo-basic:v1.5.1
        env:
        - {name: GRPC_ECHO_SERVER, value: "1"}
        - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
        - {name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
        ports: [{containerPort: 3000}]
---
apiVersion: v1
kind: Service
metadata: {name: grpc-echo, namespace: apples}
spec:
  selector: {app: grpc-echo}
  ports: [{port: 8080, targetPort: 3000, appProtocol: kubernetes.io/h2c}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: grpc, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra}]
  hostnames: [grpc.apples.example.com]
  rules:
  - matches: [{method: {service: gateway_api_conformance.echo_basic.grpcecho.GrpcEcho, method: Echo}}]
    backendRefs: [{name: grpc-echo, port: 8080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: bananas, namespace: bananas}
spec:
  parentRefs: [{name: shared, namespace: infra}]
  hostnames: [bananas.example.com]
  rules:
  - backendRefs: [{name: banana-echo, port: 80}]
`

// grpcHijack is apples claiming bananas' hostname with a GRPCRoute.
const grpcHijack = `
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: hijack, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra}]
  hostnames: [bananas.example.com]
  rules:
  - backendRefs: [{name: grpc-echo, port: 8080}]
`

const (
	wantGRPCHijackDenial = `Error from server (Forbidden): error when creating "STDIN": admission webhook "grpcroutes.tenantgate.dev" denied the request: ` +
		`spec.hostnames[0]: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames`
	wantGRPCHijackRefusal = `Refused by tenant policy: spec.hostnames[0]: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames.`
)

// TestGRPCRouteUnderTenantPolicy is issue 18's GRPCRoute part: a tenant's
// GRPCRoute serves gRPC through the shared Gateway; one claiming another
// tenant's hostname is denied by the webhook and, forced in while the
// webhook is unregistered, refused by the gateway with the same line,
// with the victim's traffic unchanged.
func TestGRPCRouteUnderTenantPolicy(t *testing.T) {
	if os.Getenv(ownProcessEnv) == "" {
		runInOwnProcess(t)
		return
	}
	s := stack.Start(t, stack.Options{AddressPool: "127.24.0.0/16", PlatformNamespaces: []string{"infra"}})
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	seed := filepath.Join(root, "manifests", "examples", "seed")
	args := []string{"apply"}
	for _, f := range []string{"00-namespaces.yaml", "01-workloads.yaml", "02-gateway.yaml", "03-tenants.yaml", "scenario-b/gateway-allow-teams.yaml"} {
		args = append(args, "-f", filepath.Join(seed, f))
	}
	if out, err := s.Kubectl("", args...); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	stack.Eventually(t, 20*time.Second, "gRPC setup applied", func(context.Context) (bool, string) {
		out, err := s.Kubectl(grpcSetup, "apply", "-f", "-")
		return err == nil, out
	})
	addr := gatewayAddress(t, s, "infra", "shared")
	for _, d := range []types.NamespacedName{{Namespace: "apples", Name: "grpc-echo"}, {Namespace: "bananas", Name: "banana-echo"}} {
		stack.Eventually(t, 2*time.Minute, "Deployment "+d.String()+" ready", func(ctx context.Context) (bool, string) {
			var dep appsv1.Deployment
			if err := s.Client.Get(ctx, d, &dep); err != nil {
				return false, err.Error()
			}
			return dep.Status.ReadyReplicas == *dep.Spec.Replicas, dep.Status.String()
		})
	}
	grpcRouteCondition(t, s, "apples", "grpc", "Accepted", "True", "Accepted", "Attached to listener http of Gateway infra/shared.")
	stack.Eventually(t, 20*time.Second, "gRPC served by apples", func(context.Context) (bool, string) {
		ns, code := grpcEcho(t, addr, "grpc.apples.example.com")
		return ns == "apples", fmt.Sprintf("namespace %q, code %s", ns, code)
	})
	stack.Eventually(t, 20*time.Second, "bananas.example.com served by bananas", func(context.Context) (bool, string) {
		got := send(t, addr, "bananas.example.com", "/", 10)
		return got.byNS["bananas"] == 10, got.String()
	})
	victimOnly(t, "(grpc) bananas.example.com/ before", send(t, addr, "bananas.example.com", "/", 200), "bananas")

	t.Run("webhook denies a GRPCRoute for another tenant's hostname", func(t *testing.T) {
		assertExact(t, "kubectl apply", denied(t, s, grpcHijack), wantGRPCHijackDenial)
	})
	unregisterWebhooks(t, s)
	t.Run("gateway refuses the GRPCRoute forced in", func(t *testing.T) {
		forceCreate(t, s, decode[gatewayv1.GRPCRoute](t, grpcHijack))
		grpcRouteCondition(t, s, "apples", "hijack", "Accepted", "False", "NotAllowedByTenant", wantGRPCHijackRefusal)
		victimOnly(t, "(grpc) bananas.example.com/ after", send(t, addr, "bananas.example.com", "/", 200), "bananas")
		if ns, code := grpcEcho(t, addr, "grpc.apples.example.com"); ns != "apples" {
			t.Errorf("apples' own GRPCRoute: got namespace %q, code %s after the refusal; want it still served", ns, code)
		}
	})
}

// grpcEcho calls echo-basic's Echo through the gateway with authority host
// and returns the namespace of the pod that answered.
func grpcEcho(t *testing.T, addr, host string) (string, codes.Code) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithAuthority(host))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := pb.NewGrpcEchoClient(conn).Echo(ctx, &pb.EchoRequest{})
	if err != nil {
		return "", status.Code(err)
	}
	return resp.GetAssertions().GetContext().GetNamespace(), codes.OK
}

// grpcRouteCondition waits until the GRPCRoute's parent status of our
// controller has condition typ as given, message included.
func grpcRouteCondition(t *testing.T, s *stack.Stack, ns, name, typ, status, reason, message string) {
	t.Helper()
	stack.Eventually(t, 30*time.Second, fmt.Sprintf("GRPCRoute %s/%s %s=%s/%s", ns, name, typ, status, reason), func(ctx context.Context) (bool, string) {
		var r gatewayv1.GRPCRoute
		if err := s.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r); err != nil {
			return false, err.Error()
		}
		for _, p := range r.Status.Parents {
			if p.ControllerName != "tenantgate.dev/gateway-controller" {
				continue
			}
			c := meta.FindStatusCondition(p.Conditions, typ)
			if c != nil && string(c.Status) == status && c.Reason == reason && c.Message == message {
				return true, ""
			}
		}
		return false, fmt.Sprintf("parents %+v", r.Status.Parents)
	})
}
