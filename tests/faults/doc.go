// Package faults holds tenantgate's fault tests: real process-level faults
// against the local cluster (tests/cluster), with tenantgate run as
// separate bin/tenantgate OS processes (built from the source under test),
// as the Pods of manifests/default run it. Each test reports its figures in
// lines starting "figures:" (run with -v): requests sent, failed (answered
// with an error status) and lost (never answered).
//
//  1. Two webhook replicas; the one carrying the API server's connection is
//     killed (SIGKILL by pid) between two of 200 applies; no apply fails.
//  2. The kube-apiserver process is stopped and started again under
//     traffic; the proxy keeps serving with no failed request and converges
//     on a change made as soon as the API server is back.
//  3. One of two proxy replicas (the leader) killed under load; clients
//     retrying on a fresh connection to the other replica see no error and
//     the other replica's clients see nothing.
//  4. A backend Pod deleted mid-traffic: requests move to the remaining
//     endpoints; the failed count is printed and bounded.
//  5. Hostile clients: slow-header connections, oversized headers, request
//     smuggling (CL.TE, TE.CL, duplicate Content-Length, obs-fold).
//  6. Hostile objects: malformed and odd routes, grants and tenants (hand
//     written and generated from tenancy's fuzz corpus) through the real
//     API server; tenantgate keeps serving and every denial is clean.
//  7. A tenant's Secrets: 300 of 512 KiB written and one rewritten 100
//     times in its own namespace cost the gateway process no rebuild and
//     under 10 MiB of RSS; the one Secret a listener references still
//     rotates (secrets_test.go).
//
// Failure domains (issue 17); 9 and 10 run the webhook, the controllers and
// the data plane as separate processes (roles.go says how each role runs):
//
//  8. The API server stopped for 5 minutes under traffic to two
//     leader-elected gateway replicas: no failed request, no process exit,
//     status converges within 30s once it is back (leadership_test.go).
//  9. The leading controller SIGKILLed during 200 route changes: traffic
//     through the data plane sees no failed or lost request, the data
//     plane serves the changes made while no controller leads, the other
//     controller takes the Lease, and every change ends up served and
//     Accepted at its latest generation; the failover times are printed
//     (failover_test.go).
//  10. The data plane SIGKILLed every few seconds and started again while
//     500 HTTPRoutes are applied: no admission fails, as the webhook runs
//     in its own process (dataplane_test.go). The kills stand in for the
//     OOM killer, which also sends SIGKILL.
//
// High availability (with 3): with two replicas and -leader-elect, exactly
// one holds the Lease and makes write requests to the API (client-go's
// request metrics of the follower show none), and when it is killed the
// other takes the Lease over and keeps status converging.
//
// Stand-ins for what a real cluster provides, and why:
//   - Service endpoints: the API server calls one webhook URL. Balancer, a
//     TCP load balancer on that URL, forwards each connection to the next
//     live replica and drops a replica whose connect fails, as the
//     endpoints controller drops a dead Pod. TLS passes through untouched.
//   - The data-plane LoadBalancer: the proxy does not set SO_REUSEPORT, so
//     two processes cannot bind one Gateway ip:port on one machine. Each
//     proxy replica gets its own address pool, hence its own Gateway
//     address, as two LoadBalancer-backed replicas are two addresses behind
//     one external IP; clients of a replica that dies retry on the other's
//     address (what the external load balancer does for them).
//   - The split install's ServiceAccounts: -role=webhook and -role=dataplane
//     replicas run with a read-only identity (roles.go), as in
//     manifests/default, so a write they should never make would fail.
//   - An API server restart: envtest's APIServer.Stop deletes the
//     certificates it generated and Start makes new ones, so RestartAPIServer
//     stops the process and starts the same command line itself.
//
// Tests built with the "faults" tag (make test-faults) repeat the faults
// several times, and restart the API server once more with leader election
// off; the rest fit in `make test`.
//
// The package owns only test harness code; it must not change the product
// packages it exercises, nor the cluster harness.
package faults
