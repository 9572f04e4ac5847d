package routetable

import (
	"fmt"
	"net/http"
	"testing"
)

// benchmarkTable builds 10,000 routes in one of two shapes: one hostname per
// route, or every route on one hostname with its own path prefix.
func benchmarkTable(b testing.TB, oneHost bool) (*Socket, []*http.Request) {
	const routes = 10_000
	var rs []*Route
	var reqs []*http.Request
	for i := range routes {
		host := fmt.Sprintf("svc-%d.apples.example.com", i)
		base := ""
		if oneHost {
			host, base = "shop.example.com", fmt.Sprintf("/svc-%d", i)
		}
		rs = append(rs, route(fmt.Sprintf("team-%d/route-%d", i%50, i), i, []string{host},
			rule(exact(base+"/healthz")),
			rule(prefix(base+"/api").header("x-version", "v2")),
			rule(prefix(base+"/api")),
			rule(prefix(base+"/").method("GET")),
		))
		if i%100 == 0 {
			reqs = append(reqs,
				request("GET", host, base+"/api/orders/42", "X-Version: v2"),
				request("GET", host+":80", base+"/static/app.js"),
				request("GET", host, base+"/healthz"),
			)
		}
	}
	rs = append(rs, route("infra/fallback", 0, nil, rule(prefix("/"))))
	table := mustCompile(b, Config{Listeners: []Listener{listener("infra/shared/http", "", rs...)}})
	return table.Socket("127.0.0.1", 80), reqs
}

func BenchmarkLookup(b *testing.B) {
	for _, shape := range []struct {
		name    string
		oneHost bool
	}{{"10000-hosts", false}, {"10000-prefixes-one-host", true}} {
		b.Run(shape.name, func(b *testing.B) {
			socket, reqs := benchmarkTable(b, shape.oneHost)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				r := reqs[i%len(reqs)]
				if _, m := socket.Route(r.Host, r); m == nil {
					b.Fatalf("no match for %s%s", r.Host, r.URL)
				}
			}
		})
	}
}

func TestLookupDoesNotAllocate(t *testing.T) {
	socket, reqs := benchmarkTable(t, false)
	allocs := testing.AllocsPerRun(100, func() {
		for _, r := range reqs {
			socket.Route(r.Host, r)
		}
	})
	if allocs != 0 {
		t.Errorf("lookup allocates %.1f times per run, want 0", allocs)
	}
}
