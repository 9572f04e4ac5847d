package routetable

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// epoch is the creation time test routes count from.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func listener(name, hostname string, routes ...*Route) Listener {
	return Listener{Name: name, Address: "127.0.0.1", Port: 80, Protocol: ProtocolHTTP, Hostname: hostname, Routes: routes}
}

// route builds "namespace/name", created minutes after epoch.
func route(namespacedName string, minutes int, hostnames []string, rules ...Rule) *Route {
	ns, name, _ := strings.Cut(namespacedName, "/")
	for i := range rules {
		rules[i].Index = i
	}
	return &Route{Namespace: ns, Name: name, Created: epoch.Add(time.Duration(minutes) * time.Minute), Hostnames: hostnames, Rules: rules}
}

func rule(matches ...Match) Rule { return Rule{Matches: matches} }

func exact(path string) Match  { return Match{Path: PathMatch{Type: PathExact, Value: path}} }
func prefix(path string) Match { return Match{Path: PathMatch{Type: PathPrefix, Value: path}} }
func regex(path string) Match  { return Match{Path: PathMatch{Type: PathRegex, Value: path}} }

func (m Match) method(method string) Match { m.Method = method; return m }

func (m Match) header(name, value string) Match {
	m.Headers = append(m.Headers, ValueMatch{Type: MatchExact, Name: name, Value: value})
	return m
}

func (m Match) query(name, value string) Match {
	m.QueryParams = append(m.QueryParams, ValueMatch{Type: MatchExact, Name: name, Value: value})
	return m
}

// request builds a request; headers are "Name: value" strings.
func request(method, host, target string, headers ...string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Host = host
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		r.Header.Add(name, value)
	}
	return r
}

func mustCompile(t testing.TB, cfg Config) *Table {
	t.Helper()
	table, faults := Compile(cfg)
	if err := faults.Err(); err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return table
}

// describe names what a lookup found: "ns/name rule R match M", or why not.
func describe(s *Socket, r *http.Request) string {
	if s == nil {
		return "no socket"
	}
	l, m := s.Route(r.Host, r)
	switch {
	case l == nil:
		return "no listener"
	case m == nil:
		return "no match on " + l.Name
	}
	return m.Rule.Route + " rule " + strconv.Itoa(m.Rule.Index) + " match " + strconv.Itoa(m.Index)
}
