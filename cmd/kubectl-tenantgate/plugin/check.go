package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	"k8s.io/utils/ptr"
)

// fieldManager names the plugin's dry-run applies.
const fieldManager = "kubectl-tenantgate"

func newCheckCommand(flags *genericclioptions.ConfigFlags, warnings *warningLog) *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "check -f FILE",
		Short: "Run the tenant policy over a manifest without applying it (a server-side dry run) and report each object",
		Example: `  kubectl tenantgate check -f route.yaml
  kubectl tenantgate check -n apples -f manifests/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(files) == 0 {
				return fmt.Errorf("name the manifest to check with -f FILE (a file, a directory, or - for stdin)")
			}
			return check(cmd.OutOrStdout(), flags, warnings, files)
		},
	}
	cmd.Flags().StringSliceVarP(&files, "filename", "f", nil, "manifest files or directories to check, or - for stdin")
	return cmd
}

// verdict is the API server's answer to one dry-run apply.
type verdict struct {
	object   string   // "HTTPRoute apples/shop"
	denial   []string // why it would be refused; empty when admitted
	warnings []string
}

// check dry-runs a server-side apply of every object in files, so the
// admission webhook (and the API server's own validation) judge each one
// as they would on `kubectl apply`, and prints one verdict per object.
func check(out io.Writer, flags *genericclioptions.ConfigFlags, warnings *warningLog, files []string) error {
	ns, enforce, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}
	result := resource.NewBuilder(flags).Unstructured().ContinueOnError().
		NamespaceParam(ns).DefaultNamespace().
		FilenameParam(enforce, &resource.FilenameOptions{Filenames: files}).
		Flatten().Do()
	if err := result.Err(); err != nil {
		return err
	}
	var verdicts []verdict
	err = result.Visit(func(info *resource.Info, err error) error {
		if err != nil {
			return err
		}
		verdicts = append(verdicts, dryRunApply(info, warnings))
		return nil
	})
	if err != nil {
		return err
	}
	return report(out, verdicts)
}

// dryRunApply asks the API server what applying info would do.
func dryRunApply(info *resource.Info, warnings *warningLog) verdict {
	v := verdict{object: describe(info)}
	data, err := runtime.Encode(unstructured.UnstructuredJSONScheme, info.Object)
	if err != nil {
		v.denial = []string{err.Error()}
		return v
	}
	warnings.take()
	_, err = resource.NewHelper(info.Client, info.Mapping).DryRun(true).WithFieldManager(fieldManager).
		Patch(info.Namespace, info.Name, types.ApplyPatchType, data, &metav1.PatchOptions{Force: ptr.To(true)})
	v.warnings = warnings.take()
	if err != nil {
		v.denial = denialLines(err)
	}
	return v
}

// denialLines is the webhook's message, one line per violation, without
// the API server's wrapping; any other error as it is.
func denialLines(err error) []string {
	msg := err.Error()
	if apierrors.IsForbidden(err) {
		if _, after, ok := strings.Cut(msg, "denied the request: "); ok {
			msg = after
		}
	}
	return strings.Split(msg, "\n")
}

func describe(info *resource.Info) string {
	name := info.Name
	if info.Namespace != "" {
		name = info.Namespace + "/" + name
	}
	return info.Mapping.GroupVersionKind.Kind + " " + name
}

// report prints the verdicts and returns errFindings when any object would
// be refused.
func report(out io.Writer, verdicts []verdict) error {
	var denied, warned int
	for _, v := range verdicts {
		switch {
		case len(v.denial) > 0:
			denied++
			fmt.Fprintf(out, "✗ %s would be refused:\n", v.object)
			for _, l := range v.denial {
				fmt.Fprintf(out, "    %s\n", l)
			}
		case len(v.warnings) > 0:
			warned++
			fmt.Fprintf(out, "! %s would be admitted, with warnings:\n", v.object)
		default:
			fmt.Fprintf(out, "✓ %s would be admitted\n", v.object)
		}
		for _, w := range v.warnings {
			fmt.Fprintf(out, "    warning: %s\n", w)
		}
	}
	fmt.Fprintf(out, "%d %s checked: %d would be refused, %d admitted with warnings, %d admitted cleanly. Nothing was applied.\n",
		len(verdicts), plural(len(verdicts), "object", "objects"), denied, warned, len(verdicts)-denied-warned)
	if denied > 0 {
		return errFindings
	}
	return nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
