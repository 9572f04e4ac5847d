// Command fastpathreport prints hack/bench/fastpath.sh's results as a
// table: per case and target the median requests/s, the ratio to the
// baseline target, the median p99 and the CPU microseconds per request.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

func main() {
	path := flag.String("results", "docs/bench/fastpath.json", "dataplane results JSON")
	baseline := flag.String("baseline", "nginx", "target the ratios compare with")
	flag.Parse()
	data, err := os.ReadFile(*path)
	if err != nil {
		log.Fatal(err)
	}
	var dp results.DataPlane
	if err := json.Unmarshal(data, &dp); err != nil {
		log.Fatalf("%s is not dataplane results: %v", *path, err)
	}
	type key struct {
		scheme, body string
		conns        int
	}
	runs := map[key]map[string][]results.ClosedLoop{}
	var keys []key
	for _, r := range dp.Closed {
		k := key{r.Scheme, r.Body, r.Conns}
		if runs[k] == nil {
			runs[k] = map[string][]results.ClosedLoop{}
			keys = append(keys, k)
		}
		runs[k][r.Target] = append(runs[k][r.Target], r)
	}
	fmt.Printf("| case | target | req/s (median) | × %s | p99 (median) | µs CPU/req (median) | allocs/req (median) | errors |\n| --- | --- | --- | --- | --- | --- | --- | --- |\n", *baseline)
	for _, k := range keys {
		base := median(runs[k][*baseline], func(r results.ClosedLoop) float64 { return r.RequestsPerSec })
		for _, t := range dp.Settings.Targets {
			rs := runs[k][t]
			rps := median(rs, func(r results.ClosedLoop) float64 { return r.RequestsPerSec })
			p99 := median(rs, func(r results.ClosedLoop) float64 { return float64(r.P99) })
			cpu := median(rs, func(r results.ClosedLoop) float64 {
				return r.CPUSeconds / (r.RequestsPerSec * dp.Settings.Duration.Seconds()) * 1e6
			})
			errs := 0
			for _, r := range rs {
				errs += r.Errors
			}
			fmt.Printf("| %s %s %d conn | %s | %.0f | %.2f | %v | %.1f | %s | %d |\n", k.scheme, k.body, k.conns, t, rps, rps/base,
				time.Duration(p99).Round(time.Microsecond), cpu, allocsPerRequest(rs, dp.Settings.Duration), errs)
		}
	}
	if len(dp.Open) > 0 {
		fmt.Printf("\nOpen loop at %.0f%% of each target's own maximum (%d connections, %v per run):\n\n| body | target | rate/s | p99 (median) | µs CPU/req (median) | errors |\n| --- | --- | --- | --- | --- | --- |\n",
			dp.Settings.OpenLoopShare*100, dp.Settings.OpenLoopConns, dp.Settings.OpenLoopDuration)
		for _, body := range []string{results.BodySmall, results.BodyLarge} {
			for _, t := range dp.Settings.Targets {
				var p99, cpu, rate []float64
				errs := 0
				for _, o := range dp.Open {
					if o.Target == t && o.Body == body {
						p99 = append(p99, float64(o.P99))
						cpu = append(cpu, o.CPUSeconds/float64(max(o.Requests, 1))*1e6)
						rate = append(rate, o.Rate)
						errs += o.Errors
					}
				}
				fmt.Printf("| %s | %s | %.0f | %v | %.1f | %d |\n", body, t, mid(rate), time.Duration(mid(p99)).Round(time.Microsecond), mid(cpu), errs)
			}
		}
	}
	if p := dp.Profile; p != nil {
		fmt.Printf("\nCPU profile of the fast-path proxy under %s (%.1f CPU-s in %.0f s):\n\n| category | share |\n| --- | --- |\n", p.Load, p.CPUSeconds, p.Seconds)
		for _, c := range p.Categories {
			fmt.Printf("| %s | %.1f%% |\n", c.Category, c.Percent)
		}
		fmt.Printf("\n| function | flat | cum |\n| --- | --- | --- |\n")
		for _, e := range p.Top[:min(len(p.Top), 15)] {
			fmt.Printf("| %s | %.1f%% | %.1f%% |\n", e.Function, e.Flat, e.Cum)
		}
	}
}

func median(rs []results.ClosedLoop, f func(results.ClosedLoop) float64) float64 {
	if len(rs) == 0 {
		return 0
	}
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func mid(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// allocsPerRequest is the median heap allocations per request of runs, or
// "n/a" for a target that does not report them (every non-Go proxy).
func allocsPerRequest(rs []results.ClosedLoop, d time.Duration) string {
	var v []float64
	for _, r := range rs {
		if a, ok := r.AllocsPerRequest(d); ok {
			v = append(v, a)
		}
	}
	if len(v) == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", mid(v))
}
