// Command tenantgate-local is what `make run` starts: the local cluster and
// tenantgate as manifests/default deploys it, one process per role
// (webhook, controller, data plane) running as its role's ServiceAccount
// with the install's RBAC, with the seed example applied, until Ctrl-C;
// then everything it started is stopped and removed.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/roles"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tenantgate-local:", err)
		os.Exit(1)
	}
}

func run() error {
	stateDir := flag.String("state-dir", ".local", "folder for the kubeconfig, certificates and logs")
	example := flag.String("example", "manifests/examples/seed", "manifests applied once the cluster is up; empty for none")
	metricsAddr := flag.String("metrics-bind-address", "127.0.0.1:8080", "the data plane's metrics endpoint (the webhook and controller get free ports, printed when ready)")
	healthAddr := flag.String("health-probe-bind-address", "127.0.0.1:8081", "the data plane's health endpoint")
	pool := flag.String("gateway-address-pool", "127.10.0.0/16", "loopback range Gateways get their addresses from")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	clusterDir := filepath.Join(dir, "cluster")
	if err := os.RemoveAll(clusterDir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	root, err := cluster.RepoRoot()
	if err != nil {
		return err
	}
	began := time.Now()
	bin, err := tenantgateBinary(ctx, root, dir)
	if err != nil {
		return err
	}
	fmt.Println("starting the local cluster (etcd, kube-apiserver, kube-controller-manager, node agent) and tenantgate's webhook, controller and data plane...")
	hooks := envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}, LocalServingHost: "127.0.0.1"}
	c, err := cluster.Start(ctx, cluster.Options{Dir: clusterDir, Webhooks: hooks})
	if err != nil {
		return err
	}
	var tenantgate *topology
	defer func() {
		fmt.Println("stopping tenantgate and the local cluster...")
		if tenantgate != nil {
			if err := tenantgate.stop(); err != nil {
				fmt.Fprintln(os.Stderr, "cleanup:", err)
			}
		}
		if err := c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	data, err := os.ReadFile(c.AdminKubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}
	kubectl := func(stdin string, args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, filepath.Join(root, "bin", "kubectl"), append([]string{"--kubeconfig", kubeconfig}, args...)...)
		cmd.Stdin = bytes.NewBufferString(stdin)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The install's namespace and RBAC, so each role runs with exactly its rights.
	rbac, err := roles.RBAC(ctx, root)
	if err != nil {
		return err
	}
	if out, err := kubectl("apiVersion: v1\nkind: Namespace\nmetadata: {name: "+roles.Namespace+"}\n---\n"+rbac, "apply", "-f", "-"); err != nil {
		return fmt.Errorf("applying manifests/default's RBAC: %w\n%s", err, out)
	}
	if err := roles.AwaitRBAC(ctx, c.Admin); err != nil {
		return err
	}
	if tenantgate, err = startTopology(ctx, c, bin, dir, localRoles(c, *pool, *metricsAddr, *healthAddr)); err != nil {
		return err
	}

	address := ""
	if *example != "" {
		out, err := kubectl("", "apply", "-f", *example)
		fmt.Print(out)
		if err != nil {
			return fmt.Errorf("applying %s: %w", *example, err)
		}
		scheme, err := app.Scheme()
		if err != nil {
			return err
		}
		k, err := client.New(c.Admin, client.Options{Scheme: scheme})
		if err != nil {
			return err
		}
		if address, err = gatewayAddress(ctx, k, types.NamespacedName{Namespace: "infra", Name: "shared"}); err != nil {
			return err
		}
	}
	fmt.Printf("\ntenantgate is ready (%s)\n\n", time.Since(began).Round(100*time.Millisecond))
	fmt.Printf("  export KUBECONFIG=%s PATH=$PWD/bin:$PATH\n  kubectl get nodes,pods -A\n", kubeconfig)
	if address != "" {
		fmt.Printf("\nThe shared Gateway infra/shared listens on %s:80. Try the walkthrough in the README:\n", address)
		fmt.Printf("  kubectl apply -f %s/scenario-a/httproute.yaml\n", *example)
		fmt.Printf("  curl -s -H 'Host: fruits.example.com' http://%s/fruits\n", address)
	}
	fmt.Println("\ntenantgate runs as three processes, one per role (manifests/default):")
	tenantgate.print()
	fmt.Printf("Control plane log: %s/control-plane.log. Ctrl-C stops everything.\n", clusterDir)
	<-ctx.Done()
	return nil
}

// gatewayAddress waits until the Gateway is Programmed and returns its address.
func gatewayAddress(ctx context.Context, k client.Client, key types.NamespacedName) (string, error) {
	var addr string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var gw gatewayv1.Gateway
		if err := k.Get(ctx, key, &gw); err != nil {
			return false, nil
		}
		if !meta.IsStatusConditionTrue(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed)) || len(gw.Status.Addresses) == 0 {
			return false, nil
		}
		addr = gw.Status.Addresses[0].Value
		return true, nil
	})
	if err != nil {
		return "", fmt.Errorf("Gateway %s was not Programmed within a minute; see `kubectl describe gateway -n %s %s`", key, key.Namespace, key.Name)
	}
	return addr, nil
}
