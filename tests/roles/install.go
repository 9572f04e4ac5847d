package roles

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

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
