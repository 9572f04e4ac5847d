package report

import (
	"fmt"
	"math"
	"strings"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// Verdict is one target of the benchmark issue against what was measured.
type Verdict struct {
	Target   string
	Measured string
	// Status is "met", "not met" or "not measured".
	Status string
	// Why explains a miss from the figures and the profile; empty when met.
	Why string
}

const (
	met         = "met"
	notMet      = "not met"
	notMeasured = "not measured"
)

// Benchmark names tests/bench reports under.
const (
	benchApply5000 = "BenchmarkControlPlane/apply=5000"
	benchApply1000 = "BenchmarkControlPlane/apply=1000"
	benchChange    = "BenchmarkControlPlane/change=100"
	benchCPUFloor  = "BenchmarkControlPlane/change-floor=100"
	benchMemory    = "BenchmarkControlPlane/memory"
	benchWebhook   = "BenchmarkControlPlane/webhook"
)

// Verdicts judges every target of the issue, in its order.
func Verdicts(r results.Results) []Verdict {
	dp := r.DataPlane
	conns := headlineConns(dp)
	tg := closed(dp, "tenantgate", "http", results.BodySmall, conns, rps)
	nx := closed(dp, "nginx", "http", results.BodySmall, conns, rps)
	cd := closed(dp, "caddy", "http", results.BodySmall, conns, rps)
	tgOpen := open(dp, "tenantgate", results.BodySmall, openP99)
	nxOpen := open(dp, "nginx", results.BodySmall, openP99)
	var v []Verdict

	v = append(v, judge(fmt.Sprintf("Proxy throughput, %d connections, small body: at least 0.8× nginx", conns),
		tg.N > 0 && nx.N > 0, tg.Median >= 0.8*nx.Median,
		fmt.Sprintf("%s nginx (%s vs %s req/s, medians)", ratio(tg.Median, nx.Median), count(tg.Median), count(nx.Median)),
		throughputWhy(r, "nginx")))
	v = append(v, judge(fmt.Sprintf("Proxy throughput, %d connections, small body: at least 1.5× Caddy", conns),
		tg.N > 0 && cd.N > 0, tg.Median >= 1.5*cd.Median,
		fmt.Sprintf("%s Caddy (%s vs %s req/s, medians)", ratio(tg.Median, cd.Median), count(tg.Median), count(cd.Median)),
		throughputWhy(r, "caddy")))
	v = append(v, judge("p99 at 50% of own maximum (open loop, small body): at most 1.5× nginx's",
		tgOpen.N > 0 && nxOpen.N > 0, tgOpen.Median <= 1.5*nxOpen.Median,
		fmt.Sprintf("%s nginx (%s vs %s ms, medians)", ratio(tgOpen.Median, nxOpen.Median), num(tgOpen.Median), num(nxOpen.Median)),
		latencyWhy(r)))

	serving := metric(r.ControlPlane, benchApply5000, "s-serving")
	acc := metric(r.ControlPlane, benchApply5000, "s-accepted")
	notServing := metric(r.ControlPlane, benchApply5000, "routes-not-serving").Median
	notAccepted := metric(r.ControlPlane, benchApply5000, "routes-not-accepted").Median
	v = append(v, judge("5,000 routes serving within 5 s of the last apply",
		serving.N > 0, serving.Median <= 5 && acc.Median <= 5 && notServing == 0 && notAccepted == 0,
		fmt.Sprintf("all answering 200 after %s, all Accepted after %s", bounded(serving.Median, notServing), bounded(acc.Median, notAccepted)),
		applyWhy(r, serving.Median, acc.Median)))
	wire := metric(r.ControlPlane, benchChange, "ms-wire-p99")
	v = append(v, judge("One route change on the wire in under 200 ms at p99 (5,000 routes)",
		wire.N > 0, wire.Median < 200,
		fmt.Sprintf("p99 %s ms, p50 %s ms over 100 changes", num(wire.Median), num(metric(r.ControlPlane, benchChange, "ms-wire-p50").Median)),
		changeWhy(r)))
	hookP99 := metric(r.ControlPlane, benchWebhook, "ms-apiserver-p99")
	within := metric(r.ControlPlane, benchWebhook, "%-apiserver-within-5ms")
	achieved := metric(r.ControlPlane, benchWebhook, "admissions/s")
	v = append(v, judge("Webhook: under 5 ms added p99 at 200 admissions/s with 10,000 routes",
		within.N > 0, within.Median >= 99 && achieved.Median >= 190,
		fmt.Sprintf("%s%% of admissions within 5 ms (API server histogram; p99 ≈ %s ms), %s admissions/s sustained", num(within.Median), num(hookP99.Median), num(achieved.Median)),
		webhookWhy(r)))
	rss := metric(r.ControlPlane, benchMemory, "MiB-rss")
	v = append(v, judge("Gateway controller under 300 MiB RSS at 5,000 routes",
		rss.N > 0, rss.Median < 300,
		fmt.Sprintf("%s MiB RSS (peak %s MiB) of the tenantgate process", num(rss.Median), num(metric(r.ControlPlane, benchMemory, "MiB-rss-peak").Median)),
		memoryWhy(r)))
	return v
}

// bounded is "12.3 s", or "more than 120 s (42 routes not yet)" when the
// benchmark stopped waiting.
func bounded(seconds, missing float64) string {
	if missing > 0 {
		return fmt.Sprintf("more than %s s (%s routes still not, when the benchmark stopped waiting)", num(seconds), count(missing))
	}
	return num(seconds) + " s"
}

func memoryWhy(r results.Results) string {
	s := "The figure is the resident memory of the tenantgate process (controller, webhook and proxy), which the benchmark runs apart from the cluster harness."
	if before := metric(r.ControlPlane, benchMemory, "MiB-rss-before-routes"); before.N > 0 {
		now := metric(r.ControlPlane, benchMemory, "MiB-rss").Median
		s += fmt.Sprintf(" It held %s MiB once the Gateway was up, before any route; 5,000 routes and the phases before added %s MiB (the 1,000 routes created and deleted earlier included: Go returns freed memory to the system lazily).", num(before.Median), num(now-before.Median))
	}
	return s
}

func judge(target string, measured, ok bool, figures, why string) Verdict {
	switch {
	case !measured:
		return Verdict{Target: target, Measured: "–", Status: notMeasured}
	case ok:
		return Verdict{Target: target, Measured: figures, Status: met}
	}
	return Verdict{Target: target, Measured: figures, Status: notMet, Why: why}
}

// throughputWhy explains a throughput gap with the CPU each proxy spent per
// request and where tenantgate's profile puts that CPU.
func throughputWhy(r results.Results, other string) string {
	dp := r.DataPlane
	if dp == nil {
		return ""
	}
	conns := headlineConns(dp)
	per := perCPUSecond(dp.Settings.Duration.Seconds())
	tg := closed(dp, "tenantgate", "http", results.BodySmall, conns, per).Median
	ot := closed(dp, other, "http", results.BodySmall, conns, per).Median
	var b strings.Builder
	if !math.IsNaN(tg) && !math.IsNaN(ot) && tg > 0 && ot > 0 {
		fmt.Fprintf(&b, "Per CPU-second of its own, tenantgate's proxy served %s requests and %s served %s: each request costs tenantgate %s µs of CPU against %s µs. ",
			count(tg), other, count(ot), num(1e6/tg), num(1e6/ot))
	}
	b.WriteString(profileSentence(dp.Profile))
	b.WriteString(flushSentence(dp.Profile))
	return b.String()
}

// flushSentence points at ReverseProxy's flush timer when the profile shows
// it: with FlushInterval -1 every response starts a timer goroutine that
// flushes the headers in a write of their own before the body's write.
func flushSentence(p *results.Profile) string {
	if p == nil {
		return ""
	}
	for _, e := range p.Top {
		if strings.Contains(e.Function, "httputil.(*maxLatencyWriter).delayedFlush") && e.Cum >= 5 {
			return fmt.Sprintf(" The largest avoidable cost: %s%% of the CPU is under httputil's maxLatencyWriter.delayedFlush. gateway/proxy sets ReverseProxy.FlushInterval to -1, so every response starts a timer goroutine that flushes the headers, usually in a write syscall of their own before the body goes out in another; with FlushInterval 0, ReverseProxy still flushes at once for event streams and bodies of unknown length, and a plain response leaves in one write.", num(e.Cum))
		}
	}
	return ""
}

// profileSentence names the largest categories of the CPU profile and the
// tenantgate frames with the most cumulative time.
func profileSentence(p *results.Profile) string {
	if p == nil || len(p.Categories) == 0 {
		return ""
	}
	cats := append([]results.Share(nil), p.Categories...)
	sortShares(cats)
	var parts []string
	for _, c := range cats[:min(4, len(cats))] {
		parts = append(parts, fmt.Sprintf("%s %s%%", c.Category, num(c.Percent)))
	}
	s := fmt.Sprintf("In the CPU profile under that load (%s), the time goes to: %s. ", p.Load, strings.Join(parts, "; "))
	for _, c := range p.Categories {
		if c.Category == results.CatTenant {
			s += fmt.Sprintf("tenantgate's own code (matching, filters, bookkeeping) is %s%% of the samples: the cost is the Go runtime and net/http around it, not routing.", num(c.Percent))
		}
	}
	return s
}

func sortShares(s []results.Share) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j].Percent > s[j-1].Percent; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func latencyWhy(r results.Results) string {
	dp := r.DataPlane
	if dp == nil {
		return ""
	}
	tgRate := open(dp, "tenantgate", results.BodySmall, openRate).Median
	nxRate := open(dp, "nginx", results.BodySmall, openRate).Median
	p99 := open(dp, "tenantgate", results.BodySmall, openP99)
	return fmt.Sprintf("Each proxy is offered half of its own maximum (tenantgate %s req/s, nginx %s req/s). tenantgate's p50 is close to the others'; its tail comes from the per-request CPU cost described above (scheduler wake-ups of the three goroutines a proxied request crosses, the flush timer, garbage collection) and, on this shared machine, from other work taking its core: its own p99 ranged from %s to %s ms between runs, so this verdict is the least steady of all.",
		count(tgRate), count(nxRate), num(p99.Min), num(p99.Max))
}

