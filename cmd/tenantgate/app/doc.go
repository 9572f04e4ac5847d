// Package app assembles tenantgate from flags: logging, the controller-runtime
// manager (cache, health and metrics endpoints, leader election) and the
// parts the flags enable. It holds no policy or gateway logic of its own; the
// local cluster runner reuses it to start tenantgate in-process.
package app
