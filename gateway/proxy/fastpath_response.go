package proxy

import (
	"bytes"
	"errors"
	"net/http"
	"strconv"
)

// fastResponse is the backend response head being relayed.
type fastResponse struct {
	status        int
	http10        bool
	contentLength int64 // -1 when absent
	chunked       bool
	close         bool // the backend will not take another request
	hasDate       bool
	hasType       bool
	connTokens    [8][]byte // header names the backend's Connection header lists
	nconn         int
}

var errBadResponse = errors.New("malformed backend response")

// readResponseHead reads the head of the backend's final response into
// bc.headers, relaying 1xx informational heads (103 Early Hints, 100
// Continue) to the client as ReverseProxy does.
func (c *fastConn) readResponseHead(bc *backendConn) error {
	if bc.start == bc.end {
		bc.start, bc.end = 0, 0
	}
	for {
		end := bytes.Index(bc.buf[bc.start:bc.end], crlfcrlf)
		if end < 0 {
			if err := bc.fill(); err != nil {
				return err
			}
			continue
		}
		head := bc.buf[bc.start : bc.start+end+4]
		if err := parseResponseHead(head, bc, &c.resp); err != nil {
			return err
		}
		bc.start += len(head)
		if c.resp.status >= 200 {
			return nil
		}
		if c.resp.status == http.StatusSwitchingProtocols {
			return errBadResponse // no upgrade was asked for
		}
		b := append(c.out[:0], statusLine(c.resp.status)...)
		b = c.appendHeaders(b, bc)
		b = append(b, "\r\n"...)
		if _, err := c.nc.Write(b); err != nil {
			return errClientBody
		}
	}
}

// parseResponseHead parses a status line and header fields, strictly: a
// response the proxy cannot frame for certain is a 502.
func parseResponseHead(head []byte, bc *backendConn, resp *fastResponse) error {
	*resp = fastResponse{contentLength: -1}
	bc.nheaders = 0
	line, rest := cutLine(head[:len(head)-2])
	if len(line) < 12 {
		return errBadResponse
	}
	switch string(line[:9]) {
	case "HTTP/1.1 ":
	case "HTTP/1.0 ":
		resp.http10, resp.close = true, true
	default:
		return errBadResponse
	}
	code, ok := parseLength(line[9:12])
	if !ok || code < 100 || code > 599 || len(line) > 12 && line[12] != ' ' {
		return errBadResponse
	}
	resp.status = int(code)
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		colon := bytes.IndexByte(line, ':')
		if line == nil || colon <= 0 || bc.nheaders == len(bc.headers) {
			return errBadResponse
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !canonicalToken(name) || !fieldValue(value) {
			return errBadResponse
		}
		h := &bc.headers[bc.nheaders]
		*h = fastHeader{name: name, value: value}
		bc.nheaders++
		switch string(name) {
		case "Content-Length":
			n, ok := parseLength(value)
			if !ok || resp.contentLength >= 0 && n != resp.contentLength {
				return errBadResponse
			}
			if resp.contentLength >= 0 {
				h.skip = true // an identical repeat, sent once (http.Transport keeps one)
			}
			resp.contentLength = n
		case "Transfer-Encoding":
			if !asciiEqualFold(value, "chunked") || resp.chunked {
				return errBadResponse
			}
			resp.chunked, h.skip = true, true
		case "Connection":
			h.skip = true
			for tok := range bytes.SplitSeq(value, []byte(",")) {
				tok = trimOWS(tok)
				switch {
				case asciiEqualFold(tok, "close"):
					resp.close = true
				case asciiEqualFold(tok, "keep-alive"):
					if resp.http10 {
						resp.close = false
					}
				case len(tok) > 0:
					if resp.nconn == len(resp.connTokens) {
						return errBadResponse
					}
					resp.connTokens[resp.nconn] = tok
					resp.nconn++
				}
			}
		case "Keep-Alive", "Proxy-Connection", "Te", "Upgrade", "Proxy-Authenticate", "Proxy-Authorization":
			h.skip = true // hop-by-hop: ReverseProxy drops them
		case "Date":
			resp.hasDate = true
		case "Content-Type":
			resp.hasType = true
		}
	}
	if resp.chunked {
		resp.contentLength = -1
		for i := range bc.nheaders {
			if string(bc.headers[i].name) == "Content-Length" {
				bc.headers[i].skip = true // RFC 9112 §6.3: Transfer-Encoding wins
			}
		}
	}
	return nil
}

