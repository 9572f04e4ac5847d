package routetable

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func grpcRoute(namespacedName string, minutes int, hostnames []string, rules ...Rule) *Route {
	r := route(namespacedName, minutes, hostnames, rules...)
	r.GRPC = true
	return r
}

func grpcExact(service, method string) Match {
	return Match{GRPC: &GRPCMethodMatch{Type: MatchExact, Service: service, Method: method}}
}

func grpcRegex(service, method string) Match {
	return Match{GRPC: &GRPCMethodMatch{Type: MatchRegex, Service: service, Method: method}}
}

func grpcRequest(host, path string, headers ...string) *http.Request {
	return request("POST", host, path, append([]string{"Content-Type: application/grpc"}, headers...)...)
}

// Each case is one criterion of the GRPCRouteRule.Matches ordering; the
// route that should lose is older and sorts first by name.
func TestGRPCPrecedence(t *testing.T) {
	var all []string
	cases := []struct {
		name   string
		routes []*Route
		req    *http.Request
		want   string
	}{
		{
			name: "longer service beats method and headers",
			routes: []*Route{
				route("a/http", 0, []string{"other"}, rule(exact("/foo.Svc/Get"))), // another host: never merged
				grpcRoute("a/loser", 0, all, rule(grpcExact("", "Get").header("x", "1").header("y", "2"))),
				grpcRoute("b/winner", 1, all, rule(grpcExact("foo.Svc", ""))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get", "x: 1", "y: 2"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "an exact service beats a regular expression, even a longer one",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcRegex(`foo\.Sv[a-z]`, "Get").header("x", "1"))),
				grpcRoute("b/winner", 1, all, rule(grpcExact("foo.Svc", ""))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "the longer service expression wins",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcRegex(`foo\..*`, "Get"))),
				grpcRoute("b/winner", 1, all, rule(grpcRegex(`foo\.Sv[a-z]`, ""))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "then the longer method",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcRegex("foo.Svc", ".*").header("x", "1"))),
				grpcRoute("b/winner", 1, all, rule(grpcExact("foo.Svc", "Get"))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "then more headers",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcExact("foo.Svc", "Get"))),
				grpcRoute("b/winner", 1, all, rule(grpcExact("foo.Svc", "Get").header("x", "1"))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "then the oldest route",
			routes: []*Route{
				grpcRoute("a/loser", 1, all, rule(grpcExact("foo.Svc", "Get"))),
				grpcRoute("b/winner", 0, all, rule(grpcExact("foo.Svc", "Get"))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "then namespace/name",
			routes: []*Route{
				grpcRoute("b/loser", 0, all, rule(grpcExact("foo.Svc", "Get"))),
				grpcRoute("a/winner", 0, all, rule(grpcExact("foo.Svc", "Get"))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get"),
			want: "a/winner rule 0 match 0",
		},
		{
			name: "then the first rule",
			routes: []*Route{
				grpcRoute("a/winner", 0, all, rule(grpcExact("foo.Svc", "")), rule(grpcExact("foo.Svc", ""))),
			},
			req:  grpcRequest("h", "/foo.Svc/Get"),
			want: "a/winner rule 0 match 0",
		},
		{
			name: "an exact method beats a regular expression one",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcRegex("", "Get|List").header("x", "1"))),
				grpcRoute("b/winner", 1, all, rule(grpcExact("", "Get"))),
			},
			req:  grpcRequest("h", "/a.B/Get", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "any service, even an expression, beats none",
			routes: []*Route{
				grpcRoute("a/loser", 0, all, rule(grpcExact("", "Get"))),
				grpcRoute("b/winner", 1, all, rule(grpcRegex("a[.]B", ""))),
			},
			req:  grpcRequest("h", "/a.B/Get"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "the more specific hostname comes before any gRPC precedence",
			routes: []*Route{
				grpcRoute("a/loser", 0, []string{"*.example.com"}, rule(grpcExact("foo.Svc", "Get").header("x", "1"))),
				grpcRoute("b/winner", 1, []string{"api.example.com"}, rule()),
			},
			req:  grpcRequest("api.example.com", "/foo.Svc/Get", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			table := mustCompile(t, Config{Listeners: []Listener{listener("l", "", c.routes...)}})
			if got := describe(table.Socket("127.0.0.1", 80), c.req); got != c.want {
				t.Errorf("got %s, want %s", got, c.want)
			}
		})
	}
}

func TestGRPCMethodMatching(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{listener("l", "",
		grpcRoute("ns/exact", 0, nil, rule(grpcExact("echo.Echo", "Echo"))),
		grpcRoute("ns/service", 1, nil, rule(grpcExact("echo.Other", ""))),
		grpcRoute("ns/method", 2, nil, rule(grpcExact("", "Ping"))),
		grpcRoute("ns/regex", 3, nil, rule(grpcRegex(`re\.[A-Z]+`, "(Get|List)"))),
	)}})
	sock := table.Socket("127.0.0.1", 80)
	for path, want := range map[string]string{
		"/echo.Echo/Echo":      "ns/exact rule 0 match 0",
		"/echo.Echo/EchoTwo":   "no match on l",
		"/echo.echo/Echo":      "no match on l", // case-sensitive
		"/echo.Other/Anything": "ns/service rule 0 match 0",
		"/echo.Other/a/b":      "no match on l", // a method has no "/"
		"/echo.Other":          "no match on l",
		"/any.Service/Ping":    "ns/method rule 0 match 0",
		"/re.ABC/List":         "ns/regex rule 0 match 0",
		"/re.ABC/Delete":       "no match on l",
		"/re.abc/Get":          "no match on l", // anchored, case-sensitive
		"/xre.ABC/Get":         "no match on l",
		"/" + strings.Repeat("A", MaxRegexInput+1) + "/Get": "no match on l",
	} {
		if got := describe(sock, grpcRequest("h", path)); got != want {
			t.Errorf("%s: got %s, want %s", path, got, want)
		}
	}
}

func TestGRPCRuleWithoutMatchesTakesEveryMethod(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{listener("l", "", grpcRoute("ns/all", 0, nil, rule()))}})
	if got := describe(table.Socket("127.0.0.1", 80), grpcRequest("h", "/x.Y/Z")); got != "ns/all rule 0 match 0" {
		t.Errorf("got %s", got)
	}
	if m := table.Socket("127.0.0.1", 80).Listeners[0].Match("h", grpcRequest("h", "/x.Y/Z")); m == nil || !m.Rule.GRPC {
		t.Errorf("the rule of a GRPCRoute must say so, got %+v", m)
	}
}

