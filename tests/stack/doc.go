// Package stack starts the whole system for integration and end-to-end
// tests: the local cluster (tests/cluster) with tenantgate's webhook
// configuration installed pointing at this process, and tenantgate itself
// in-process, exactly as cmd/tenantgate assembles it, or as the built
// binary in a process of its own when its memory and CPU are measured. It also offers the
// small helpers those tests share (typed client, kubectl, waiting).
package stack
