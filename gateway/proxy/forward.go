package proxy

import (
	"context"
	"errors"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"strings"
	"sync"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// forwarder sends requests to endpoints: one httputil.ReverseProxy over
// pooled transports, HTTP/1.1 and h2c, and per backend TLS settings
// HTTP/1.1 or HTTP/2.
type forwarder struct {
	proxy          *httputil.ReverseProxy
	http1          *http.Transport
	h2c            *http.Transport
	logger         logr.Logger
	metrics        *metrics
	retryBodyLimit int64
	// budget bounds the body bytes held for mirrors and retries, all requests together.
	budget *bodyBudget
	// tls holds one HTTP/1.1 transport per backend TLS settings (by
	// CompiledBackendTLS.Key): connections with other SNI or CAs to the same
	// endpoint must not be shared.
	tls sync.Map
}

func newForwarder(opts Options, m *metrics) *forwarder {
	dialer := &net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second}
	http1 := &http.Transport{
		DialContext:           dialer.DialContext,
		MaxIdleConnsPerHost:   opts.MaxIdleConnsPerHost, // Go's default of 2 would re-dial under load
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true, // pass Accept-Encoding and bodies through untouched
		ReadBufferSize:        32 << 10,
		WriteBufferSize:       32 << 10,
	}
	h2c := http1.Clone()
	h2c.Protocols = new(http.Protocols)
	h2c.Protocols.SetUnencryptedHTTP2(true)
	f := &forwarder{http1: http1, h2c: h2c, logger: opts.Logger, metrics: m, retryBodyLimit: opts.RetryBodyLimit,
		budget: newBodyBudget(opts.MaxBufferedBodyBytes, m)}
	f.proxy = &httputil.ReverseProxy{
		Rewrite:   f.rewrite,
		Transport: f,
		// 0: ReverseProxy still flushes every write of a response of unknown
		// length (streams, server-sent events); a fixed-length one is not
		// flushed per write, which costs a timer goroutine per response.
		FlushInterval:  0,
		BufferPool:     &bufferPool{},
		ModifyResponse: f.modifyResponse,
		ErrorHandler:   f.fail,
		ErrorLog:       log.New(logWriter{opts.Logger}, "", 0),
	}
	return f
}

// RoundTrip picks the transport the backend's appProtocol asks for;
// upgrades always go over HTTP/1.1 and are never retried.
func (f *forwarder) RoundTrip(r *http.Request) (*http.Response, error) {
	ex := exchangeOf(r)
	if policy := ex.match.Rule.Retry; policy != nil && r.Header.Get("Upgrade") == "" {
		return f.retryRoundTrip(ex, r, policy)
	}
	return f.transport(ex.backend, r).RoundTrip(r)
}

func (f *forwarder) transport(b *routetable.CompiledBackend, r *http.Request) *http.Transport {
	if b.TLS != nil {
		return f.tlsTransport(b.TLS, b.AppProtocol == routetable.AppProtocolHTTP2 && r.Header.Get("Upgrade") == "")
	}
	if b.AppProtocol == routetable.AppProtocolH2C && r.Header.Get("Upgrade") == "" {
		return f.h2c
	}
	return f.http1
}

// tlsTransport returns the pooled transport for TLS settings, HTTP/1.1 or
// HTTP/2 (ALPN h2 only), making it on first use.
func (f *forwarder) tlsTransport(settings *routetable.CompiledBackendTLS, h2 bool) *http.Transport {
	key := settings.Key
	if h2 {
		key = h2KeyPrefix + key
	}
	if t, ok := f.tls.Load(key); ok {
		return t.(*http.Transport)
	}
	t := f.http1.Clone()
	t.TLSClientConfig = settings.Config
	if h2 {
		t.TLSClientConfig = settings.Config.Clone() // the transport sets its NextProtos
		t.Protocols = new(http.Protocols)
		t.Protocols.SetHTTP2(true)
	}
	actual, _ := f.tls.LoadOrStore(key, t)
	return actual.(*http.Transport)
}

// h2KeyPrefix marks the HTTP/2 transport of a TLS settings key.
const h2KeyPrefix = "h2 "

// retainTLS drops the TLS transports the table no longer uses; requests
// still using one finish on it.
func (f *forwarder) retainTLS(table *routetable.Table) {
	f.tls.Range(func(key, t any) bool {
		if !table.UsesBackendTLS(strings.TrimPrefix(key.(string), h2KeyPrefix)) {
			f.tls.Delete(key)
			t.(*http.Transport).CloseIdleConnections()
		}
		return true
	})
}

func (f *forwarder) closeIdle() {
	f.http1.CloseIdleConnections()
	f.h2c.CloseIdleConnections()
	f.retainTLS(nil)
}

// rewrite points the outbound request at the chosen endpoint, keeping the
// client's Host as the spec requires, and applies the request filters.
// ReverseProxy has already removed hop-by-hop and client X-Forwarded headers.
func (f *forwarder) rewrite(pr *httputil.ProxyRequest) {
	ex := exchangeOf(pr.In)
	pr.SetURL(ex.endpoint.URL)
	pr.Out.Host = pr.In.Host
	pr.SetXForwarded()
	applyRequestFilters(pr.Out, ex.match, &ex.match.Rule.Filters)
	applyRequestFilters(pr.Out, ex.match, &ex.backend.Filters)
}

// applyRequestFilters applies header and URL rewrites of one filter set.
func applyRequestFilters(out *http.Request, m *routetable.CompiledMatch, f *routetable.CompiledFilters) {
	if f.RequestHeader != nil {
		modifyRequestHeaders(out, f.RequestHeader)
	}
	if f.Rewrite != nil {
		rewriteRequest(out, f.Rewrite, m)
	}
}

func (f *forwarder) modifyResponse(resp *http.Response) error {
	ex := exchangeOf(resp.Request)
	if ex.corsHeaders {
		takeCORSHeaders(ex.recorder.Header(), resp.Header)
	}
	for _, filters := range [...]*routetable.CompiledFilters{&ex.match.Rule.Filters, &ex.backend.Filters} {
		if filters.ResponseHeader != nil {
			modifyHeaders(resp.Header, filters.ResponseHeader)
		}
	}
	return nil
}

// fail answers a request the backend did not: 408 when the client sent its
// body too slowly, 504 when a rule timeout expired, 503 when no connection
// could be made, else 502.
func (f *forwarder) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := errorStatus(r.Context(), err)
	ex := exchangeOf(r)
	ex.upstreamError = upstreamReasons[status]
	if ex.bodyTimedOut.Load() {
		status, ex.upstreamError = http.StatusRequestTimeout, ""
	}
	f.logger.V(1).Info("backend request failed", "backend", exchangeOf(r).backend.Name, "status", status, "error", err.Error())
	reply(w, r, status)
}

// upstreamReasons name errorStatus's answers in the metrics.
var upstreamReasons = map[int]string{
	http.StatusGatewayTimeout:     "timeout",
	http.StatusServiceUnavailable: "connect",
	http.StatusBadGateway:         "response",
}

func errorStatus(ctx context.Context, err error) int {
	var op *net.OpError
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.As(err, &op) && op.Op == "dial":
		return http.StatusServiceUnavailable
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// bufferPool recycles ReverseProxy's 32 KiB copy buffers.
type bufferPool struct{ pool sync.Pool }

func (p *bufferPool) Get() []byte {
	if b, ok := p.pool.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 32<<10)
}

// Put boxes the slice header (24 bytes) to keep the 32 KiB array.
func (p *bufferPool) Put(b []byte) { p.pool.Put(&b) }
