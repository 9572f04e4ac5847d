// Package roles runs tenantgate as manifests/default deploys it: one OS
// process per role (webhook, controller, dataplane) of the one binary,
// against the real API server of tests/cluster. Process starts one, Build
// compiles the binary under test; the tests check what each role does and,
// as much, what it never does (bind a proxy port, write to the API).
package roles
