package roles

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster/proc"

	"github.com/tenantgate/tenantgate/tests/stack"
)

// Options say how to run one process.
type Options struct {
	Binary, Kubeconfig string
	Role               app.Role
	// Args are further flags, after -role, -kubeconfig and the endpoints.
	Args []string
	// MetricsAddr and HealthAddr are free loopback ports when empty.
	MetricsAddr, HealthAddr string
	// LogPath receives the process's standard output and error.
	LogPath string
}

// Process is one tenantgate process of one role, as one Pod of its Deployment.
type Process struct {
	Role                    app.Role
	MetricsAddr, HealthAddr string
	LogPath                 string
	proc                    *proc.Process
	log                     *os.File
}

// Start starts the process and waits until /readyz answers 200 (for at
// most timeout); a process that exits first, or never gets ready, is
// stopped and its log's last lines are in the error.
func Start(ctx context.Context, opts Options, timeout time.Duration) (*Process, error) {
	var err error
	p := &Process{Role: opts.Role, MetricsAddr: opts.MetricsAddr, HealthAddr: opts.HealthAddr, LogPath: opts.LogPath}
	for _, addr := range []*string{&p.MetricsAddr, &p.HealthAddr} {
		if *addr == "" {
			if *addr, err = stack.FreeAddr(); err != nil {
				return nil, err
			}
		}
	}
	if p.log, err = os.Create(opts.LogPath); err != nil {
		return nil, err
	}
	args := append([]string{"-role=" + string(opts.Role), "-kubeconfig", opts.Kubeconfig,
		"-metrics-bind-address", p.MetricsAddr, "-health-probe-bind-address", p.HealthAddr}, opts.Args...)
	cmd := exec.Command(opts.Binary, args...)
	cmd.Stdout, cmd.Stderr = p.log, p.log
	if p.proc, err = proc.Start(cmd); err != nil {
		p.log.Close()
		return nil, err
	}
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, timeout, true, func(context.Context) (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("the %s process exited while starting: %v", opts.Role, p.proc.Err())
		}
		return p.Ready(), nil
	})
	if err != nil {
		p.Stop(5 * time.Second)
		return nil, fmt.Errorf("%w; its log %s ends:\n%s", err, p.LogPath, Tail(p.LogPath, 15))
	}
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.proc.Pid() }

// Stop sends SIGTERM, SIGKILL after grace, and waits.
func (p *Process) Stop(grace time.Duration) error {
	err := p.proc.Stop(grace)
	p.log.Close()
	return err
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.proc.Done():
		return true
	default:
		return false
	}
}

// Ready reports whether /readyz answers 200.
func (p *Process) Ready() bool {
	code, _, err := p.Readyz()
	return err == nil && code == http.StatusOK
}

// Readyz returns /readyz?verbose: the status code and the checks it lists.
func (p *Process) Readyz() (int, string, error) {
	hc := &http.Client{Timeout: 2 * time.Second}
	resp, err := hc.Get("http://" + p.HealthAddr + "/readyz?verbose")
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	var b strings.Builder
	_, err = bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String(), err
}

// Metrics scrapes the process's Prometheus endpoint.
func (p *Process) Metrics() (map[string]*dto.MetricFamily, error) {
	return stack.ReadMetrics("http://" + p.MetricsAddr + "/metrics")
}

// Listening returns the TCP addresses (ip:port) the process has sockets
// listening on, from its file descriptors and /proc/net/tcp{,6}: what it
// binds, whoever else shares the network namespace.
func (p *Process) Listening() ([]string, error) {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.Pid(), fd.Name()))
		if err == nil && strings.HasPrefix(link, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] = true
		}
	}
	var out []string
	for _, table := range []string{"tcp", "tcp6"} {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/%s", p.Pid(), table))
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			// sl local_address rem_address st ... inode (field 9); st 0A is LISTEN.
			if len(f) < 10 || f[3] != "0A" || !inodes[f[9]] {
				continue
			}
			addr, err := procNetAddr(f[1])
			if err != nil {
				return nil, err
			}
			out = append(out, addr)
		}
	}
	slices.Sort(out)
	return out, nil
}

// procNetAddr decodes /proc/net/tcp's "0100007F:1F90" (address in host
// byte order, 32-bit words) into "127.0.0.1:8080".
func procNetAddr(s string) (string, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if !ok || err != nil || len(hexIP)%8 != 0 {
		return "", fmt.Errorf("cannot read the socket address %q", s)
	}
	ip := make(net.IP, 0, len(hexIP)/2)
	for w := 0; w < len(hexIP); w += 8 {
		word, err := strconv.ParseUint(hexIP[w:w+8], 16, 32)
		if err != nil {
			return "", fmt.Errorf("cannot read the socket address %q", s)
		}
		ip = append(ip, byte(word), byte(word>>8), byte(word>>16), byte(word>>24))
	}
	return net.JoinHostPort(ip.String(), strconv.FormatUint(port, 10)), nil
}

// Tail returns the last n lines of a file, for failure messages.
func Tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
