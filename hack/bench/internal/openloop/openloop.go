package openloop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one fixed-rate run.
type Config struct {
	// Addr is host:port; Path the request path; the Host header is Addr.
	Addr, Path string
	// Rate in requests per second, over Duration.
	Rate     float64
	Duration time.Duration
	// Conns is the number of keep-alive connections (the most requests in flight).
	Conns int
	// Timeout bounds one request; a timed-out request is an error.
	Timeout time.Duration
}

// Result is what a run measured.
type Result struct {
	// Latencies of the answered requests, sorted.
	Latencies []time.Duration
	// Errors are requests not answered with 200 (connection errors, timeouts, other statuses).
	Errors int
	// Elapsed is from the first due time to the last answer.
	Elapsed time.Duration
}

// Run offers the load and returns when every due request was answered or
// failed, or ctx ended.
func Run(ctx context.Context, c Config) (Result, error) {
	if c.Rate <= 0 || c.Duration <= 0 || c.Conns <= 0 {
		return Result{}, fmt.Errorf("open-loop run needs a positive rate, duration and connection count, got %+v", c)
	}
	if c.Timeout <= 0 {
		c.Timeout = 10 * time.Second
	}
	request := []byte("GET " + c.Path + " HTTP/1.1\r\nHost: " + c.Addr + "\r\nUser-Agent: tenantgate-bench\r\n\r\n")
	total := int64(c.Rate * c.Duration.Seconds())
	start := time.Now().Add(50 * time.Millisecond) // time to dial before the first request is due
	due := func(i int64) time.Time { return start.Add(time.Duration(float64(i) / c.Rate * float64(time.Second))) }
	var (
		next   atomic.Int64
		mu     sync.Mutex
		res    Result
		wg     sync.WaitGroup
		failed atomic.Int64
	)
	for range c.Conns {
		wg.Go(func() {
			w := worker{cfg: c, request: request}
			defer w.close()
			var local []time.Duration
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= total {
					break
				}
				at := due(i)
				from := at
				if wait := time.Until(at); wait > 0 {
					time.Sleep(wait)
					from = time.Now()
				}
				if err := w.do(); err != nil {
					failed.Add(1)
					continue
				}
				local = append(local, time.Since(from))
			}
			mu.Lock()
			res.Latencies = append(res.Latencies, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.Errors = int(failed.Load())
	slices.Sort(res.Latencies)
	return res, ctx.Err()
}

// worker is one keep-alive connection, redialled after any error.
type worker struct {
	cfg     Config
	request []byte
	conn    net.Conn
	br      *bufio.Reader
}

var errStatus = errors.New("answer was not 200")

func (w *worker) do() error {
	if w.conn == nil {
		conn, err := net.DialTimeout("tcp", w.cfg.Addr, w.cfg.Timeout)
		if err != nil {
			return err
		}
		w.conn, w.br = conn, bufio.NewReaderSize(conn, 32<<10)
	}
	err := w.roundTrip()
	if err != nil {
		w.close()
	}
	return err
}

func (w *worker) roundTrip() error {
	if err := w.conn.SetDeadline(time.Now().Add(w.cfg.Timeout)); err != nil {
		return err
	}
	if _, err := w.conn.Write(w.request); err != nil {
		return err
	}
	status, length, closing, err := readHead(w.br)
	if err != nil {
		return err
	}
	if _, err := w.br.Discard(length); err != nil {
		return err
	}
	if closing {
		w.close() // the server ended keep-alive; the next request redials
	}
	if status != 200 {
		return errStatus
	}
	return nil
}

// readHead reads a response's status line and headers without allocating
// and returns the status, the Content-Length and whether the server closes
// the connection. Every server under test sends a Content-Length for these
// bodies; a response without one is an error rather than a guess.
func readHead(br *bufio.Reader) (status, length int, closing bool, err error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return 0, 0, false, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	status, ok := atoi(line[9:12])
	if !ok {
		return 0, 0, false, fmt.Errorf("malformed status line %q", line)
	}
	length = -1
	for {
		line, err = br.ReadSlice('\n')
		if err != nil {
			return 0, 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, 0, false, fmt.Errorf("malformed header line %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, ok = atoi(value); !ok {
				return 0, 0, false, fmt.Errorf("malformed Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		}
	}
	if length < 0 {
		return 0, 0, false, errors.New("response without Content-Length")
	}
	return status, length, closing, nil
}

func atoi(b []byte) (int, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

func (w *worker) close() {
	if w.conn != nil {
		_ = w.conn.Close()
		w.conn, w.br = nil, nil
	}
}
