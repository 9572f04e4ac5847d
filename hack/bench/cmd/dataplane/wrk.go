package main

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// wrkRunner runs wrk with one thread: the load generator has one core,
// shared with the backend.
type wrkRunner struct{ bin string }

func (w wrkRunner) run(url string, conns int, d time.Duration) (results.WrkRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d+30*time.Second)
	defer cancel()
	secs := strconv.Itoa(max(int(d.Round(time.Second)/time.Second), 1))
	out, err := exec.CommandContext(ctx, w.bin, "-t1", "-c"+strconv.Itoa(conns), "-d"+secs+"s", "--latency", "--timeout", "10s", url).CombinedOutput()
	if err != nil {
		return results.WrkRun{}, fmt.Errorf("wrk %s: %w: %s", url, err, out)
	}
	return results.ParseWrk(string(out))
}
