package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

func TestTargetSpec(t *testing.T) {
	for _, tc := range []struct {
		spec       string
		pid        int
		allocs     string
		wantFailed bool
	}{
		{spec: "nginx=http://a,https://b", pid: 0},
		{spec: "nginx=http://a,https://b,42", pid: 42},
		{spec: "tg=http://a,https://b,42,http://c/debug/allocs", pid: 42, allocs: "http://c/debug/allocs"},
		{spec: "tg=http://a,https://b,,http://c/debug/allocs", allocs: "http://c/debug/allocs"},
		{spec: "tg=http://a,https://b,x", wantFailed: true},
		{spec: "tg=http://a", wantFailed: true},
		{spec: "tg=a,b,1,c,d", wantFailed: true},
	} {
		var l targetList
		err := l.Set(tc.spec)
		if (err != nil) != tc.wantFailed {
			t.Fatalf("%s: error %v, want failure %v", tc.spec, err, tc.wantFailed)
		}
		if err == nil && (l[0].pid != tc.pid || l[0].allocs != tc.allocs) {
			t.Errorf("%s: got pid %d allocs %q, want %d %q", tc.spec, l[0].pid, l[0].allocs, tc.pid, tc.allocs)
		}
	}
}

// A run's allocations are the difference of the counts before and after it,
// and a target that answers garbage is an error, never zero allocations.
func TestHeapAllocs(t *testing.T) {
	count := uint64(1000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, count)
		count += 500
	}))
	defer srv.Close()
	tg := target{name: "tg", allocs: srv.URL}
	before, err := tg.heapAllocs()
	if err != nil {
		t.Fatal(err)
	}
	after, err := tg.heapAllocs()
	if err != nil {
		t.Fatal(err)
	}
	n := after - before
	got, ok := results.ClosedLoop{RequestsPerSec: 100, HeapAllocs: &n}.AllocsPerRequest(time.Second)
	if !ok || got != 5 {
		t.Fatalf("allocs/req = %v, %v; want 5, true", got, ok)
	}
	if _, ok := (results.ClosedLoop{RequestsPerSec: 100}).AllocsPerRequest(time.Second); ok {
		t.Fatal("a run without a count reported allocations")
	}
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "nope") }))
	defer bad.Close()
	if _, err := (target{name: "bad", allocs: bad.URL}).heapAllocs(); err == nil {
		t.Fatal("a garbage answer was read as a count")
	}
}
