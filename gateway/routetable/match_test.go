package routetable

import (
	"strings"
	"testing"
)

func TestPathMatching(t *testing.T) {
	cases := []struct {
		name  string
		match Match
		path  string
		want  bool
	}{
		{"prefix matches itself", prefix("/foo"), "/foo", true},
		{"prefix matches with trailing slash", prefix("/foo"), "/foo/", true},
		{"prefix matches a deeper path", prefix("/foo"), "/foo/bar", true},
		{"prefix does not match inside a segment", prefix("/foo"), "/foobar", false},
		{"prefix does not match a parent", prefix("/foo/bar"), "/foo", false},
		{"prefix trailing slash is ignored", prefix("/foo/"), "/foo", true},
		{"prefix with trailing slash still segment-aware", prefix("/foo/"), "/foobar", false},
		{"root prefix matches everything", prefix("/"), "/anything/at/all", true},
		{"prefix is case-sensitive", prefix("/foo"), "/Foo", false},
		{"prefix matches across repeated slashes", prefix("/foo"), "/foo//bar", true},
		{"prefix compares the escaped path", prefix("/a%2Fb"), "/a%2Fb/c", true},
		{"escaped slash is not a segment boundary", prefix("/a"), "/a%2Fb", false},
		{"exact matches itself", exact("/foo"), "/foo", true},
		{"exact does not match a trailing slash", exact("/foo"), "/foo/", false},
		{"exact is case-sensitive", exact("/abc"), "/Abc", false},
		{"exact ignores the query", exact("/foo"), "/foo?x=1", true},
		{"regular expression matches the whole path", regex("/v[0-9]+/.*"), "/v2/items", true},
		{"regular expression is anchored", regex("/v[0-9]+"), "/v2/items", false},
		{"regular expression alternation is anchored", regex("/a|/b"), "/a/x", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "", route("a/r", 0, nil, rule(tc.match)))}})
			_, m := table.Socket("127.0.0.1", 80).Route("h", request("GET", "h", tc.path))
			if got := m != nil; got != tc.want {
				t.Errorf("matched = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestHeaderAndQueryMatching(t *testing.T) {
	regexHeader := prefix("/")
	regexHeader.Headers = []ValueMatch{{Type: MatchRegex, Name: "version", Value: "v[0-9]"}}
	regexQuery := prefix("/")
	regexQuery.QueryParams = []ValueMatch{{Type: MatchRegex, Name: "id", Value: "[0-9]+"}}
	cases := []struct {
		name    string
		match   Match
		target  string
		headers []string
		want    bool
	}{
		{"header name is case-insensitive", prefix("/").header("X-Team", "apples"), "/", []string{"x-team: apples"}, true},
		{"header value is case-sensitive", prefix("/").header("x-team", "apples"), "/", []string{"x-team: Apples"}, false},
		{"missing header does not match", prefix("/").header("x-team", "apples"), "/", nil, false},
		{"repeated header is one comma list", prefix("/").header("x-team", "a,b"), "/", []string{"x-team: a", "x-team: b"}, true},
		{"every header must match", prefix("/").header("a", "1").header("b", "2"), "/", []string{"a: 1"}, false},
		{"header regular expression matches the whole value", regexHeader, "/", []string{"version: v2"}, true},
		{"header regular expression is anchored", regexHeader, "/", []string{"version: v22"}, false},
		{"only the first of equivalent header names counts", prefix("/").header("x", "1").header("X", "2"), "/", []string{"x: 1"}, true},
		{"query parameter matches", prefix("/").query("team", "apples"), "/?a=1&team=apples", nil, true},
		{"query parameter name is case-sensitive", prefix("/").query("team", "apples"), "/?Team=apples", nil, false},
		{"query parameter is unescaped", prefix("/").query("q", "a b/c"), "/?q=a+b%2Fc", nil, true},
		{"escaped query parameter name", prefix("/").query("a b", "1"), "/?a%20b=1", nil, true},
		{"first query value counts", prefix("/").query("q", "1"), "/?q=1&q=2", nil, true},
		{"later query value does not count", prefix("/").query("q", "2"), "/?q=1&q=2", nil, false},
		{"query parameter without value", prefix("/").query("q", "x"), "/?q", nil, false},
		{"query regular expression", regexQuery, "/?id=42", nil, true},
		{"method must be equal", prefix("/").method("POST"), "/", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/http", "", route("a/r", 0, nil, rule(tc.match)))}})
			_, m := table.Socket("127.0.0.1", 80).Route("h", request("GET", "h", tc.target, tc.headers...))
			if got := m != nil; got != tc.want {
				t.Errorf("matched = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestListenerSelection(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{
		listener("ns/gw/any", ""),
		listener("ns/gw/wild", "*.example.com"),
		listener("ns/gw/wild-foo", "*.foo.example.com"),
		listener("ns/gw/exact", "bar.foo.example.com"),
	}})
	s := table.Socket("127.0.0.1", 80)
	cases := []struct{ host, want string }{
		{"bar.foo.example.com", "ns/gw/exact"},
		{"BAR.foo.example.com:80", "ns/gw/exact"},
		{"baz.foo.example.com", "ns/gw/wild-foo"},
		{"a.baz.foo.example.com", "ns/gw/wild-foo"},
		{"foo.example.com", "ns/gw/wild"},
		{"example.com", "ns/gw/any"},
		{"10.0.0.1:8080", "ns/gw/any"},
		{"[::1]:80", "ns/gw/any"},
		{"", "ns/gw/any"},
	}
	for _, tc := range cases {
		t.Run(tc.host, func(t *testing.T) {
			if got := s.Listener(tc.host); got == nil || got.Name != tc.want {
				t.Errorf("Listener(%q) = %v, want %s", tc.host, got, tc.want)
			}
		})
	}
	var order []string
	for _, l := range s.Listeners {
		order = append(order, l.Name)
	}
	if got, want := strings.Join(order, " "), "ns/gw/exact ns/gw/wild-foo ns/gw/wild ns/gw/any"; got != want {
		t.Errorf("listener order %q, want %q", got, want)
	}
}

func TestListenerSelectionWithoutCatchAll(t *testing.T) {
	table := mustCompile(t, Config{Listeners: []Listener{listener("ns/gw/wild", "*.example.com")}})
	if got := table.Socket("127.0.0.1", 80).Listener("example.org"); got != nil {
		t.Errorf("Listener(example.org) = %s, want none", got.Name)
	}
}

func TestNormalizeHost(t *testing.T) {
	cases := []struct{ in, want string }{
		{"example.com", "example.com"},
		{"Example.COM", "example.com"},
		{"example.com:8080", "example.com"},
		{"example.com.", "example.com"},
		{"example.com.:443", "example.com"},
		{"[::1]:80", "::1"},
		{"[::1]", "::1"},
		{"10.0.0.1:80", "10.0.0.1"},
		{"", ""},
	}
	for _, tc := range cases {
		if got := NormalizeHost(tc.in); got != tc.want {
			t.Errorf("NormalizeHost(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
