package proxy

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// exchange serves the buffered request: routes it (handed true when the
// general path must take it, nothing consumed), sends it to a pooled
// backend connection and streams the answer back. keep says whether the
// client connection may carry another request.
func (c *fastConn) exchange() (keep, handed bool) {
	s := c.fs.server
	if !c.route(s.table.Load()) {
		return false, true
	}
	req, ex := &c.req, &c.ex
	c.start += len(req.head)
	keep = !req.close
	// The request is counted before the last bytes reach the client, as on
	// the net/http path, so a client that has its answer sees it counted.
	defer func() {
		c.finish()
		if c.flush() != nil {
			keep = false
		}
	}()

	inBuf := min(req.contentLength, int64(c.end-c.start))
	pool := s.fastPools.pool(ex.endpoint.URL.Host)
	var bc *backendConn
	for attempt := 0; ; attempt++ {
		var reused bool
		var err error
		if attempt == 0 {
			bc, reused, err = pool.get(ex.start)
		} else {
			bc, reused, err = pool.dial()
		}
		if err != nil {
			if inBuf == req.contentLength {
				c.start += int(inBuf) // the body is read: the connection can go on
			}
			return c.fail(err, keep && inBuf == req.contentLength, false)
		}
		c.writeBackendHead(inBuf)
		_, err = bc.nc.Write(c.bout)
		if err == nil && inBuf < req.contentLength {
			c.start = c.end
			if err = c.streamBody(bc, req.contentLength-inBuf); err != nil {
				bc.close()
				return c.fail(err, false, errors.Is(err, errClientBody))
			}
		} else {
			c.start += int(inBuf)
		}
		ex.requestBytes.Store(req.contentLength)
		if err == nil {
			err = c.readResponseHead(bc)
		}
		if err == nil {
			break
		}
		bc.close()
		// A pooled connection the backend closed while idle: the request
		// was in our buffer whole, so it can go again on a new one.
		if reused && attempt == 0 && bc.end == 0 && inBuf == req.contentLength {
			c.start -= int(inBuf)
			continue
		}
		return c.fail(err, keep && inBuf == req.contentLength, false)
	}
	ok, backendKeep := c.relayResponse(bc)
	if ok && backendKeep {
		pool.put(bc, time.Now())
	} else {
		bc.close()
	}
	return keep && ok && !c.closeAfter, false
}

// errClientBody is a client that stopped sending its body (reset or too slow).
var errClientBody = errors.New("client request body not received")

// writeBackendHead puts the request line and headers for the backend in
// c.bout, as ReverseProxy with SetXForwarded and http.Transport send them,
// followed by the body bytes already buffered when they fit.
func (c *fastConn) writeBackendHead(inBuf int64) {
	req := &c.req
	b := c.bout[:0]
	b = append(b, req.method...)
	b = append(b, ' ')
	b = append(b, req.target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.host...)
	b = append(b, "\r\n"...)
	for i := range req.nheaders {
		h := &req.headers[i]
		if h.skip {
			continue
		}
		b = append(b, h.name...)
		b = append(b, ": "...)
		b = append(b, h.value...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "X-Forwarded-For: "...)
	b = append(b, c.clientIP...)
	b = append(b, "\r\nX-Forwarded-Host: "...)
	b = append(b, req.host...)
	b = append(b, "\r\nX-Forwarded-Proto: "...)
	b = append(b, c.proto...)
	b = append(b, "\r\n"...)
	m := bstr(req.method)
	if req.contentLength > 0 || m == "POST" || m == "PUT" || m == "PATCH" { // http.Transport's rule
		b = append(b, "Content-Length: "...)
		b = strconv.AppendInt(b, req.contentLength, 10)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, c.buf[c.start:c.start+int(inBuf)]...)
	c.bout = b
}

// streamBody copies n more body bytes from the client to the backend,
// under timedBody's rule: the grace time plus one second per 500 bytes,
// counting only time spent waiting for the client.
func (c *fastConn) streamBody(bc *backendConn, n int64) error {
	if c.body == nil {
		c.body = make([]byte, backendReadBuffer)
	}
	grace := c.fs.server.opts.BodyReadTimeout
	var spent time.Duration
	var received int64
	defer func() { _ = c.nc.SetReadDeadline(time.Time{}) }()
	for n > 0 {
		start := time.Now()
		allowed := grace + time.Duration(received)*time.Second/bodyMinRate - spent
		_ = c.nc.SetReadDeadline(start.Add(max(allowed, 0)))
		k, err := c.nc.Read(c.body[:min(n, int64(len(c.body)))])
		spent += time.Since(start)
		received += int64(k)
		n -= int64(k)
		if k > 0 {
			if _, werr := bc.nc.Write(c.body[:k]); werr != nil {
				return werr
			}
		}
		if err != nil && n > 0 {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				c.ex.bodyTimedOut.Store(true)
			}
			return errClientBody
		}
	}
	return nil
}

