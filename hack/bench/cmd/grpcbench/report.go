package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// report turns load's JSON lines (stdin) into a Markdown table on stdout:
// per stream count and target the median rate (min to max over the
// repetitions), median p50 and p99 latency, and the rate's ratio to the
// -baseline target's median.
func report(args []string) error {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	baseline := fs.String("baseline", "nginx", "target the ratios compare with")
	_ = fs.Parse(args)
	runs, err := readRuns(os.Stdin)
	if err != nil {
		return err
	}
	type key struct {
		streams int
		target  string
	}
	groups := map[key][]run{}
	var keys []key
	for _, r := range runs {
		k := key{r.Streams * r.Conns, r.Target}
		if _, ok := groups[k]; !ok {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.SortStableFunc(keys, func(a, b key) int { return cmp.Compare(a.streams, b.streams) })
	median := func(rs []run, f func(run) float64) (med, lo, hi float64) {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		slices.Sort(v)
		return v[len(v)/2], v[0], v[len(v)-1]
	}
	var b strings.Builder
	fmt.Fprintf(&b, "| calls in flight | target | calls/s median (min–max) | p50 µs | p99 µs | rate vs %s |\n|---|---|---|---|---|---|\n", *baseline)
	for _, k := range keys {
		rate, lo, hi := median(groups[k], func(r run) float64 { return r.PerSec })
		p50, _, _ := median(groups[k], func(r run) float64 { return r.P50Micro })
		p99, _, _ := median(groups[k], func(r run) float64 { return r.P99Micro })
		ratio := "—"
		if base, ok := groups[key{k.streams, *baseline}]; ok {
			baseRate, _, _ := median(base, func(r run) float64 { return r.PerSec })
			ratio = fmt.Sprintf("%.2f", rate/baseRate)
		}
		fmt.Fprintf(&b, "| %d | %s | %.0f (%.0f–%.0f) | %.0f | %.0f | %s |\n", k.streams, k.target, rate, lo, hi, p50, p99, ratio)
	}
	_, err = io.WriteString(os.Stdout, b.String())
	return err
}

func readRuns(r io.Reader) ([]run, error) {
	var runs []run
	lines := bufio.NewScanner(r)
	for lines.Scan() {
		var one run
		if err := json.Unmarshal(lines.Bytes(), &one); err != nil {
			return nil, fmt.Errorf("reading load results: %w", err)
		}
		runs = append(runs, one)
	}
	if len(runs) == 0 {
		return nil, fmt.Errorf("no load results on stdin")
	}
	return runs, lines.Err()
}