// buildTime is ", which alone takes N ms on one core for 5,000 routes", or
// nothing when BenchmarkBuild did not run.
func buildTime(r results.Results) string {
	ns := results.Summarize(results.Metric(r.Build, "BenchmarkBuild", "ns/op"))
	if ns.N == 0 {
		return ""
	}
	return fmt.Sprintf(", which alone takes %s ms on one core for 5,000 routes", num(ns.Median/1e6))
}

func applyWhy(r results.Results, serving, accepted float64) string {
	var b strings.Builder
	if serving > 5 {
		fmt.Fprintf(&b, "Serving took %s s after the last apply: every change runs one reconcile of everything (snapshot of the cache, translate.Build of all routes%s, compile, swap), and changes that arrive meanwhile wait for the next one. ", num(serving), buildTime(r))
	}
	if errs := metric(r.ControlPlane, benchApply5000, "reconcile-errors").Median; errs > 0 {
		fmt.Fprintf(&b, "%s of the %s reconciles in the phase failed and were retried with exponential backoff. ",
			count(errs), count(metric(r.ControlPlane, benchApply5000, "reconciles").Median))
	}
	if accepted > 5 {
		fmt.Fprintf(&b, "The last route showed Accepted %s after the last apply", bounded(accepted, metric(r.ControlPlane, benchApply5000, "routes-not-accepted").Median))
		if serving <= 5 {
			fmt.Fprintf(&b, ", %s s after the last route first served traffic", num(accepted-serving))
		}
		b.WriteString(": each route's status is an API write of its own, made after the table is swapped, so status trails traffic, and 5,000 new routes mean 5,000 writes.")
	}
	return strings.TrimSpace(b.String())
}

