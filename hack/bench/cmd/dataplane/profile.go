package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

const profileSeconds = 5

// profile takes a CPU profile of the profiled target while wrk loads it with
// the headline case (HTTP, small body, the most connections) and summarises
// it with `go tool pprof -top`.
func profile(w wrkRunner, o options) (*results.Profile, error) {
	var t *target
	for i := range o.targets {
		if o.targets[i].name == o.profileTarget {
			t = &o.targets[i]
		}
	}
	if t == nil {
		return nil, fmt.Errorf("the profile target %q is not among the -target flags", o.profileTarget)
	}
	conns := maxOf(o.conns)
	load := make(chan error, 1)
	go func() {
		_, err := w.run(t.http+pathOf(results.BodySmall), conns, (profileSeconds+2)*time.Second)
		load <- err
	}()
	time.Sleep(time.Second) // profile the steady state, not the first connections
	raw, err := fetch(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", o.pprofURL, profileSeconds))
	if lerr := <-load; lerr != nil {
		return nil, lerr
	}
	if err != nil {
		return nil, err
	}
	file := o.profileOut
	if file == "" {
		file = filepath.Join(os.TempDir(), "tenantgate.cpu.pprof")
	}
	if err := os.WriteFile(file, raw, 0o644); err != nil {
		return nil, err
	}
	out, err := exec.Command("go", "tool", "pprof", "-top", "-nodefraction=0", file).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go tool pprof -top %s: %w: %s", file, err, out)
	}
	p, err := results.ParsePprofTop(string(out))
	if err != nil {
		return nil, err
	}
	p.Load = fmt.Sprintf("wrk, HTTP, %s body, %d connections", results.BodySmall, conns)
	return &p, nil
}

func fetch(url string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), (profileSeconds+20)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the CPU profile %s: %w", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("fetching the CPU profile %s: status %d: %s", url, resp.StatusCode, data)
	}
	return data, err
}
