// Command tenantgate is the one binary: the tenant-policy admission webhook
// and the Gateway API gateway (controller and proxy), as flags enable them.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
)

func main() {
	opts, err := app.ParseFlags(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if err := app.Run(ctrl.SetupSignalHandler(), opts, nil); err != nil {
		fmt.Fprintln(os.Stderr, "tenantgate:", err)
		os.Exit(1)
	}
}
