package roles

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// bed is what every test here starts from: a local cluster with the
// install's namespace and RBAC, and the tenantgate binary built.
type bed struct {
	c   *cluster.Cluster
	w   *world
	bin string
}

// newBed starts the cluster (stopped at cleanup, after every process) and
// builds the binary. Each process runs as its Deployment's ServiceAccount,
// with exactly manifests/default's RBAC: a permission a role lacks shows as
// "forbidden" in its log.
func newBed(t *testing.T, ctx context.Context, root string, opts cluster.Options) *bed {
	t.Helper()
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	// Registered first, so it runs last: after every process has stopped.
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the local cluster: %v", err)
		}
	})
	w := newWorld(t, c, root)
	w.apply(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+Namespace+"}\n")
	w.applyRBAC(t, root)
	if err := AwaitRBAC(ctx, c.Admin); err != nil {
		t.Fatal(err)
	}
	bin, err := stack.Build(ctx, root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &bed{c: c, w: w, bin: bin}
}

// start runs one role process named name (its log is tenantgate-NAME.log),
// stopped at cleanup, and fails the test if its log shows a request its
// ServiceAccount may not make.
func (b *bed) start(t *testing.T, ctx context.Context, role app.Role, name string, args ...string) *Process {
	t.Helper()
	p, err := Start(ctx, Options{
		Binary: b.bin, Kubeconfig: impersonating(t, b.c.AdminKubeconfig, role), Role: role,
		LogPath: filepath.Join(b.c.Dir, "tenantgate-"+name+".log"), Args: args,
	}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(5 * time.Second)
		if data, err := os.ReadFile(p.LogPath); err != nil || strings.Contains(string(data), "forbidden") {
			t.Errorf("the %s process made a request its ServiceAccount may not (or its log is unreadable: %v)", name, err)
		}
		if t.Failed() {
			t.Logf("%s log (%s), last lines:\n%s", name, p.LogPath, Tail(p.LogPath, 15))
		}
	})
	return p
}
