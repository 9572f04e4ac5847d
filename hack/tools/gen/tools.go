//go:build tools

// Package gen pins controller-gen, which hack/generate.sh builds into bin/
// to generate the Tenant API's deepcopy functions and CRD.
package gen

import (
	_ "sigs.k8s.io/controller-tools/cmd/controller-gen"
)
