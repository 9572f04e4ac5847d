// Package model is the one place Gateway API attachment semantics are
// written: the listeners of Gateways and ListenerSets with their admission
// resolved (route kinds by protocol, allowedRoutes namespaces
// Same/All/Selector, a ListenerSet admitted by its Gateway's
// allowedListeners, precedence), parentRef selection (sectionName, port),
// route-to-listener attachment with hostname intersection, and the
// ReferenceGrant index. Its answers are findings: a reason, the text a
// person reads, and what they concern.
//
// Both halves of tenantgate take it: the tenant policy (tenancy), whose
// webhook warnings say why a route will not attach, and the translator
// (gateway/translate), whose status conditions say the same thing, so the
// two cannot disagree. It is pure: Kubernetes types in, no I/O, no clock,
// no globals; New indexes a snapshot and the result is immutable.
//
// It must not import tenancy, the translator, the controller or the proxy,
// and it does not judge tenant policy, TLS, addresses or backends: callers
// add what is theirs on top of the attachment it resolves.
package model
