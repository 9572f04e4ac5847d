package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// policyLag bounds how long the webhook may answer from a policy that has
// not yet seen the last change (it is built from the manager's cache).
const policyLag = 10 * time.Second

// harness is the package's one cluster, with tenantgate, the seed's
// namespaces, Gateway and Tenants, and testdata/world.yaml applied.
type harness struct {
	s    *stack.Stack
	seed string // manifests/examples/seed
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{
		s:    stack.Start(t, stack.Options{AddressPool: "127.50.0.0/16", PlatformNamespaces: []string{"infra"}}),
		seed: filepath.Join(root, "manifests", "examples", "seed"),
	}
	for _, f := range []string{"00-namespaces.yaml", "02-gateway.yaml", "03-tenants.yaml"} {
		h.mustKubectl(t, "", "apply", "-f", filepath.Join(h.seed, f))
	}
	h.mustKubectl(t, "", "apply", "-f", filepath.Join("testdata", "world.yaml"))
	return h
}

func (h *harness) mustKubectl(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, err := h.s.Kubectl(stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// want is the webhook's answer to one kubectl apply: the denial lines (none
// means admitted) and the warnings, each exactly as tenantgate words them.
type want struct {
	denied   []string
	warnings []string
}

// applyOutput is everything kubectl apply prints for a new object: a
// Warning line per warning, then "created" or the denial.
func applyOutput(obj client.Object, w want, dryRun bool) string {
	var b strings.Builder
	for _, line := range w.warnings {
		b.WriteString("Warning: " + line + "\n")
	}
	if len(w.denied) > 0 {
		fmt.Fprintf(&b, "Error from server (Forbidden): error when creating \"STDIN\": admission webhook %q denied the request: %s\n",
			webhookFor(obj), strings.Join(w.denied, "\n"))
		return b.String()
	}
	fmt.Fprintf(&b, "%s created", resourceName(obj))
	if dryRun {
		b.WriteString(" (server dry run)")
	}
	b.WriteString("\n")
	return b.String()
}

// resourceName is how kubectl names an object, e.g.
// "httproute.gateway.networking.k8s.io/shop".
func resourceName(obj client.Object) string {
	gvk := obj.GetObjectKind().GroupVersionKind()
	return strings.ToLower(gvk.Kind) + "." + gvk.Group + "/" + obj.GetName()
}

// webhookFor names the webhook of manifests/webhook/validating.yaml that
// checks obj.
func webhookFor(obj client.Object) string {
	gvk := obj.GetObjectKind().GroupVersionKind()
	switch gvk.Kind {
	case "ReferenceGrant":
		return "referencegrants-" + gvk.Version + ".tenantgate.dev"
	case "":
		return "tenants.tenantgate.dev"
	default: // HTTPRoute -> httproutes.tenantgate.dev, and so on
		return strings.ToLower(gvk.Kind) + "s.tenantgate.dev"
	}
}

// expectApply applies a new object with kubectl and asserts the whole
// output (see expectApplyText).
func (h *harness) expectApply(t *testing.T, obj client.Object, w want) {
	t.Helper()
	h.expectApplyText(t, manifest(t, obj), obj, w)
}

// expectApplyText applies text, the manifest of the new object obj, and
// asserts the whole output. It first waits (server-side dry runs, at most
// policyLag) until the webhook gives that answer, so a policy that has not
// yet seen the last change cannot leave a wrongly admitted object behind.
// Admitted objects are deleted when the test ends.
func (h *harness) expectApplyText(t *testing.T, text string, obj client.Object, w want) {
	t.Helper()
	h.awaitAnswer(t, text, func(out string) bool { return out == applyOutput(obj, w, true) }, applyOutput(obj, w, true))
	out, err := h.s.Kubectl(text, "apply", "-f", "-")
	t.Logf("$ kubectl apply -f - <<EOF\n%sEOF\n%s", text, out)
	if len(w.denied) == 0 && err == nil {
		t.Cleanup(func() { h.delete(t, obj) })
	}
	if (err != nil) != (len(w.denied) > 0) {
		t.Errorf("kubectl apply exit error = %v, want an error only for a denial", err)
	}
	if wantOut := applyOutput(obj, w, false); out != wantOut {
		t.Errorf("kubectl apply printed:\n%s\nwant:\n%s\nof:\n%s", out, wantOut, text)
	}
}

// expectUpdateDenied applies a changed version of an existing object and
// asserts that the webhook denies it: kubectl prints the Warning lines, the
// patch it tried, then the denial.
func (h *harness) expectUpdateDenied(t *testing.T, obj client.Object, w want) {
	t.Helper()
	var head strings.Builder
	for _, line := range w.warnings {
		head.WriteString("Warning: " + line + "\n")
	}
	head.WriteString("Error from server (Forbidden): error when applying patch:\n")
	tail := fmt.Sprintf("for: \"STDIN\": error when patching \"STDIN\": admission webhook %q denied the request: %s\n",
		webhookFor(obj), strings.Join(w.denied, "\n"))
	matches := func(out string) bool { return strings.HasPrefix(out, head.String()) && strings.HasSuffix(out, tail) }
	text := manifest(t, obj)
	h.awaitAnswer(t, text, matches, head.String()+"...\n"+tail)
	out, err := h.s.Kubectl(text, "apply", "-f", "-")
	t.Logf("$ kubectl apply -f - <<EOF\n%sEOF\n%s", text, out)
	if err == nil || !matches(out) {
		t.Errorf("kubectl apply of the update: error %v, printed:\n%s\nwant:\n%s...\n%s", err, out, head.String(), tail)
	}
}

// awaitAnswer repeats a server-side dry run of text until what kubectl
// prints is right (described by wantOut), failing after policyLag.
func (h *harness) awaitAnswer(t *testing.T, text string, right func(out string) bool, wantOut string) {
	t.Helper()
	stack.Eventually(t, policyLag, "the webhook's answer", func(context.Context) (bool, string) {
		out, _ := h.s.Kubectl(text, "apply", "--dry-run=server", "-f", "-")
		return right(out), fmt.Sprintf("kubectl printed:\n%s\nwant:\n%s\nof:\n%s", out, wantOut, text)
	})
}

// delete removes an object the test created, and waits until it is gone.
func (h *harness) delete(t *testing.T, obj client.Object) {
	t.Helper()
	if err := client.IgnoreNotFound(h.s.Client.Delete(context.Background(), obj)); err != nil {
		t.Errorf("deleting %s: %v", resourceName(obj), err)
		return
	}
	stack.Eventually(t, policyLag, resourceName(obj)+" deleted", func(ctx context.Context) (bool, string) {
		err := h.s.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object))
		return apierrors.IsNotFound(err), fmt.Sprint(err)
	})
}

