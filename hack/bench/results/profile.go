package results

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

var totalSamples = regexp.MustCompile(`Duration: ([0-9.]+[a-zµ]+), Total samples = ([0-9.]+[a-zµ]+)`)

// ParsePprofTop reads `go tool pprof -top` output into a Profile with every
// row it lists and the category shares of their flat time.
func ParsePprofTop(out string) (Profile, error) {
	var p Profile
	m := totalSamples.FindStringSubmatch(out)
	if m == nil {
		return p, fmt.Errorf("pprof output has no \"Duration: ..., Total samples = ...\" line; was the profile empty?")
	}
	wall, err1 := time.ParseDuration(m[1])
	cpu, err2 := time.ParseDuration(m[2])
	if err1 != nil || err2 != nil {
		return p, fmt.Errorf("pprof durations %q and %q do not parse", m[1], m[2])
	}
	p.Seconds, p.CPUSeconds = wall.Seconds(), cpu.Seconds()
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !strings.HasSuffix(f[1], "%") || !strings.HasSuffix(f[4], "%") {
			continue
		}
		flat, err1 := strconv.ParseFloat(strings.TrimSuffix(f[1], "%"), 64)
		cum, err2 := strconv.ParseFloat(strings.TrimSuffix(f[4], "%"), 64)
		if err1 != nil || err2 != nil {
			continue // the header row
		}
		p.Top = append(p.Top, ProfileEntry{Function: strings.Join(f[5:], " "), Flat: flat, Cum: cum})
	}
	p.Categories = Categorize(p.Top)
	return p, nil
}

// Categories of CPU time, in the order the report lists them.
const (
	CatKernel    = "kernel: socket reads and writes, epoll, futex"
	CatTLS       = "TLS and crypto"
	CatGC        = "Go memory: allocation and garbage collection"
	CatScheduler = "Go scheduler and other runtime"
	CatServer    = "net/http server, net and internal/poll: parsing, writing, socket wrappers"
	CatTransport = "net/http transport: the backend connection pool"
	CatReverse   = "httputil.ReverseProxy: copying headers and bodies"
	CatTenant    = "tenantgate: routing, filters, access bookkeeping"
	CatMetrics   = "Prometheus metrics"
	CatOther     = "other Go code (strings, maps, context, bufio, ...)"
)

var categoryOrder = []string{CatKernel, CatTLS, CatGC, CatScheduler, CatServer, CatTransport, CatReverse, CatTenant, CatMetrics, CatOther}

var gcWords = []string{"malloc", "gc", "GC", "scan", "mark", "Mark", "sweep", "span", "heap", "mcache", "mcentral", "alloc", "Alloc", "wbBuf", "memclr", "greyobject", "findObject", "newobject", "makeslice", "growslice", "typePointers", "writeBarrier", "bulkBarrier"}

var transportWords = []string{"Transport", "persistConn", "transportRequest", "wantConn", "connectMethod", "bodyEOFSignal"}

// Category names where a function's own (flat) time belongs.
func Category(fn string) string {
	has := func(words []string) bool {
		for _, w := range words {
			if strings.Contains(fn, w) {
				return true
			}
		}
		return false
	}
	switch {
	case strings.HasPrefix(fn, "syscall."), strings.HasPrefix(fn, "internal/runtime/syscall"),
		strings.HasPrefix(fn, "runtime/internal/syscall"), fn == "runtime.epollwait", fn == "runtime.futex",
		fn == "runtime.usleep", fn == "runtime.nanotime1", fn == "runtime.write1", fn == "runtime.read":
		return CatKernel
	case strings.HasPrefix(fn, "crypto/"), strings.HasPrefix(fn, "vendor/golang.org/x/crypto/"), strings.HasPrefix(fn, "golang.org/x/crypto/"):
		return CatTLS
	case strings.HasPrefix(fn, "runtime.") && has(gcWords):
		return CatGC
	case strings.HasPrefix(fn, "runtime."), strings.HasPrefix(fn, "internal/runtime/"), strings.HasPrefix(fn, "sync."),
		strings.HasPrefix(fn, "sync/atomic."), strings.HasPrefix(fn, "internal/sync."):
		return CatScheduler
	case strings.HasPrefix(fn, "net/http/httputil."):
		return CatReverse
	case strings.HasPrefix(fn, "net/http.") && has(transportWords):
		return CatTransport
	case strings.HasPrefix(fn, "net/http."), strings.HasPrefix(fn, "net/textproto."), strings.HasPrefix(fn, "internal/poll."), strings.HasPrefix(fn, "net."):
		return CatServer
	case strings.HasPrefix(fn, "github.com/tenantgate/"):
		return CatTenant
	case strings.HasPrefix(fn, "github.com/prometheus/"):
		return CatMetrics
	}
	return CatOther
}

// Categorize sums flat percentages by Category, in the report's order,
// leaving out empty categories.
func Categorize(top []ProfileEntry) []Share {
	sums := map[string]float64{}
	for _, e := range top {
		sums[Category(e.Function)] += e.Flat
	}
	var shares []Share
	for _, c := range categoryOrder {
		if sums[c] > 0 {
			shares = append(shares, Share{Category: c, Percent: sums[c]})
		}
	}
	return shares
}
