// Package conformance runs the official Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, GATEWAY-HTTP profile) in-process
// against the local cluster and tenantgate. `make test` runs a smoke subset;
// `make conformance` runs the whole profile and writes the suite's own
// ConformanceReport.
package conformance