// fieldValue accepts what net/http accepts in a value: no controls but tab.
func fieldValue(v []byte) bool {
	for _, c := range v {
		if c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// appendHeaders appends the backend's header fields the client gets.
func (c *fastConn) appendHeaders(b []byte, bc *backendConn) []byte {
	resp := &c.resp
outer:
	for i := range bc.nheaders {
		h := &bc.headers[i]
		if h.skip {
			continue
		}
		for _, tok := range resp.connTokens[:resp.nconn] {
			if bytes.EqualFold(tok, h.name) {
				continue outer
			}
		}
		b = append(b, h.name...)
		b = append(b, ": "...)
		b = append(b, h.value...)
		b = append(b, "\r\n"...)
	}
	return b
}

// relayResponse writes the response head and streams the body to the
// client. ok is false when either side failed mid-way (the client
// connection must close); backendKeep says the backend connection can
// carry another request.
func (c *fastConn) relayResponse(bc *backendConn) (ok, backendKeep bool) {
	resp, ex := &c.resp, &c.ex
	ex.status = resp.status
	c.closeAfter = false
	bodyless := bstr(c.req.method) == "HEAD" || resp.status == http.StatusNoContent || resp.status == http.StatusNotModified
	untilClose := !bodyless && !resp.chunked && resp.contentLength < 0
	b := append(c.out[:0], statusLine(resp.status)...)
	b = c.appendHeaders(b, bc)
	if !resp.hasDate {
		b = append(b, "Date: "...)
		b = append(b, httpDate()...)
		b = append(b, "\r\n"...)
	}
	// net/http sniffs the first write; ReverseProxy flushes the head of a
	// response of unknown length before any body, so only known lengths are sniffed.
	if !resp.hasType && !bodyless && resp.contentLength > 0 {
		if bc.start == bc.end && bc.fill() != nil {
			return false, false // net/http too waits for the first body bytes to sniff them
		}
		if sample := c.bodySample(bc); len(sample) > 0 {
			b = append(b, "Content-Type: "...)
			b = append(b, http.DetectContentType(sample)...) // what net/http's ResponseWriter adds
			b = append(b, "\r\n"...)
		}
	}
	switch {
	case bodyless:
	case resp.chunked, untilClose:
		b = append(b, "Transfer-Encoding: chunked\r\n"...)
	}
	if c.req.close {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.out = b
	switch {
	case bodyless:
		return true, !resp.close && bc.start == bc.end
	case resp.chunked:
		ok = c.relayChunked(bc)
	case untilClose:
		ok = c.relayUntilClose(bc)
		return ok, false
	default:
		ok = c.relayLength(bc, resp.contentLength)
	}
	return ok, ok && !resp.close && bc.start == bc.end
}

// bodySample is the start of the body already buffered, for sniffing.
func (c *fastConn) bodySample(bc *backendConn) []byte {
	data := bc.buf[bc.start:bc.end]
	data = data[:min(int64(len(data)), c.resp.contentLength)]
	return data[:min(len(data), 512)]
}

// write queues p for the client, writing through when the buffer is full.
func (c *fastConn) write(p []byte) error {
	if len(c.out)+len(p) <= cap(c.out) {
		c.out = append(c.out, p...)
		return nil
	}
	if len(p) <= cap(c.out)/2 {
		if err := c.flush(); err != nil {
			return err
		}
		c.out = append(c.out, p...)
		return nil
	}
	// A large piece goes out with what is queued in one writev, uncopied.
	c.vecs = [2][]byte{c.out, p}
	c.vec = c.vecs[:]
	_, err := c.vec.WriteTo(c.nc)
	c.out = c.out[:0]
	return err
}

func (c *fastConn) flush() error {
	if len(c.out) == 0 {
		return nil
	}
	_, err := c.nc.Write(c.out)
	c.out = c.out[:0]
	return err
}

// more flushes what is queued for the client, then waits for the backend.
func (c *fastConn) more(bc *backendConn) bool {
	return c.flush() == nil && bc.fill() == nil
}

// relayUntilClose sends a body that ends with the backend's connection,
// chunked, as net/http does for a body of unknown length.
func (c *fastConn) relayUntilClose(bc *backendConn) bool {
	var size [20]byte
	for {
		if bc.start == bc.end {
			if c.flush() != nil {
				return false
			}
			if err := bc.fill(); err != nil {
				return c.write([]byte("0\r\n\r\n")) == nil
			}
		}
		data := bc.buf[bc.start:bc.end]
		line := append(strconv.AppendInt(size[:0], int64(len(data)), 16), "\r\n"...)
		if c.write(line) != nil || c.write(data) != nil || c.write([]byte("\r\n")) != nil {
			return false
		}
		c.ex.written += int64(len(data))
		bc.start = bc.end
	}
}

// relayChunked re-frames a chunked body chunk by chunk (extensions are
// dropped, as net/http does) and passes the trailer fields through.
func (c *fastConn) relayChunked(bc *backendConn) bool {
	var size [20]byte
	for {
		line, ok := c.backendLine(bc)
		if !ok {
			return false
		}
		n, ok := chunkSize(line)
		if !ok {
			return false
		}
		if n == 0 {
			break
		}
		if c.write(append(strconv.AppendInt(size[:0], n, 16), "\r\n"...)) != nil || !c.relayLength(bc, n) {
			return false
		}
		if crlf, ok := c.backendLine(bc); !ok || len(crlf) != 0 || c.write([]byte("\r\n")) != nil {
			return false
		}
	}
	if c.write([]byte("0\r\n")) != nil {
		return false
	}
	for {
		line, ok := c.backendLine(bc)
		if !ok {
			return false
		}
		if len(line) == 0 {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !canonicalToken(line[:colon]) || !fieldValue(line[colon+1:]) {
			return false
		}
		if c.write(line) != nil || c.write([]byte("\r\n")) != nil {
			return false
		}
	}
	return c.write([]byte("\r\n")) == nil
}

func (c *fastConn) relayLength(bc *backendConn, n int64) bool {
	for n > 0 {
		if bc.start == bc.end && !c.more(bc) {
			return false
		}
		k := min(n, int64(bc.end-bc.start))
		if c.write(bc.buf[bc.start:bc.start+int(k)]) != nil {
			return false
		}
		bc.start += int(k)
		n -= k
		c.ex.written += k
	}
	return true
}

// backendLine returns the next CRLF-terminated line of the backend's body framing.
func (c *fastConn) backendLine(bc *backendConn) ([]byte, bool) {
	for {
		data := bc.buf[bc.start:bc.end]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, _ := cutLine(data[:i+1])
			if line == nil {
				return nil, false
			}
			bc.start += i + 1
			return line, true
		}
		if bc.end-bc.start >= 4096 || !c.more(bc) {
			return nil, false
		}
	}
}

// chunkSize parses "1a2b[;ext]" strictly: hex digits, then nothing or an extension.
func chunkSize(line []byte) (int64, bool) {
	if semi := bytes.IndexByte(line, ';'); semi >= 0 {
		line = line[:semi]
	}
	line = trimOWS(line)
	if len(line) == 0 || len(line) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range line {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		n = n<<4 | int64(d)
	}
	return n, true
}
