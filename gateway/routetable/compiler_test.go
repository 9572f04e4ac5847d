package routetable

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestCompilerEqualsCompile edits a Config at random, step after step
// (routes added, removed, moved, given new rules or hostnames, rules that
// do not compile, backend TLS, listeners renamed, repeated, rehosted or
// made TLS, a route named twice) and checks after each step that a
// Compiler's Table answers every probe, route and TLS key question as
// Compile's does and reports the same faults.
func TestCompilerEqualsCompile(t *testing.T) {
	const sequences, steps = 40, 60
	rng := rand.New(rand.NewPCG(15, 15))
	hosts := []string{"", "*", "a.com", "x.a.com", "y.x.a.com", "*.a.com", "*.x.a.com", "b.com", "*.com"}
	newRule := func() Rule {
		r := rule(prefix(fmt.Sprintf("/p%d", rng.IntN(4))), exact("/e").header("X-H", fmt.Sprint(rng.IntN(2))))
		switch rng.IntN(8) {
		case 0:
			r.Matches = append(r.Matches, regex("("))
		case 1:
			r.Backends = []Backend{{Name: "ns/tls:443", Weight: 1, TLS: &BackendTLS{Policy: "ns/p", ServerName: fmt.Sprintf("s%d.example", rng.IntN(3)), SystemCAs: true}}}
		case 2:
			r.Matches = nil
		}
		return r
	}
	newRoute := func(name string) *Route {
		var hs []string
		for range rng.IntN(3) {
			hs = append(hs, hosts[rng.IntN(len(hosts))])
		}
		rules := make([]Rule, 1+rng.IntN(2))
		for i := range rules {
			rules[i] = newRule()
		}
		r := route(name, rng.IntN(3), hs, rules...)
		r.GRPC = rng.IntN(10) == 0
		if r.GRPC {
			for i := range r.Rules {
				r.Rules[i].Matches = []Match{{GRPC: &GRPCMethodMatch{Service: "s", Method: fmt.Sprint(rng.IntN(2))}}}
			}
		}
		return r
	}
	for seq := range sequences {
		var c Compiler
		cfg := Config{}
		for l := range 3 {
			var rs []*Route
			for i := range 5 + rng.IntN(10) {
				rs = append(rs, newRoute(fmt.Sprintf("ns%d/r%d", i%3, i)))
			}
			cfg.Listeners = append(cfg.Listeners, listener(fmt.Sprintf("gw/l%d", l), hosts[rng.IntN(len(hosts))], rs...))
			cfg.Listeners[l].Port = int32(80 + l%2)
		}
		var prev *Table
		var prevCfg Config
		for step := range steps {
			if step > 0 {
				cfg = editConfig(rng, cfg, newRoute, hosts)
			}
			got, gotFaults := c.Compile(cfg)
			if d := goneSince(prev, got, prevCfg); d != "" {
				t.Fatalf("sequence %d step %d: %s", seq, step, d)
			}
			prev, prevCfg = got, cfg
			want, wantFaults := Compile(cfg)
			if g, w := fmt.Sprint(gotFaults), fmt.Sprint(wantFaults); g != w {
				t.Fatalf("sequence %d step %d: faults %s, want %s", seq, step, g, w)
			}
			if d := compareTables(got, want, cfg, hosts); d != "" {
				t.Fatalf("sequence %d step %d: %s", seq, step, d)
			}
		}
	}
}

// goneSince checks that every route prev carried and t does not is among
// t.RoutesGoneSince(prev), when t says it knows them.
func goneSince(prev, t *Table, prevCfg Config) string {
	gone, ok := t.RoutesGoneSince(prev)
	if !ok {
		return ""
	}
	listed := map[RouteKey]bool{}
	for _, k := range gone {
		listed[k] = true
	}
	for _, l := range prevCfg.Listeners {
		for _, r := range l.Routes {
			if k := (RouteKey{r.Namespace, r.Name}); prev.HasRoute(k) && !t.HasRoute(k) && !listed[k] {
				return fmt.Sprintf("route %v is gone but not in RoutesGoneSince %v", k, gone)
			}
		}
	}
	return ""
}

