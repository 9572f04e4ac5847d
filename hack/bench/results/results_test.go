package results

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"
)

func TestSummarize(t *testing.T) {
	for _, tc := range []struct {
		name   string
		values []float64
		want   Summary
	}{
		{"none", nil, Summary{}},
		{"one", []float64{7}, Summary{Min: 7, Median: 7, Max: 7, N: 1}},
		{"odd count, unsorted", []float64{3, 1, 2}, Summary{Min: 1, Median: 2, Max: 3, N: 3}},
		{"even count takes the middle mean", []float64{4, 1, 3, 2}, Summary{Min: 1, Median: 2.5, Max: 4, N: 4}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Summarize(tc.values); got != tc.want {
				t.Errorf("Summarize(%v) = %+v, want %+v", tc.values, got, tc.want)
			}
		})
	}
}

func TestPercentile(t *testing.T) {
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	for _, tc := range []struct {
		name   string
		sorted []int
		q      float64
		want   int
	}{
		{"empty", nil, 0.5, 0},
		{"median of 1..100", hundred, 0.5, 50},
		{"p99 of 1..100", hundred, 0.99, 99},
		{"p99.9 of 1..100 is the maximum", hundred, 0.999, 100},
		{"p100", hundred, 1, 100},
		{"tiny q is the minimum", hundred, 0.0001, 1},
		{"single value", []int{42}, 0.99, 42},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.q); got != tc.want {
				t.Errorf("Percentile(q=%v) = %d, want %d", tc.q, got, tc.want)
			}
		})
	}
}

func TestParseWrk(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string
		want    WrkRun
		wantErr bool
	}{
		{"16 KiB through nginx", "wrk-16KiB.txt", WrkRun{RequestsPerSec: 8296.14, P50: 1020 * time.Microsecond, P99: 115910 * time.Microsecond}, false},
		{"backend down: every answer a 502", "wrk-backend-down.txt", WrkRun{RequestsPerSec: 11999.75, P50: 157 * time.Microsecond, P99: 14230 * time.Microsecond, Errors: 12025}, false},
		{"nothing listening: no summary is an error", "wrk-refused.txt", WrkRun{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWrk(readTestdata(t, tc.file))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !sameWrk(got, tc.want) {
				t.Errorf("ParseWrk = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseWrkLines(t *testing.T) {
	const summary = "  Latency Distribution\n     50%%    %s\n     99%%    2.00s\n%sRequests/sec:  10.00\n"
	for _, tc := range []struct {
		name    string
		p50     string
		extra   string
		want    WrkRun
		wantErr bool
	}{
		{"seconds and socket errors add up", "1.50s", "  Socket errors: connect 1, read 2, write 3, timeout 4\n", WrkRun{RequestsPerSec: 10, P50: 1500 * time.Millisecond, P99: 2 * time.Second, Errors: 10}, false},
		{"minutes", "1.00m", "", WrkRun{RequestsPerSec: 10, P50: time.Minute, P99: 2 * time.Second}, false},
		{"unknown unit", "3.00d", "", WrkRun{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWrk(fmt.Sprintf(summary, tc.p50, tc.extra))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && !sameWrk(got, tc.want) {
				t.Errorf("ParseWrk = %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
pkg: github.com/tenantgate/tenantgate/tenancy
BenchmarkCheckHTTPRoute 	  500000	      4512 ns/op	     896 B/op	      12 allocs/op
BenchmarkCheckHTTPRoute 	  600000	      4300 ns/op	     896 B/op	      12 allocs/op
BenchmarkControlPlane/apply=1000-2         	       1	3100000000 ns/op	         2.25 s-serving	         1.50 s-accepted
BenchmarkControlPlane: bench_test.go:12: a log line
PASS
`
	got, err := ParseGoBench(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 {
		t.Fatalf("parsed %d results, want 3: %+v", len(got), got)
	}
	if got[2].Name != "BenchmarkControlPlane/apply=1000" || got[2].N != 1 || got[2].Metrics["s-serving"] != 2.25 {
		t.Errorf("custom metrics line parsed as %+v", got[2])
	}
	if ns := Metric(got, "BenchmarkCheckHTTPRoute", "ns/op"); len(ns) != 2 || ns[0] != 4512 || ns[1] != 4300 {
		t.Errorf("Metric(ns/op) = %v, want [4512 4300]", ns)
	}
	if _, err := ParseGoBench("BenchmarkX 1 12 ns/op 7\n"); err == nil {
		t.Error("a value without a unit parsed without error")
	}
}

func TestCategory(t *testing.T) {
	for _, tc := range []struct{ fn, want string }{
		{"internal/runtime/syscall/linux.Syscall6", CatKernel},
		{"runtime.futex", CatKernel},
		{"crypto/internal/fips140/aes/gcm.gcmAesEnc", CatTLS},
		{"runtime.mallocgc", CatGC},
		{"runtime.scanobject", CatGC},
		{"runtime.findRunnable", CatScheduler},
		{"sync.(*Mutex).Lock", CatScheduler},
		{"net/http/httputil.(*ReverseProxy).ServeHTTP", CatReverse},
		{"net/http.(*persistConn).readLoop", CatTransport},
		{"net/http.(*Transport).roundTrip", CatTransport},
		{"net/http.(*conn).readRequest", CatServer},
		{"net/textproto.CanonicalMIMEHeaderKey", CatServer},
		{"github.com/tenantgate/tenantgate/gateway/proxy.(*socketHandler).ServeHTTP", CatTenant},
		{"github.com/prometheus/client_golang/prometheus.(*histogram).Observe", CatMetrics},
		{"strings.IndexByte", CatOther},
	} {
		t.Run(tc.fn, func(t *testing.T) {
			if got := Category(tc.fn); got != tc.want {
				t.Errorf("Category(%q) = %q, want %q", tc.fn, got, tc.want)
			}
		})
	}
}

func TestParsePprofTop(t *testing.T) {
	p, err := ParsePprofTop(readTestdata(t, "pprof-top.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Seconds != 5 || p.CPUSeconds != 3 {
		t.Errorf("durations = %vs wall, %vs CPU, want 5 and 3", p.Seconds, p.CPUSeconds)
	}
	if len(p.Top) == 0 || p.Top[0].Function != "internal/runtime/syscall/linux.Syscall6" || p.Top[0].Flat != 54 {
		t.Fatalf("first row = %+v, want Syscall6 at 54%%", p.Top[:min(1, len(p.Top))])
	}
	var sum float64
	for _, c := range p.Categories {
		sum += c.Percent
	}
	if math.Abs(sum-100) > 1 {
		t.Errorf("categories add up to %.2f%%, want 100%% (every row of the full -top listing)", sum)
	}
	if p.Categories[0].Category != CatKernel || p.Categories[0].Percent < 54 {
		t.Errorf("first category = %+v, want the kernel with at least 54%%", p.Categories[0])
	}
	if _, err := ParsePprofTop("no profile here"); err == nil {
		t.Error("output without a Duration line parsed without error")
	}
}

func sameWrk(a, b WrkRun) bool {
	near := func(x, y time.Duration) bool { return (x - y).Abs() <= time.Microsecond }
	return math.Abs(a.RequestsPerSec-b.RequestsPerSec) < 0.001 && near(a.P50, b.P50) && near(a.P99, b.P99) && a.Errors == b.Errors
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
