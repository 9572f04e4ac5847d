package proxy

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Why a request body was not kept for mirrors or retries; metric labels.
const (
	bodyTooLarge       = "body_too_large"
	bodyBudgetExhaused = "body_budget_exhausted"
	bodyUnreadable     = "body_unreadable"
)

// bodyBudget bounds the request body bytes held in memory at once by all
// requests; bytes are taken, in whole chunks, before they are read.
type bodyBudget struct {
	chunks chunkStore
	limit  int64
	used   atomic.Int64
	gauge  prometheus.Gauge
}

func newBodyBudget(limit int64, m *metrics) *bodyBudget {
	return &bodyBudget{limit: limit, gauge: m.bufferedBodyBytes, chunks: chunkStore{limit: limit}}
}

func (b *bodyBudget) take(n int64) bool {
	for {
		used := b.used.Load()
		if used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			b.gauge.Add(float64(n))
			return true
		}
	}
}

func (b *bodyBudget) give(n int64) {
	if n > 0 {
		b.used.Add(-n)
		b.gauge.Sub(float64(n))
	}
}

// heldBody is a request body (or its first bytes) in memory, shared by the
// request and its mirror copies and retries. Its chunks go back to the pool
// and its bytes to the budget when the exchange and every reader are done.
type heldBody struct {
	budget   *bodyBudget
	chunks   []*bodyChunk
	size     int64 // bytes held
	complete bool  // the whole body is held
	refs     atomic.Int32
}

// keepBody holds r's whole body in memory so it can be sent again, unless
// it is over limit or the budget cannot cover it; then it returns why, and
// the request still goes out once, streaming. A held body is shared through
// ex, so a mirrored request with retries is read once. r.Body is replaced
// by the held bytes followed by the rest.
func (f *forwarder) keepBody(ex *exchange, r *http.Request, limit int64) string {
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return ""
	}
	if h := ex.body; h != nil {
		if h.complete && h.size <= limit {
			return ""
		}
		return bodyTooLarge
	}
	if r.ContentLength > limit {
		return bodyTooLarge // known in advance: nothing is read
	}
	want := r.ContentLength
	if want < 0 {
		want = limit + 1 // chunked: one byte over the limit tells it is too large
	}
	if !f.budget.take(chunkBytes(want)) {
		return bodyBudgetExhaused
	}
	h := &heldBody{budget: f.budget}
	h.refs.Store(1) // the exchange's, released when the handler returns
	var err error
	for h.size < want && err == nil {
		c := f.budget.chunks.get()
		var n int
		n, err = io.ReadFull(r.Body, c[:min(int64(bodyChunkSize), want-h.size)])
		h.chunks = append(h.chunks, c)
		h.size += int64(n)
	}
	f.budget.give(chunkBytes(want) - int64(len(h.chunks))*bodyChunkSize)
	switch {
	case r.ContentLength >= 0:
		h.complete = h.size == r.ContentLength
	default:
		h.complete = h.size <= limit && (err == io.EOF || err == io.ErrUnexpectedEOF)
	}
	ex.body = h
	// ReverseProxy never closes the inbound body, so the exchange closes this reader when the handler returns.
	ex.replay = h.reader()
	r.Body = &replayBody{held: ex.replay, rest: r.Body}
	switch {
	case h.complete:
		return ""
	case err != nil && err != io.EOF && err != io.ErrUnexpectedEOF: //nolint:errorlint // io.ReadFull returns these unwrapped
		return bodyUnreadable
	}
	return bodyTooLarge
}

// reader returns a reader of the held bytes; closing it releases it.
func (h *heldBody) reader() io.ReadCloser {
	if h.size == 0 {
		return http.NoBody
	}
	h.refs.Add(1)
	return &heldReader{body: h}
}

func (h *heldBody) release() {
	if h.refs.Add(-1) != 0 {
		return
	}
	for i, c := range h.chunks {
		h.budget.chunks.put(c)
		h.chunks[i] = nil
	}
	h.budget.give(int64(len(h.chunks)) * bodyChunkSize)
}

// heldReader reads a heldBody. The mutex makes Close wait for a Read in
// flight (a transport may still read after RoundTrip returned), so no chunk
// goes back to the pool while it is being copied.
type heldReader struct {
	mu     sync.Mutex
	body   *heldBody
	off    int64
	closed bool
}

var errHeldBodyClosed = errors.New("proxy: read of a request body after it was closed")

func (r *heldReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return 0, errHeldBodyClosed
	case r.off >= r.body.size:
		return 0, io.EOF
	}
	c := r.body.chunks[r.off/bodyChunkSize]
	start := r.off % bodyChunkSize
	n := copy(p, c[start:min(bodyChunkSize, start+r.body.size-r.off)])
	r.off += int64(n)
	return n, nil
}

func (r *heldReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.body.release()
	}
	return nil
}

// replayBody is a request body whose first bytes were held: those, then
// the rest from the client.
type replayBody struct {
	held io.ReadCloser
	rest io.ReadCloser
	done bool // held is drained
}

func (b *replayBody) Read(p []byte) (int, error) {
	if !b.done {
		n, err := b.held.Read(p)
		if err != io.EOF { //nolint:errorlint // io.EOF is returned unwrapped
			return n, err
		}
		b.done = true
		if n > 0 {
			return n, nil
		}
	}
	return b.rest.Read(p)
}

func (b *replayBody) Close() error {
	_ = b.held.Close()
	return b.rest.Close()
}

// bodyMinRate is the slowest a request body may arrive on average once its
// grace time is spent, in bytes per second: Apache mod_reqtimeout's MinRate.
const bodyMinRate = 500

// timedBody bounds the time spent waiting for a client's request body:
// the grace time plus one second per bodyMinRate bytes received, counting
// only time spent waiting in Read (a backend that reads slowly is not the
// client's fault). An upload at any usable speed finishes; a slow-loris
// trickle runs out of time however it spaces its bytes.
type timedBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	grace    time.Duration
	spent    time.Duration
	received int64
	done     bool
	timedOut *atomic.Bool
	// counted, when set, adds up every byte read, for the metrics.
	counted *atomic.Int64
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.read(p)
	if b.counted != nil {
		b.counted.Add(int64(n))
	}
	return n, err
}

func (b *timedBody) read(p []byte) (int, error) {
	if b.done {
		return b.ReadCloser.Read(p)
	}
	allowed := b.grace + time.Duration(b.received)*time.Second/bodyMinRate - b.spent
	start := time.Now()
	if err := b.rc.SetReadDeadline(start.Add(max(allowed, 0))); err != nil {
		b.done = true // the connection cannot time reads; leave it alone
		return b.ReadCloser.Read(p)
	}
	n, err := b.ReadCloser.Read(p)
	b.spent += time.Since(start)
	b.received += int64(n)
	if err != nil {
		b.done = true
		if errors.Is(err, os.ErrDeadlineExceeded) {
			b.timedOut.Store(true)
		} else {
			// The body is over: no deadline may outlive it and cut the response.
			_ = b.rc.SetReadDeadline(time.Time{})
		}
	}
	return n, err
}
