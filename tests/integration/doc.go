// Package integration checks tenant policy end to end through the real
// kube-apiserver: kubectl applies objects, the API server calls tenantgate's
// validating webhook over TLS, and the tests assert the exact text a person
// sees (denials and Warning lines), the webhook's metrics, and the Tenant
// status the audit writes. One cluster serves the whole package
// (testdata/world.yaml plus the seed's namespaces, Gateway and Tenants).
//
// It owns only these tests; it must not change tenantgate's packages or the
// stack, and it talks only to the local cluster.
package integration
