// Package translate turns a snapshot of Gateway API objects into the data
// plane's routetable.Config and the exact status every GatewayClass,
// Gateway, ListenerSet, HTTPRoute, GRPCRoute, TLSRoute and BackendTLSPolicy of
// our controller should carry.
//
// Build is a pure function: it reads only its Snapshot (no API calls, no
// clock, no globals), sorts what it reads, and returns the same Result for the
// same input. The gateway controller fills the Snapshot from its cache, swaps
// Result.Config into the proxy and writes Result's statuses with the merge
// helpers in merge.go, which keep other controllers' entries and unchanged
// transition times.
//
// Build runs in stages, one file each: gatewayclass.go (classes we own,
// with classparams.go reading their parameters ConfigMap: serviceType),
// gateways.go (addresses, Gateway conditions, the backend client
// certificate), listeners.go (protocol, TLS, allowedRoutes, conflicts by
// precedence), listenersets.go (ListenerSets: allowedListeners,
// precedence, status), frontendtls.go (client certificate validation
// per port), cacerts.go (CA bundles from ConfigMaps and Secrets),
// backendtls.go (BackendTLSPolicy precedence, validation and ancestor
// status), routes.go (parent attachment and route status),
// rules.go and filters.go (HTTPRoute rules into routetable rules),
// grpcroutes.go (GRPCRoute rules, the HTTPRoute-versus-GRPCRoute hostname
// conflicts on a listener), backends.go
// (Services and EndpointSlices), referencegrant.go (cross-namespace checks),
// hostnames.go (listener/route hostname intersection), tlslisteners.go
// (TLS listener modes) and tlsroutes.go (TLSRoute attachment, backends and
// status).
//
// Choices the spec leaves open: a Gateway is served on exactly one IP
// address; a GatewayClass's parameters are a core ConfigMap whose only key
// is serviceType (the type of each Gateway's Service); a Gateway's own
// spec.infrastructure.parametersRef is InvalidParameters (none is taken); a listener the data plane failed to bind stays in the Config (so
// the data plane keeps retrying) while its status says PortUnavailable; an
// invalid rule is dropped and reported with PartiallyInvalid ("Dropped
// Rule"); regular expressions use Go's RE2 syntax; a rule with no backends
// and no redirect has an empty backend list, which the proxy answers with
// 500; a retry policy without attempts retries once, without backoff waits
// 25ms, and also retries connection errors and backendRequest timeouts; a
// BackendTLSPolicy applies per target it wins (a policy naming several
// targets may win some), its ancestors are the Gateways that accepted a
// route referencing a target, and one without a usable CA makes its
// backends answer 500 rather than go in the clear; TLS listeners serve
// Passthrough and Terminate (both may share a port) but no TLS listener
// shares a port with an HTTPS one (ProtocolConflict); a TLSRoute's
// backends are plain TCP (appProtocol and BackendTLSPolicy do not apply,
// so Terminate does not re-encrypt), and where two TLSRoutes on a listener
// claim one SNI name the oldest takes it; appProtocol https needs
// a BackendTLSPolicy; a ListenerSet's listener that loses a port conflict to
// an earlier one reports the conflict as its Accepted and Programmed reason,
// and a ListenerSet's listeners are not part of its Gateway's status. A
// GRPCRoute's backends are spoken to over h2c (a Service port without
// appProtocol too), over HTTP/2 on TLS with a BackendTLSPolicy, and a
// WebSocket port is UnsupportedProtocol; where an HTTPRoute and a GRPCRoute would serve one
// hostname on a listener, the later one's parent entry is
// Accepted=False/HostnameConflict.
//
// Incremental is Build for a controller that translates snapshot after
// snapshot: it reuses each route's translation, verdict and stage while
// their inputs are unchanged (by resourceVersion), keeps the route order
// and each listener's sorted routes across snapshots, lays the changed
// HTTPRoute statuses over the last Result's (RouteStatuses), and equals
// Build on the same snapshot (TestIncrementalEqualsBuild). A snapshot that
// says which HTTPRoutes changed since the last (Snapshot.HTTPRouteChanges,
// from the controller's log of route events) is translated by looking at
// those routes alone while nothing else changed (incremental_skip.go): a
// change to one route among 20,000 then costs what that route touches.
//
// This package must not touch the API server, the proxy or the route table's
// compiled form; it owns only the translation and its golden tests in
// testdata (NAME.in.yaml objects -> NAME.out.yaml config and status; run
// `go test ./gateway/translate -update` to regenerate).
package translate
