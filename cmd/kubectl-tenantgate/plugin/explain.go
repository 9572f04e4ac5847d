package plugin

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/resource"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// routeKinds are the kinds explain accepts, as kubectl names them.
var routeKinds = []string{"httproute", "grpcroute", "tlsroute", "tcproute", "udproute"}

func newExplainCommand(flags *genericclioptions.ConfigFlags, warnings *warningLog) *cobra.Command {
	return &cobra.Command{
		Use:   "explain KIND NAME",
		Short: "Tell, parent by parent, why a route is or is not serving: listener admission, hostnames, grants, tenant rules",
		Example: `  kubectl tenantgate explain httproute shop -n apples
  kubectl tenantgate explain grpcroute/billing -n apples`,
		Args: cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := strings.ToLower(strings.SplitN(args[0], "/", 2)[0])
			if !isRouteKind(kind) {
				return fmt.Errorf("%q is not a route kind; explain one of %s", args[0], strings.Join(routeKinds, ", "))
			}
			return explain(cmd.OutOrStdout(), flags, warnings, args)
		},
	}
}

func isRouteKind(kind string) bool {
	for _, k := range routeKinds {
		if kind == k || kind == k+"s" || strings.HasPrefix(kind, k+".") || strings.HasPrefix(kind, k+"s.") {
			return true
		}
	}
	return false
}

// route is what every route kind has in common: parentRefs in, parent
// statuses out.
type route struct {
	Metadata struct {
		Namespace  string `json:"namespace"`
		Name       string `json:"name"`
		Generation int64  `json:"generation"`
	} `json:"metadata"`
	Spec struct {
		ParentRefs []gatewayv1.ParentReference `json:"parentRefs"`
	} `json:"spec"`
	Status gatewayv1.RouteStatus `json:"status"`
}

// explain fetches the route and prints the tenant policy's current answer
// and every parent's status, as a person would piece them together.
func explain(out io.Writer, flags *genericclioptions.ConfigFlags, warnings *warningLog, args []string) error {
	ns, _, err := flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return err
	}
	info, err := resource.NewBuilder(flags).Unstructured().NamespaceParam(ns).DefaultNamespace().
		ResourceTypeOrNameArgs(true, args...).SingleResourceType().Flatten().Do().Object()
	if err != nil {
		return err
	}
	u, ok := info.(*unstructured.Unstructured)
	if !ok {
		return fmt.Errorf("%s %s is not a single object", args[0], strings.Join(args[1:], " "))
	}
	var r route
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
		return fmt.Errorf("reading %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
	}
	fmt.Fprintf(out, "%s %s/%s (generation %d)\n\n", u.GetKind(), r.Metadata.Namespace, r.Metadata.Name, r.Metadata.Generation)
	findings := policySection(out, flags, warnings, u)
	serving := 0
	for i, ref := range r.Spec.ParentRefs {
		if parentSection(out, &r, i, ref) {
			serving++
		}
	}
	switch n := len(r.Spec.ParentRefs); {
	case n == 0:
		fmt.Fprintln(out, "The route has no parentRefs: it attaches to nothing. Add a parentRef naming a Gateway (or ListenerSet) it may use.")
		findings = true
	default:
		fmt.Fprintf(out, "Serving through %d of %d %s.\n", serving, n, plural(n, "parent", "parents"))
		findings = findings || serving < n
	}
	if findings {
		return errFindings
	}
	return nil
}

// policySection dry-runs an update of the route as it is. The webhook
// admits an update that keeps the spec, and warns with every violation the
// route has now (for example after a Tenant or grant changed), so this
// needs no more than edit rights on the route.
func policySection(out io.Writer, flags *genericclioptions.ConfigFlags, warnings *warningLog, u *unstructured.Unstructured) (findings bool) {
	fmt.Fprintln(out, "Admission webhook (its answer to a dry-run update of the route as it is):")
	infos, err := resource.NewBuilder(flags).Unstructured().NamespaceParam(u.GetNamespace()).
		ResourceTypeOrNameArgs(true, strings.ToLower(u.GetKind())+"."+u.GroupVersionKind().Group, u.GetName()).Flatten().Do().Infos()
	if err == nil && len(infos) == 1 {
		warnings.take()
		_, err = resource.NewHelper(infos[0].Client, infos[0].Mapping).DryRun(true).WithFieldManager(fieldManager).
			Replace(u.GetNamespace(), u.GetName(), true, u)
	}
	lines := warnings.take()
	switch {
	case err != nil:
		fmt.Fprintf(out, "  ? could not ask: %v\n", err)
	case len(lines) == 0:
		fmt.Fprintln(out, "  ✓ no violations: the route's hostnames, parents, paths and backends are its tenant's to use")
	default:
		for _, l := range lines {
			fmt.Fprintf(out, "  ✗ %s\n", l)
		}
		findings = true
	}
	fmt.Fprintln(out)
	return findings
}

// parentSection prints what the gateways reported for parentRef i and
// says whether one of them accepted the route there.
func parentSection(out io.Writer, r *route, i int, ref gatewayv1.ParentReference) (accepted bool) {
	fmt.Fprintf(out, "Parent %d of %d: %s\n", i+1, len(r.Spec.ParentRefs), describeParent(ref, r.Metadata.Namespace))
	reported := false
	for _, ps := range r.Status.Parents {
		if !sameParent(ps.ParentRef, ref, r.Metadata.Namespace) {
			continue
		}
		reported = true
		fmt.Fprintf(out, "  reported by %s", ps.ControllerName)
		stale := false
		for _, c := range ps.Conditions {
			if c.ObservedGeneration < r.Metadata.Generation {
				stale = true
			}
		}
		if stale {
			fmt.Fprintf(out, " for an older generation: the gateway has not caught up with the last change yet")
		}
		fmt.Fprintln(out)
		for _, c := range ps.Conditions {
			mark := "✓"
			if c.Status != "True" {
				mark = "✗"
			}
			fmt.Fprintf(out, "  %s %s (%s): %s\n", mark, c.Type, c.Reason, c.Message)
			if c.Type == string(gatewayv1.RouteConditionAccepted) && c.Status == "True" {
				accepted = true
			}
		}
	}
	if !reported {
		fmt.Fprintln(out, "  ✗ no gateway has reported on this parent: the parent does not exist, its GatewayClass has no running controller, or the gateway has not seen the route yet")
	}
	fmt.Fprintln(out)
	return accepted
}

// describeParent is "Gateway infra/shared, listener http, port 80".
func describeParent(ref gatewayv1.ParentReference, routeNS string) string {
	kind, ns := "Gateway", routeNS
	if ref.Kind != nil {
		kind = string(*ref.Kind)
	}
	if ref.Namespace != nil {
		ns = string(*ref.Namespace)
	}
	s := fmt.Sprintf("%s %s/%s", kind, ns, ref.Name)
	if ref.SectionName != nil {
		s += ", listener " + string(*ref.SectionName)
	}
	if ref.Port != nil {
		s += fmt.Sprintf(", port %d", *ref.Port)
	}
	return s
}

// sameParent compares parent references with the spec's defaults applied.
func sameParent(a, b gatewayv1.ParentReference, routeNS string) bool {
	return describeParent(a, routeNS) == describeParent(b, routeNS) && group(a) == group(b)
}

func group(ref gatewayv1.ParentReference) string {
	if ref.Group == nil {
		return gatewayv1.GroupName
	}
	return string(*ref.Group)
}