// editConfig returns cfg with one random change; cfg itself is not modified.
func editConfig(rng *rand.Rand, cfg Config, newRoute func(string) *Route, hosts []string) Config {
	cfg.Listeners = slices.Clone(cfg.Listeners)
	l := &cfg.Listeners[rng.IntN(len(cfg.Listeners))]
	l.Routes = slices.Clone(l.Routes)
	// Routes are shared with the Config before: a changed one is a copy.
	edit := func(i int) *Route {
		cp := *l.Routes[i]
		l.Routes[i] = &cp
		return &cp
	}
	switch n := len(l.Routes); rng.IntN(12) {
	case 0, 1:
		l.Routes = slices.Insert(l.Routes, rng.IntN(n+1), newRoute(fmt.Sprintf("ns%d/new%d", rng.IntN(3), rng.IntN(1000))))
	case 2:
		if n > 0 {
			i := rng.IntN(n)
			l.Routes = slices.Delete(l.Routes, i, i+1)
		}
	case 3, 4:
		if n > 0 {
			i := rng.IntN(n)
			r := edit(i)
			fresh := newRoute(r.Namespace + "/" + r.Name)
			r.Rules = fresh.Rules
			if l.Protocol == ProtocolTLS {
				r.Rules = fresh.Rules[:1] // a TLSRoute has one rule
			}
		}
	case 5:
		if n > 0 {
			i := rng.IntN(n)
			edit(i).Hostnames = []string{hosts[rng.IntN(len(hosts))]}
		}
	case 6:
		if n > 1 {
			i, j := rng.IntN(n), rng.IntN(n)
			l.Routes[i], l.Routes[j] = l.Routes[j], l.Routes[i]
		}
	case 7:
		l.Hostname = hosts[rng.IntN(len(hosts))]
	case 8:
		l.Protocol = []Protocol{ProtocolHTTP, ProtocolTLS, "UDP"}[rng.IntN(3)]
		if l.Protocol == ProtocolTLS {
			for i := range l.Routes {
				r := edit(i)
				r.Rules = r.Rules[:1:1]
			}
		}
	case 9:
		if n > 0 && rng.IntN(3) == 0 {
			l.Routes = append(l.Routes, l.Routes[rng.IntN(n)]) // named twice
		} else if n > 0 {
			i := rng.IntN(n)
			r := edit(i)
			r.Created = r.Created.Add(-60e9)
		}
	case 10:
		if rng.IntN(2) == 0 {
			l.Name = fmt.Sprintf("gw/l%d", rng.IntN(4))
		} else {
			l.Port = int32(80 + rng.IntN(2))
		}
	case 11:
		if n > 0 {
			i := rng.IntN(n)
			r := edit(i)
			r.GRPC = !r.GRPC
		}
	}
	return cfg
}

// compareTables says where two tables compiled from cfg answer differently.
func compareTables(got, want *Table, cfg Config, hosts []string) string {
	names := func(t *Table) string {
		var out []string
		for _, s := range t.Sockets() {
			for _, l := range s.Listeners {
				out = append(out, fmt.Sprintf("%s:%d %s %q %s", s.Address, s.Port, l.Name, l.Hostname, l.Protocol))
			}
		}
		return strings.Join(out, "; ")
	}
	if g, w := names(got), names(want); g != w {
		return "listeners " + g + ", want " + w
	}
	for _, l := range cfg.Listeners {
		for _, r := range l.Routes {
			k := RouteKey{r.Namespace, r.Name}
			if got.HasRoute(k) != want.HasRoute(k) {
				return fmt.Sprintf("HasRoute(%v) %v, want %v", k, got.HasRoute(k), want.HasRoute(k))
			}
		}
	}
	for i := range 3 {
		k := backendTLSKey(&BackendTLS{Policy: "ns/p", ServerName: fmt.Sprintf("s%d.example", i), SystemCAs: true}, nil)
		if got.UsesBackendTLS(k) != want.UsesBackendTLS(k) {
			return fmt.Sprintf("UsesBackendTLS(s%d) %v, want %v", i, got.UsesBackendTLS(k), want.UsesBackendTLS(k))
		}
	}
	answer := func(t *Table, s *Socket, host, path, header string) string {
		s = t.Socket(s.Address, s.Port)
		r := request("GET", host, path, "X-H: "+header)
		l, m := s.Route(host, r)
		switch {
		case l == nil:
			return "no listener"
		case l.Protocol == ProtocolTLS:
			if rule := l.TLSRoute(host); rule != nil {
				return l.Name + " " + rule.Route
			}
			return l.Name + " no TLS route"
		case m == nil:
			return l.Name + " no match"
		}
		return fmt.Sprintf("%s %s rule %d match %d", l.Name, m.Rule.Route, m.Rule.Index, m.Index)
	}
	for _, s := range want.Sockets() {
		for _, h := range hosts {
			host := strings.Replace(h, "*", "q", 1)
			if host == "" {
				host = "other.org"
			}
			for _, path := range []string{"/p0", "/p1/x", "/p3", "/e", "/s/0", "/s/1"} {
				for _, header := range []string{"0", "1"} {
					if g, w := answer(got, s, host, path, header), answer(want, s, host, path, header); g != w {
						return fmt.Sprintf("%s:%d %s%s: %s, want %s", s.Address, s.Port, host, path, g, w)
					}
				}
			}
		}
	}
	return ""
}