// fail answers a request no backend answered, as forwarder.fail does.
func (c *fastConn) fail(err error, keep, clientGone bool) (bool, bool) {
	ex := &c.ex
	status := errorStatus(contextBackground, err)
	ex.upstreamError = upstreamReasons[status]
	if ex.bodyTimedOut.Load() {
		status, ex.upstreamError = http.StatusRequestTimeout, ""
	} else if clientGone {
		status, ex.upstreamError = http.StatusBadGateway, upstreamReasons[http.StatusBadGateway]
	}
	c.fs.server.opts.Logger.V(1).Info("backend request failed", "backend", ex.backend.Name, "status", status, "error", err.Error())
	c.reply(status, !keep)
	return keep, false
}

// reply queues http.Error's answer for status.
func (c *fastConn) reply(status int, closing bool) {
	c.ex.status = status
	text := http.StatusText(status)
	b := append(c.out[:0], statusLine(status)...)
	b = append(b, "Content-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\nDate: "...)
	b = append(b, httpDate()...)
	b = append(b, "\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(text)+1), 10)
	if closing {
		b = append(b, "\r\nConnection: close"...)
	}
	b = append(b, "\r\n\r\n"...)
	b = append(b, text...)
	b = append(b, '\n')
	c.ex.written = int64(len(text) + 1)
	c.out = b // exchange flushes it
}

// finish records the request as Server.finish does for the general path.
func (c *fastConn) finish() {
	s, ex := c.fs.server, &c.ex
	status := ex.status
	if status == 0 {
		status = http.StatusOK
	}
	elapsed := s.count(ex, status)
	if s.opts.AccessLog.GetSink() != nil {
		s.opts.AccessLog.Info("request", "method", string(c.req.method), "host", string(c.req.host), "path", string(c.req.path),
			"proto", "HTTP/1.1", "status", status, "listener", ex.listener.Name, "route", ex.match.Rule.Route, "backend", ex.backend.Name,
			"remote", c.remoteAddr, "duration", elapsed)
	}
	clear(c.header)
}

// statusLines are net/http's status lines, "HTTP/1.1 200 OK\r\n", by code.
var statusLines [600][]byte

func init() {
	for code := 100; code < 600; code++ {
		text := http.StatusText(code)
		if text == "" {
			text = "status code " + strconv.Itoa(code)
		}
		statusLines[code] = []byte("HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n")
	}
}

func statusLine(code int) []byte { return statusLines[code] }

// httpDate is the Date header net/http adds, formatted once a second.
func httpDate() []byte {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: []byte(time.Unix(now, 0).UTC().Format(http.TimeFormat))}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	unix int64
	text []byte
}

var cachedDate atomic.Pointer[dateText]

// contextBackground: the fast path has no rule timeouts, so errorStatus
// decides by the error alone.
var contextBackground = context.Background()
