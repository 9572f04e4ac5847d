package audit_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/audit"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
	"github.com/tenantgate/tenantgate/tests/cluster"
)

// apiServer starts etcd and kube-apiserver from bin/ with the Gateway API
// and Tenant CRDs, stopped when the test ends.
func apiServer(t *testing.T) *envtest.Environment {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := cluster.BinDir(root)
	if err != nil {
		t.Fatal(err)
	}
	crds, err := cluster.CRDPaths(root, false)
	if err != nil {
		t.Fatal(err)
	}
	env := &envtest.Environment{BinaryAssetsDirectory: bin, ErrorIfCRDPathMissing: true, CRDDirectoryPaths: crds}
	if _, err := env.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stopping etcd and kube-apiserver: %v", err)
		}
	})
	return env
}

// An audit scheduled by an event may read a policy built before that event
// (the policy and the audit watch the same informers through separate
// handlers). A published policy must then start an audit of its own: here
// the policy changes with no watched object changing, and the status must
// follow it long before the resync.
func TestAuditFollowsPublishedPolicy(t *testing.T) {
	env := apiServer(t)
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, gatewayv1.Install, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	var before, after tenancy.Inputs
	for in, doc := range map[*tenancy.Inputs]string{&before: world, &after: world + hijack} {
		if err := yaml.UnmarshalStrict([]byte(doc), in); err != nil {
			t.Fatal(err)
		}
	}
	if v := tenancy.NewPolicy(after).TenantStatus("apples").Violations; len(v) != 1 {
		t.Fatalf("the changed policy finds %d violations of apples, want the hijack route", len(v))
	}
	var current atomic.Pointer[tenancy.Policy]
	current.Store(tenancy.NewPolicy(before))

	mgr, err := ctrl.NewManager(env.Config, ctrl.Options{Scheme: scheme, Metrics: server.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		t.Fatal(err)
	}
	published := make(chan event.GenericEvent, 1)
	r := &audit.Reconciler{
		Reader: mgr.GetCache(), Writer: mgr.GetClient(), PolicyChanged: published, Resync: time.Hour,
		Policy: tenancy.SourceFunc(func(context.Context) (*tenancy.Policy, error) { return current.Load(), nil }),
	}
	if err := r.SetupWithManager(mgr); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	}()

	c := mgr.GetClient()
	for i := range before.Tenants {
		tenant := before.Tenants[i].DeepCopy()
		tenant.ResourceVersion = ""
		if err := c.Create(ctx, tenant); err != nil {
			t.Fatal(err)
		}
	}
	violations := func(want int) {
		t.Helper()
		var got v1alpha1.Tenant
		err := wait.PollUntilContextTimeout(ctx, 50*time.Millisecond, 10*time.Second, true, func(ctx context.Context) (bool, error) {
			if err := c.Get(ctx, client.ObjectKey{Name: "apples"}, &got); err != nil {
				return false, nil
			}
			return len(got.Status.Conditions) > 0 && len(got.Status.Violations) == want, nil
		})
		if err != nil {
			t.Fatalf("Tenant apples: want an audited status with %d violations within 10s; last status %+v", want, got.Status)
		}
	}
	violations(0)
	current.Store(tenancy.NewPolicy(after))
	published <- event.GenericEvent{Object: &v1alpha1.Tenant{}}
	violations(1)
}

// world is one tenant; hijack adds a route of it that takes a hostname it
// does not own, seen by the policy alone (no such object is created).
const (
	world = `
namespaces:
- metadata: {name: apples}
tenants:
- metadata: {name: apples}
  spec:
    namespaces: {names: [apples]}
    hostnames: [{hostname: apples.example.com}]
`
	hijack = `httpRoutes:
- metadata: {namespace: apples, name: hijack}
  spec:
    hostnames: [bananas.example.com]
`
)
