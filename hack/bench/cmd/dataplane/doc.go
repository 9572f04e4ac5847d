// Command dataplane is `make bench`'s data-plane driver. hack/bench/run.sh
// starts the backend and the proxies; this measures them in one interleaved
// run so that a noisy machine hurts every target alike: wrk closed loop over
// HTTP and HTTPS, then the open-loop generator at a share of each target's
// own maximum, then a CPU profile of tenantgate's proxy under the headline
// load. It writes results.DataPlane as JSON.
//
// It starts and stops no servers (run.sh owns their processes) and sends
// traffic only to the URLs it is given.
package main
