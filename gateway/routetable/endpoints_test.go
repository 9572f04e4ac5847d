package routetable

import (
	"runtime"
	"slices"
	"testing"
)

// endpointRoute is a route of ns/name on host sending "/" to src's endpoints.
func endpointRoute(name, host string, src EndpointSource, eps ...Endpoint) *Route {
	r := route("team/"+name, 0, []string{host}, rule(prefix("/")))
	r.Rules[0].Backends = []Backend{{Name: src.Namespace + "/" + src.Service + ":80", Weight: 1, Source: src, Endpoints: eps}}
	return r
}

// backendOf is the one backend a request for host got.
func backendOf(t *testing.T, table *Table, host string) *CompiledBackend {
	t.Helper()
	_, m := table.Socket("127.0.0.1", 80).Route(host, request("GET", host, "/"))
	if m == nil {
		t.Fatalf("no match for %s", host)
	}
	return m.Rule.Backends[0]
}

func addresses(b *CompiledBackend) []string {
	var out []string
	for _, e := range b.Endpoints() {
		out = append(out, e.URL.String())
	}
	return out
}

// An endpoint change stored with SetEndpoints reaches every backend of that
// Service port in the serving table, and only those; the next Compile of
// the same endpoints leaves them; a plain Compile shares nothing.
func TestCompilerSetEndpoints(t *testing.T) {
	echo := EndpointSource{Namespace: "team", Service: "echo", Port: "http"}
	other := EndpointSource{Namespace: "team", Service: "other", Port: "http"}
	one := Endpoint{Address: "10.0.0.1", Port: 8080}
	two := Endpoint{Address: "10.0.0.2", Port: 8080}
	cfg := Config{Listeners: []Listener{listener("l", "",
		endpointRoute("a", "a.example", echo, one),
		endpointRoute("b", "b.example", echo, one),
		endpointRoute("c", "c.example", other, one),
	)}}
	var c Compiler
	table, faults := c.Compile(cfg)
	if faults.Err() != nil {
		t.Fatal(faults.Err())
	}
	if !c.SetEndpoints(echo, []Endpoint{one, two}) {
		t.Fatal("SetEndpoints of a Service port the table uses reported no change")
	}
	for host, want := range map[string][]string{
		"a.example": {"http://10.0.0.1:8080", "http://10.0.0.2:8080"},
		"b.example": {"http://10.0.0.1:8080", "http://10.0.0.2:8080"},
		"c.example": {"http://10.0.0.1:8080"},
	} {
		if got := addresses(backendOf(t, table, host)); !slices.Equal(got, want) {
			t.Errorf("%s: endpoints %v after SetEndpoints, want %v", host, got, want)
		}
	}
	if c.SetEndpoints(echo, []Endpoint{one, two}) {
		t.Error("storing the same endpoints again reported a change")
	}
	if c.SetEndpoints(EndpointSource{Namespace: "team", Service: "unused"}, []Endpoint{one}) {
		t.Error("SetEndpoints of a Service port no table uses reported a change")
	}

	// The translator's next Config carries the endpoints SetEndpoints stored.
	cfg.Listeners[0].Routes[0] = endpointRoute("a", "a.example", echo, one, two)
	next, _ := c.Compile(cfg)
	if backendOf(t, next, "a.example").endpoints != backendOf(t, table, "b.example").endpoints {
		t.Error("the recompiled route does not share its Service port's endpoints with the reused one")
	}
	if got := addresses(backendOf(t, next, "b.example")); len(got) != 2 {
		t.Errorf("b.example has endpoints %v after the next Compile, want both", got)
	}

	plain := mustCompile(t, cfg)
	c.SetEndpoints(echo, nil)
	if got := addresses(backendOf(t, plain, "a.example")); len(got) != 2 {
		t.Errorf("a table of Compile took the Compiler's endpoint change: %v", got)
	}
	if got := addresses(backendOf(t, next, "a.example")); len(got) != 0 {
		t.Errorf("the Compiler's table kept endpoints %v after they were emptied", got)
	}
}

// A TLS backend and a cleartext one of the same Service port keep their own
// schemes, and a set no table refers to is forgotten.
func TestEndpointSetsBySchemeAndLifetime(t *testing.T) {
	src := EndpointSource{Namespace: "team", Service: "echo", Port: "https"}
	var r endpointRegistry
	plain := r.set(src, "http", []Endpoint{{Address: "10.0.0.1", Port: 443}})
	secure := r.set(src, "https", []Endpoint{{Address: "10.0.0.1", Port: 443}})
	if plain == secure || plain.Endpoints()[0].URL.Scheme != "http" || secure.Endpoints()[0].URL.Scheme != "https" {
		t.Fatalf("one set for two schemes: %v %v", plain.Endpoints(), secure.Endpoints())
	}
	if !r.update(src, []Endpoint{{Address: "10.0.0.2", Port: 443}}) || secure.Endpoints()[0].URL.String() != "https://10.0.0.2:443" {
		t.Fatalf("update did not reach the https set: %v", secure.Endpoints())
	}
	runtime.KeepAlive(plain)
	runtime.KeepAlive(secure)
	plain, secure = nil, nil
	runtime.GC()
	r.sweep()
	if len(r.sets) != 0 || r.update(src, nil) {
		t.Errorf("sets nothing refers to were kept: %d", len(r.sets))
	}
}
