// Package cluster runs a real local Kubernetes control plane for tests and for
// `make run`: etcd and kube-apiserver (through controller-runtime's envtest,
// with RBAC, Node authorization and service-account signing keys),
// kube-controller-manager, the Gateway API and tenantgate CRDs, and a node
// agent (package node) that runs Pods in network namespaces. It is the only
// place that starts these processes, and Stop removes every one of them.
// It must not import tenantgate's own gateway or webhook packages.
package cluster
