// Package e2e drives the seed scenario (manifests/examples/seed) through the
// real API server, the webhook and the proxy, as a user would with kubectl
// and curl.
package e2e
