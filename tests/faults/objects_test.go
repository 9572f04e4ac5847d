package faults

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
	"github.com/tenantgate/tenantgate/tests/cluster"
)

// Outcomes of sending one object to the API server.
const (
	outcomeAdmitted = "admitted"
	outcomeDenied   = "denied by tenantgate"
	outcomeInvalid  = "rejected by the API server's own validation"
	outcomeFailed   = "failed"
)

// hostileObjects is fault 6: every object of testdata/hostile and of the
// objects generated from tenancy's fuzz corpus goes through the real API
// server. No answer may be a failure to reach the webhook, every denial
// must be clean lines, and tenantgate must keep serving /readyz and
// traffic and keep converging. Then the webhook is removed and the denied
// objects are forced in, as after an outage: the gateway must still serve.
func hostileObjects(t *testing.T, w *World, g *Replica, addr string) {
	ctx := context.Background()
	w.Apply(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: rogue}\n")
	var corpus []client.Object
	for _, f := range []string{"routes.yaml", "grants.yaml", "tenants.yaml"} {
		corpus = append(corpus, hostileFile(t, filepath.Join("testdata", "hostile", f))...)
	}
	corpus = append(corpus, fuzzCorpus(t)...)
	for _, ns := range namespacesOf(corpus) {
		if err := w.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("creating namespace %s: %v", ns, err)
		}
	}

	counts := map[string]int{}
	var denied []client.Object
	for _, obj := range corpus {
		err := w.Client.Create(ctx, obj.DeepCopyObject().(client.Object))
		outcome := classify(err)
		counts[outcome]++
		if err != nil {
			t.Logf("%s: %s: %v", describe(obj), outcome, err)
		} else {
			t.Logf("%s: %s", describe(obj), outcome)
		}
		switch outcome {
		case outcomeFailed:
			t.Errorf("%s: %v", describe(obj), err)
		case outcomeDenied:
			denied = append(denied, obj)
			for _, p := range denialProblems(err) {
				t.Errorf("%s: denial is not clean: %s", describe(obj), p)
			}
		}
	}
	t.Logf("figures: fault=hostile-objects %d objects sent: %v", len(corpus), counts)
	stillServing(t, w, g, addr, "after the corpus")

	// As if the webhook had been down: the denied objects get in.
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := w.Client.List(ctx, &hooks); err != nil {
		t.Fatal(err)
	}
	for i := range hooks.Items {
		if err := w.Client.Delete(ctx, &hooks.Items[i]); err != nil {
			t.Fatal(err)
		}
	}
	forced := 0
	for _, obj := range denied {
		w.Eventually(t, 10*time.Second, describe(obj)+" created without the webhook", func(ctx context.Context) (bool, string) {
			err := w.Client.Create(ctx, obj.DeepCopyObject().(client.Object))
			return err == nil || apierrors.IsAlreadyExists(err), fmt.Sprint(err)
		})
		forced++
	}
	t.Logf("figures: fault=hostile-objects %d denied objects forced in with the webhook removed", forced)
	stillServing(t, w, g, addr, "after forcing the denied objects in")
}

