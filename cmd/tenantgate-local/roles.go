package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/roles"
)

// topology is tenantgate as manifests/default deploys it: one process per
// role of the one binary, each running as its role's ServiceAccount.
type topology struct {
	processes []*roles.Process
}

// roleSettings are what make one local process of a role.
type roleSettings struct {
	role                    app.Role
	args                    []string
	metricsAddr, healthAddr string // free loopback ports when empty
}

// startTopology starts the webhook, the controller and the data plane
// together and waits until each is Ready; on error it stops what started.
func startTopology(ctx context.Context, c *cluster.Cluster, bin, dir string, settings []roleSettings) (*topology, error) {
	t := &topology{processes: make([]*roles.Process, len(settings))}
	errs := make([]error, len(settings))
	kubeconfigs := make([]string, len(settings))
	for i, s := range settings {
		kubeconfigs[i] = filepath.Join(dir, string(s.role)+".kubeconfig")
		if err := roles.Impersonating(c.AdminKubeconfig, roles.Account(s.role), kubeconfigs[i]); err != nil {
			return nil, err
		}
	}
	var wg sync.WaitGroup
	for i, s := range settings {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.processes[i], errs[i] = roles.Start(ctx, roles.Options{
				Binary: bin, Kubeconfig: kubeconfigs[i], Role: s.role,
				Args:        append([]string{"-platform-namespaces=infra", "-shutdown-grace=2s", "-log-format=console"}, s.args...),
				MetricsAddr: s.metricsAddr, HealthAddr: s.healthAddr,
				LogPath: filepath.Join(dir, "tenantgate-"+string(s.role)+".log"),
			}, 2*time.Minute)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// localRoles are the three roles with the flags the local cluster needs:
// the webhook where the API server calls it, the Lease in tenantgate-system,
// Gateway addresses from pool. The data plane gets the given endpoints.
func localRoles(c *cluster.Cluster, pool, metricsAddr, healthAddr string) []roleSettings {
	hooks := c.Env.WebhookInstallOptions
	return []roleSettings{
		{role: app.RoleWebhook, args: []string{"-webhook-host=" + hooks.LocalServingHost,
			"-webhook-port=" + strconv.Itoa(hooks.LocalServingPort), "-webhook-cert-dir=" + hooks.LocalServingCertDir}},
		{role: app.RoleController, args: []string{"-leader-elect", "-leader-election-namespace=" + roles.Namespace, "-gateway-address-pool=" + pool}},
		{role: app.RoleDataPlane, args: []string{"-gateway-address-pool=" + pool}, metricsAddr: metricsAddr, healthAddr: healthAddr},
	}
}

// stop ends every process (SIGTERM, then SIGKILL after a grace period).
func (t *topology) stop() error {
	var errs []error
	for _, p := range t.processes {
		if p != nil {
			errs = append(errs, p.Stop(5*time.Second))
		}
	}
	return errors.Join(errs...)
}

// print says where each process's endpoints and log are.
func (t *topology) print() {
	for _, p := range t.processes {
		fmt.Printf("  %-10s metrics http://%s/metrics  ready http://%s/readyz  log %s\n", p.Role, p.MetricsAddr, p.HealthAddr, p.LogPath)
	}
}

// tenantgateBinary is bin/tenantgate beside this program (`make run`
// builds both), or else cmd/tenantgate built into dir.
func tenantgateBinary(ctx context.Context, root, dir string) (string, error) {
	self, err := os.Executable()
	if err == nil {
		if bin := filepath.Join(filepath.Dir(self), "tenantgate"); fileExists(bin) {
			return bin, nil
		}
	}
	fmt.Println("building cmd/tenantgate...")
	return roles.Build(ctx, root, dir)
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
