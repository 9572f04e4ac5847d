package roles

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
)

// Namespace is where manifests/default puts tenantgate: its ServiceAccounts
// and the controller's Lease.
const Namespace = "tenantgate-system"

// Account is the ServiceAccount manifests/default runs a role's Pods as.
func Account(role app.Role) string { return "tenantgate-" + string(role) }

// RBAC renders manifests/default with the repository's kubectl and returns
// its ServiceAccounts, roles and bindings as one YAML stream.
func RBAC(ctx context.Context, root string) (string, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), "kustomize", filepath.Join(root, "manifests", "default"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	rendered, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("kubectl kustomize manifests/default: %v: %s", err, stderr.String())
	}
	var rbac strings.Builder
	for _, doc := range strings.Split(string(rendered), "\n---\n") {
		for _, kind := range []string{"ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"} {
			if strings.Contains(doc, "\nkind: "+kind+"\n") {
				rbac.WriteString(doc + "\n---\n")
			}
		}
	}
	return rbac.String(), nil
}

// AwaitRBAC waits until the API server authorizes each role's
// ServiceAccount as RBAC just applied says (its authorizer reads roles
// through informers), so a process started next sees no "forbidden".
func AwaitRBAC(ctx context.Context, admin *rest.Config) error {
	sar, err := kubernetes.NewForConfig(admin)
	if err != nil {
		return err
	}
	probes := []struct {
		role app.Role
		attr authorizationv1.ResourceAttributes
	}{
		{app.RoleWebhook, authorizationv1.ResourceAttributes{Resource: "namespaces", Verb: "watch"}},
		{app.RoleDataPlane, authorizationv1.ResourceAttributes{Group: "discovery.k8s.io", Resource: "endpointslices", Verb: "watch"}},
		{app.RoleController, authorizationv1.ResourceAttributes{Group: "gateway.networking.k8s.io", Resource: "httproutes", Subresource: "status", Verb: "update"}},
		{app.RoleController, authorizationv1.ResourceAttributes{Namespace: Namespace, Group: "coordination.k8s.io", Resource: "leases", Verb: "update"}},
	}
	for _, p := range probes {
		user := "system:serviceaccount:" + Namespace + ":" + Account(p.role)
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
			res, err := sar.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
				User: user, Groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"},
				ResourceAttributes: &p.attr,
			}}, metav1.CreateOptions{})
			return err == nil && res.Status.Allowed, nil
		})
		if err != nil {
			return fmt.Errorf("%s may still not %s %s after 30s: manifests/default's RBAC is not in effect", user, p.attr.Verb, p.attr.Resource)
		}
	}
	return nil
}

// Impersonating writes to out a copy of the kubeconfig at path whose user
// acts as ServiceAccount Namespace/account, with the groups its token
// carries, so a process run with it has exactly that account's rights.
func Impersonating(path, account, out string) error {
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return err
	}
	for _, user := range cfg.AuthInfos {
		user.Impersonate = "system:serviceaccount:" + Namespace + ":" + account
		user.ImpersonateGroups = []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"}
	}
	return clientcmd.WriteToFile(*cfg, out)
}
