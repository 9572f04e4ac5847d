// Package controller is the gateway's thin edge to Kubernetes: it watches
// every object the translator reads, and on any change runs one reconcile of
// everything — snapshot the cache, assign Gateway addresses, translate.Build,
// compile and swap the route table into the data plane, then (on the leader
// only) write the status that changed and a Warning Event on each object
// whose status newly says it could not be programmed. The leader also keeps
// one Service per accepted Gateway (infrastructure.go): owned by the Gateway,
// carrying its spec.infrastructure labels and annotations and its listeners'
// ports, selecting the data-plane Pods; a Service of that name it does not
// control is never adopted. Translation and policy
// live in translate and tenancy; this package decides nothing about routing
// itself.
//
// Only what is referenced is held: Secrets and ConfigMaps are watched as
// metadata only; references.go lists the ones the translator can read
// (certificateRefs, caCertificateRefs, clientCertificateRef) and refstore.go
// fetches just those from the API server when their resourceVersion moves.
// An event about any other Secret or ConfigMap rebuilds nothing.
//
// A failed reconcile keeps the last good table, is counted and is retried
// with exponential backoff; a panic in Build or Compile is recovered here,
// logged as a bug and counted (metrics.go).
package controller
