package stack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"
)

// Options tune a Stack.
type Options struct {
	// AddressPool for Gateways; each test package uses its own loopback range
	// so packages can run in parallel.
	AddressPool string
	// PlatformNamespaces trusted by tenant policy.
	PlatformNamespaces []string
	// ExperimentalCRDs installs the Gateway API experimental channel.
	ExperimentalCRDs bool
	// Dir keeps the cluster's state (kubeconfigs, logs); a temporary folder when empty.
	Dir string
	// LogOutput receives tenantgate's log; a file in the state folder when nil.
	LogOutput io.Writer
	// LogFormat is json (the default) or console.
	LogFormat string
	// MetricsAddr and HealthAddr are tenantgate's endpoints; free loopback ports when empty.
	MetricsAddr, HealthAddr string
	// PprofAddr serves tenantgate's /debug/pprof; none when empty.
	PprofAddr string
	// Binary, when set, runs tenantgate as this executable (see Build) in a
	// process of its own, so its memory and CPU can be measured apart from
	// the harness's; in this process when empty.
	Binary string
}

// Stack is a running cluster with tenantgate.
type Stack struct {
	Cluster *cluster.Cluster
	// Client is a cluster-admin client that knows tenantgate's types.
	Client  client.Client
	Options app.Options
	// MetricsURL serves tenantgate's Prometheus metrics.
	MetricsURL string

	cancel  context.CancelFunc
	done    chan error
	process *proc.Process
}

// Start brings everything up and registers its teardown with t.Cleanup.
func Start(t testing.TB, opts Options) *Stack {
	t.Helper()
	s, err := New(context.Background(), opts)
	if err != nil {
		t.Fatalf("starting the cluster and tenantgate: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("stopping: %v", err)
		}
	})
	return s
}

// New starts the cluster and tenantgate; Stop ends both.
func New(ctx context.Context, opts Options) (_ *Stack, err error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return nil, err
	}
	hooks := envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}, LocalServingHost: "127.0.0.1"}
	startCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(startCtx, cluster.Options{Dir: opts.Dir, ExperimentalCRDs: opts.ExperimentalCRDs, Webhooks: hooks})
	if err != nil {
		return nil, err
	}
	s := &Stack{Cluster: c}
	defer func() {
		if err != nil {
			s.Stop()
		}
	}()
	scheme, err := app.Scheme()
	if err != nil {
		return nil, err
	}
	if s.Client, err = client.New(c.Admin, client.Options{Scheme: scheme}); err != nil {
		return nil, err
	}
	metrics, health, err := freeAddrs()
	if err != nil {
		return nil, err
	}
	if opts.MetricsAddr != "" {
		metrics = opts.MetricsAddr
	}
	if opts.HealthAddr != "" {
		health = opts.HealthAddr
	}
	if opts.LogFormat == "" {
		opts.LogFormat = "json"
	}
	s.Options = app.Options{
		MetricsAddr: metrics, HealthAddr: health, PprofAddr: opts.PprofAddr,
		EnableWebhook: true, EnableGateway: true,
		WebhookHost:        c.Env.WebhookInstallOptions.LocalServingHost,
		WebhookPort:        c.Env.WebhookInstallOptions.LocalServingPort,
		WebhookCertDir:     c.Env.WebhookInstallOptions.LocalServingCertDir,
		GatewayAddressPool: opts.AddressPool, PlatformNamespaces: opts.PlatformNamespaces,
		ControllerName: "tenantgate.dev/gateway-controller", ShutdownGrace: 2 * time.Second,
		LogLevel: "info", LogFormat: opts.LogFormat,
	}
	s.MetricsURL = "http://" + metrics + "/metrics"
	logPath := filepath.Join(c.Dir, "tenantgate.log")
	out := opts.LogOutput
	if out == nil {
		logFile, err := os.Create(logPath)
		if err != nil {
			return nil, err
		}
		out = logFile
	}
	if opts.Binary != "" {
		err := s.runProcess(opts.Binary, c.AdminKubeconfig, out)
		if f, ok := out.(*os.File); ok && f.Name() == logPath {
			f.Close() // the process has its own descriptor
		}
		if err != nil {
			return nil, err
		}
		if err := s.waitReady(startCtx); err != nil {
			return nil, fmt.Errorf("%w (tenantgate log: %s)", err, logPath)
		}
		return s, nil
	}
	runCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.done = stop, make(chan error, 1)
	go func() {
		s.done <- app.RunWithLogOutput(runCtx, s.Options, c.Admin, out)
		if f, ok := out.(*os.File); ok && f.Name() == logPath {
			f.Close()
		}
	}()
	if err := s.waitReady(startCtx); err != nil {
		return nil, fmt.Errorf("%w (tenantgate log: %s)", err, logPath)
	}
	return s, nil
}

func (s *Stack) waitReady(ctx context.Context) error {
	hc := &http.Client{Timeout: time.Second}
	return wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		select {
		case err := <-s.done:
			s.done <- err
			return false, fmt.Errorf("tenantgate stopped while starting: %v", err)
		default:
		}
		resp, err := hc.Get("http://" + s.Options.HealthAddr + "/readyz")
		if err != nil {
			return false, nil
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
}

// Stop stops tenantgate, then the cluster.
func (s *Stack) Stop() error {
	var errs []error
	if s.process != nil {
		if err := s.process.Stop(s.Options.ShutdownGrace + 5*time.Second); err != nil {
			errs = append(errs, fmt.Errorf("tenantgate: %w", err))
		}
		s.process = nil
	}
	if s.cancel != nil {
		s.cancel()
		if err := <-s.done; err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, fmt.Errorf("tenantgate: %w", err))
		}
		s.cancel = nil
	}
	if s.Cluster != nil {
		errs = append(errs, s.Cluster.Stop())
		s.Cluster = nil
	}
	return errors.Join(errs...)
}

// Kubectl runs bin/kubectl as cluster admin and returns its combined output,
// which is what a person sees (denials and warnings included).
func (s *Stack) Kubectl(stdin string, args ...string) (string, error) {
	root, err := cluster.RepoRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "bin", "kubectl"), append([]string{"--kubeconfig", s.Cluster.AdminKubeconfig}, args...)...)
	if stdin != "" {
		cmd.Stdin = stringReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// FreeAddr is a loopback address (127.0.0.1:port) no socket holds now.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// freeAddrs are two such addresses, held open together so they differ.
func freeAddrs() (metrics, health string, err error) {
	var addrs [2]string
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", "", err
		}
		defer l.Close()
		addrs[i] = l.Addr().String()
	}
	return addrs[0], addrs[1], nil
}
