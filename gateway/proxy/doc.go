// Package proxy is the data plane: it binds the sockets a routetable.Table
// names and proxies each request to the endpoint its matched rule chooses.
// It owns sockets, TLS (certificate by SNI, 421 for a Host that belongs to
// another listener than the connection's), HTTP/1.1, HTTP/2 over TLS and h2c
// with prior knowledge on plain sockets, the filters, mirrors, timeouts,
// backend connection pools, metrics and the access log. It must not import
// Kubernetes packages or decide routing: matching and precedence belong to
// routetable, and anything the controller cannot program is its to report.
//
// On an HTTPS socket the SNI name picks the listener and its certificate
// the way a Host picks a listener; a client without SNI gets the listener
// without hostname, and the handshake fails when there is none. A listener
// with client certificate validation gets its own handshake settings, picked
// by SNI: a certificate chaining to its CAs is required (or, with insecure
// fallback, asked for and not checked), and session tickets are off so no
// connection skips the check.
//
// A TLS socket (passthrough.go) is not HTTP: each connection's ClientHello
// is read off the wire (clienthello.go parses the records itself, since
// crypto/tls cannot peek), its server name picks the listener and the
// TLSRoute as a Host would, a backend is chosen by weight (an unresolved
// one, a name no route claims or a malformed hello closes the connection)
// and the bytes are spliced both ways with half-close, the ClientHello
// replayed first. A listener with certificates (Terminate) completes the
// handshake itself and splices the plaintext. Open streams outlive a table
// swap unless the new table no longer routes their server name to the same
// resolved backend (a route, grant or tenant permission revoked), which
// closes them; a removed socket drains like an HTTP one.
//
// The fast path (fastpath*.go) serves the common case, HTTP/1.1 and
// HTTP/1.1 over TLS to a plain HTTP/1.1 backend, on the connection's own
// goroutine: it accepts (and handshakes) itself, parses the request head in
// place in a per-connection buffer, routes it with the same table lookup
// (NormalizePath, Listener, Match, the 421 check), writes it to a pooled
// backend connection (per endpoint: MaxIdleConnsPerHost idle, at most
// MaxConnsPerEndpoint open), reads the response head and streams the body
// back, Content-Length, chunked or until close, 1xx and trailers included.
// No goroutine, channel hand-off, context, URL or header map is made per
// request, and nothing is allocated in steady state (BenchmarkFastPath).
// It sends what ReverseProxy and http.Transport send (canonical header
// names, X-Forwarded-For/Host/Proto replaced, hop-by-hop headers dropped,
// Content-Length by Transport's rule) and answers what net/http answers
// (status line text, Date, a sniffed Content-Type, chunked for unknown
// lengths, Connection: close), and records the same metrics and access log.
// Its parser takes only a strict subset of HTTP/1.1 (origin-form, paths
// already normal and unescaped, token names, visible-ASCII values, one Host,
// at most one plain Content-Length); anything else, valid or not, and every
// request that needs more (h2 by ALPN, h2c, Upgrade, Expect, chunked or TE
// requests, gRPC, a rule with filters, mirrors, retries or timeouts, a
// backend with TLS or h2c, no route, no endpoint, a head over 8 KiB) hands
// the connection, with the bytes already read replayed, to the socket's
// http.Server for the rest of its life. So the smuggling, 431, obs-fold and
// 400 answers stay net/http's; FuzzFastPathFraming checks that the fast
// parser never accepts a request net/http refuses nor ends one elsewhere.
// A request on a pooled connection the backend has closed is sent again
// on a new one when its body was buffered whole, as http.Transport does.
//
// Own code, not valyala/fasthttp, from a measurement: fasthttp v1.78's
// Server with a HostClient proxying each request (no routing, no metrics),
// driven by the same raw loopback client and backend as BenchmarkFastPath
// in the same minutes, cost 18.7-20.3 µs of process CPU per request
// (client and backend included, 1 allocation) against 23.5-27.9 µs for
// this fast path with routing, path checks and metrics (0 allocations) and
// about 55-73 µs for the net/http path; both are dominated by the same four
// socket syscalls. What decides it is not the small difference but what
// fasthttp cannot do here: its Server owns the connection, so a request
// it should not serve cannot be given, with the bytes already read, to
// net/http for h2c, upgrades, filters, retries and mirrors; its request
// type would have to be converted for routetable and for ReverseProxy's
// header rules; and its parser is more lenient than net/http's, while this
// one takes only what net/http also accepts (FuzzFastPathFraming). It
// would also add compression libraries to the module graph.
//
// GOMAXPROCS follows the container's CPU limit without help: go.mod asks
// for Go 1.26, and since Go 1.25 the runtime reads the cgroup CPU limit.
// One accept loop per socket; SO_REUSEPORT was not added (see docs/bench).
//
// Apply swaps the whole table with an atomic pointer; a request reads the
// pointer once and keeps that table to its end. Sockets present in both
// tables are not touched; removed ones stop accepting at once and drain.
//
// A CORS filter (the chosen backendRef's, else the rule's) is answered
// here: a preflight gets 204, with the CORS headers only for an allowed
// origin, and never reaches the backend; other requests from an allowed
// origin get the gateway's CORS headers in place of the backend's.
//
// A backend with TLS settings (BackendTLSPolicy) is reached over HTTPS with
// its SNI, verified against its CAs and names, and shown the Gateway's
// client certificate (spec.tls.backend) when it has one; each distinct setting has
// its own connection pool, kept across table swaps while a table uses it.
//
// A rule's retry policy sends a backend request again, to the backend's
// next endpoint, when it cannot connect, is reset, outlives the rule's
// backendRequest timeout or answers a listed status, after an exponential
// backoff with jitter; the request timeout bounds all tries, and bodies
// over RetryBodyLimit and upgrades are tried once.
//
// Memory is bounded whatever clients send. A body is held (for mirrors and
// retries, once for both) only after its size, in 4 KiB chunks, is taken
// from one budget shared by all requests (MaxBufferedBodyBytes, 64 MiB);
// when the budget is spent the request still goes to its backend,
// streaming, unmirrored and tried once, and the metrics count it. Chunks
// are mapped outside the Go heap and reused, so the budget bounds RSS
// instead of being doubled by the collector. A body must arrive within
// BodyReadTimeout plus one second per 500 bytes (mod_reqtimeout's rule),
// else 408; each socket accepts at most MaxConnectionsPerListener
// connections (x/net's netutil.LimitListener), the rest wait in the
// kernel's queue.
//
// Every request path is normalised before it is matched, on every
// listener, and the backend receives the normal form (the query is left
// alone): escaped unreserved characters decoded and other escapes in
// uppercase hex (RFC 3986 §6.2.2), repeated slashes merged, then "." and
// ".." segments resolved (§5.2.4). This is what Envoy Gateway does by
// default (normalisation on, mergeSlashes on), so a host split by path
// between tenants is split by the path every backend will resolve. A path
// that climbs above the root, holds a raw "\", a control character, an
// invalid escape or a "..;" segment (read as ".." by Tomcat and Spring)
// gets 400 with the reason. An encoded "/" or "\" (%2F, %5C) is kept when
// decoding it would pick the same rule (GitLab's /api/v4/projects/a%2Fb
// works) and gets 400 when it would pick another rule or none: only then
// can a backend that decodes it be led outside the rule's URL space.
// Envoy Gateway's default instead redirects to the decoded path
// (UnescapeAndRedirect), which breaks such APIs (envoyproxy/gateway
// discussion 2842) and gives an attacker a 3xx rather than a refusal.
// Double-encoded sequences (%252F) are data and pass unchanged.
//
// Answers the proxy gives itself: 404 when no listener or rule matches, 421
// for a misdirected TLS request, 400 for a path refused by normalisation,
// 408 for a body sent too slowly, 500 for a rule without a usable backendRef
// (unresolved, or no weight), 503 for a backend without ready endpoints or
// whose endpoint refuses connections, 504 when a rule timeout expires, 502
// for other backend failures, 431 and 400 (from net/http) for oversized or
// malformed requests. A gRPC call (Content-Type application/grpc) gets
// these answers as gRPC statuses in a Trailers-Only response (HTTP 200, no
// body): UNIMPLEMENTED for no route, UNAVAILABLE for an invalid backendRef,
// no endpoint or a failed backend, DEADLINE_EXCEEDED for a timeout; a
// backend's own gRPC status and trailers pass through. Client-sent X-Forwarded-* headers are replaced, not
// extended: the proxy is the edge and does not trust them.
package proxy
