package report

import (
	"fmt"
	"strings"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// Render writes the whole report.
func Render(r results.Results) string {
	var b strings.Builder
	b.WriteString("# tenantgate benchmarks\n\n")
	b.WriteString("Written by `make bench` (hack/bench/run.sh); every figure below comes from that one run on the machine described here. " +
		"The machine is shared: other builds and tests were running on both cores during the run, so absolute figures are noisy. " +
		"Targets are interleaved (every cell runs each target in turn, the order rotating between repetitions) so that noise falls on all of them alike, " +
		"and the ratios between targets hold better than the absolute numbers.\n\n")
	facts(&b, "Machine", r.Machine)
	facts(&b, "Versions", r.Versions)
	verdicts(&b, Verdicts(r))
	if r.DataPlane != nil {
		dataPlane(&b, r.DataPlane)
	}
	controlPlane(&b, r)
	return b.String()
}

func facts(b *strings.Builder, title string, fs []results.Fact) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n", title)
	var rows [][]string
	for _, f := range fs {
		rows = append(rows, []string{f.Name, f.Value})
	}
	table(b, []string{"", ""}, rows)
}

func verdicts(b *strings.Builder, vs []Verdict) {
	b.WriteString("## Targets\n\n")
	var rows [][]string
	for _, v := range vs {
		status := v.Status
		if status != met {
			status = "**" + status + "**"
		}
		rows = append(rows, []string{v.Target, v.Measured, status})
	}
	table(b, []string{"target", "measured", "verdict"}, rows)
	for _, v := range vs {
		if v.Why != "" {
			fmt.Fprintf(b, "- **%s — not met.** %s\n", v.Target, v.Why)
		}
	}
	b.WriteString("\n")
}

func dataPlane(b *strings.Builder, dp *results.DataPlane) {
	s := dp.Settings
	b.WriteString("## Data plane\n\n")
	fmt.Fprintf(b, "The same backend (hack/bench/cmd/backend: a minimal keep-alive HTTP/1.1 server answering a %d-byte or a %d-byte body) behind "+
		"tenantgate's proxy (hack/bench/cmd/gateway: gateway/proxy serving a compiled route table, no cluster), nginx (one worker, upstream keepalive 128), "+
		"HAProxy (nbthread 1, http-reuse always) and Caddy (reverse_proxy), and the backend alone (\"direct\"). "+
		"Every proxy runs pinned to CPU 1 (Go ones with GOMAXPROCS=1); wrk, the open-loop generator and the backend share CPU 0. "+
		"HTTPS uses one self-signed ECDSA P-256 certificate for all; proxies speak plain HTTP/1.1 to the backend. "+
		"Closed loop: wrk, one thread, %s s per run, %d runs per cell; each figure is the median (min–max) of the runs.\n\n",
		s.SmallBytes, s.LargeBytes, num(s.Duration.Seconds()), s.Reps)
	cells := closedCellsOf(dp)
	var rows [][]string
	for _, c := range cells {
		row := []string{c.label()}
		for _, t := range s.Targets {
			row = append(row, spread(closed(dp, t, c.scheme, c.body, c.conns, rps), count))
		}
		rows = append(rows, row)
	}
	b.WriteString("### Throughput, requests/s\n\n")
	table(b, append([]string{"case"}, s.Targets...), rows)

	b.WriteString("### Ratios of the medians\n\n")
	proxies := without(s.Targets, "direct")
	header := []string{"case"}
	for _, p := range proxies {
		if p != "nginx" {
			header = append(header, p+" / nginx")
		}
	}
	for _, p := range proxies {
		header = append(header, p+" / direct")
	}
	rows = nil
	for _, c := range cells {
		med := func(t string) float64 { return closed(dp, t, c.scheme, c.body, c.conns, rps).Median }
		row := []string{c.label()}
		for _, p := range proxies {
			if p != "nginx" {
				row = append(row, ratio(med(p), med("nginx")))
			}
		}
		for _, p := range proxies {
			row = append(row, ratio(med(p), med("direct")))
		}
		rows = append(rows, row)
	}
	table(b, header, rows)

	b.WriteString("### p99 latency under closed-loop load, ms (wrk)\n\n")
	rows = nil
	for _, c := range cells {
		row := []string{c.label()}
		for _, t := range s.Targets {
			row = append(row, spread(closed(dp, t, c.scheme, c.body, c.conns, p99), num))
		}
		rows = append(rows, row)
	}
	table(b, append([]string{"case"}, s.Targets...), rows)

	b.WriteString("### Requests per CPU-second of the proxy itself\n\n")
	b.WriteString("Requests/s divided by the CPU the proxy's processes used during the run (from /proc), and its inverse, microseconds of CPU per request: how much work each request costs, which other work on the shared core does not change. " +
		"Below 1 CPU-second per second of run means something else also ran on CPU 1.\n\n")
	rows = nil
	per := perCPUSecond(s.Duration.Seconds())
	for _, c := range cells {
		row := []string{c.label()}
		for _, p := range proxies {
			row = append(row, spread(closed(dp, p, c.scheme, c.body, c.conns, per), count))
		}
		for _, p := range proxies {
			row = append(row, spread(closed(dp, p, c.scheme, c.body, c.conns, per), func(v float64) string { return num(1e6 / v) }))
		}
		for _, p := range proxies {
			row = append(row, spread(closed(dp, p, c.scheme, c.body, c.conns, cpuShare), func(v float64) string { return num(v / s.Duration.Seconds()) }))
		}
		rows = append(rows, row)
	}
	header = []string{"case"}
	for _, p := range proxies {
		header = append(header, p+" req/CPU-s")
	}
	for _, p := range proxies {
		header = append(header, p+" µs CPU/req")
	}
	for _, p := range proxies {
		header = append(header, p+" CPU used")
	}
	table(b, header, rows)
	allocations(b, dp, cells)

	errors := 0
	for _, c := range dp.Closed {
		errors += c.Errors
	}
	for _, o := range dp.Open {
		errors += o.Errors
	}
	fmt.Fprintf(b, "Errors (socket errors and non-2xx answers) over all runs: %d.\n\n", errors)

	openLoop(b, dp)
	if dp.Profile != nil {
		profile(b, dp.Profile)
	}
}

