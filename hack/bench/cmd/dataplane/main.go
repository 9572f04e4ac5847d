package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

type options struct {
	targets       targetList
	reps          int
	duration      time.Duration
	conns         intList
	httpsConns    intList
	openDuration  time.Duration
	openConns     int
	openShare     float64
	ca            string
	wrk           string
	pprofURL      string
	profileTarget string
	profileOut    string
	out           string
}

func main() {
	var o options
	flag.Var(&o.targets, "target", "NAME=HTTP_URL,HTTPS_URL[,PID[,ALLOCS_URL]] of a server to measure (repeat); PID's CPU time is recorded, and ALLOCS_URL's count of heap allocations (a Go target's) before and after each run")
	flag.IntVar(&o.reps, "reps", 3, "repetitions of every closed- and open-loop measurement")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "length of one wrk run")
	o.conns = intList{1, 16, 64}
	o.httpsConns = intList{1, 64}
	flag.Var(&o.conns, "conns", "comma-separated wrk connection counts over HTTP")
	flag.Var(&o.httpsConns, "https-conns", "comma-separated wrk connection counts over HTTPS")
	flag.DurationVar(&o.openDuration, "open-duration", 5*time.Second, "length of one open-loop run")
	flag.IntVar(&o.openConns, "open-conns", 64, "open-loop connections")
	flag.Float64Var(&o.openShare, "open-share", 0.5, "open-loop rate as a share of the target's own median maximum at the most connections")
	flag.StringVar(&o.ca, "ca", "", "PEM certificate the HTTPS targets serve, to check them")
	flag.StringVar(&o.wrk, "wrk", "wrk", "wrk binary")
	flag.StringVar(&o.pprofURL, "pprof", "", "base URL of the profiled target's net/http/pprof; empty skips the profile")
	flag.StringVar(&o.profileTarget, "profile-target", "tenantgate", "target loaded while profiling")
	flag.StringVar(&o.profileOut, "profile-out", "", "where to keep the raw CPU profile")
	flag.StringVar(&o.out, "out", "dataplane.json", "output JSON file")
	flag.Parse()
	if len(o.targets) == 0 {
		log.Fatal("no -target given; run it through hack/bench/run.sh, which starts the servers")
	}
	dp, err := run(context.Background(), o)
	if err != nil {
		log.Fatal(err)
	}
	data, err := json.MarshalIndent(dp, "", "  ")
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(o.out, append(data, '\n'), 0o644); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, o options) (*results.DataPlane, error) {
	dp := &results.DataPlane{Settings: results.Settings{
		Reps: o.reps, Duration: o.duration, Conns: o.conns, HTTPSConns: o.httpsConns,
		OpenLoopDuration: o.openDuration, OpenLoopConns: o.openConns, OpenLoopShare: o.openShare,
		SmallBytes: results.SmallBytes, LargeBytes: results.LargeBytes,
	}}
	for _, t := range o.targets {
		dp.Settings.Targets = append(dp.Settings.Targets, t.name)
	}
	if err := checkTargets(o.targets, o.ca); err != nil {
		return nil, err
	}
	w := wrkRunner{bin: o.wrk}
	log.Printf("warming up every target for 1s")
	for _, t := range o.targets {
		if _, err := w.run(t.http+pathOf(results.BodySmall), maxOf(o.conns), time.Second); err != nil {
			return nil, fmt.Errorf("warming up %s: %w", t.name, err)
		}
	}
	cells := closedCells(o)
	for rep := range o.reps {
		for ci, c := range cells {
			for _, t := range rotate(o.targets, rep+ci) {
				r, err := closedLoop(w, t, c, o.duration)
				if err != nil {
					return nil, err
				}
				r.Rep = rep
				dp.Closed = append(dp.Closed, r)
			}
			log.Printf("rep %d/%d: %s %s %d connections done", rep+1, o.reps, c.scheme, c.body, c.conns)
		}
	}
	open, err := openLoops(ctx, o, dp.Closed)
	if err != nil {
		return nil, err
	}
	dp.Open = open
	if o.pprofURL != "" {
		p, err := profile(w, o)
		if err != nil {
			return nil, err
		}
		dp.Profile = p
	}
	return dp, nil
}

// cell is one closed-loop configuration, measured on every target.
type cell struct {
	scheme, body string
	conns        int
}

