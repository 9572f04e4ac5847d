package proxy

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// rawBackend answers every request head it reads (bodies of the declared
// Content-Length are skipped) with one fixed keep-alive response, reusing
// its buffers, so a benchmark's allocations are the proxy's alone.
type rawBackend struct {
	ln       net.Listener
	response []byte
	wg       sync.WaitGroup
}

func startRawBackend(t testing.TB, body []byte) *rawBackend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp := fmt.Appendf(nil, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Mon, 30 Nov 2026 00:00:00 GMT\r\nContent-Length: %d\r\n\r\n", len(body))
	b := &rawBackend{ln: ln, response: append(resp, body...)}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			b.wg.Add(1)
			go func() { defer b.wg.Done(); b.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); b.wg.Wait() })
	return b
}

func (b *rawBackend) serve(c net.Conn) {
	defer c.Close()
	buf := make([]byte, 64<<10)
	n := 0
	for {
		end := bytes.Index(buf[:n], crlfcrlf)
		if end < 0 {
			if n == len(buf) {
				return
			}
			k, err := c.Read(buf[n:])
			if err != nil {
				return
			}
			n += k
			continue
		}
		need := end + 4 + rawContentLength(buf[:end])
		for n < need {
			k, err := c.Read(buf[n:min(need, len(buf))])
			if err != nil {
				return
			}
			n += k
		}
		n = copy(buf, buf[need:n])
		if _, err := c.Write(b.response); err != nil {
			return
		}
	}
}

func rawContentLength(head []byte) int {
	i := bytes.Index(head, []byte("\r\nContent-Length: "))
	if i < 0 {
		return 0
	}
	v := head[i+len("\r\nContent-Length: "):]
	if j := bytes.IndexByte(v, '\r'); j >= 0 {
		v = v[:j]
	}
	n, _ := strconv.Atoi(string(v))
	return n
}

func (b *rawBackend) ref(t testing.TB) routetable.Backend {
	addr := b.ln.Addr().(*net.TCPAddr)
	return routetable.Backend{Name: "apples/raw:80", Weight: 1, Endpoints: []routetable.Endpoint{{Address: addr.IP.String(), Port: int32(addr.Port)}}}
}

// BenchmarkFastPath sends keep-alive requests through the proxy over real
// loopback sockets, one request at a time per connection, with a raw
// client and backend that allocate nothing per request. It reports the
// allocations per request (-benchmem; the proxy's, as client and backend
// make none) and the process's CPU time per request, client and backend
// included ("cpu-µs/op"), next to the same traffic sent to the backend
// directly ("direct"), whose CPU is the client's and backend's share, and
// through the general net/http path (DisableFastPath, "nethttp").
func BenchmarkFastPath(b *testing.B) {
	for _, size := range []int{6, 16 << 10} {
		body := bytes.Repeat([]byte("x"), size)
		backend := startRawBackend(b, body)
		route := simpleRoute("raw", "/", routetable.Rule{Backends: []routetable.Backend{backend.ref(b)}})
		fast := startGateway(b, Options{}, route)
		general := startGateway(b, Options{DisableFastPath: true}, route)
		for _, target := range []struct{ name, addr string }{
			{"direct", backend.ln.Addr().String()},
			{"proxy", net.JoinHostPort(fast.addr, strconv.Itoa(int(fast.port)))},
			{"nethttp", net.JoinHostPort(general.addr, strconv.Itoa(int(general.port)))},
		} {
			for _, conns := range []int{1, 16} {
				b.Run(fmt.Sprintf("%s/body=%d/conns=%d", target.name, size, conns), func(b *testing.B) {
					benchRaw(b, target.addr, conns)
				})
			}
		}
	}
}

func benchRaw(b *testing.B, addr string, conns int) {
	request := []byte("GET /bench HTTP/1.1\r\nHost: bench.example\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
	clients := make([]net.Conn, conns)
	for i := range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		clients[i] = c
		roundTrip(b, c, request, make([]byte, 64<<10)) // warm the pools
	}
	var next sync.Mutex
	remaining := b.N
	b.ReportAllocs()
	b.ResetTimer()
	cpuBefore := processCPU()
	start := time.Now()
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			for {
				next.Lock()
				if remaining == 0 {
					next.Unlock()
					return
				}
				remaining--
				next.Unlock()
				if !roundTrip(b, c, request, buf) {
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := processCPU() - cpuBefore
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/op")
}

// roundTrip sends one request and reads its Content-Length framed response.
func roundTrip(b *testing.B, c net.Conn, request, buf []byte) bool {
	if _, err := c.Write(request); err != nil {
		b.Error(err)
		return false
	}
	n, size := 0, -1
	for size < 0 || n < size {
		k, err := c.Read(buf[n:])
		if err != nil {
			b.Error(err)
			return false
		}
		n += k
		if size < 0 {
			if end := bytes.Index(buf[:n], crlfcrlf); end >= 0 {
				if !bytes.HasPrefix(buf, []byte("HTTP/1.1 200 ")) {
					b.Errorf("response %q", buf[:n])
					return false
				}
				size = end + 4 + rawContentLength(buf[:end])
			}
		}
	}
	return true
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
