package stack

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"
)

// Build compiles cmd/tenantgate from the repository at root into dir, so a
// process runs the source under test and not a stale bin/tenantgate.
func Build(ctx context.Context, root, dir string) (string, error) {
	return BuildCommand(ctx, root, dir, "./cmd/tenantgate")
}

// BuildCommand compiles the command package pkg (relative to root, the
// repository) into dir and returns the binary's path.
func BuildCommand(ctx context.Context, root, dir, pkg string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin, nil
}

// Flags are the command-line flags that give cmd/tenantgate the settings
// the stack runs it with in-process.
func Flags(o app.Options, kubeconfig string) []string {
	flags := []string{
		"-kubeconfig", kubeconfig,
		"-metrics-bind-address", o.MetricsAddr, "-health-probe-bind-address", o.HealthAddr,
		"-enable-webhook=" + strconv.FormatBool(o.EnableWebhook), "-enable-gateway=" + strconv.FormatBool(o.EnableGateway),
		"-webhook-host", o.WebhookHost, "-webhook-port", strconv.Itoa(o.WebhookPort), "-webhook-cert-dir", o.WebhookCertDir,
		"-gateway-address-pool", o.GatewayAddressPool, "-platform-namespaces", strings.Join(o.PlatformNamespaces, ","),
		"-controller-name", o.ControllerName, "-shutdown-grace", o.ShutdownGrace.String(),
		"-log-level", o.LogLevel, "-log-format", o.LogFormat,
	}
	if o.PprofAddr != "" {
		flags = append(flags, "-pprof-bind-address", o.PprofAddr)
	}
	return flags
}

// runProcess runs the binary with the stack's settings, its output to out,
// and sends its exit to s.done; Stop signals it by its process id.
func (s *Stack) runProcess(binary, kubeconfig string, out io.Writer) error {
	cmd := exec.Command(binary, Flags(s.Options, kubeconfig)...)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := proc.Start(cmd)
	if err != nil {
		return err
	}
	s.process = p
	exited := make(chan error, 1)
	go func() {
		<-p.Done()
		exited <- p.Err()
	}()
	s.done = exited
	return nil
}

// Pid is tenantgate's process id when it runs as a process of its own
// (Options.Binary), and 0 when it runs in this one.
func (s *Stack) Pid() int {
	if s.process == nil {
		return 0
	}
	return s.process.Pid()
}
