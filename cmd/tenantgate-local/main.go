// Command tenantgate-local is what `make run` starts: the local cluster
// (tests/cluster) and tenantgate in-process against it, until Ctrl-C, then
// everything is removed again.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "tenantgate-local:", err)
		os.Exit(1)
	}
}

func run() error {
	stateDir := flag.String("state-dir", ".local", "folder for the kubeconfig, certificates and logs")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	dir, err := filepath.Abs(*stateDir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(filepath.Join(dir, "cluster")); err != nil {
		return err
	}
	log, err := app.NewLogger("info", "console", nil)
	if err != nil {
		return err
	}
	fmt.Println("starting the local cluster (etcd, kube-apiserver, kube-controller-manager, node agent)...")
	c, err := cluster.Start(ctx, cluster.Options{Dir: filepath.Join(dir, "cluster"), Log: log.WithName("cluster")})
	if err != nil {
		return err
	}
	defer func() {
		fmt.Println("stopping tenantgate and the local cluster...")
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

	opts := app.Options{
		MetricsAddr: "127.0.0.1:8080", HealthAddr: "127.0.0.1:8081",
		EnableWebhook: true, EnableGateway: true,
		WebhookHost: "127.0.0.1", WebhookPort: 9443, WebhookCertDir: filepath.Join(dir, "webhook-certs"),
		GatewayAddressPool: "127.10.0.0/16", PlatformNamespaces: []string{"infra"},
		ControllerName: "tenantgate.dev/gateway-controller", ShutdownGrace: 5 * time.Second,
		LogLevel: "info", LogFormat: "console",
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- app.Run(runCtx, opts, c.Admin) }()
	defer func() { cancel(); <-done }()

	if err := waitReady(ctx, "http://"+opts.HealthAddr+"/readyz", done); err != nil {
		return err
	}
	fmt.Printf("\ntenantgate is ready\n\n  export KUBECONFIG=%s\n  kubectl get nodes,pods -A\n\n(bin/kubectl is built by make; press Ctrl-C to stop and clean up)\n", kubeconfig)
	select {
	case <-ctx.Done():
		return nil
	case err := <-done:
		done <- err
		return fmt.Errorf("tenantgate stopped: %w", err)
	}
}

func waitReady(ctx context.Context, url string, done chan error) error {
	client := &http.Client{Timeout: time.Second}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		select {
		case err := <-done:
			done <- err
			return false, fmt.Errorf("tenantgate stopped while starting: %v", err)
		default:
		}
		resp, err := client.Get(url)
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}