func closedCells(o options) []cell {
	var cells []cell
	for _, body := range []string{results.BodySmall, results.BodyLarge} {
		for _, n := range o.conns {
			cells = append(cells, cell{"http", body, n})
		}
		for _, n := range o.httpsConns {
			cells = append(cells, cell{"https", body, n})
		}
	}
	return cells
}

func closedLoop(w wrkRunner, t target, c cell, d time.Duration) (results.ClosedLoop, error) {
	url := t.http
	if c.scheme == "https" {
		url = t.https
	}
	before, err := t.cpu()
	if err != nil {
		return results.ClosedLoop{}, err
	}
	allocsBefore, err := t.heapAllocs()
	if err != nil {
		return results.ClosedLoop{}, err
	}
	wr, err := w.run(url+pathOf(c.body), c.conns, d)
	if err != nil {
		return results.ClosedLoop{}, fmt.Errorf("%s %s %s %d connections: %w", t.name, c.scheme, c.body, c.conns, err)
	}
	after, err := t.cpu()
	if err != nil {
		return results.ClosedLoop{}, err
	}
	allocsAfter, err := t.heapAllocs()
	if err != nil {
		return results.ClosedLoop{}, err
	}
	r := results.ClosedLoop{
		Target: t.name, Scheme: c.scheme, Body: c.body, Conns: c.conns,
		RequestsPerSec: wr.RequestsPerSec, P50: wr.P50, P99: wr.P99, Errors: wr.Errors,
		CPUSeconds: after - before,
	}
	if t.allocs != "" {
		n := allocsAfter - allocsBefore
		r.HeapAllocs = &n
	}
	return r, nil
}

// rotate starts the target order at a different place for each cell and
// repetition, so no target always runs right after the same neighbour.
func rotate(ts []target, by int) []target {
	by %= len(ts)
	return append(append([]target(nil), ts[by:]...), ts[:by]...)
}

func pathOf(body string) string {
	if body == results.BodyLarge {
		return "/16KiB"
	}
	return "/small"
}

func maxOf(ns []int) int {
	m := 0
	for _, n := range ns {
		m = max(m, n)
	}
	return m
}

// target is one server under test.
type target struct {
	name, http, https string
	pid               int    // 0: CPU time not recorded
	allocs            string // URL answering the heap objects allocated so far; "": not recorded
}

// heapAllocs reads the target's count of heap objects allocated so far; 0
// when it reports none.
func (t target) heapAllocs() (uint64, error) {
	if t.allocs == "" {
		return 0, nil
	}
	resp, err := http.Get(t.allocs)
	if err != nil {
		return 0, fmt.Errorf("%s: reading allocations: %w", t.name, err)
	}
	defer resp.Body.Close()
	var n uint64
	if _, err := fmt.Fscan(resp.Body, &n); err != nil || resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s: %s did not answer a count of allocations (%s): %v", t.name, t.allocs, resp.Status, err)
	}
	return n, nil
}

func (t target) cpu() (float64, error) {
	if t.pid == 0 {
		return 0, nil
	}
	return processTreeCPU(t.pid)
}

type targetList []target

func (l *targetList) String() string { return fmt.Sprint(*l) }

func (l *targetList) Set(v string) error {
	name, rest, ok := strings.Cut(v, "=")
	parts := strings.Split(rest, ",")
	if !ok || name == "" || len(parts) < 2 || len(parts) > 4 {
		return fmt.Errorf("target %q is not NAME=HTTP_URL,HTTPS_URL[,PID[,ALLOCS_URL]]", v)
	}
	t := target{name: name, http: parts[0], https: parts[1]}
	if len(parts) >= 3 && parts[2] != "" {
		if _, err := fmt.Sscan(parts[2], &t.pid); err != nil {
			return fmt.Errorf("target %q has a PID %q that is not a number", v, parts[2])
		}
	}
	if len(parts) == 4 {
		t.allocs = parts[3]
	}
	*l = append(*l, t)
	return nil
}

type intList []int

func (l *intList) String() string { return fmt.Sprint(*l) }

func (l *intList) Set(v string) error {
	*l = nil
	for f := range strings.SplitSeq(v, ",") {
		var n int
		if _, err := fmt.Sscan(f, &n); err != nil || n <= 0 {
			return fmt.Errorf("%q is not a comma-separated list of positive numbers", v)
		}
		*l = append(*l, n)
	}
	return nil
}
