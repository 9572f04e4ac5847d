// Package node is the local node agent: it plays kubelet (and, for binding,
// the scheduler) for a single Node. It binds pending Pods to its Node, gives
// each Pod a network namespace on a Linux bridge, runs the images it knows as
// processes inside it with the Pod's environment, probes readiness and
// reports status, so the real EndpointSlice controller publishes real
// endpoints. It needs root. It owns its bridge, veths, namespaces and
// processes and removes all of them when it stops; it must not touch
// anything it did not create.
package node