func openLoop(b *strings.Builder, dp *results.DataPlane) {
	s := dp.Settings
	fmt.Fprintf(b, "### Open loop: latency at %s%% of each target's own maximum\n\n", num(s.OpenLoopShare*100))
	fmt.Fprintf(b, "hack/bench/internal/openloop offers a fixed rate over %d keep-alive HTTP/1.1 connections for %s s per run (%d runs). "+
		"Latency counts from when each request was due, so a stall is charged to every request it held up (coordinated omission corrected, as wrk2 does). "+
		"The rate is %s%% of the target's median wrk maximum at %d connections with the same body. Percentiles are medians (min–max) over the runs.\n\n",
		s.OpenLoopConns, num(s.OpenLoopDuration.Seconds()), s.Reps, num(s.OpenLoopShare*100), headlineConns(dp))
	var rows [][]string
	for _, body := range []string{results.BodySmall, results.BodyLarge} {
		nginxP99 := open(dp, "nginx", body, openP99).Median
		for _, t := range s.Targets {
			rows = append(rows, []string{
				body, t,
				count(open(dp, t, body, openRate).Median),
				spread(open(dp, t, body, openDone), count),
				spread(open(dp, t, body, openP50), num),
				spread(open(dp, t, body, openP99), num),
				spread(open(dp, t, body, openP999), num),
				ratio(open(dp, t, body, openP99).Median, nginxP99),
				count(open(dp, t, body, openErrs).Max),
			})
		}
	}
	table(b, []string{"body", "target", "offered req/s", "answered req/s", "p50 ms", "p99 ms", "p99.9 ms", "p99 / nginx", "errors (max)"}, rows)
}

func profile(b *strings.Builder, p *results.Profile) {
	b.WriteString("### Where tenantgate's proxy spends its CPU\n\n")
	fmt.Fprintf(b, "CPU profile of the standalone proxy (net/http/pprof) for %s s under %s; it got %s CPU-seconds of its core in that time. "+
		"Categories add up each function's own (flat) time.\n\n", num(p.Seconds), p.Load, num(p.CPUSeconds))
	var rows [][]string
	for _, c := range p.Categories {
		rows = append(rows, []string{c.Category, num(c.Percent) + "%"})
	}
	table(b, []string{"category", "share of samples"}, rows)
	cum := append([]results.ProfileEntry(nil), p.Top...)
	for i := 1; i < len(cum); i++ {
		for j := i; j > 0 && cum[j].Cum > cum[j-1].Cum; j-- {
			cum[j], cum[j-1] = cum[j-1], cum[j]
		}
	}
	rows = nil
	for _, e := range cum[:min(20, len(cum))] {
		rows = append(rows, []string{"`" + e.Function + "`", num(e.Flat) + "%", num(e.Cum) + "%"})
	}
	b.WriteString("Heaviest functions by cumulative time:\n\n")
	table(b, []string{"function", "flat", "cumulative"}, rows)
}

