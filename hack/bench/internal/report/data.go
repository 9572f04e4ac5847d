package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// closed summarises one field over the repetitions of a closed-loop cell.
func closed(dp *results.DataPlane, target, scheme, body string, conns int, field func(results.ClosedLoop) float64) results.Summary {
	var v []float64
	if dp != nil {
		for _, c := range dp.Closed {
			if c.Target == target && c.Scheme == scheme && c.Body == body && c.Conns == conns {
				v = append(v, field(c))
			}
		}
	}
	return results.Summarize(v)
}

// open summarises one field over the repetitions of an open-loop run.
func open(dp *results.DataPlane, target, body string, field func(results.OpenLoop) float64) results.Summary {
	var v []float64
	if dp != nil {
		for _, o := range dp.Open {
			if o.Target == target && o.Body == body {
				v = append(v, field(o))
			}
		}
	}
	return results.Summarize(v)
}

func rps(c results.ClosedLoop) float64      { return c.RequestsPerSec }
func p99(c results.ClosedLoop) float64      { return ms(c.P99) }
func errs(c results.ClosedLoop) float64     { return float64(c.Errors) }
func openP50(o results.OpenLoop) float64    { return ms(o.P50) }
func openP99(o results.OpenLoop) float64    { return ms(o.P99) }
func openP999(o results.OpenLoop) float64   { return ms(o.P999) }
func openRate(o results.OpenLoop) float64   { return o.Rate }
func openDone(o results.OpenLoop) float64   { return o.Achieved }
func openErrs(o results.OpenLoop) float64   { return float64(o.Errors) }
func cpuShare(c results.ClosedLoop) float64 { return c.CPUSeconds }

// perCPUSecond is requests per CPU-second the target itself used: robust to
// other work taking the proxy's core, unlike requests per second.
func perCPUSecond(d float64) func(results.ClosedLoop) float64 {
	return func(c results.ClosedLoop) float64 {
		if c.CPUSeconds == 0 {
			return math.NaN()
		}
		return c.RequestsPerSec * d / c.CPUSeconds
	}
}

// headlineConns is the most connections measured over HTTP; 64, the
// driver's default, when nothing was.
func headlineConns(dp *results.DataPlane) int {
	m := 0
	if dp != nil {
		for _, n := range dp.Settings.Conns {
			m = max(m, n)
		}
	}
	if m == 0 {
		return 64
	}
	return m
}

// metric summarises one custom metric of a Go benchmark over its runs.
func metric(benches []results.GoBench, name, unit string) results.Summary {
	return results.Summarize(results.Metric(benches, name, unit))
}

// allocations writes the heap allocations per request of each target that
// reported them (the Go proxies, from runtime/metrics before and after each
// run); nothing when none did.
func allocations(b *strings.Builder, dp *results.DataPlane, cells []cellKey) {
	if dp == nil {
		return
	}
	var targets []string
	for _, t := range dp.Settings.Targets {
		for _, c := range dp.Closed {
			if _, ok := c.AllocsPerRequest(dp.Settings.Duration); ok && c.Target == t {
				targets = append(targets, t)
				break
			}
		}
	}
	if len(targets) == 0 {
		return
	}
	b.WriteString("### Heap allocations per request\n\n" +
		"The proxy process's heap objects allocated during each run (runtime/metrics `/gc/heap/allocs:objects`), divided by the requests it served.\n\n")
	var rows [][]string
	for _, c := range cells {
		row := []string{c.label()}
		for _, t := range targets {
			var v []float64
			for _, r := range dp.Closed {
				if r.Target == t && r.Scheme == c.scheme && r.Body == c.body && r.Conns == c.conns {
					if a, ok := r.AllocsPerRequest(dp.Settings.Duration); ok {
						v = append(v, a)
					}
				}
			}
			row = append(row, spread(results.Summarize(v), func(x float64) string { return fmt.Sprintf("%.2f", x) }))
		}
		rows = append(rows, row)
	}
	table(b, append([]string{"case"}, targets...), rows)
}
