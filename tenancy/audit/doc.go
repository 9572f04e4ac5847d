// Package audit writes each Tenant's status from the tenant policy: its
// resolved namespaces, the Ready, HostnameConflict and NamespaceConflict
// conditions, and the existing objects that break its policy (created
// before the policy, or while the webhook was down).
//
// It is a thin controller: the findings come from
// (*tenancy.Policy).TenantStatus and TenantReport.Conditions, and Status
// only merges them into the current status so unchanged conditions keep
// their LastTransitionTime. It writes only Tenant status, only when it
// changed, and only on the elected leader. It must not decide policy, read
// the API outside the manager's cache, or write any other object.
package audit
