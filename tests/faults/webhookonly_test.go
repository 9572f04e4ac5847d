package faults

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
	"github.com/tenantgate/tenantgate/tests/cluster"
)

// TestWebhookOnlyWithItsOwnRBAC runs tenantgate as manifests/webhook-only
// runs it (-enable-gateway=false -leader-elect) with exactly that overlay's
// RBAC: the process impersonates the overlay's ServiceAccount. It gets
// ready, takes the Lease, denies a hostname hijack, writes Tenant status,
// and no request of its is forbidden.
func TestWebhookOnlyWithItsOwnRBAC(t *testing.T) {
	w := StartWorld(t, true)
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	rendered, err := exec.Command(filepath.Join(root, "bin", "kubectl"), "kustomize", filepath.Join(root, "manifests", "webhook-only")).Output()
	if err != nil {
		t.Fatalf("kubectl kustomize manifests/webhook-only: %v", err)
	}
	objs, err := decode(string(rendered))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rbac := 0
	for _, u := range objs {
		switch u.GetKind() {
		case "ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding":
			if err := w.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("faults"), client.ForceOwnership); err != nil {
				t.Fatalf("applying %s %s: %v", u.GetKind(), u.GetName(), err)
			}
			rbac++
		}
	}
	if rbac != 5 {
		t.Fatalf("manifests/webhook-only has %d RBAC objects; want the ServiceAccount, Role, ClusterRole and their two bindings", rbac)
	}
	kubeconfig := impersonating(t, w.Cluster.AdminKubeconfig, "tenantgate-system", "tenantgate")

	r := StartReplica(t, "webhook-only", w.Cluster.Dir, ReplicaOptions{
		Kubeconfig: kubeconfig, Webhook: true, WebhookPort: w.Webhooks().LocalServingPort,
		WebhookCertDir: w.Webhooks().LocalServingCertDir, LeaderElect: true,
	})
	leaderLease(t, w, r, 30*time.Second)
	w.ApplySeed(t, "00-namespaces.yaml", "02-gateway.yaml", "03-tenants.yaml")

	hijack := namedBananasRoute("hijack", "apples.example.com")
	const want = `spec.hostnames[0]: "apples.example.com" belongs to tenant "apples", not tenant "bananas"; use a hostname listed in Tenant bananas spec.hostnames`
	var denial string
	w.Eventually(t, 10*time.Second, "the hijack denied", func(ctx context.Context) (bool, string) {
		err := w.TryApply(ctx, hijack)
		denial = fmt.Sprint(err)
		return err != nil && strings.Contains(err.Error(), want), denial
	})
	t.Logf("the hijack of apples.example.com by bananas: %s", denial)

	w.Eventually(t, 30*time.Second, "Tenant apples status written by the audit", func(ctx context.Context) (bool, string) {
		var tenant v1alpha1.Tenant
		if err := w.Client.Get(ctx, types.NamespacedName{Name: "apples"}, &tenant); err != nil {
			return false, err.Error()
		}
		return meta.FindStatusCondition(tenant.Status.Conditions, v1alpha1.ConditionReady) != nil, fmt.Sprintf("%+v", tenant.Status)
	})
	if r.LogContains("forbidden") {
		t.Errorf("tenantgate made a request its webhook-only RBAC forbids; its log ends:\n%s", tail(r.LogPath, 10))
	}
	if r.Exited() {
		t.Errorf("tenantgate exited: %v", r.proc.Err())
	}
}