// stillServing checks that tenantgate is alive, ready, logged no panic,
// still serves apples.example.com from apples' Pods, and still programs a
// route added now.
func stillServing(t *testing.T, w *World, g *Replica, addr, when string) {
	t.Helper()
	if g.Exited() {
		t.Fatalf("%s: tenantgate exited: %v; its log ends:\n%s", when, g.proc.Err(), tail(g.LogPath, 5))
	}
	if !g.Ready() {
		t.Errorf("%s: /readyz does not answer 200", when)
	}
	if g.LogContains("panic") {
		t.Errorf("%s: tenantgate logged a panic; see %s", when, g.LogPath)
	}
	f := Stream{Name: "apples.example.com " + when, Addrs: []string{addr}, Host: "apples.example.com", Path: "/", Max: 100, Duration: 30 * time.Second}.Run()
	t.Logf("figures: fault=hostile-objects %s", f)
	for pod := range f.Pods {
		if !strings.HasPrefix(pod, "apple-echo-") {
			t.Errorf("%s: apples.example.com answered by %s", when, pod)
		}
	}
	if f.OK != f.Sent {
		t.Errorf("%s: %s", when, f)
	}
	host := fmt.Sprintf("probe-%d.apples.example.com", time.Now().UnixNano())
	w.Apply(t, fmt.Sprintf(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: %s, namespace: apples}
spec:
  parentRefs: [{name: shared, namespace: infra, sectionName: http}]
  hostnames: [%s]
  rules: [{backendRefs: [{name: apple-echo, port: 80}]}]
`, strings.SplitN(host, ".", 2)[0], host))
	awaitServing(t, w, g, addr, host)
}

// classify names the outcome of creating one object.
func classify(err error) string {
	switch {
	case err == nil:
		return outcomeAdmitted
	case isDenial(err):
		return outcomeDenied
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsNotFound(err), apierrors.IsAlreadyExists(err):
		return outcomeInvalid
	default:
		return outcomeFailed
	}
}

// denialProblems returns what keeps a denial from being clean: one line
// per violation, each naming a field under spec, printable, short.
func denialProblems(err error) []string {
	msg := err.Error()
	const marker = "denied the request: "
	i := strings.Index(msg, marker)
	if i < 0 {
		return []string{fmt.Sprintf("%q does not say the webhook denied it", msg)}
	}
	var problems []string
	for _, line := range strings.Split(msg[i+len(marker):], "\n") {
		switch {
		case !strings.HasPrefix(line, "spec"):
			problems = append(problems, fmt.Sprintf("line %q does not start with the field it is about", line))
		case len(line) > 400:
			problems = append(problems, fmt.Sprintf("line of %d bytes: %.80q…", len(line), line))
		case !utf8.ValidString(line) || strings.IndexFunc(line, unicode.IsControl) >= 0:
			problems = append(problems, fmt.Sprintf("line %q holds control characters", line))
		}
	}
	if status, ok := err.(apierrors.APIStatus); ok {
		if d := status.Status().Details; d != nil {
			for _, c := range d.Causes {
				if !strings.HasPrefix(c.Field, "spec") {
					problems = append(problems, fmt.Sprintf("cause %+v names no field under spec", c))
				}
			}
		}
	}
	return problems
}

func describe(obj client.Object) string {
	kind := fmt.Sprintf("%T", obj)
	kind = kind[strings.LastIndex(kind, ".")+1:]
	if obj.GetNamespace() == "" {
		return kind + " " + obj.GetName()
	}
	return kind + " " + obj.GetNamespace() + "/" + obj.GetName()
}

// namespacesOf lists the valid namespace names the corpus puts objects in.
func namespacesOf(objs []client.Object) []string {
	seen := map[string]bool{}
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && len(validation.IsDNS1123Label(ns)) == 0 {
			seen[ns] = true
		}
	}
	var out []string
	for ns := range seen {
		out = append(out, ns)
	}
	sort.Strings(out)
	return out
}

// hostileFile decodes a corpus file into typed objects, strictly.
func hostileFile(t *testing.T, path string) []client.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := decode(string(data))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []client.Object
	for _, u := range objs {
		var obj client.Object
		switch u.GetKind() {
		case "HTTPRoute":
			obj = &gatewayv1.HTTPRoute{}
		case "ReferenceGrant":
			if u.GetAPIVersion() == "gateway.networking.k8s.io/v1beta1" {
				obj = &gatewayv1beta1.ReferenceGrant{}
			} else {
				obj = &gatewayv1.ReferenceGrant{}
			}
		case "Tenant":
			obj = &v1alpha1.Tenant{}
		default:
			t.Fatalf("%s: unexpected kind %s", path, u.GetKind())
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, obj, true); err != nil {
			t.Fatalf("%s: %s %s: %v", path, u.GetKind(), u.GetName(), err)
		}
		out = append(out, obj)
	}
	return out
}

// fuzzCorpus turns the entries of tenancy/testdata/fuzz into objects the
// way tenancy's fuzz targets build them from the same arguments.
func fuzzCorpus(t *testing.T) []client.Object {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "tenancy", "testdata", "fuzz")
	builders := map[string]func(id string, args []any) client.Object{
		"FuzzCheckHTTPRoute":      fuzzRoute,
		"FuzzCheckReferenceGrant": fuzzGrant,
		"FuzzCheckTenant":         fuzzTenant,
	}
	var out []client.Object
	for target, build := range builders {
		entries, err := os.ReadDir(filepath.Join(dir, target))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			args, err := readFuzzEntry(filepath.Join(dir, target, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, build(e.Name(), args))
		}
	}
	return out
}

// readFuzzEntry parses a "go test fuzz v1" file of string and bool values.
func readFuzzEntry(path string) ([]any, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var args []any
	for line := 0; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		switch {
		case line == 0:
			if text != "go test fuzz v1" {
				return nil, fmt.Errorf("%s is not a Go fuzz corpus entry (first line %q)", path, text)
			}
		case strings.HasPrefix(text, "string(") && strings.HasSuffix(text, ")"):
			s, err := strconv.Unquote(text[len("string(") : len(text)-1])
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", path, line+1, err)
			}
			args = append(args, s)
		case strings.HasPrefix(text, "bool(") && strings.HasSuffix(text, ")"):
			b, err := strconv.ParseBool(text[len("bool(") : len(text)-1])
			if err != nil {
				return nil, fmt.Errorf("%s line %d: %w", path, line+1, err)
			}
			args = append(args, b)
		default:
			return nil, fmt.Errorf("%s line %d: unsupported value %q; read only string and bool", path, line+1, text)
		}
	}
	return args, sc.Err()
}

func str(args []any, i int) string {
	if i < len(args) {
		if s, ok := args[i].(string); ok {
			return s
		}
	}
	return ""
}

func boolean(args []any, i int) bool {
	if i < len(args) {
		if b, ok := args[i].(bool); ok {
			return b
		}
	}
	return false
}

// fuzzRoute mirrors FuzzCheckHTTPRoute's arguments: ns, host1, host2,
// pathKind, pathValue, parentNS, parentName, section, backendNS,
// backendKind, mirror.
func fuzzRoute(id string, a []any) client.Object {
	r := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: str(a, 0), Name: "fuzz-" + id}}
	ref := gatewayv1.ParentReference{Name: gatewayv1.ObjectName(str(a, 6))}
	if ns := str(a, 5); ns != "" {
		ref.Namespace = (*gatewayv1.Namespace)(&ns)
	}
	if s := str(a, 7); s != "" {
		ref.SectionName = (*gatewayv1.SectionName)(&s)
	}
	r.Spec.ParentRefs = []gatewayv1.ParentReference{ref}
	for _, h := range []string{str(a, 1), str(a, 2)} {
		if h != "" {
			r.Spec.Hostnames = append(r.Spec.Hostnames, gatewayv1.Hostname(h))
		}
	}
	backend := gatewayv1.BackendObjectReference{Name: "echo"}
	if ns := str(a, 8); ns != "" {
		backend.Namespace = (*gatewayv1.Namespace)(&ns)
	}
	if k := str(a, 9); k != "" {
		backend.Kind = (*gatewayv1.Kind)(&k)
	}
	rule := gatewayv1.HTTPRouteRule{BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{BackendObjectReference: backend}}}}
	if kind, value := str(a, 3), str(a, 4); kind != "" {
		rule.Matches = []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{Type: (*gatewayv1.PathMatchType)(&kind), Value: &value}}}
	}
	if boolean(a, 10) {
		rule.Filters = []gatewayv1.HTTPRouteFilter{{Type: gatewayv1.HTTPRouteFilterRequestMirror,
			RequestMirror: &gatewayv1.HTTPRequestMirrorFilter{BackendRef: backend}}}
	}
	r.Spec.Rules = []gatewayv1.HTTPRouteRule{rule}
	return r
}

// fuzzGrant mirrors FuzzCheckReferenceGrant's arguments: ns, fromNS,
// fromKind, toKind, toName, named.
func fuzzGrant(id string, a []any) client.Object {
	g := &gatewayv1.ReferenceGrant{ObjectMeta: metav1.ObjectMeta{Namespace: str(a, 0), Name: "fuzz-" + id}}
	g.Spec.From = []gatewayv1.ReferenceGrantFrom{{Group: gatewayv1.GroupName, Kind: gatewayv1.Kind(str(a, 2)), Namespace: gatewayv1.Namespace(str(a, 1))}}
	to := gatewayv1.ReferenceGrantTo{Kind: gatewayv1.Kind(str(a, 3))}
	if boolean(a, 5) {
		name := str(a, 4)
		to.Name = (*gatewayv1.ObjectName)(&name)
	}
	g.Spec.To = []gatewayv1.ReferenceGrantTo{to}
	return g
}

// fuzzTenant mirrors FuzzCheckTenant's arguments: name, host1, host2,
// prefix, ns, selKey, selValue. The name is the corpus entry's, so it is
// a valid object name whatever the fuzzer found.
func fuzzTenant(id string, a []any) client.Object {
	tenant := &v1alpha1.Tenant{ObjectMeta: metav1.ObjectMeta{Name: "fuzz-" + id}}
	tenant.Spec.Hostnames = []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname(str(a, 1))}}
	if h := str(a, 2); h != "" {
		tenant.Spec.Hostnames = append(tenant.Spec.Hostnames, v1alpha1.OwnedHostname{
			Hostname: v1alpha1.Hostname(h), PathPrefixes: []v1alpha1.PathPrefix{v1alpha1.PathPrefix(str(a, 3))}})
	}
	tenant.Spec.Namespaces.Names = []v1alpha1.NamespaceName{v1alpha1.NamespaceName(str(a, 4))}
	if k := str(a, 5); k != "" {
		tenant.Spec.Namespaces.Selector = &metav1.LabelSelector{MatchLabels: map[string]string{k: str(a, 6)}}
	}
	return tenant
}
