package openloop

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func serve(t *testing.T, h http.HandlerFunc) string {
	t.Helper()
	srv := httptest.NewServer(h) // 127.0.0.1
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestRunOffersEveryRequest(t *testing.T) {
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	res, err := Run(context.Background(), Config{Addr: addr, Path: "/", Rate: 400, Duration: time.Second, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Latencies) != 400 || res.Errors != 0 {
		t.Fatalf("answered %d with %d errors, want 400 answers and no error", len(res.Latencies), res.Errors)
	}
	if res.Elapsed < 990*time.Millisecond {
		t.Errorf("400 requests at 400/s finished in %s: the rate was not held", res.Elapsed)
	}
}

// TestRunChargesAStallToEveryRequestItHeldUp is coordinated omission: the
// server stops for 300 ms; every request due in that time is late, not
// only the four in flight.
func TestRunChargesAStallToEveryRequestItHeldUp(t *testing.T) {
	var mu sync.Mutex
	var n atomic.Int64
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock() // one request at a time, so the stall stops every connection
		defer mu.Unlock()
		if n.Add(1) == 100 {
			time.Sleep(300 * time.Millisecond)
		}
		_, _ = w.Write([]byte("ok"))
	})
	res, err := Run(context.Background(), Config{Addr: addr, Path: "/", Rate: 400, Duration: time.Second, Conns: 4})
	if err != nil {
		t.Fatal(err)
	}
	late := 0
	for _, l := range res.Latencies {
		if l >= 100*time.Millisecond {
			late++
		}
	}
	// About 120 requests were due during the stall; a tool that times from
	// the send would see at most 4 slow ones.
	if late < 60 {
		t.Errorf("%d requests took 100 ms or more, want at least 60: the stall was not charged to the requests it held up", late)
	}
}

func TestRunCountsErrors(t *testing.T) {
	addr := serve(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusBadGateway) })
	res, err := Run(context.Background(), Config{Addr: addr, Path: "/", Rate: 200, Duration: 250 * time.Millisecond, Conns: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 50 || len(res.Latencies) != 0 {
		t.Errorf("got %d errors and %d answers, want 50 errors (502s are not answers)", res.Errors, len(res.Latencies))
	}
}

func TestRunRejectsAnEmptyConfig(t *testing.T) {
	if _, err := Run(context.Background(), Config{Addr: "127.0.0.1:1", Rate: 0, Duration: time.Second, Conns: 1}); err == nil {
		t.Error("a zero rate was accepted")
	}
}

func TestReadHead(t *testing.T) {
	for _, tc := range []struct {
		name        string
		response    string
		wantStatus  int
		wantLength  int
		wantClosing bool
		wantErr     bool
	}{
		{"keep-alive 200", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 32\r\n\r\n", 200, 32, false, false},
		{"lower-case headers, close", "HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n", 502, 0, true, false},
		{"no Content-Length (chunked) is an error", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 0, false, true},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 0, 0, false, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: 3x\r\n\r\n", 0, 0, false, true},
		{"header without colon", "HTTP/1.1 200 OK\r\nbroken\r\n\r\n", 0, 0, false, true},
		{"cut short", "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", 0, 0, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, length, closing, err := readHead(bufio.NewReader(strings.NewReader(tc.response)))
			if (err != nil) != tc.wantErr {
				t.Fatalf("error = %v, want error %v", err, tc.wantErr)
			}
			if !tc.wantErr && (status != tc.wantStatus || length != tc.wantLength || closing != tc.wantClosing) {
				t.Errorf("readHead = %d, %d, %v; want %d, %d, %v", status, length, closing, tc.wantStatus, tc.wantLength, tc.wantClosing)
			}
		})
	}
}
