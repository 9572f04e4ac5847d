package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// TestCtrlCAndCrashLeaveNothingBehind runs `make run`'s program twice: once
// stopped with Ctrl-C (SIGINT), which must remove every process, network
// namespace and bridge it made; once killed with SIGKILL, after which the
// next harness's reaper must remove what it left.
func TestCtrlCAndCrashLeaveNothingBehind(t *testing.T) {
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "tenantgate-local")
	build := exec.Command("go", "build", "-o", bin, "./cmd/tenantgate-local")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		name   string
		signal syscall.Signal
	}{{"Ctrl-C", syscall.SIGINT}, {"crash", syscall.SIGKILL}} {
		t.Run(tc.name, func(t *testing.T) {
			cmd, left := startLocal(t, root, bin)
			if len(left.pids) < 4 || len(left.netns) == 0 {
				t.Fatalf("expected etcd, kube-apiserver, kube-controller-manager, Pods and their namespaces to be running; found %+v", left)
			}
			if err := cmd.Process.Signal(tc.signal); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if tc.signal == syscall.SIGINT && err != nil {
					t.Errorf("after Ctrl-C it exited with %v, want 0", err)
				}
			case <-time.After(90 * time.Second):
				cmd.Process.Kill()
				t.Fatal("did not exit within 90s of the signal")
			}
			if tc.signal == syscall.SIGKILL {
				time.Sleep(500 * time.Millisecond) // children with a parent-death signal die now
				cluster.ReapDead()
			}
			assertGone(t, left)
		})
	}
}

// leftovers is what one run made: its descendant processes, its pod network
// namespaces and bridge.
type leftovers struct {
	pids   []int
	netns  []string
	bridge string
}

func startLocal(t *testing.T, root, bin string) (*exec.Cmd, leftovers) {
	t.Helper()
	cmd := exec.Command(bin, "-state-dir", t.TempDir(), "-load-balancer-pool", "127.60.0.0/16")
	cmd.Dir = root
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	ready := make(chan bool, 1)
	var (
		mu    sync.Mutex
		lines []string // what it printed before it was ready, for a failure message
	)
	printed := func() string {
		mu.Lock()
		defer mu.Unlock()
		return strings.Join(lines, "\n")
	}
	go func() {
		sc := bufio.NewScanner(out)
		found := false
		for sc.Scan() {
			if !found {
				mu.Lock()
				lines = append(lines, sc.Text())
				mu.Unlock()
			}
			if !found && strings.HasPrefix(sc.Text(), "tenantgate is ready") {
				found = true
				ready <- true
			}
		}
		if !found {
			ready <- false
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatalf("tenantgate-local exited before it was ready; it printed:\n%s", printed())
		}
	case <-time.After(3 * time.Minute):
		t.Fatalf("tenantgate-local was not ready within 3 minutes; it printed:\n%s", printed())
	}
	time.Sleep(2 * time.Second) // let the example's Pods start
	var left leftovers
	left.pids = descendants(cmd.Process.Pid)
	entries, _ := os.ReadDir("/run/tenantgate/net")
	for _, e := range entries {
		owner, _ := os.ReadFile(filepath.Join("/run/tenantgate/net", e.Name()))
		if strings.TrimSpace(string(owner)) == strconv.Itoa(cmd.Process.Pid) {
			left.bridge = "tgbr" + e.Name()
			ns, _ := os.ReadDir("/run/netns")
			for _, n := range ns {
				if strings.HasPrefix(n.Name(), "tgp"+e.Name()+"-") {
					left.netns = append(left.netns, n.Name())
				}
			}
		}
	}
	return cmd, left
}

func assertGone(t *testing.T, left leftovers) {
	t.Helper()
	// SIGKILLed processes take a moment to go; give them up to 10 s.
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range left.pids {
		for time.Now().Before(deadline) && syscall.Kill(pid, 0) == nil && !zombie(pid) {
			time.Sleep(50 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil && !zombie(pid) {
			cmdline, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
			t.Errorf("process %d (%s) is still running", pid, strings.ReplaceAll(string(cmdline), "\x00", " "))
		}
	}
	for _, n := range left.netns {
		if _, err := os.Stat("/run/netns/" + n); err == nil {
			t.Errorf("network namespace %s remains", n)
		}
	}
	if left.bridge != "" && exec.Command("ip", "link", "show", left.bridge).Run() == nil {
		t.Errorf("bridge %s remains", left.bridge)
	}
}

// descendants lists every process below pid.
func descendants(pid int) []int {
	children := map[int][]int{}
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		child, err := strconv.Atoi(p.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + p.Name() + "/stat")
		if err != nil {
			continue
		}
		// The parent is the second field after the command in parentheses.
		fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
		if len(fields) > 1 {
			parent, _ := strconv.Atoi(fields[1])
			children[parent] = append(children[parent], child)
		}
	}
	var out []int
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, c := range children[p] {
			out = append(out, c)
			queue = append(queue, c)
		}
	}
	return out
}

// zombie reports a process that has exited and only waits for its new parent
// (in a container, often an init that never reaps) to collect it.
func zombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	fields := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(fields) > 0 && fields[0] == "Z"
}
