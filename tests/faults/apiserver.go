package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"
)

// RestartAPIServer stops the cluster's kube-apiserver process (SIGTERM,
// then SIGKILL after a 5s grace, as kubelet does after its grace period)
// and, once it is gone and at least down has passed, starts it again with
// the same command line: same port, certificates, service-account keys and
// etcd, as a control-plane upgrade or a crash-restart brings it back.
//
// envtest's own APIServer.Stop and Start cannot do this: Stop deletes the
// certificate folder it generated and Start makes a new one with a new CA,
// so every kubeconfig already handed out would stop working. The restarted
// process is stopped when the test ends, before the cluster's teardown.
// It returns how long the API server was unreachable.
func RestartAPIServer(t testing.TB, c *cluster.Cluster, down time.Duration) time.Duration {
	t.Helper()
	pid, args, err := findAPIServer(c.Env.ControlPlane.APIServer.CertDir)
	if err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatalf("stopping kube-apiserver (pid %d): %v", pid, err)
	}
	// envtest waits on the process, so once it exits it is reaped and vanishes.
	gone := func(timeout time.Duration) bool {
		return wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
			return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), nil
		}) == nil
	}
	if !gone(5 * time.Second) {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		if !gone(30 * time.Second) {
			t.Fatalf("kube-apiserver (pid %d) still running 30s after SIGKILL", pid)
		}
	}
	time.Sleep(time.Until(stopped.Add(down)))
	out, err := os.Create(filepath.Join(c.Dir, "kube-apiserver-restarted.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = out, out
	p, err := proc.Start(cmd)
	if err != nil {
		out.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Stop(5 * time.Second)
		out.Close()
	})
	if err := waitHealthy(c.Admin, p); err != nil {
		t.Fatalf("restarted kube-apiserver: %v; its log ends:\n%s", err, tail(out.Name(), 20))
	}
	return time.Since(stopped)
}

// findAPIServer returns the process id and command line of the
// kube-apiserver whose certificates are in certDir.
func findAPIServer(certDir string) (int, []string, error) {
	if certDir == "" {
		return 0, nil, errors.New("the cluster's API server has no certificate folder; is the cluster running?")
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, nil, err
	}
	marker := []byte("--cert-dir=" + certDir + "\x00")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, marker) {
			continue
		}
		args := bytes.Split(bytes.TrimSuffix(cmdline, []byte{0}), []byte{0})
		if filepath.Base(string(args[0])) != "kube-apiserver" {
			continue
		}
		out := make([]string, len(args))
		for i, a := range args {
			out[i] = string(a)
		}
		return pid, out, nil
	}
	return 0, nil, fmt.Errorf("no kube-apiserver process with --cert-dir=%s", certDir)
}

// waitHealthy polls /readyz with the admin identity until it answers 200.
func waitHealthy(admin *rest.Config, p *proc.Process) error {
	hc, err := rest.HTTPClientFor(admin)
	if err != nil {
		return err
	}
	hc.Timeout = 2 * time.Second
	var last string
	err = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 2*time.Minute, true, func(context.Context) (bool, error) {
		select {
		case <-p.Done():
			return false, fmt.Errorf("it exited: %v", p.Err())
		default:
		}
		resp, err := hc.Get(strings.TrimSuffix(admin.Host, "/") + "/readyz?verbose")
		if err != nil {
			last = err.Error()
			return false, nil
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		last = string(body)
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		return fmt.Errorf("%w; /readyz last said: %s", err, last)
	}
	return nil
}
