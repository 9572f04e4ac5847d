// Command tenantgate-local is what `make run` starts: the local cluster and
// tenantgate in-process (tests/stack, the same assembly the end-to-end tests
// use), with the seed example applied, until Ctrl-C; then everything it
// started is stopped and removed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tests/stack"
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
	metricsAddr := flag.String("metrics-bind-address", "127.0.0.1:8080", "tenantgate's metrics endpoint")
	healthAddr := flag.String("health-probe-bind-address", "127.0.0.1:8081", "tenantgate's health endpoint")
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
	logFile, err := os.Create(filepath.Join(dir, "tenantgate.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()

	began := time.Now()
	fmt.Println("starting the local cluster (etcd, kube-apiserver, kube-controller-manager, node agent) and tenantgate...")
	s, err := stack.New(ctx, stack.Options{
		Dir: clusterDir, AddressPool: *pool, PlatformNamespaces: []string{"infra"},
		LogOutput: logFile, LogFormat: "console", MetricsAddr: *metricsAddr, HealthAddr: *healthAddr,
	})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("stopping tenantgate and the local cluster...")
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cleanup:", err)
		}
	}()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	data, err := os.ReadFile(s.Cluster.AdminKubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}

	address := ""
	if *example != "" {
		out, err := s.Kubectl("", "apply", "-f", *example)
		fmt.Print(out)
		if err != nil {
			return fmt.Errorf("applying %s: %w", *example, err)
		}
		if address, err = gatewayAddress(ctx, s, types.NamespacedName{Namespace: "infra", Name: "shared"}); err != nil {
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
	fmt.Printf("\nLogs: %s and %s/control-plane.log. Ctrl-C stops everything.\n", logFile.Name(), clusterDir)
	<-ctx.Done()
	return nil
}

// gatewayAddress waits until the Gateway is Programmed and returns its address.
func gatewayAddress(ctx context.Context, s *stack.Stack, key types.NamespacedName) (string, error) {
	var addr string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		var gw gatewayv1.Gateway
		if err := s.Client.Get(ctx, key, &gw); err != nil {
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
