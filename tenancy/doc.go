// Package tenancy is tenantgate's policy engine: given plain snapshots of
// Tenants, Namespaces, Gateways, ListenerSets, routes of every kind and
// ReferenceGrants it decides which routes, listeners, grants and namespace
// moves cross a tenant's boundary and which Tenants overlap, returning
// field errors with one-line messages and warnings. The Gateway API
// semantics it needs (listener admission, ListenerSet attachment, parentRef
// selection, grant matching, hostname patterns) are kept in gateways.go,
// grant.go and hostnames.go, to be swapped for a shared model.
//
// It owns the rules of design.md "Policy, in words" and the indexes that make
// each check cheap; it is pure: no API calls, no clocks, no globals, and a
// Policy is immutable and safe for concurrent use. It must not import the
// webhook, controller or proxy packages; they call it (the webhook to deny,
// the gateway translator to refuse programming what slipped past).
package tenancy