func TestGRPCMatchFaults(t *testing.T) {
	cases := map[string]struct {
		route *Route
		want  string
	}{
		"bad service regex": {grpcRoute("ns/r", 0, nil, rule(grpcRegex("(", ""))),
			"GRPCRoute ns/r rule 0 on listener l has gRPC service regular expression \"(\" that is not usable"},
		"slash in exact method": {grpcRoute("ns/r", 0, nil, rule(grpcExact("a", "b/c"))),
			"GRPCRoute ns/r rule 0 on listener l has gRPC method match part \"b/c\" with a \"/\""},
		"gRPC match on an HTTPRoute": {route("ns/r", 0, nil, rule(grpcExact("a", "b"))),
			"HTTPRoute ns/r rule 0 on listener l has a gRPC method match; only GRPCRoutes can"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, faults := Compile(Config{Listeners: []Listener{listener("l", "", c.route)}})
			if len(faults) != 1 || !strings.HasPrefix(faults[0].Error(), c.want) {
				t.Errorf("faults %v, want one starting %q", faults, c.want)
			}
		})
	}
}

// grpcTable is 1,000 services of 10 methods each on one host, every method
// an Exact match, plus a RE2 method match per service and a catch-all, and
// requests for each exact method.
func grpcTable(t testing.TB) (*Socket, []*http.Request) {
	var rules []Rule
	var reqs []*http.Request
	for s := range 1000 {
		service := "pkg.v1.Service" + strconv.Itoa(s)
		var matches []Match
		for m := range 10 {
			method := "Method" + strconv.Itoa(m)
			matches = append(matches, grpcExact(service, method))
			reqs = append(reqs, grpcRequest("api.example.com", "/"+service+"/"+method))
		}
		rules = append(rules, rule(matches...), rule(grpcRegex(regexp.QuoteMeta(service), "List.*")))
	}
	rules = append(rules, rule())
	table := mustCompile(t, Config{Listeners: []Listener{listener("l", "", grpcRoute("ns/api", 0, []string{"api.example.com"}, rules...))}})
	return table.Socket("127.0.0.1", 80), reqs
}

func BenchmarkGRPCLookup(b *testing.B) {
	socket, reqs := grpcTable(b)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := reqs[i%len(reqs)]
		if _, m := socket.Route(r.Host, r); m == nil || m.grpc.exactPath() != r.URL.Path {
			b.Fatalf("%s: wrong match", r.URL.Path)
		}
	}
}

func TestGRPCLookupDoesNotAllocate(t *testing.T) {
	socket, reqs := grpcTable(t)
	allocs := testing.AllocsPerRun(10, func() {
		for _, r := range reqs {
			socket.Route(r.Host, r)
		}
	})
	if allocs != 0 {
		t.Errorf("gRPC lookup allocates %.1f times per run, want 0", allocs)
	}
}
