package faults

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// LeaseNamespace holds the leader-election Lease, as tenantgate-system does
// in a real install.
const LeaseNamespace = "tenantgate-system"

// ReplicaOptions say how to run one tenantgate process.
type ReplicaOptions struct {
	Kubeconfig string
	// Webhook serves admission on 127.0.0.1:WebhookPort with the
	// certificate in WebhookCertDir.
	Webhook        bool
	WebhookPort    int
	WebhookCertDir string
	// Gateway runs the controller and the proxy; Gateways get addresses from AddressPool.
	Gateway     bool
	AddressPool string
	// LeaderElect makes one replica the status writer (Lease in LeaseNamespace).
	LeaderElect bool
	// Role, when set, is passed as -role (webhook, controller, dataplane or
	// all); roles.go is where the fault tests choose it.
	Role string
}

// Replica is one bin/tenantgate OS process, as one Pod of the Deployment.
type Replica struct {
	Name        string
	HealthAddr  string
	MetricsAddr string
	// WebhookAddr is where the webhook listens, when enabled.
	WebhookAddr string
	LogPath     string
	Options     ReplicaOptions
	proc        *proc.Process
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Binary builds cmd/tenantgate once per test run, so the processes run the
// source under test and not a stale bin/tenantgate.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := cluster.RepoRoot()
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "tenantgate-faults-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "tenantgate")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/tenantgate")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/tenantgate: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// removeBinary deletes what Binary built; TestMain calls it.
func removeBinary() {
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
}

// StartReplica starts tenantgate with opts, waits until /readyz answers 200
// (and the webhook port accepts connections, when enabled) and stops the
// process when the test ends. Its log is in dir.
func StartReplica(t testing.TB, name, dir string, opts ReplicaOptions) *Replica {
	t.Helper()
	r := &Replica{Name: name, HealthAddr: freeAddr(t), MetricsAddr: freeAddr(t), LogPath: filepath.Join(dir, "tenantgate-"+name+".log"), Options: opts}
	args := []string{
		"-kubeconfig", opts.Kubeconfig,
		"-metrics-bind-address", r.MetricsAddr,
		"-health-probe-bind-address", r.HealthAddr,
		"-leader-elect=" + strconv.FormatBool(opts.LeaderElect),
		"-leader-election-namespace", LeaseNamespace,
		"-platform-namespaces", "infra",
		"-shutdown-grace", "2s",
		"-log-format", "json",
	}
	if opts.Role != "" {
		args = append(args, "-role="+opts.Role) // which parts run follows from the role
	} else {
		args = append(args, "-enable-webhook="+strconv.FormatBool(opts.Webhook), "-enable-gateway="+strconv.FormatBool(opts.Gateway))
	}
	if opts.Webhook {
		args = append(args, "-webhook-host", "127.0.0.1", "-webhook-port", strconv.Itoa(opts.WebhookPort), "-webhook-cert-dir", opts.WebhookCertDir)
	}
	if opts.Gateway {
		args = append(args, "-gateway-address-pool", opts.AddressPool)
	}
	logFile, err := os.Create(r.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(Binary(t), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if r.proc, err = proc.Start(cmd); err != nil {
		logFile.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		r.proc.Stop(5 * time.Second)
		logFile.Close()
		if t.Failed() {
			t.Logf("replica %s log (%s), last lines:\n%s", r.Name, r.LogPath, tail(r.LogPath, 15))
		}
	})
	if opts.Webhook {
		r.WebhookAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(opts.WebhookPort))
	}
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		if r.Exited() {
			return false, fmt.Errorf("replica %s exited while starting: %v; its log %s ends:\n%s", name, r.proc.Err(), r.LogPath, tail(r.LogPath, 15))
		}
		if !r.Ready() {
			return false, nil
		}
		if r.WebhookAddr == "" {
			return true, nil
		}
		c, err := net.DialTimeout("tcp", r.WebhookAddr, time.Second)
		if err != nil {
			return false, nil
		}
		c.Close()
		return true, nil
	})
	if err != nil {
		t.Fatalf("replica %s not ready: %v", name, err)
	}
	return r
}

// Pid is the process id.
func (r *Replica) Pid() int { return r.proc.Pid() }

// Kill sends SIGKILL to the process by its id, as a node failure or the OOM
// killer would, and waits until it is gone.
func (r *Replica) Kill(t testing.TB) {
	t.Helper()
	if err := syscall.Kill(r.proc.Pid(), syscall.SIGKILL); err != nil {
		t.Fatalf("killing replica %s (pid %d): %v", r.Name, r.proc.Pid(), err)
	}
	select {
	case <-r.proc.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("replica %s (pid %d) still running 10s after SIGKILL", r.Name, r.proc.Pid())
	}
}

// Exited reports whether the process has ended.
func (r *Replica) Exited() bool {
	select {
	case <-r.proc.Done():
		return true
	default:
		return false
	}
}

// Ready reports whether /readyz answers 200.
func (r *Replica) Ready() bool {
	hc := &http.Client{Timeout: time.Second}
	resp, err := hc.Get("http://" + r.HealthAddr + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Metric sums the samples of the counter or gauge name whose labels include
// every pair in labels; 0 when there is none.
func (r *Replica) Metric(t testing.TB, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := r.metrics()
	if err != nil {
		t.Fatalf("reading replica %s metrics: %v", r.Name, err)
	}
	return stack.Sum(families[name], labels)
}

func (r *Replica) metrics() (map[string]*dto.MetricFamily, error) {
	return stack.ReadMetrics("http://" + r.MetricsAddr + "/metrics")
}

// Writes counts the API requests that change something (POST, PUT, PATCH,
// DELETE) the replica's clients have made, from client-go's metrics.
func (r *Replica) Writes(t testing.TB) float64 {
	t.Helper()
	var n float64
	for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
		n += r.Metric(t, "rest_client_requests_total", map[string]string{"method": method})
	}
	return n
}

// Leader reports whether the replica holds the status-writer Lease.
func (r *Replica) Leader(t testing.TB) bool {
	t.Helper()
	return r.Metric(t, "leader_election_master_status", map[string]string{"name": "tenantgate-status-writer"}) == 1
}

// LogContains reports whether a line of the replica's log contains s.
func (r *Replica) LogContains(s string) bool {
	data, err := os.ReadFile(r.LogPath)
	return err == nil && bytes.Contains(data, []byte(s))
}

func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func freePort(t testing.TB) int {
	_, port, _ := net.SplitHostPort(freeAddr(t))
	n, _ := strconv.Atoi(port)
	return n
}

// tail returns the last n lines of a file, for failure messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
