// Package webhook is tenantgate's validating admission webhook: thin
// admission.Validator[T] wrappers that ask package tenancy for a verdict on
// every route kind (HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute; v1,
// other served versions converted by the API server), ListenerSets,
// Gateways, ReferenceGrants (v1 and v1beta1), Tenants and Namespace label
// changes, turn it
// into an admission answer (deny with one line per violation, or admit with
// warnings), record metrics, and register on the manager's webhook server.
//
// It owns no policy: every rule lives in tenancy. It must not read the API
// itself; a tenancy.Source supplies the current *tenancy.Policy (the manager
// wires one backed by its cache).
package webhook
