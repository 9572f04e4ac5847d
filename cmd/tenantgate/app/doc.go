// Package app assembles tenantgate from flags: logging, the controller-runtime
// manager (cache, health and metrics endpoints), the leadership the writers
// are gated on (a Lease campaign that never ends the process) and the parts
// its -role runs (roles.go: all, webhook, controller or dataplane). It holds
// no policy or gateway logic of its own; the local cluster runner reuses it
// to start tenantgate in-process.
package app
