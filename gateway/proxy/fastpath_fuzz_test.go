package proxy

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"testing"

	"golang.org/x/net/http/httpguts"
)

// framingSeeds are well-formed requests, pipelines and the classic
// smuggling and malformed shapes.
var framingSeeds = []string{
	"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /x?y=1 HTTP/1.1\r\nHost: a.example:80\r\nAccept: */*\r\n\r\nGET /z HTTP/1.1\r\nHost: b\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.1\r\nHost: a\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
	"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
	"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
	"GET / HTTP/1.1\nHost: a\n\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET http://a/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET /%2e%2e/ HTTP/1.1\r\nHost: a\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\nhello",
	"GET / HTTP/1.1\r\nHost: a\r\nBad Name: x\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX: \x00\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.2.3.4\r\nConnection: keep-alive\r\n\r\n",
}

// FuzzFastPathFraming feeds the same bytes to the fast path's parser and
// to net/http's (http.ReadRequest, the server's own header checks and the
// body read) and fails on any request the fast path accepts that net/http
// would not, or that ends at a different byte. A request the fast path
// hands off is net/http's by construction and ends the comparison.
func FuzzFastPathFraming(f *testing.F) {
	for _, s := range framingSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkFraming(t, data)
	})
}

// TestFastPathFramingSeeds runs the seeds and checks the fast path takes
// the ordinary ones, so the fuzz test does not pass by handing everything off.
func TestFastPathFramingSeeds(t *testing.T) {
	for _, s := range framingSeeds {
		checkFraming(t, []byte(s))
	}
	taken := map[string]int{ // seed → requests the fast path must serve
		framingSeeds[0]: 1, framingSeeds[1]: 2, framingSeeds[2]: 2, framingSeeds[3]: 1, framingSeeds[16]: 1, framingSeeds[17]: 1,
	}
	for _, s := range framingSeeds {
		if got := checkFraming(t, []byte(s)); got != taken[s] {
			t.Errorf("fast path served %d requests of %q, want %d", got, s, taken[s])
		}
	}
}

// checkFraming compares the two parsers over a pipeline and returns how
// many requests the fast path accepted.
func checkFraming(t *testing.T, data []byte) int {
	t.Helper()
	buf := bytes.Clone(data) // the fast parser canonicalizes names in place
	var req fastRequest
	served := 0
	for off := 0; off < len(data); {
		verdict := parseFastRequest(buf[off:], &req)
		std, stdEnd, stdErr := readStdRequest(data[off:])
		switch verdict {
		case handOff:
			return served
		case needMore:
			if stdErr == nil {
				t.Fatalf("fast parser wants more bytes after %q; net/http read a whole request ending at %d", data[off:], stdEnd)
			}
			return served
		}
		end := len(req.head) + int(req.contentLength)
		if stdErr != nil {
			if end <= len(data)-off {
				t.Fatalf("fast path accepted %q (ending at %d), net/http refused it: %v", data[off:], end, stdErr)
			}
			return served // the body is incomplete for both
		}
		if end != stdEnd {
			t.Fatalf("request %q ends at %d for the fast path, at %d for net/http", data[off:], end, stdEnd)
		}
		if std.Method != string(req.method) || std.RequestURI != string(req.target) || std.Host != string(req.host) || std.ContentLength != req.contentLength {
			t.Fatalf("request %q: fast path read %s %s host %q length %d, net/http %s %s host %q length %d", data[off:],
				req.method, req.target, req.host, req.contentLength, std.Method, std.RequestURI, std.Host, std.ContentLength)
		}
		for i := range req.nheaders {
			h := &req.headers[i]
			if !bytes.Equal(h.name, []byte("Host")) && !contains(std.Header[string(h.name)], string(h.value)) {
				t.Fatalf("request %q: fast path header %s: %q, net/http has %q", data[off:], h.name, h.value, std.Header[string(h.name)])
			}
		}
		if std.Close != req.close {
			t.Fatalf("request %q: fast path close=%v, net/http close=%v", data[off:], req.close, std.Close)
		}
		served++
		off += end
	}
	return served
}

func contains(values []string, v string) bool {
	for _, have := range values {
		if have == v {
			return true
		}
	}
	return false
}

// readStdRequest reads one request the way net/http's server does and
// returns where it ends (head and body), or why the server would refuse it.
func readStdRequest(data []byte) (*http.Request, int, error) {
	br := bufio.NewReaderSize(bytes.NewReader(data), 64<<10)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, 0, err
	}
	if err := serverChecks(req); err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(io.Discard, req.Body); err != nil {
		return nil, 0, err
	}
	return req, len(data) - br.Buffered(), nil
}

// serverChecks are what http.Server's readRequest checks after ReadRequest.
func serverChecks(req *http.Request) error {
	// ReadRequest has moved Host out of the header map (and refused
	// repeats); an empty one counts as missing, which only makes net/http
	// look stricter where the fast path hands off anyway.
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != "CONNECT" {
		return errFraming("missing Host")
	}
	if !httpguts.ValidHostHeader(req.Host) {
		return errFraming("malformed Host header")
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return errFraming("invalid header name")
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return errFraming("invalid header value")
			}
		}
	}
	return nil
}

type errFraming string

func (e errFraming) Error() string { return string(e) }
