package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// hostileClients is fault 5 against the proxy at addr, where
// apples.example.com is served by echo-basic (which echoes the path it got).
func hostileClients(t *testing.T, addr string, slowConns int) {
	t.Run("slow headers", func(t *testing.T) { slowHeaders(t, addr, slowConns) })
	t.Run("oversized headers get 431", func(t *testing.T) { oversizedHeaders(t, addr) })
	t.Run("smuggling", func(t *testing.T) { smuggling(t, addr) })
}

// slowHeaders holds n connections that send a request's headers one byte
// a second while normal requests flow; every normal request must succeed,
// and the proxy must cut the slow ones (its read-header timeout).
func slowHeaders(t *testing.T, addr string, n int) {
	conns := make([]net.Conn, 0, n)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for i := range n {
		c, err := net.DialTimeout("tcp", addr, 2*time.Second)
		if err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
		conns = append(conns, c)
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: apples.example.com\r\nX-Slow: "); err != nil {
			t.Fatalf("slow connection %d: %v", i, err)
		}
	}
	opened := time.Now()
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() { // one more header byte a second on every connection
		defer trickle.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Second):
			}
			for _, c := range conns {
				c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
				c.Write([]byte("x"))
			}
		}
	}()
	normal := Stream{Name: fmt.Sprintf("normal requests while %d slow-header connections are open", n), Addrs: []string{addr},
		Host: "apples.example.com", Path: "/", Max: 300, Duration: 30 * time.Second, Workers: 2, Pause: 5 * time.Millisecond}.Run()

	// The proxy must close them all by itself: read until EOF or reset.
	var cut sync.WaitGroup
	var mu sync.Mutex
	closed := 0
	for _, c := range conns {
		cut.Add(1)
		go func() {
			defer cut.Done()
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := io.Copy(io.Discard, c); err == nil || !isTimeout(err) {
				mu.Lock()
				closed++
				mu.Unlock()
			}
		}()
	}
	cut.Wait()
	close(stop)
	trickle.Wait()
	t.Logf("figures: fault=slow-headers %s; the proxy closed %d of %d slow connections within %v of opening them",
		normal, closed, n, time.Since(opened).Round(time.Second))
	if normal.Sent == 0 || normal.OK != normal.Sent {
		t.Errorf("normal requests failed while slow-header connections were open: %s", normal)
	}
	if closed != n {
		t.Errorf("the proxy closed %d of %d slow-header connections; the rest stayed open past 20s", closed, n)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// oversizedHeaders sends headers past the proxy's 64 KiB limit.
func oversizedHeaders(t *testing.T, addr string) {
	cases := map[string]func(h http.Header){
		"one 128 KiB header":           func(h http.Header) { h.Set("X-Big", strings.Repeat("a", 128<<10)) },
		"4000 headers of 40 bytes":     func(h http.Header) { fillHeaders(h, 4000, 40) },
		"a 128 KiB cookie":             func(h http.Header) { h.Set("Cookie", "c="+strings.Repeat("b", 128<<10)) },
		"100 KiB across a long header": func(h http.Header) { h.Set("X-List", strings.Repeat("v,", 50<<10)) },
	}
	for name, fill := range cases {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/", nil)
			req.Host = "apples.example.com"
			fill(req.Header)
			hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
				t.Errorf("status %d, want 431", resp.StatusCode)
			}
		})
	}
}

func fillHeaders(h http.Header, n, size int) {
	for i := range n {
		h.Set(fmt.Sprintf("X-H%d", i), strings.Repeat("h", size))
	}
}

// smuggled is the request each attack tries to slip past the proxy.
const smuggled = "GET /smuggled HTTP/1.1\r\nHost: apples.example.com\r\n\r\n"

// smugglingAttacks are requests whose framing a front end and a back end
// could read differently. Each must get exactly one answer — a 400, or, as
// RFC 9112 §6.3 allows for Transfer-Encoding with Content-Length, the chunked
// reading answered and the connection closed — and /smuggled must never
// reach the backend as a request of its own.
var smugglingAttacks = map[string]string{
	// CL.TE: a front end that honours Content-Length sends it all as one
	// request; a back end that honours chunked sees a second one.
	"CL.TE": "POST / HTTP/1.1\r\nHost: apples.example.com\r\nContent-Length: " + fmt.Sprint(len("0\r\n\r\n"+smuggled)) +
		"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" + smuggled,
	// TE.CL: the reverse; a back end honouring Content-Length: 4 takes
	// the chunk's body for the next request.
	"TE.CL": "POST / HTTP/1.1\r\nHost: apples.example.com\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n" +
		fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(smuggled), smuggled),
	// Two different lengths: which one wins decides where the next request starts.
	"duplicate Content-Length": "POST / HTTP/1.1\r\nHost: apples.example.com\r\nContent-Length: 0\r\nContent-Length: " +
		fmt.Sprint(len(smuggled)) + "\r\n\r\n" + smuggled,
	// obs-fold: "Transfer-Encoding:" folded onto a continuation line is
	// empty to a parser that does not unfold, chunked to one that does.
	"obs-fold Transfer-Encoding": "POST / HTTP/1.1\r\nHost: apples.example.com\r\nContent-Length: " + fmt.Sprint(len("0\r\n\r\n"+smuggled)) +
		"\r\nTransfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n" + smuggled,
}

// refused are the attacks that must be answered 400: conflicting lengths
// cannot be read one safe way.
var refused = map[string]bool{"duplicate Content-Length": true}

func smuggling(t *testing.T, addr string) {
	for name, attack := range smugglingAttacks {
		t.Run(name, func(t *testing.T) {
			answers, err := rawExchange(addr, attack)
			if err != nil {
				t.Fatal(err)
			}
			var statuses []int
			for _, a := range answers {
				statuses = append(statuses, a.status)
				if a.path == "/smuggled" {
					t.Errorf("/smuggled reached the backend as a request of its own")
				}
			}
			t.Logf("figures: fault=smuggling %s: answers %v", name, statuses)
			if len(answers) != 1 {
				t.Errorf("answers %v; want exactly one, then the connection closed", statuses)
			}
			if want := refused[name]; want && (len(answers) == 0 || answers[0].status != http.StatusBadRequest) {
				t.Errorf("answers %v, want 400", statuses)
			}
			// The next client on a fresh connection gets its own answer.
			victim, err := rawExchange(addr, "GET /victim HTTP/1.1\r\nHost: apples.example.com\r\nConnection: close\r\n\r\n")
			if err != nil || len(victim) != 1 || victim[0].status != http.StatusOK || victim[0].path != "/victim" {
				t.Errorf("the next client's request: %+v, %v; want one 200 for /victim", victim, err)
			}
		})
	}
}

// answer is one response read off a raw connection: its status and, for
// echo-basic's answers, the path the backend saw.
type answer struct {
	status int
	path   string
}

// rawExchange writes raw bytes on a new connection and reads every
// response until the proxy closes it or 2s pass in silence.
func rawExchange(addr, raw string) ([]answer, error) {
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		return nil, err
	}
	br := bufio.NewReader(c)
	var out []answer
	for range 10 {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return out, nil // closed, or nothing more
		}
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		var echo struct{ Path string }
		_ = json.Unmarshal(body, &echo)
		out = append(out, answer{status: resp.StatusCode, path: echo.Path})
	}
	return out, nil
}
