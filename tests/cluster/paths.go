package cluster

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RepoRoot returns the tenantgate checkout that contains the working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if data, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil &&
			strings.HasPrefix(string(data), "module github.com/tenantgate/tenantgate\n") {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no tenantgate checkout above the working directory; run from inside the repository")
		}
		dir = parent
	}
}

// BinDir is where hack/tools.sh puts the control-plane binaries.
func BinDir(root string) (string, error) {
	bin := filepath.Join(root, "bin")
	for _, name := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kubectl", "echo-basic"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			return "", fmt.Errorf("%s is missing from %s; run `make tools` first", name, bin)
		}
	}
	return bin, nil
}

// ModuleDir returns where the Go module cache holds a dependency of the
// project, so CRDs are read from the exact pinned module.
func ModuleDir(root, module string) (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("locating module %s: %w (is the Go toolchain on PATH?)", module, err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", fmt.Errorf("module %s is not downloaded; run `go mod download`", module)
	}
	return dir, nil
}