func controlPlane(b *strings.Builder, r results.Results) {
	if len(r.ControlPlane) == 0 && len(r.Decisions) == 0 && len(r.Build) == 0 {
		return
	}
	b.WriteString("## Control plane and webhook\n\n")
	b.WriteString("tests/bench's BenchmarkControlPlane on the local cluster (real etcd, kube-apiserver, kube-controller-manager, and Pods of echo-basic in network namespaces) with tenantgate running as its own process (the built cmd/tenantgate, so its RSS and CPU are its own), both cores shared, run once: " +
		"figures are single measurements except where a percentile over many events is named. " +
		"Routes spread over 50 namespaces and each has its own hostname on one shared Gateway; they are created 16 at a time through the webhook. " +
		"\"Serving\" is when the last route first answered 200 through the Gateway (probed in sweeps, so late by at most one sweep); \"Accepted\" is when the last one showed Accepted=True, from a watch.\n\n")
	var rows [][]string
	cp := r.ControlPlane
	add := func(what string, s results.Summary, unit string) {
		switch {
		case s.N == 0:
		case unit == "": // a count
			rows = append(rows, []string{what, spread(s, count)})
		default:
			rows = append(rows, []string{what, spread(s, num) + " " + unit})
		}
	}
	for _, name := range []string{benchApply1000, benchApply5000} {
		n := strings.TrimPrefix(name, "BenchmarkControlPlane/apply=")
		add(n+" routes: applying them", metric(cp, name, "s-apply"), "s")
		add(n+" routes: all serving, after the last apply", metric(cp, name, "s-serving"), "s")
		add(n+" routes: still not serving when the benchmark stopped waiting", metric(cp, name, "routes-not-serving"), "")
		add(n+" routes: all Accepted, after the last apply", metric(cp, name, "s-accepted"), "s")
		add(n+" routes: still not Accepted when the benchmark stopped waiting", metric(cp, name, "routes-not-accepted"), "")
		add(n+" routes: reconciles of everything during the phase", metric(cp, name, "reconciles"), "")
		add(n+" routes: failed reconciles during the phase", metric(cp, name, "reconcile-errors"), "")
	}
	add("Route changes made (100 asked, 90 s budget)", metric(cp, benchChange, "changes"), "")
	add("Route change to wire, p50 (5,000 routes)", metric(cp, benchChange, "ms-wire-p50"), "ms")
	add("Route change to wire, p99", metric(cp, benchChange, "ms-wire-p99"), "ms")
	add("Route change to wire, max", metric(cp, benchChange, "ms-wire-max"), "ms")
	add("Route change: the API call itself, p50", metric(cp, benchChange, "ms-apply-p50"), "ms")
	add("Reconciles of everything during the changes", metric(cp, benchChange, "reconciles"), "")
	add("Reconcile duration during the changes, p50 (controller-runtime histogram)", metric(cp, benchChange, "ms-reconcile-p50"), "ms")
	add("Reconcile duration during the changes, p99", metric(cp, benchChange, "ms-reconcile-p99"), "ms")
	add("Watch-delivery floor of the same changes (a bare watcher), p99", metric(cp, benchChange, "ms-floor-p99"), "ms")
	add("tenantgate's CPU per route change, less the probes it proxied", metric(cp, benchChange, "ms-cpu-per-change-less-probes"), "ms")
	add("tenantgate's allocations per route change", metric(cp, benchChange, "MiB-allocated-per-change"), "MiB")
	add("CPU floor: a bare controller-runtime controller's CPU per change (admits, watches, writes one status; tenantgate paused)", metric(cp, benchCPUFloor, "ms-cpu-per-change"), "ms")
	add("CPU floor: its allocations per change", metric(cp, benchCPUFloor, "MiB-allocated-per-change"), "MiB")
	add("tenantgate's CPU per change over the floor's", metric(cp, benchCPUFloor, "x-tenantgate-over-floor"), "×")
	add("tenantgate process RSS with 5,000 routes", metric(cp, benchMemory, "MiB-rss"), "MiB")
	add("tenantgate process peak RSS so far", metric(cp, benchMemory, "MiB-rss-peak"), "MiB")
	add("tenantgate process RSS before any route (Gateway up)", metric(cp, benchMemory, "MiB-rss-before-routes"), "MiB")
	add("translate.Build of 5,000 routes, one core (BenchmarkBuild)", results.Summarize(scale(results.Metric(r.Build, "BenchmarkBuild", "ns/op"), 1e-6)), "ms")
	if len(rows) > 0 {
		table(b, []string{"figure", "value"}, rows)
	}

	rows = nil
	add("Seeding 1,000 tenants and 5,000 tenant routes (webhook configuration removed)", metric(cp, benchWebhook, "s-seed"), "s")
	add("… until the restored webhook denies with the new tenants", metric(cp, benchWebhook, "s-seed-denying"), "s")
	add("Route updates admitted per second (200/s offered for 15 s)", metric(cp, benchWebhook, "admissions/s"), "/s")
	add("Updates not admitted (failed, or dropped 5 s past the schedule)", metric(cp, benchWebhook, "updates-not-admitted"), "")
	add("Admissions the API server timed", metric(cp, benchWebhook, "admissions"), "")
	add("API server's webhook latency, p50 (histogram estimate)", metric(cp, benchWebhook, "ms-apiserver-p50"), "ms")
	add("API server's webhook latency, p99 (histogram estimate)", metric(cp, benchWebhook, "ms-apiserver-p99"), "ms")
	add("Admissions within 5 ms (the histogram's first bucket)", metric(cp, benchWebhook, "%-apiserver-within-5ms"), "%")
	add("tenantgate's own decision time, p99 (its histogram)", metric(cp, benchWebhook, "ms-decision-p99"), "ms")
	add("Client's update latency from due time, p50", metric(cp, benchWebhook, "ms-update-p50"), "ms")
	add("Client's update latency from due time, p99", metric(cp, benchWebhook, "ms-update-p99"), "ms")
	add("Floor (an allow-all webhook of the benchmark's, same rate, same cluster): updates admitted per second", metric(cp, benchWebhook, "floor-admissions/s"), "/s")
	add("Floor: API server's webhook latency, p50", metric(cp, benchWebhook, "floor-ms-apiserver-p50"), "ms")
	add("Floor: API server's webhook latency, p99", metric(cp, benchWebhook, "floor-ms-apiserver-p99"), "ms")
	add("tenantgate's p99 over the floor's", metric(cp, benchWebhook, "x-apiserver-p99-over-floor-p99"), "×")
	dec := results.Metric(r.Decisions, "BenchmarkCheckHTTPRoute", "ns/op")
	add("Policy decisions per second on one core (BenchmarkCheckHTTPRoute, 1,000 tenants, 10,000 routes)", results.Summarize(invert(dec)), "/s")
	if len(rows) > 0 {
		b.WriteString("### Webhook\n\n")
		b.WriteString("apiserver_admission_webhook_admission_duration_seconds for tenantgate's HTTPRoute webhook (UPDATE), scraped from the API server before and after a fixed-rate run of route updates with 10,000 routes and 1,000 tenants in the cache. " +
			"Its buckets are 5, 25, 100, 500 ms and up, so percentiles are estimates inside a bucket; the share within 5 ms is exact.\n\n")
		table(b, []string{"figure", "value"}, rows)
	}
}

func scale(v []float64, by float64) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = x * by
	}
	return out
}

func invert(nsPerOp []float64) []float64 {
	out := make([]float64, 0, len(nsPerOp))
	for _, ns := range nsPerOp {
		if ns > 0 {
			out = append(out, 1e9/ns)
		}
	}
	return out
}

func without(ss []string, drop string) []string {
	var out []string
	for _, s := range ss {
		if s != drop {
			out = append(out, s)
		}
	}
	return out
}

// cellKey is one closed-loop configuration in the order the driver ran them.
type cellKey struct {
	scheme, body string
	conns        int
}

func (c cellKey) label() string {
	return fmt.Sprintf("%s, %s, %d conn", strings.ToUpper(c.scheme), c.body, c.conns)
}

func closedCellsOf(dp *results.DataPlane) []cellKey {
	var cells []cellKey
	seen := map[cellKey]bool{}
	for _, c := range dp.Closed {
		k := cellKey{c.Scheme, c.Body, c.Conns}
		if !seen[k] {
			seen[k] = true
			cells = append(cells, k)
		}
	}
	return cells
}
