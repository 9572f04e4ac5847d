package manifests

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// missingLastApplied is kubectl's warning for an object it did not create;
// the harness installs the Tenant CRD itself, a fresh cluster would not have it.
const missingLastApplied = "missing the kubectl.kubernetes.io/last-applied-configuration annotation"

// TestOnLocalCluster applies the install to a real API server with the
// Gateway API, tenantgate and cert-manager CRDs: a server-side dry run of
// everything, then RBAC and CA injection for real.
func TestOnLocalCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	defer c.Stop()
	// One logger for every controller-runtime piece this test starts.
	ctrl.SetLogger(testr.NewWithOptions(t, testr.Options{}))
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	certManager, err := cluster.ModuleDir(root, "github.com/cert-manager/cert-manager")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := envtest.InstallCRDs(c.Admin, envtest.CRDInstallOptions{
		Paths: []string{filepath.Join(certManager, "deploy", "crds")}, ErrorIfPathMissing: true,
	}); err != nil {
		t.Fatalf("installing cert-manager's CRDs: %v", err)
	}
	objs := loadDefault(t)
	kubectl := func(t *testing.T, stdin []byte, args ...string) (string, string) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), append([]string{"--kubeconfig", c.AdminKubeconfig}, args...)...)
		cmd.Dir, cmd.Stdin, cmd.Stdout, cmd.Stderr = root, bytes.NewReader(stdin), &stdout, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("kubectl %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
		}
		return stdout.String(), stderr.String()
	}
	// A dry run persists nothing, so the namespace the other objects go into
	// must exist first; in a real install the same apply creates it.
	kubectl(t, []byte("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: "+namespace+"\n  labels:\n"+
		"    pod-security.kubernetes.io/enforce: restricted\n    pod-security.kubernetes.io/warn: restricted\n"),
		"apply", "-f", "-")

	t.Run("kubectl apply -k manifests/default --dry-run=server", func(t *testing.T) {
		stdout, stderr := kubectl(t, nil, "apply", "-k", "manifests/default", "--dry-run=server")
		t.Logf("$ kubectl apply -k manifests/default --dry-run=server\n%s%s", stdout, stderr)
		dryRun := strings.Count(stdout, "(server dry run)\n")
		if dryRun != len(objs) {
			t.Errorf("%d objects went through the server-side dry run; the install has %d", dryRun, len(objs))
		}
		// Warnings include Pod Security "restricted" violations, which the
		// namespace's warn label asks the API server to report.
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if line != "" && !(strings.Contains(line, missingLastApplied) && strings.Contains(line, "tenants.tenancy.tenantgate.dev")) {
				t.Errorf("kubectl printed: %s", line)
			}
		}
	})

	t.Run("kubectl apply -k manifests/webhook-only --dry-run=server", func(t *testing.T) {
		want := len(load(t, "webhook-only"))
		stdout, stderr := kubectl(t, nil, "apply", "-k", "manifests/webhook-only", "--dry-run=server")
		t.Logf("$ kubectl apply -k manifests/webhook-only --dry-run=server\n%s%s", stdout, stderr)
		if got := strings.Count(stdout, "(server dry run)\n"); got != want {
			t.Errorf("%d objects went through the server-side dry run; the overlay has %d", got, want)
		}
		for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
			if line != "" && !(strings.Contains(line, missingLastApplied) && strings.Contains(line, "tenants.tenancy.tenantgate.dev")) {
				t.Errorf("kubectl printed: %s", line)
			}
		}
	})

	t.Run("RBAC as the API server authorizes it", func(t *testing.T) {
		k, err := client.New(c.Admin, client.Options{Scheme: scheme})
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			switch o.(type) {
			case *corev1.ServiceAccount, *rbacv1.ClusterRole, *rbacv1.Role, *rbacv1.ClusterRoleBinding, *rbacv1.RoleBinding:
				if err := k.Create(ctx, o.DeepCopyObject().(client.Object)); err != nil {
					t.Fatalf("creating %T %s: %v", o, o.GetName(), err)
				}
			}
		}
		fast := rest.CopyConfig(c.Admin)
		fast.QPS, fast.Burst = 200, 400 // hundreds of reviews; the default 5/s is for controllers
		sar := kubernetes.NewForConfigOrDie(fast).AuthorizationV1().SubjectAccessReviews()
		allowed := func(account string, p permission, ns string) bool {
			t.Helper()
			resource, sub, _ := strings.Cut(p.resource, "/")
			res, err := sar.Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User:   "system:serviceaccount:" + namespace + ":" + account,
				Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + namespace, "system:authenticated"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: ns, Group: p.group, Resource: resource, Subresource: sub, Verb: p.verb,
				},
			}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatalf("asking whether %s may %s: %v", account, p, err)
			}
			return res.Status.Allowed
		}
		// The RBAC authorizer reads roles through informers: wait until the
		// objects just created are in effect before asking about each permission.
		probe := permission{"", "namespaces", "watch"}
		for _, id := range identities {
			if err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 10*time.Second, true, func(context.Context) (bool, error) {
				return allowed(id.account, probe, ""), nil
			}); err != nil {
				t.Fatalf("the ClusterRoleBinding of %s never took effect: %s is still denied", id.account, probe)
			}
		}
		// What the controller writes, which the webhook and the data plane must not.
		controllerWrites := append(writesOf(usedClusterWide), writesOf(usedInOwnNamespace)...)
		for _, id := range identities {
			cases := []sarCase{
				{"used everywhere", keys(expand(id.clusterWide)), []string{""}, true},
				{"unused verbs", denied(append(slices.Clone(id.clusterWide), id.ownNamespace...)), []string{"", namespace}, false},
				// Minus what it uses in its own namespace (the controller's data-plane Pods and
				// dedicated Deployments), which "own-namespace permissions elsewhere" checks.
				{"unrelated resources", slices.DeleteFunc([]permission{
					{"", "pods", "list"}, {"", "persistentvolumeclaims", "get"}, {"apps", "deployments", "update"},
					{"admissionregistration.k8s.io", "validatingwebhookconfigurations", "update"},
					{"rbac.authorization.k8s.io", "clusterroles", "escalate"}, {"", "serviceaccounts", "impersonate"},
				}, func(p permission) bool { return expand(id.ownNamespace)[p] }), []string{"", namespace}, false},
			}
			if id.ownNamespace != nil {
				cases = append(cases,
					sarCase{"used in its own namespace", keys(expand(id.ownNamespace)), []string{namespace}, true},
					sarCase{"own-namespace permissions elsewhere", keys(expand(id.ownNamespace)), []string{"", "default"}, false})
			} else {
				cases = append(cases, sarCase{"no status, Events or Lease: nothing the controller writes", controllerWrites, []string{"", namespace, "default"}, false})
			}
			for _, tc := range cases {
				t.Run(id.account+"/"+tc.name, func(t *testing.T) {
					for _, p := range tc.perms {
						for _, ns := range tc.namespaces {
							if got := allowed(id.account, p, ns); got != tc.want {
								t.Errorf("%s: %s in namespace %q: allowed = %v, want %v", id.account, p, ns, got, tc.want)
							}
						}
					}
				})
			}
		}
		// The brief's sharpest case, spelt out: a data-plane Pod cannot rewrite a route's status.
		if allowed("tenantgate-dataplane", permission{"gateway.networking.k8s.io", "httproutes/status", "update"}, "default") {
			t.Error("tenantgate-dataplane may update HTTPRoute status")
		}
		if !allowed("tenantgate-controller", permission{"gateway.networking.k8s.io", "httproutes/status", "update"}, "default") {
			t.Error("tenantgate-controller may not update HTTPRoute status")
		}
		// Only the controller writes the Gateways' Services: a compromised
		// webhook or data-plane Pod cannot repoint one.
		for _, account := range []string{"tenantgate-webhook", "tenantgate-dataplane"} {
			for _, verb := range []string{"create", "update", "patch", "delete"} {
				if allowed(account, permission{"", "services", verb}, "default") {
					t.Errorf("%s may %s Services", account, verb)
				}
			}
		}
		if !allowed("tenantgate-controller", permission{"", "services", "create"}, "default") {
			t.Error("tenantgate-controller may not create Services, so Gateways get no Service")
		}
	})

	t.Run("cert-manager's CA injector fills the caBundle", func(t *testing.T) {
		testCAInjection(t, ctx, c, objs)
	})
}

// sarCase asks whether some permissions are allowed in some namespaces
// ("" is every namespace at once).
type sarCase struct {
	name       string
	perms      []permission
	namespaces []string
	want       bool
}

func keys(m map[permission]bool) []permission {
	var out []permission
	for p := range m {
		out = append(out, p)
	}
	return out
}
