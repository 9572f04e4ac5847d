package bench

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

var profileDir = flag.String("bench.profiles", "", "folder for tenantgate's CPU profiles of the change and webhook phases and its heap profile after them; none when empty")

// tenantgateBinary builds cmd/tenantgate, which the benchmark runs in a
// process of its own so that its memory and CPU are tenantgate's alone.
func tenantgateBinary(b *testing.B) string {
	root, err := cluster.RepoRoot()
	if err != nil {
		b.Fatal(err)
	}
	bin, err := stack.Build(b.Context(), root, b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	return bin
}

func freeAddr(b *testing.B) string {
	addr, err := stack.FreeAddr()
	if err != nil {
		b.Fatal(err)
	}
	return addr
}

// residentMiB is tenantgate's resident memory now and at its peak.
func (e *env) residentMiB(b *testing.B) map[string]float64 { return residentMiB(b, e.s.Pid()) }

// residentMiB is a process's resident memory now and at its peak.
func residentMiB(b *testing.B, pid int) map[string]float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	units := map[string]string{"VmRSS:": "MiB-rss", "VmHWM:": "MiB-rss-peak"}
	out := map[string]float64{}
	for line := range strings.Lines(string(status)) {
		f := strings.Fields(line)
		if len(f) != 3 || f[2] != "kB" {
			continue
		}
		if unit, ok := units[f[0]]; ok {
			kb, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			out[unit] = kb / 1024
		}
	}
	return out
}

// cpuSeconds is the CPU time tenantgate has used so far.
func (e *env) cpuSeconds(b *testing.B) float64 { return cpuSeconds(b, e.s.Pid()) }

// cpuSeconds is the CPU time a process has used so far.
func cpuSeconds(b *testing.B, pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime is the 14th field, stime the 15th.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	utime, err1 := strconv.ParseFloat(f[11], 64)
	stime, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		b.Fatalf("reading CPU time from /proc/%d/stat: %v %v", pid, err1, err2)
	}
	return (utime + stime) / 100 // clock ticks (USER_HZ is 100 on Linux)
}

// heapAfterGC is tenantgate's heap in use right after a collection.
func (e *env) heapAfterGC(b *testing.B) float64 {
	return heapAfterGC(b, "heap", e.s.Options.PprofAddr, func() []byte { return e.tenantgateMetrics(b) })
}

// heapAfterGC is a process's heap in use right after a collection, which
// asking for its heap profile (at pprofAddr) with gc=1 forces; metrics
// scrapes the process after that. The profile is kept in
// -bench.profiles/NAME.pprof.
func heapAfterGC(b *testing.B, name, pprofAddr string, metrics func() []byte) float64 {
	profile := pprofAt(b, pprofAddr, "heap?gc=1")
	if *profileDir != "" {
		if err := os.WriteFile(filepath.Join(*profileDir, name+".pprof"), profile, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	v, err := ParseGauge(bytes.NewReader(metrics()), "go_memstats_heap_inuse_bytes", nil)
	if err != nil {
		b.Fatal(err)
	}
	return v / (1 << 20)
}

// profileCPU records tenantgate's CPU and allocations for the first d of
// a phase into -bench.profiles/NAME.cpu.pprof and NAME.allocs.pprof (the
// allocations of those seconds alone: what drives the collector); the
// returned func waits for them. Nothing when no folder is given.
func (e *env) profileCPU(b *testing.B, name string, d time.Duration) func() {
	return profileCPU(b, e.s.Options.PprofAddr, name, d)
}

// profileCPU is (*env).profileCPU for the process serving pprof at addr.
func profileCPU(b *testing.B, addr, name string, d time.Duration) func() {
	if *profileDir == "" {
		return func() {}
	}
	seconds := int(d.Seconds())
	cpu, allocs := make(chan []byte, 1), make(chan []byte, 1)
	go func() { cpu <- pprofAt(b, addr, fmt.Sprintf("profile?seconds=%d", seconds)) }()
	go func() { allocs <- pprofAt(b, addr, fmt.Sprintf("allocs?seconds=%d", seconds)) }()
	return func() {
		for file, profile := range map[string][]byte{name + ".cpu.pprof": <-cpu, name + ".allocs.pprof": <-allocs} {
			if err := os.WriteFile(filepath.Join(*profileDir, file), profile, 0o644); err != nil {
				b.Error(err)
			}
		}
	}
}

// dumpGoroutines writes tenantgate's goroutines, after wait, into
// -bench.profiles/NAME.goroutines.txt: where a stalled reconcile waits.
func (e *env) dumpGoroutines(b *testing.B, name string, wait time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if *profileDir == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		time.Sleep(wait)
		if err := os.WriteFile(filepath.Join(*profileDir, name+".goroutines.txt"), e.pprof(b, "goroutine?debug=2"), 0o644); err != nil {
			b.Error(err)
		}
	}()
	return done
}

// pprof fetches /debug/pprof/WHAT from tenantgate.
func (e *env) pprof(b *testing.B, what string) []byte { return pprofAt(b, e.s.Options.PprofAddr, what) }

// pprofAt fetches /debug/pprof/WHAT from the process serving it at addr.
func pprofAt(b *testing.B, addr, what string) []byte {
	resp, err := http.Get("http://" + addr + "/debug/pprof/" + what)
	if err != nil {
		b.Errorf("profiling the process at %s: %v", addr, err)
		return nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		b.Errorf("profiling the process at %s: %s %v: %s", addr, resp.Status, err, raw)
		return nil
	}
	return raw
}
