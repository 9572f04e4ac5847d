package plugin

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/client-go/rest"
)

// errFindings makes the exit code 1 when the command ran but found what
// the user must fix (a denied object, a route not serving).
var errFindings = errors.New("findings")

// Main runs the plugin with args and returns the exit code: 0 when all is
// well, 1 when something must be fixed, 2 when the command itself failed.
func Main(args []string, stdout, stderr io.Writer) int {
	cmd := NewCommand(stdout, stderr)
	cmd.SetArgs(args)
	switch err := cmd.Execute(); {
	case err == nil:
		return 0
	case errors.Is(err, errFindings):
		return 1
	default:
		fmt.Fprintln(stderr, "error:", err)
		return 2
	}
}

// NewCommand is the `kubectl tenantgate` command tree.
func NewCommand(stdout, stderr io.Writer) *cobra.Command {
	warnings := &warningLog{}
	flags := genericclioptions.NewConfigFlags(true).WithWrapConfigFn(func(c *rest.Config) *rest.Config {
		c.WarningHandler = warnings
		return c
	})
	root := &cobra.Command{
		Use:           "kubectl-tenantgate",
		Annotations:   map[string]string{cobra.CommandDisplayNameAnnotation: "kubectl tenantgate"},
		Short:         "Why a route is or is not serving, and the tenant policy over a manifest, with namespace-scoped rights",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	flags.AddFlags(root.PersistentFlags())
	root.AddCommand(newExplainCommand(flags, warnings), newCheckCommand(flags, warnings))
	return root
}

// warningLog keeps the API server's warnings (the webhook's) of the
// requests since the last take.
type warningLog struct {
	mu    sync.Mutex
	lines []string
}

func (w *warningLog) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.lines = append(w.lines, text)
}

// take returns the warnings so far and forgets them.
func (w *warningLog) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	lines := w.lines
	w.lines = nil
	return lines
}
