// Command tenantgate-local is what `make run` starts: the local cluster
// (etcd, kube-apiserver, kube-controller-manager and a node agent that runs
// Pods), cert-manager running for real, and a LoadBalancer implementation;
// then tenantgate installed onto it exactly as a user installs it (the
// Gateway API CRDs, then `kubectl apply -k` of manifests/default), so its
// webhook, controller and data plane run as Pods of the tenantgate image.
// It applies the seed example and runs until Ctrl-C; then everything it
// started is stopped and removed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/zapr"
	"go.uber.org/zap"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/certmanager"
	"github.com/tenantgate/tenantgate/tests/cluster/loadbalancer"
	"github.com/tenantgate/tenantgate/tests/roles"
	"github.com/tenantgate/tenantgate/tests/stack"
)

func main() {
	if err := run(); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "tenantgate-local:", err)
		os.Exit(1)
	}
}

func run() error {
	stateDir := flag.String("state-dir", ".local", "folder for the kubeconfig, certificates and logs")
	example := flag.String("example", "manifests/examples/seed", "manifests applied once tenantgate is installed; empty for none")
	pool := flag.String("load-balancer-pool", "127.10.0.0/16", "loopback range LoadBalancer Services (and so Gateways) get their addresses from (the README walkthrough's 127.10.0.1 is its first)")
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
	log, closeLog, err := fileLogger(filepath.Join(dir, "local.log"))
	if err != nil {
		return err
	}
	defer closeLog()
	ctrl.SetLogger(log) // cert-manager's CA injector logs through controller-runtime

	fmt.Println("starting the local cluster (etcd, kube-apiserver, kube-controller-manager, node agent), cert-manager and the load balancer...")
	c, err := cluster.Start(ctx, cluster.Options{Dir: clusterDir, NoCRDs: true, Images: map[string]string{"tenantgate": bin}})
	if err != nil {
		return err
	}
	var cleanups []func() error // run in reverse order
	defer func() {
		fmt.Println("stopping cert-manager, the load balancer and the local cluster...")
		for i := len(cleanups) - 1; i >= 0; i-- {
			if err := cleanups[i](); err != nil {
				fmt.Fprintln(os.Stderr, "cleanup:", err)
			}
		}
	}()
	cleanups = append(cleanups, c.Stop)
	kubeconfig := filepath.Join(dir, "kubeconfig")
	data, err := os.ReadFile(c.AdminKubeconfig)
	if err != nil {
		return err
	}
	if err := os.WriteFile(kubeconfig, data, 0o600); err != nil {
		return err
	}

	cmDir, err := cluster.ModuleDir(root, certmanager.Module)
	if err != nil {
		return err
	}
	cm, err := certmanager.Start(ctx, certmanager.Options{Config: c.Admin, Kubeconfig: c.AdminKubeconfig, ModuleDir: cmDir, Log: log.WithName("cert-manager")})
	if err != nil {
		return err
	}
	cleanups = append(cleanups, cm.Stop)
	stopLB, err := startLoadBalancer(ctx, c, *pool, log.WithName("loadbalancer"))
	if err != nil {
		return err
	}
	cleanups = append(cleanups, stopLB)

	in := &installer{root: root, dir: dir, kubeconfig: kubeconfig, admin: c.Admin}
	if err := in.install(ctx); err != nil {
		return err
	}
	var gw gatewayInfo
	if *example != "" {
		if gw, err = in.applyExample(ctx, *example); err != nil {
			return err
		}
	}
	fmt.Printf("\ntenantgate is ready (%s)\n\n", time.Since(began).Round(100*time.Millisecond))
	fmt.Printf("  export KUBECONFIG=%s PATH=$PWD/bin:$PATH\n  kubectl get deploy,svc,pods -A\n", kubeconfig)
	if gw.summary != "" {
		fmt.Printf("\n%s.\n", gw.summary)
	}
	if gw.address != "" {
		fmt.Println("Try the walkthrough in the README:")
		fmt.Printf("  kubectl apply -f %s/scenario-a/httproute.yaml\n", *example)
		fmt.Printf("  curl -s -H 'Host: fruits.example.com' http://%s/fruits\n", gw.address)
	}
	fmt.Printf("\ntenantgate runs from manifests/default as Pods of the tenantgate image (%s) in namespace %s;\n", bin, roles.Namespace)
	fmt.Printf("cert-manager issued its webhook certificate (kubectl get certificate -n %s).\n", roles.Namespace)
	fmt.Printf("Logs: kubectl logs, %s (cert-manager, load balancer), %s/control-plane.log. Ctrl-C stops everything.\n", filepath.Join(dir, "local.log"), clusterDir)
	<-ctx.Done()
	return nil
}

// startLoadBalancer runs the local LoadBalancer implementation until the
// returned stop is called.
func startLoadBalancer(ctx context.Context, c *cluster.Cluster, pool string, log logr.Logger) (func() error, error) {
	client, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		return nil, err
	}
	lb, err := loadbalancer.New(loadbalancer.Options{Client: client, Pool: pool, Log: log})
	if err != nil {
		return nil, err
	}
	lbCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	started, done := make(chan error, 1), make(chan struct{})
	go func() {
		defer close(done)
		lb.Run(lbCtx, started)
	}()
	stop := func() error {
		cancel()
		<-done
		return nil
	}
	if err := <-started; err != nil {
		stop()
		return nil, fmt.Errorf("starting the load balancer: %w", err)
	}
	return stop, nil
}

// fileLogger writes JSON lines to path, for the components running in this process.
func fileLogger(path string) (logr.Logger, func(), error) {
	cfg := zap.NewProductionConfig()
	cfg.OutputPaths, cfg.ErrorOutputPaths = []string{path}, []string{path}
	z, err := cfg.Build()
	if err != nil {
		return logr.Logger{}, nil, err
	}
	return zapr.NewLogger(z), func() { _ = z.Sync() }, nil
}

// tenantgateBinary is bin/tenantgate beside this program (`make run`
// builds both), or else cmd/tenantgate built into dir. The node agent runs
// it for the tenantgate image.
func tenantgateBinary(ctx context.Context, root, dir string) (string, error) {
	self, err := os.Executable()
	if err == nil {
		if bin := filepath.Join(filepath.Dir(self), "tenantgate"); fileExists(bin) {
			return bin, nil
		}
	}
	fmt.Println("building cmd/tenantgate...")
	bin, err := stack.Build(ctx, root, dir)
	if errors.Is(ctx.Err(), context.Canceled) {
		return "", ctx.Err()
	}
	return bin, err
}

func fileExists(path string) bool {
	info, err := os.Stat(path)
	return err == nil && info.Mode().IsRegular()
}