func changeWhy(r results.Results) string {
	apply := metric(r.ControlPlane, benchChange, "ms-apply-p50").Median
	s := fmt.Sprintf("A change costs the API write with its admission (%s ms at p50), the watch event, then a reconcile of everything: listing the cache, translating all 5,000 routes%s, compiling and swapping the table.", num(apply), buildTime(r))
	if p50 := metric(r.ControlPlane, benchChange, "ms-reconcile-p50"); p50.N > 0 {
		s += fmt.Sprintf(" Those reconciles took %s ms at p50 and %s ms at p99 during the phase (controller-runtime's histogram, %s of them); a change that lands while one runs waits for it to end and then for its own, so the wire latency is up to two reconciles. Translating only what changed, or cheaper snapshots of the cache, is where the time is.",
			num(p50.Median), num(metric(r.ControlPlane, benchChange, "ms-reconcile-p99").Median), count(metric(r.ControlPlane, benchChange, "reconciles").Median))
	}
	if n := metric(r.ControlPlane, benchChange, "changes"); n.N > 0 && n.Median < 100 {
		s += fmt.Sprintf(" Only %s changes fitted in the phase's 90 s: changes that wait 30 s are given up (and count as 30 s).", count(n.Median))
	}
	return s
}

func webhookWhy(r results.Results) string {
	var b strings.Builder
	if ns := results.Summarize(results.Metric(r.Decisions, "BenchmarkCheckHTTPRoute", "ns/op")); ns.N > 0 {
		fmt.Fprintf(&b, "One policy check takes %s µs on one core (BenchmarkCheckHTTPRoute). ", num(ns.Median/1e3))
	}
	decision := metric(r.ControlPlane, benchWebhook, "ms-decision-p99").Median
	apiP50 := metric(r.ControlPlane, benchWebhook, "ms-apiserver-p50").Median
	rate := metric(r.ControlPlane, benchWebhook, "admissions/s").Median
	if floor := metric(r.ControlPlane, benchWebhook, "floor-ms-apiserver-p99"); floor.N > 0 {
		fmt.Fprintf(&b, "An allow-all webhook served by the benchmark, called at the same rate on the same cluster, took %s ms at p50 and %s ms at p99 by the API server's histogram, with %s updates/s admitted: that much is the API server's and the machine's, not tenantgate's. ",
			num(metric(r.ControlPlane, benchWebhook, "floor-ms-apiserver-p50").Median), num(floor.Median), num(metric(r.ControlPlane, benchWebhook, "floor-admissions/s").Median))
	}
	if decision < 5 {
		fmt.Fprintf(&b, "tenantgate's own decision took %s ms at p99 (its histogram), yet the API server timed the call at %s ms at p50, so the time is outside the decision: the API server encoding the AdmissionReview and calling over TLS, controller-runtime's webhook server decoding it and answering. The API server was not profiled here; the likeliest cause on this machine is CPU, with two cores shared by etcd, the API server, the benchmark's client and tenantgate's controller reconciling 10,000 routes after the updates. Updates went through at %s/s of the 200/s offered, so the cluster, not the decision, set the pace; with the control plane on cores of its own the same decision would leave the 5 ms budget to the round trip.",
			num(decision), num(apiP50), num(rate))
		return b.String()
	}
	fmt.Fprintf(&b, "tenantgate's own decision time reached %s ms at p99: the decision waits for the tenant policy, which is rebuilt from the whole cache (listing and copying every route, then tenancy.NewPolicy) after changes, and at a steady rate of route updates nearly every admission pays for a rebuild over 10,000 routes. Deciding against the last complete policy while the next one builds, or updating the policy's indexes incrementally, is the fix.",
		num(decision))
	return b.String()
}
