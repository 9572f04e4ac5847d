// Package v1alpha1 holds the Tenant API (group tenancy.tenantgate.dev): the
// cluster-scoped object with which a cluster admin declares what a team's
// namespaces, hostnames, gateways and ReferenceGrants may be. It owns only
// the types, their validation markers and the generated deepcopy functions;
// the policy that gives them meaning lives in package tenancy.
//
// Regenerate zz_generated.deepcopy.go and the CRD with hack/generate.sh.
//
// +kubebuilder:object:generate=true
// +groupName=tenancy.tenantgate.dev
package v1alpha1
