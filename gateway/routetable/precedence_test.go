package routetable

import (
	"net/http"
	"testing"
)

// Each case is one criterion of the HTTPRouteRule.Matches ordering. The route
// that should lose is older and sorts first by name, so the case fails if a
// later tie-breaker decided it.
func TestPrecedence(t *testing.T) {
	var all []string
	cases := []struct {
		name   string
		routes []*Route
		req    *http.Request
		want   string
	}{
		{
			name: "exact path beats prefix",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/foo").method("GET").header("x", "1"))),
				route("b/winner", 1, all, rule(exact("/foo"))),
			},
			req:  request("GET", "h", "/foo", "x: 1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "exact path beats regular expression",
			routes: []*Route{
				route("a/loser", 0, all, rule(regex("/fo+"))),
				route("b/winner", 1, all, rule(exact("/foo"))),
			},
			req:  request("GET", "h", "/foo"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "regular expression beats prefix",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/foo"))),
				route("b/winner", 1, all, rule(regex("/f.*"))),
			},
			req:  request("GET", "h", "/foo/bar"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "longest prefix wins",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/foo").method("GET"))),
				route("b/winner", 1, all, rule(prefix("/foo/bar"))),
			},
			req:  request("GET", "h", "/foo/bar/baz"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "trailing slash adds no prefix length",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/foo/"))),
				route("b/winner", 1, all, rule(prefix("/foo").method("GET"))),
			},
			req:  request("GET", "h", "/foo/x"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "method match beats more headers",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/").header("x", "1").header("y", "2"))),
				route("b/winner", 1, all, rule(prefix("/").method("POST"))),
			},
			req:  request("POST", "h", "/", "x: 1", "y: 2"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "more header matches beat more query matches",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/").header("x", "1").query("p", "1").query("q", "2"))),
				route("b/winner", 1, all, rule(prefix("/").header("x", "1").header("y", "2"))),
			},
			req:  request("GET", "h", "/?p=1&q=2", "x: 1", "y: 2"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "repeated header name counts once",
			routes: []*Route{
				route("a/winner", 0, all, rule(prefix("/").header("x", "1"))),
				route("b/loser", 1, all, rule(prefix("/").header("x", "1").header("X", "2"))),
			},
			req:  request("GET", "h", "/", "x: 1"),
			want: "a/winner rule 0 match 0",
		},
		{
			name: "more query matches win",
			routes: []*Route{
				route("a/loser", 0, all, rule(prefix("/"))),
				route("b/winner", 1, all, rule(prefix("/").query("p", "1"))),
			},
			req:  request("GET", "h", "/?p=1"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "oldest route wins a tie",
			routes: []*Route{
				route("a/loser", 5, all, rule(prefix("/"))),
				route("b/winner", 1, all, rule(prefix("/"))),
			},
			req:  request("GET", "h", "/"),
			want: "b/winner rule 0 match 0",
		},
		{
			name: "namespace/name alphabetical wins a tie of age",
			routes: []*Route{
				route("b/loser", 0, all, rule(prefix("/"))),
				route("a/winner", 0, all, rule(prefix("/"))),
			},
			req:  request("GET", "h", "/"),
			want: "a/winner rule 0 match 0",
		},
		{
			name: "namespace/name compares as one string",
			routes: []*Route{
				route("team/x", 0, all, rule(prefix("/"))),
				route("team-a/x", 0, all, rule(prefix("/"))), // '-' sorts before '/'
			},
			req:  request("GET", "h", "/"),
			want: "team-a/x rule 0 match 0",
		},
		{
			name: "first rule wins within a route",
			routes: []*Route{
				route("a/r", 0, all, rule(prefix("/x")), rule(prefix("/x"))),
			},
			req:  request("GET", "h", "/x"),
			want: "a/r rule 0 match 0",
		},
		{
			name: "a later rule with a better match wins within a route",
			routes: []*Route{
				route("a/r", 0, all, rule(prefix("/")), rule(prefix("/x"))),
			},
			req:  request("GET", "h", "/x"),
			want: "a/r rule 1 match 0",
		},
		{
			name: "first match wins within a rule",
			routes: []*Route{
				route("a/r", 0, all, rule(prefix("/x"), prefix("/x/"))),
			},
			req:  request("GET", "h", "/x/y"),
			want: "a/r rule 0 match 0",
		},
		{
			name: "nothing matches",
			routes: []*Route{
				route("a/r", 0, all, rule(exact("/x"))),
			},
			req:  request("GET", "h", "/y"),
			want: "no match on ns/gw/http",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "", tc.routes...)}})
			if got := describe(table.Socket("127.0.0.1", 80), tc.req); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// Route hostnames order routes before any match criterion: the most specific
// matching hostname first, falling through to less specific ones.
func TestHostnamePrecedence(t *testing.T) {
	cases := []struct {
		name   string
		routes []*Route
		host   string
		path   string
		want   string
	}{
		{
			name: "exact hostname beats wildcard",
			routes: []*Route{
				route("a/wildcard", 0, []string{"*.example.com"}, rule(exact("/x"))),
				route("b/exact", 1, []string{"foo.example.com"}, rule(prefix("/"))),
			},
			host: "foo.example.com", path: "/x",
			want: "b/exact rule 0 match 0",
		},
		{
			name: "longer wildcard beats shorter",
			routes: []*Route{
				route("a/short", 0, []string{"*.example.com"}, rule(exact("/x"))),
				route("b/long", 1, []string{"*.foo.example.com"}, rule(prefix("/"))),
			},
			host: "bar.foo.example.com", path: "/x",
			want: "b/long rule 0 match 0",
		},
		{
			name: "wildcard beats a route without hostnames",
			routes: []*Route{
				route("a/any", 0, nil, rule(exact("/x"))),
				route("b/wildcard", 1, []string{"*.example.com"}, rule(prefix("/"))),
			},
			host: "foo.example.com", path: "/x",
			want: "b/wildcard rule 0 match 0",
		},
		{
			name: "falls through to a less specific hostname when no rule matches",
			routes: []*Route{
				route("a/exact", 0, []string{"foo.example.com"}, rule(prefix("/api"))),
				route("b/wildcard", 1, []string{"*.example.com"}, rule(prefix("/web"))),
				route("c/any", 2, nil, rule(prefix("/"))),
			},
			host: "foo.example.com", path: "/web/index.html",
			want: "b/wildcard rule 0 match 0",
		},
		{
			name: "falls through to routes without hostnames",
			routes: []*Route{
				route("a/exact", 0, []string{"foo.example.com"}, rule(prefix("/api"))),
				route("c/any", 2, nil, rule(prefix("/"))),
			},
			host: "foo.example.com", path: "/other",
			want: "c/any rule 0 match 0",
		},
		{
			name: "wildcard does not match its bare domain",
			routes: []*Route{
				route("a/wildcard", 0, []string{"*.example.com"}, rule(prefix("/"))),
			},
			host: "example.com", path: "/",
			want: "no match on ns/gw/http",
		},
		{
			name: "wildcard matches several labels",
			routes: []*Route{
				route("a/wildcard", 0, []string{"*.example.com"}, rule(prefix("/"))),
			},
			host: "a.b.c.example.com", path: "/",
			want: "a/wildcard rule 0 match 0",
		},
		{
			name: "host port, case and trailing dot are ignored",
			routes: []*Route{
				route("a/exact", 0, []string{"Foo.Example.com."}, rule(prefix("/"))),
			},
			host: "FOO.example.COM.:8080", path: "/",
			want: "a/exact rule 0 match 0",
		},
		{
			name: "a route on two hostnames serves both",
			routes: []*Route{
				route("a/two", 0, []string{"a.example.com", "b.example.com"}, rule(prefix("/"))),
			},
			host: "b.example.com", path: "/",
			want: "a/two rule 0 match 0",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "", tc.routes...)}})
			if got := describe(table.Socket("127.0.0.1", 80), request("GET", tc.host, tc.path)); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestRouteWithoutHostnamesInheritsListenerHostname(t *testing.T) {
	// Both routes sit under the listener's "*.example.com", so precedence
	// falls to the match: the exact path wins although its route is younger.
	table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "*.example.com",
		route("a/explicit", 0, []string{"*.example.com"}, rule(prefix("/x"))),
		route("b/inherited", 1, nil, rule(exact("/x"))),
	)}})
	got := describe(table.Socket("127.0.0.1", 80), request("GET", "foo.example.com", "/x"))
	if want := "b/inherited rule 0 match 0"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
