package manifests

import (
	"bufio"
	"bytes"
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// dockerfileBuild returns the `go build` command of the Dockerfile's build
// stage, so the test runs what the image runs instead of a copy of it.
func dockerfileBuild(dockerfile string) (string, error) {
	f, err := os.Open(dockerfile)
	if err != nil {
		return "", err
	}
	defer f.Close()
	var found []string
	s := bufio.NewScanner(f)
	for s.Scan() {
		if cmd, ok := strings.CutPrefix(strings.TrimSpace(s.Text()), "RUN "); ok && strings.Contains(cmd, "go build") {
			found = append(found, cmd)
		}
	}
	if err := s.Err(); err != nil {
		return "", err
	}
	if len(found) != 1 {
		return "", fmt.Errorf("%s has %d RUN lines with `go build`; want exactly one", dockerfile, len(found))
	}
	return found[0], nil
}

// staticProblems says why an ELF file would not run on an empty base image.
func staticProblems(path string) ([]string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var problems []string
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			problems = append(problems, "has a program interpreter (PT_INTERP): it is dynamically linked")
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil && !errors.Is(err, elf.ErrNoSymbols) {
		return nil, err
	}
	if len(libs) > 0 {
		problems = append(problems, fmt.Sprintf("needs shared libraries (DT_NEEDED) %v", libs))
	}
	if f.Section(".symtab") != nil {
		problems = append(problems, "keeps its symbol table; -ldflags \"-s -w\" strips it")
	}
	return problems, nil
}

// TestImageBinary builds tenantgate with the Dockerfile's own build command
// and checks that the result runs on a scratch base: static, stripped, and
// starting far enough to print its flags.
func TestImageBinary(t *testing.T) {
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	build, err := dockerfileBuild(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", `-ldflags "-s -w"`, "-o /out/tenantgate ./cmd/tenantgate"} {
		if !strings.Contains(build, want) {
			t.Fatalf("the Dockerfile builds with %q, which lacks %q", build, want)
		}
	}
	bin := filepath.Join(t.TempDir(), "tenantgate")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// The same shell line the image runs, writing to a temporary folder
	// and for this machine's architecture.
	cmd := exec.CommandContext(ctx, "sh", "-c", strings.Replace(build, "/out/tenantgate", bin, 1))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TARGETOS="+runtime.GOOS, "TARGETARCH="+runtime.GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build, err, out)
	}

	problems, err := staticProblems(bin)
	if err != nil {
		t.Fatalf("reading %s as ELF: %v", bin, err)
	}
	for _, p := range problems {
		t.Errorf("the image binary %s", p)
	}

	var stderr bytes.Buffer
	help := exec.CommandContext(ctx, bin, "-help")
	help.Stderr = &stderr
	if err := help.Run(); err != nil {
		t.Fatalf("tenantgate -help: %v\n%s", err, stderr.String())
	}
	for _, d := range all[*appsv1.Deployment](loadDefault(t)) {
		for _, arg := range tenantgateContainer(t, d).Args {
			name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
			if !strings.Contains(stderr.String(), "  -"+name+" ") && !strings.Contains(stderr.String(), "  -"+name+"\n") {
				t.Errorf("tenantgate -help does not list -%s, which Deployment %s passes", name, d.Name)
			}
		}
	}
}

// TestStaticProblems shows the check can fail: a libc-linked system shell
// is reported as dynamically linked.
func TestStaticProblems(t *testing.T) {
	sh, err := filepath.EvalSymlinks("/bin/sh")
	if err != nil {
		t.Fatal(err)
	}
	problems, err := staticProblems(sh)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(problems, "\n"), "dynamically linked") {
		t.Fatalf("%s: problems %v; want it reported as dynamically linked", sh, problems)
	}
}
