// Package routetable owns the data plane's configuration: Config, the plain
// value the translator produces, and Table, its compiled, immutable form that
// the proxy matches requests against (hostnames, then precedence-sorted
// rules, then weighted backends). It imports no Kubernetes packages and does
// no I/O.
package routetable
