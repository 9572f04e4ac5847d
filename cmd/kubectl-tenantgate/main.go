// Command kubectl-tenantgate is the kubectl plugin of tenantgate: with it
// on PATH, `kubectl tenantgate explain` tells a team why its route is or is
// not serving, and `kubectl tenantgate check` runs the tenant policy over
// a manifest without applying it.
package main

import (
	"os"

	"github.com/tenantgate/tenantgate/cmd/kubectl-tenantgate/plugin"
)

func main() {
	os.Exit(plugin.Main(os.Args[1:], os.Stdout, os.Stderr))
}
