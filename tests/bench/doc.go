// Package bench measures tenantgate's control plane and webhook at scale on
// the local cluster (tests/stack, tenantgate in-process): time from applying
// 1,000 and 5,000 HTTPRoutes to all of them serving and Accepted, route
// change to wire latency with 5,000 routes beside the floor (a bare
// watcher's delivery of the same change, in the same run), endpoint change
// to wire latency, the process's memory, and the API server's admission
// latency for the webhook with 10,000 routes and 1,000 tenants. With
// -bench.large: 20,000 routes over 100 namespaces and 2,000 tenants. The figures come only from BenchmarkControlPlane, which
// `make bench` (hack/bench/run.sh) runs once with -benchtime=1x; `go test`
// runs only the fast tests of the pure helpers here. It must not be
// imported: it owns no product code.
package bench
