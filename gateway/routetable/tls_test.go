package routetable

import (
	"strings"
	"testing"
)

// tlsRoute is a TLSRoute "namespace/name" with one backend named after it.
func tlsRoute(namespacedName string, minutes int, hostnames ...string) *Route {
	return route(namespacedName, minutes, hostnames, Rule{Backends: []Backend{{Name: namespacedName, Weight: 1}}})
}

func tlsListener(name, hostname string, routes ...*Route) Listener {
	return Listener{Name: name, Address: "127.0.0.1", Port: 443, Protocol: ProtocolTLS, Hostname: hostname, Routes: routes}
}

// TestTLSRouteBySNI: on a socket the listener is chosen by SNI as HTTP
// listeners are by Host, then the route by exact name, longest wildcard,
// hostname-less route, and the oldest route keeps a name two claim.
func TestTLSRouteBySNI(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{
		tlsListener("infra/gw/wild", "*.example.com",
			tlsRoute("apples/exact", 2, "abc.example.com"),
			tlsRoute("apples/wild", 3, "*.example.com"),
			tlsRoute("bananas/deeper", 4, "*.b.example.com"),
			tlsRoute("bananas/late-exact", 5, "abc.example.com"), // loses to apples/exact
			tlsRoute("bananas/outside", 6, "*.example.org", "x.example.com"),
		),
		tlsListener("infra/gw/exact", "only.example.com", tlsRoute("apples/inherits", 1)),
		tlsListener("infra/gw/any", "", tlsRoute("apples/catch-all", 1)),
	}})
	socket := table.Socket("127.0.0.1", 443)
	if socket == nil || socket.Protocol != ProtocolTLS {
		t.Fatalf("socket %+v, want one TLS socket", socket)
	}
	tests := []struct{ sni, listener, route string }{
		{"abc.example.com", "infra/gw/wild", "apples/exact"},
		{"ABC.example.com.", "infra/gw/wild", "apples/exact"},
		{"other.example.com", "infra/gw/wild", "apples/wild"},
		{"a.b.example.com", "infra/gw/wild", "bananas/deeper"},
		{"x.example.com", "infra/gw/wild", "bananas/outside"},
		{"only.example.com", "infra/gw/exact", "apples/inherits"},
		{"example.org", "infra/gw/any", "apples/catch-all"},
		{"", "infra/gw/any", "apples/catch-all"},
	}
	for _, tc := range tests {
		l := socket.Listener(tc.sni)
		if l == nil || l.Name != tc.listener {
			t.Errorf("SNI %q: listener %v, want %s", tc.sni, l, tc.listener)
			continue
		}
		got := ""
		if r := l.TLSRoute(tc.sni); r != nil {
			got = r.Route
		}
		if got != tc.route {
			t.Errorf("SNI %q: route %q, want %q", tc.sni, got, tc.route)
		}
	}
}

func TestTLSRouteNoMatch(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{
		tlsListener("infra/gw/tls", "*.example.com", tlsRoute("apples/one", 1, "one.example.com")),
	}})
	l := table.Socket("127.0.0.1", 443).Listener("two.example.com")
	if l == nil {
		t.Fatal("the wildcard listener must take two.example.com")
	}
	if r := l.TLSRoute("two.example.com"); r != nil {
		t.Fatalf("route %s took a name no route claims", r.Route)
	}
	if l := table.Socket("127.0.0.1", 443).Listener("example.com"); l != nil {
		t.Fatalf("listener %s took a name outside *.example.com", l.Name)
	}
}

// TestTLSRouteWeights: weights split connections like HTTPRoute requests;
// weight 0 never takes one.
func TestTLSRouteWeights(t *testing.T) {
	r := tlsRoute("apples/split", 1, "a.example.com")
	r.Rules[0].Backends = []Backend{{Name: "heavy", Weight: 3}, {Name: "light", Weight: 1}, {Name: "never", Weight: 0}}
	table := mustCompile(t, Config{Listeners: []Listener{tlsListener("infra/gw/tls", "", r)}})
	rule := table.Socket("127.0.0.1", 443).Listener("a.example.com").TLSRoute("a.example.com")
	counts := map[string]int{}
	const n = 4000
	for range n {
		counts[rule.PickBackend().Name]++
	}
	// 3/4 expected; ±0.04 is over five standard deviations at n=4000.
	if share := float64(counts["heavy"]) / n; share < 0.71 || share > 0.79 || counts["never"] > 0 {
		t.Fatalf("picks %v, want about 75%% heavy and no never", counts)
	}
}

func TestTLSListenerFaults(t *testing.T) {
	twoRules := tlsRoute("apples/two", 1, "a.example.com")
	twoRules.Rules = append(twoRules.Rules, twoRules.Rules[0])
	badCert := tlsListener("infra/gw/cert", "b.example.com")
	badCert.Certificates = []Certificate{{Secret: "infra/cert", CertPEM: []byte("junk"), KeyPEM: []byte("junk")}}
	validating := tlsListener("infra/gw/mtls", "c.example.com")
	validating.ClientValidation = &ClientValidation{CACertificates: []string{"ConfigMap infra/ca"}}
	_, faults := Compile(Config{Listeners: []Listener{tlsListener("infra/gw/two", "a.example.com", twoRules), badCert, validating}})
	if len(faults) != 3 || !strings.Contains(faults[0].Error(), "exactly one") || !strings.Contains(faults[1].Error(), "does not parse") ||
		!strings.Contains(faults[2].Error(), "only on HTTPS") {
		t.Fatalf("faults %v, want one per listener naming why", faults.Err())
	}
	// A TLS listener cannot share a port with an HTTP one.
	_, faults = Compile(Config{Listeners: []Listener{
		{Name: "infra/gw/http", Address: "127.0.0.1", Port: 443, Protocol: ProtocolHTTP},
		tlsListener("infra/gw/tls", ""),
	}})
	if len(faults) != 1 || !strings.Contains(faults[0].Error(), "one port serves one protocol") {
		t.Fatalf("faults %v, want a protocol clash", faults.Err())
	}
}
