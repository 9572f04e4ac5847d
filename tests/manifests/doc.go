// Package manifests tests the install: manifests/default as kubectl's own
// kustomize renders it, decoded strictly into typed objects (Kubernetes types,
// and cert-manager's pkg/apis types for Issuers and Certificates), checked for
// the properties a production install relies on, and applied with server-side
// dry-run to a real API server with the Gateway API, tenantgate and
// cert-manager CRDs. It also builds the binary exactly as the Dockerfile does
// and checks that it is static. It owns no code the product uses and must not
// edit the manifests it checks.
package manifests
