// Package controller is the gateway's thin edge to Kubernetes: it watches
// every object the translator reads, and on any change runs one reconcile of
// everything — snapshot the cache, assign Gateway addresses, translate.Build,
// compile and swap the route table into the data plane, then (on the leader
// only) write the status that changed. Translation and policy live in
// translate and tenancy; this package decides nothing about routing itself.
package controller
