// Package hostname holds the Gateway API's hostname semantics in one place:
// normalising names, wildcard coverage, the intersection of a listener's
// hostname with a route's, and specificity order. The tenant policy, the
// translator and the compiled route table all use it, so the webhook, the
// status and the data plane cannot disagree about which names a pattern
// matches.
//
// Patterns are plain strings: "" matches every name (a listener without a
// hostname), "*" is a bare wildcard (every name; only Tenants may write
// it), "*.example.com" matches every name below example.com (not
// example.com itself), anything else is an exact name. Comparisons ignore
// case and a trailing dot. The package knows nothing of Kubernetes types.
package hostname
