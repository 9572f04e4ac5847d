// Package certmanager runs real cert-manager, built from its Go module, inside
// the calling process against a local API server: its own CRDs (the module's
// deploy/crds), the controllers that issue Certificates from self-signed and
// CA Issuers, and the CA injector. Nothing is mocked: the code is
// cert-manager's, wired the way its cmd/controller and cmd/cainjector wire it,
// without leader election, metrics servers or the ACME, Vault and Venafi issuers.
package certmanager
