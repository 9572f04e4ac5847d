// Package conformance runs the official Gateway API conformance suite
// (sigs.k8s.io/gateway-api/conformance, GATEWAY-HTTP profile) in-process
// against the local cluster and tenantgate. `make test` runs a smoke subset;
// `make conformance` runs the whole profile and writes the suite's own
// ConformanceReport.
//
// The cluster runs the Gateway API experimental CRD channel (HTTPRoute
// retry exists only there), so the report says gatewayAPIChannel:
// experimental.
package conformance
