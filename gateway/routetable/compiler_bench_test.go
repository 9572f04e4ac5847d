package routetable

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
)

// compilerBenchConfig is 20,000 routes on one listener, each with its own
// hostname and two rules with backends, the shape of the translator's
// route-change benchmark.
func compilerBenchConfig() Config {
	const routes = 20_000
	rs := make([]*Route, 0, routes)
	for i := range routes {
		ns := fmt.Sprintf("team-%03d", i/200)
		api := rule(prefix(fmt.Sprintf("/api/%d", i%200)).header("X-Version", "v2"))
		api.Backends = []Backend{{Name: ns + "/svc-0:8080", Weight: 90, Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 8080}}}}
		health := rule(exact("/healthz"))
		health.Filters = []Filter{{Type: FilterRequestHeaderModifier, RequestHeader: &HeaderModifier{Set: []Header{{Name: "X-Tenant", Value: ns}}}}}
		health.Backends = []Backend{{Name: ns + "/svc-1:8080", Weight: 1, Endpoints: []Endpoint{{Address: "10.0.0.2", Port: 8080}}}}
		rs = append(rs, route(fmt.Sprintf("%s/route-%03d", ns, i%200), 0, []string{fmt.Sprintf("r%d.%s.example.com", i%200, ns)}, api, health))
	}
	return Config{Listeners: []Listener{listener("infra/gw/http", "", rs...)}}
}

// BenchmarkCompilerOneChange is Compiler.Compile of a Config in which one
// route among 20,000 has new rules, as the translator hands it over: every
// other route's rules are the same slices as before.
func BenchmarkCompilerOneChange(b *testing.B) {
	cfg := compilerBenchConfig()
	var c Compiler
	if _, faults := c.Compile(cfg); len(faults) > 0 {
		b.Fatal(faults.Err())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		routes := cfg.Listeners[0].Routes
		k := i * 997 % len(routes)
		r := new(*routes[k]) // as the translator hands over a changed route: a new one
		routes[k] = r
		r.Rules = slices.Clone(r.Rules)
		r.Rules[1].Filters = []Filter{{Type: FilterRequestHeaderModifier, RequestHeader: &HeaderModifier{Set: []Header{{Name: "X-Tenant", Value: "v" + strconv.Itoa(i)}}}}}
		i++
		if _, faults := c.Compile(cfg); len(faults) > 0 {
			b.Fatal(faults.Err())
		}
		if c.Reused() != len(routes)-1 {
			b.Fatalf("reused %d route compilations for one change among %d", c.Reused(), len(routes))
		}
	}
}

// BenchmarkCompileFull is Compile of the same 20,000 routes, for comparison.
func BenchmarkCompileFull(b *testing.B) {
	cfg := compilerBenchConfig()
	b.ReportAllocs()
	for b.Loop() {
		Compile(cfg)
	}
}

// BenchmarkCompilerRouteRemovedAdded alternately removes a route from the
// middle of 20,000 and puts it back, so every route after it moves.
func BenchmarkCompilerRouteRemovedAdded(b *testing.B) {
	cfg := compilerBenchConfig()
	all := cfg.Listeners[0].Routes
	without := slices.Delete(slices.Clone(all), len(all)/2, len(all)/2+1)
	var c Compiler
	c.Compile(cfg)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		cfg.Listeners[0].Routes = all
		if i%2 == 0 {
			cfg.Listeners[0].Routes = without
		}
		i++
		if _, faults := c.Compile(cfg); len(faults) > 0 {
			b.Fatal(faults.Err())
		}
		if c.Reused() < len(without) {
			b.Fatalf("reused %d route compilations of %d", c.Reused(), len(without))
		}
	}
}
