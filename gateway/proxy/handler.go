package proxy

import (
	"cmp"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// socketHandler routes the requests of one socket through the current table.
type socketHandler struct {
	server *Server
	key    routetable.SocketKey
	// active counts requests in the handler, upgraded ones included, for draining.
	active atomic.Int64
}

// exchange is one request's routing decision; the forwarder finds it in the
// request context.
type exchange struct {
	recorder
	start    time.Time
	listener *routetable.CompiledListener
	match    *routetable.CompiledMatch
	backend  *routetable.CompiledBackend
	endpoint *routetable.CompiledEndpoint
	// corsHeaders is set when a CORS filter put headers on the response.
	corsHeaders bool
	// body is the request body held for mirrors and retries, if any, and
	// replay the reader of it that the request's own body starts with.
	body   *heldBody
	replay io.ReadCloser
	// bodyTimedOut is set (by whichever goroutine reads the body) when the
	// client was too slow sending it.
	bodyTimedOut atomic.Bool
	// requestBytes counts the request body bytes read from the client.
	requestBytes atomic.Int64
	// upstreamError says why no backend answered (a tenantgate_proxy_upstream_errors_total reason); "" when one did.
	upstreamError string
}

// releaseBody gives back the held body once the handler is done with it;
// readers still open keep it until they are closed.
func (ex *exchange) releaseBody() {
	if ex.body != nil {
		_ = ex.replay.Close()
		ex.body.release()
	}
}

type exchangeKey struct{}

func exchangeOf(r *http.Request) *exchange {
	ex, _ := r.Context().Value(exchangeKey{}).(*exchange)
	return ex
}

func (h *socketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.TLS == nil {
		if st, ok := r.Context().Value(tlsStateKey{}).(*tls.ConnectionState); ok {
			r.TLS = st // handed off by the fast path after its TLS handshake
		}
	}
	if r.ProtoMajor == 1 && len(r.TransferEncoding) > 0 {
		// RFC 9112 §6.3: a request framed by both Transfer-Encoding and
		// Content-Length (net/http drops the latter before we see it) must
		// not be followed on the same connection; close after any chunked
		// request so nothing after its body is ever read as a request.
		w.Header().Set("Connection", "close")
	}
	h.active.Add(1)
	defer h.active.Add(-1)
	ex := &exchange{recorder: recorder{ResponseWriter: w}, start: time.Now()}
	defer h.server.finish(ex, r)
	defer ex.releaseBody()
	h.route(ex, r)
}

// route answers r from the table loaded once at its start.
func (h *socketHandler) route(ex *exchange, r *http.Request) {
	w := &ex.recorder
	if !h.server.normalizePath(w, r) {
		return
	}
	sock := h.server.table.Load().Socket(h.key.Address, h.key.Port)
	if sock == nil {
		reply(w, r, http.StatusNotFound)
		return
	}
	ex.listener = sock.Listener(r.Host)
	if r.TLS != nil && ex.listener != nil && ex.listener != sock.Listener(r.TLS.ServerName) {
		// The connection was made for another listener's certificate (RFC 9110 15.5.20).
		reply(w, r, http.StatusMisdirectedRequest)
		return
	}
	if ex.listener == nil {
		reply(w, r, http.StatusNotFound)
		return
	}
	ex.match = ex.listener.Match(r.Host, r)
	if routetable.HasEncodedSlash(r.URL) && !slashesAgree(ex, r) {
		h.server.refusePath(w, routetable.ErrEncodedSlash)
		return
	}
	if ex.match == nil {
		reply(w, r, http.StatusNotFound)
		return
	}
	rule := ex.match.Rule
	if rule.Filters.Redirect == nil {
		ex.backend = rule.PickBackend()
	}
	if cors := corsOf(rule, ex.backend); cors != nil && applyCORS(w, r, ex, cors) {
		return // a preflight, answered here
	}
	if rule.Filters.Redirect != nil {
		redirect(w, r, ex, rule.Filters.Redirect)
		return
	}
	switch {
	case ex.backend == nil, ex.backend.Unresolved != "":
		ex.upstreamError = "invalid_backend"
		reply(w, r, http.StatusInternalServerError) // the spec's answer for an invalid backendRef
		return
	case ex.backend.Filters.Redirect != nil:
		redirect(w, r, ex, ex.backend.Filters.Redirect)
		return
	}
	if ex.endpoint = ex.backend.PickEndpoint(); ex.endpoint == nil {
		ex.upstreamError = "no_endpoint"
		reply(w, r, http.StatusServiceUnavailable)
		return
	}
	ctx := context.WithValue(r.Context(), exchangeKey{}, ex)
	if timeout := requestTimeout(rule, r); timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	r = r.WithContext(ctx)
	if r.Body != nil && r.Body != http.NoBody && r.Header.Get("Upgrade") == "" {
		r.Body = &timedBody{ReadCloser: r.Body, rc: http.NewResponseController(w), grace: h.server.opts.BodyReadTimeout, timedOut: &ex.bodyTimedOut, counted: &ex.requestBytes}
	}
	h.server.mirror(ex, r)
	h.server.forward.proxy.ServeHTTP(w, r)
}

// normalizePath puts r's path in normal form (NormalizePath) before it is
// matched and forwarded; the query is left alone. It answers 400 and
// returns false for a path that cannot be normalised safely.
func (s *Server) normalizePath(w http.ResponseWriter, r *http.Request) bool {
	in := r.URL.RawPath // the path as sent, when it differs from Go's default escaping
	if in == "" {
		in = r.URL.EscapedPath() // Path itself, not copied, when nothing needs escaping
	}
	normal, err := routetable.NormalizePath(in)
	if err != nil {
		s.refusePath(w, err)
		return false
	}
	if normal != in {
		path, err := url.PathUnescape(normal)
		if err != nil { // cannot happen: normal forms hold only valid escapes
			s.refusePath(w, routetable.ErrInvalidEscape)
			return false
		}
		r.URL.Path, r.URL.RawPath = path, normal
	}
	return true
}

// slashesAgree reports whether r, whose path holds %2F or %5C, picks the
// same rule as it would with them decoded to "/": only then can a backend
// that decodes them not be reached with a path another rule (or tenant)
// owns.
func slashesAgree(ex *exchange, r *http.Request) bool {
	decoded, err := routetable.SlashesDecoded(r.URL.EscapedPath())
	if err != nil {
		return false
	}
	path, err := url.PathUnescape(decoded)
	if err != nil {
		return false
	}
	u := *r.URL
	u.Path, u.RawPath = path, decoded
	alt := r.WithContext(r.Context())
	alt.URL = &u
	return ruleOf(ex.listener.Match(r.Host, alt)) == ruleOf(ex.match)
}

func ruleOf(m *routetable.CompiledMatch) *routetable.CompiledRule {
	if m == nil {
		return nil
	}
	return m.Rule
}

// refusePath answers 400 with why the path was refused.
func (s *Server) refusePath(w http.ResponseWriter, err error) {
	reason := "invalid"
	if pe, ok := err.(*routetable.PathError); ok {
		reason = pe.Reason
	}
	s.metrics.rejectedPaths.WithLabelValues(reason).Inc()
	http.Error(w, "400 Bad Request: "+err.Error(), http.StatusBadRequest)
}

// requestTimeout bounds the whole request, 0 for none. With retries each
// backend request has its own timeout (see retryRoundTrip); without them one
// backend request spans the whole request, so the shorter timeout bounds it.
func requestTimeout(rule *routetable.CompiledRule, r *http.Request) time.Duration {
	t := rule.Timeouts
	if rule.Retry != nil && r.Header.Get("Upgrade") == "" {
		return max(t.Request, 0)
	}
	switch {
	case t.Request <= 0:
		return max(t.BackendRequest, 0)
	case t.BackendRequest <= 0:
		return t.Request
	}
	return min(t.Request, t.BackendRequest)
}

func redirect(w http.ResponseWriter, r *http.Request, ex *exchange, rd *routetable.Redirect) {
	w.Header().Set("Location", redirectLocation(rd, r, ex.listener, ex.match))
	w.WriteHeader(cmp.Or(rd.StatusCode, http.StatusFound))
}

// reply answers with a status and its text, and nothing a client sent; a
// gRPC call gets it as a gRPC status (grpc.go).
func reply(w http.ResponseWriter, r *http.Request, status int) {
	if isGRPC(r) {
		replyGRPC(w, status, http.StatusText(status))
		return
	}
	http.Error(w, http.StatusText(status), status)
}
