// Command floorcontroller is the least a Gateway API controller built on
// controller-runtime does for one HTTPRoute change: it admits the change
// through a validating webhook that allows everything, receives it (and
// its own status write's echo) through the cache's watch, and writes one
// status that says it saw the new generation. tests/bench runs it against
// the same cluster, routes and changes as tenantgate, with tenantgate
// paused, and reports its CPU per change as the floor tenantgate's is
// compared with: what is above it is tenantgate's own work (policy,
// translation, the table, the proxy), the rest is the libraries', the API
// server's wire format and Go's.
//
// It must not grow features: it stands for the per-change cost every
// controller of the kind pays, whatever it then does.
package main
