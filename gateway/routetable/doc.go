// Package routetable owns the data plane's configuration: Config, the plain
// value the translator produces, and Table, its compiled, immutable form that
// the proxy matches requests against. It imports no Kubernetes packages, does
// no I/O and must not learn about sockets or HTTP serving; that is the
// proxy's job.
//
// Compile never fails as a whole: a listener or a rule that does not compile
// is left out and reported as a Fault, and everything else is served. The
// checks it makes live in exported functions (CompileRegex with its length,
// nesting and program-size limits, ParseCACertificates) that the translator
// and admission call to validate, so what they accept compiles. A Compiler
// compiles Config after Config at a cost that follows the change (share.go):
// per listener it keeps the compiled routes, recognized by the identity of
// their rules and hostnames, each hostname's route group and the hostname
// index, and rebuilds only the groups of hostnames a changed route had or
// has. The index's maps are sharded by key hash (shardmap.go), so a new
// Table copies the few shards it changes and shares the rest, and an
// unchanged listener whole, with the Table before it; a published Table is
// never written again.
//
// Compile groups listeners into sockets by (Address, Port). On a socket a
// request belongs to the listener with the most specific matching hostname
// (exact, then the longest wildcard suffix, then the listener without one);
// hostnames compare without port or trailing dot, case-insensitively, and
// "*.a.com" matches any number of labels before ".a.com" but not "a.com".
//
// A TLS listener (tls.go) indexes its TLSRoutes by SNI name the same way:
// exact, longest wildcard, then a route without hostnames; the oldest route
// keeps a name two claim. With certificates it terminates, else it passes
// TLS through.
//
// Inside a listener, routes are grouped by hostname. A request is tried
// against the group of its most specific matching route hostname first and
// falls through to less specific ones (a route without hostnames takes the
// listener's), as HTTPRouteSpec.Hostnames orders them: longer wildcards,
// then "*", then the catch-all, walked at lookup time from the host's own
// suffixes so no group points at another. Within a group the
// matches are sorted as HTTPRouteRule.Matches requires: Exact path, then
// RegularExpression (implementation-specific: ahead of prefixes so the
// default "/" never shadows one), then the longest PathPrefix, then method,
// most headers, most query parameters, the oldest route, "namespace/name",
// rule index and match index. Paths compare in escaped form; PathPrefix is
// segment-aware and ignores a trailing slash. Regular expressions are RE2,
// anchored to match the whole value, and compiled once by CompileRegex.
//
// A GRPCRoute's matches (Route.GRPC) are gRPC method matches on the path
// "/service/method", Exact or RE2 per part, and come before HTTPRoutes'
// under a hostname (the translator never lets both kinds share one). They
// are ordered as GRPCRouteRule.Matches requires: most characters in the
// service, then the method, most headers, the oldest route,
// "namespace/name", rule and match index; for service and method alike an
// exact name ranks before a regular expression (implementation-specific;
// as an Exact path before a RegularExpression one), longer expressions
// first. Exact service-and-method matches are found by map lookup (about
// 260 ns with 10,000 of them on a host); only matches ranked above the best
// of them are tested.
//
// CORS filters are compiled to parsed origin patterns (scheme, host with an
// optional leading "*." wildcard, port defaulted by scheme) and pre-joined
// header values; checking an Origin does not allocate.
//
// Backend TLS settings compile to a shared client tls.Config and a key that
// is equal for equal settings in any table; listener client validation to
// a CA pool and the handshake's ClientAuth.
//
// A lookup does not allocate unless the Host has upper-case letters, a
// matched header is repeated or a matched query parameter is escaped. Backends are chosen by weight (weight 0
// never), endpoints round robin.
package routetable
