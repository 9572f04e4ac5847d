package stack

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// BuildPlugin builds the kubectl plugin (cmd/kubectl-tenantgate) into a
// temporary folder and returns the folder, to put first on PATH.
func BuildPlugin(t testing.TB) string {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, err := BuildCommand(t.Context(), root, dir, "./cmd/kubectl-tenantgate"); err != nil {
		t.Fatalf("building the kubectl plugin: %v", err)
	}
	return dir
}

// KubectlAs runs bin/kubectl as user (the admin impersonating it), with
// pluginDir first on PATH so `kubectl tenantgate` is found, and returns
// what it printed and its exit code.
func (s *Stack) KubectlAs(t testing.TB, user, pluginDir, stdin string, args ...string) (string, int) {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "bin", "kubectl"), append(args, "--kubeconfig", s.Cluster.AdminKubeconfig, "--as", user)...)
	cmd.Env = append(os.Environ(), "PATH="+pluginDir+string(os.PathListSeparator)+os.Getenv("PATH"))
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	return "", 0
}
