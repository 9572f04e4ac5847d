package proxy

import (
	"bytes"
)

// fastRequest is one request head parsed in place: every field points into
// the connection's read buffer and is valid until the next request.
type fastRequest struct {
	head          []byte // request line and headers, CRLFCRLF included
	method        []byte
	target        []byte // origin-form request-target, path and query
	path          []byte
	host          []byte
	contentLength int64 // 0 when absent
	close         bool  // Connection: close
	headers       [maxFastHeaders]fastHeader
	nheaders      int
}

// fastHeader is one header field; skip marks one the proxy replaces or drops.
type fastHeader struct {
	name, value []byte
	skip        bool
}

// maxFastHeaders: a request with more header fields is handed to net/http.
const maxFastHeaders = 64

// parseVerdict is what the fast parser makes of the bytes read so far.
type parseVerdict int

const (
	needMore parseVerdict = iota // no complete head yet
	fastOK                       // a head the fast path serves
	handOff                      // anything else: net/http decides
)

// parseFastRequest parses the request head at the start of buf. It accepts
// only a strict subset of HTTP/1.1 (origin-form, normal paths, token names,
// visible-ASCII values, one Host, at most one plain Content-Length, no
// Transfer-Encoding, Expect, Upgrade, TE, Trailer or hop-by-hop lists) and
// canonicalizes header names in place; everything else, valid or not, is
// handOff so today's net/http path answers it exactly as before.
func parseFastRequest(buf []byte, req *fastRequest) parseVerdict {
	end := bytes.Index(buf, crlfcrlf)
	if end < 0 {
		for i, c := range buf {
			if c == '\n' && (i == 0 || buf[i-1] != '\r') {
				return handOff // bare LF framing: net/http's to judge
			}
		}
		return needMore
	}
	req.reset(buf[:end+4])
	line, rest := cutLine(buf[:end+2])
	if !parseRequestLine(line, req) {
		return handOff
	}
	sawHost, sawLength := false, false
	for len(rest) > 0 {
		line, rest = cutLine(rest)
		if line == nil || req.nheaders == maxFastHeaders {
			return handOff
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return handOff
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !canonicalToken(name) || !visibleValue(value) {
			return handOff
		}
		h := &req.headers[req.nheaders]
		*h = fastHeader{name: name, value: value}
		req.nheaders++
		switch string(name) { // no allocation: the compiler compares in place
		case "Host":
			if sawHost || !validFastHost(value) {
				return handOff
			}
			sawHost, req.host, h.skip = true, value, true
		case "Content-Length":
			n, ok := parseLength(value)
			if sawLength || !ok {
				return handOff
			}
			sawLength, req.contentLength, h.skip = true, n, true
		case "Connection":
			switch {
			case asciiEqualFold(value, "close"):
				req.close = true
			case asciiEqualFold(value, "keep-alive"):
			default:
				return handOff // hop-by-hop lists: ReverseProxy strips what they name
			}
			h.skip = true
		case "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "Forwarded":
			h.skip = true // replaced, as ReverseProxy's SetXForwarded does
		case "Transfer-Encoding", "Expect", "Upgrade", "Te", "Trailer", "Keep-Alive",
			"Proxy-Connection", "Http2-Settings", "Proxy-Authorization", "Proxy-Authenticate":
			return handOff
		case "Content-Type":
			if bytes.HasPrefix(value, []byte("application/grpc")) {
				return handOff
			}
		}
	}
	if !sawHost {
		return handOff
	}
	return fastOK
}

func (req *fastRequest) reset(head []byte) {
	req.head, req.method, req.target, req.path, req.host = head, nil, nil, nil, nil
	req.contentLength, req.close, req.nheaders = 0, false, 0
}

var crlfcrlf = []byte("\r\n\r\n")

// cutLine splits off a CRLF-terminated line; nil when a bare CR or LF is in it.
func cutLine(b []byte) (line, rest []byte) {
	i := bytes.IndexByte(b, '\n')
	if i < 1 || b[i-1] != '\r' {
		return nil, nil
	}
	line = b[:i-1]
	if bytes.IndexByte(line, '\r') >= 0 {
		return nil, nil
	}
	return line, b[i+1:]
}

// parseRequestLine takes "METHOD /path?query HTTP/1.1" and nothing else.
func parseRequestLine(line []byte, req *fastRequest) bool {
	sp := bytes.IndexByte(line, ' ')
	if sp <= 0 || sp > 16 {
		return false
	}
	req.method = line[:sp]
	for _, c := range req.method {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	if string(req.method) == "CONNECT" || string(req.method) == "PRI" {
		return false
	}
	rest := line[sp+1:]
	sp = bytes.IndexByte(rest, ' ')
	if sp <= 0 || string(rest[sp+1:]) != "HTTP/1.1" {
		return false
	}
	req.target = rest[:sp]
	if req.target[0] != '/' {
		return false
	}
	req.path = req.target
	if q := bytes.IndexByte(req.target, '?'); q >= 0 {
		req.path = req.target[:q]
		query := req.target[q+1:]
		if len(query) == 0 {
			return false // "/a?": ForceQuery, left to net/http
		}
		for _, c := range query {
			if !queryChar[c] {
				return false
			}
		}
	}
	for _, c := range req.path {
		if !pathChar[c] {
			return false
		}
	}
	return true
}

// pathChar is RFC 3986 pchar and "/" without "%": an unescaped path is its
// own escaped form, so routing it allocates nothing.
var pathChar, queryChar, tokenChar, hostChar [256]bool

func init() {
	set := func(t *[256]bool, s string) {
		for i := range s {
			t[s[i]] = true
		}
	}
	const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	set(&pathChar, alnum+"-._~!$&'()*+,;=:@/")
	set(&queryChar, alnum+"-._~!$&'()*+,;=:@/?%")
	set(&tokenChar, alnum+"!#$%&'*+-.^_`|~")
	set(&hostChar, alnum+"-.:[]")
}

// canonicalToken checks name is a token and rewrites it in place to
// net/http's canonical form (Content-Type), as the backend would get it.
func canonicalToken(name []byte) bool {
	for _, c := range name {
		if !tokenChar[c] {
			return false
		}
	}
	upper := true
	for i, c := range name {
		switch {
		case upper && 'a' <= c && c <= 'z':
			name[i] = c - ('a' - 'A')
		case !upper && 'A' <= c && c <= 'Z':
			name[i] = c + ('a' - 'A')
		}
		upper = c == '-'
	}
	return true
}

// visibleValue accepts visible ASCII with inner spaces and tabs.
func visibleValue(v []byte) bool {
	for _, c := range v {
		if (c < 0x21 || c > 0x7e) && c != ' ' && c != '\t' {
			return false
		}
	}
	return true
}

func validFastHost(v []byte) bool {
	if len(v) == 0 || len(v) > 255 {
		return false
	}
	for _, c := range v {
		if !hostChar[c] {
			return false
		}
	}
	return true
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// parseLength reads a plain decimal Content-Length of at most 15 digits.
func parseLength(v []byte) (int64, bool) {
	if len(v) == 0 || len(v) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range v {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
