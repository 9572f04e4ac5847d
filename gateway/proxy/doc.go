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
