//go:build tools

// Package kube pins the Kubernetes control-plane commands that hack/tools.sh
// builds into bin/ for the local cluster.
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
