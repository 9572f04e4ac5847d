// Package controller is the gateway's thin edge to Kubernetes: it watches
// every object the translator reads, and on any change runs one reconcile of
// everything — snapshot the cache, assign Gateway addresses, translate.Build,
// compile and swap the route table into the data plane, then (on the leader
// only) write the status that changed and a Warning Event on each object
// whose status newly says it could not be programmed. The leader also keeps
// one Service per accepted Gateway (infrastructure.go): owned by the Gateway,
// carrying its spec.infrastructure labels and annotations and its listeners'
// ports. It has no selector (the data-plane Pods live in tenantgate-system):
// the leader writes its EndpointSlice from the cached data-plane Pods
// (endpointslices.go). Without an address pool each listener port goes to a
// target port of its own (translate.AssignTargetPorts; the Services are the
// only store, signed by the leader: targetports.go), which every data-plane
// process reads back and binds on every address. A class with dataPlane: dedicated gives each Gateway its own
// Deployment and PodDisruptionBudget in tenantgate-system (dataplanes.go; why
// there is written at the top of that file), which the shared data plane
// then leaves alone. A Service, EndpointSlice or Deployment of that name it
// did not make is never adopted, and a failed write shows in the Gateway's
// Programmed condition. Translation and policy live in translate and
// tenancy; this package decides nothing about routing itself.
//
// Only what is referenced is held: Secrets and ConfigMaps are watched as
// metadata only; references.go lists the ones the translator can read
// (certificateRefs, caCertificateRefs, clientCertificateRef) and refstore.go
// fetches just those from the API server when their resourceVersion moves.
// An event about any other Secret or ConfigMap rebuilds nothing. An
// EndpointSlice change rebuilds nothing either: the Service's endpoints are
// stored in the serving table in place (endpoints.go).
//
// A failed reconcile keeps the last good table, is counted and is retried
// with exponential backoff; a panic in Build or Compile is recovered here,
// logged as a bug and counted (metrics.go).
package controller