// manifest renders an object as the YAML a person would apply: no status,
// no empty creationTimestamp.
func manifest(t *testing.T, obj client.Object) string {
	t.Helper()
	data, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	delete(fields, "status")
	if meta, ok := fields["metadata"].(map[string]any); ok {
		delete(meta, "creationTimestamp")
	}
	out, err := yaml.Marshal(fields)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

var notNameChars = regexp.MustCompile(`[^a-z0-9]+`)

// objectName turns a case name into an object name (a DNS label), so
// kubectl's output says which case made the object.
func objectName(caseName string) string {
	s := strings.Trim(notNameChars.ReplaceAllString(strings.ToLower(caseName), "-"), "-")
	if len(s) > 63 {
		s = strings.TrimRight(s[:63], "-")
	}
	return s
}

// admissionCase is one object applied with kubectl and the answer it gets.
type admissionCase struct {
	name string
	obj  client.Object // namespaced objects are named after the case
	want
}

func (h *harness) runCases(t *testing.T, cases []admissionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.obj.GetNamespace() != "" {
				tc.obj.SetName(objectName(tc.name))
			}
			h.expectApply(t, tc.obj, tc.want)
		})
	}
}

// denied and warned build wants.
func denied(lines ...string) want { return want{denied: lines} }
func warned(lines ...string) want { return want{warnings: lines} }
