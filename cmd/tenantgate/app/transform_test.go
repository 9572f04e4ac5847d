package app

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	tenancyv1alpha1 "github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// The cache keeps every annotation but kubectl's copy of the applied object,
// and no managedFields.
func TestCacheTransformTrimsWhatNothingReads(t *testing.T) {
	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{
		Name:          "r",
		Annotations:   map[string]string{corev1.LastAppliedConfigAnnotation: `{"kind":"HTTPRoute"}`, "team.example/owner": "kiwis"},
		ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
	}}
	out, err := cacheTransform()(route)
	if err != nil {
		t.Fatal(err)
	}
	got := out.(*gatewayv1.HTTPRoute)
	if want := map[string]string{"team.example/owner": "kiwis"}; !maps.Equal(got.Annotations, want) || got.ManagedFields != nil {
		t.Errorf("annotations %v and managedFields %v after the transform; want %v and none", got.Annotations, got.ManagedFields, want)
	}
}

// Two routes decoded apart share every repeated value after the
// transform, and neither changes: the cache then holds one copy of each.
func TestCacheTransformSharesRepeatedValues(t *testing.T) {
	transform := cacheTransform()
	routes := make([]*gatewayv1.HTTPRoute, 2)
	for i, name := range []string{"a", "b"} {
		route := &gatewayv1.HTTPRoute{}
		if err := json.Unmarshal([]byte(sharedRouteJSON(name)), route); err != nil {
			t.Fatal(err)
		}
		before := route.DeepCopy()
		out, err := transform(route)
		if err != nil {
			t.Fatal(err)
		}
		routes[i] = out.(*gatewayv1.HTTPRoute)
		if !equality.Semantic.DeepEqual(before, routes[i]) {
			t.Fatalf("route %s changed in the transform:\n%s", name, cmp.Diff(before, routes[i]))
		}
	}
	a, b := routes[0], routes[1]
	pa, pb := a.Spec.ParentRefs[0], b.Spec.ParentRefs[0]
	ba, bb := a.Spec.Rules[0].BackendRefs[0], b.Spec.Rules[0].BackendRefs[0]
	ma, mb := a.Spec.Rules[0].Matches[0].Path, b.Spec.Rules[0].Matches[0].Path
	ca, cb := a.Status.Parents[0].Conditions[0], b.Status.Parents[0].Conditions[0]
	for what, same := range map[string]bool{
		"parentRef group":     pa.Group == pb.Group,
		"parentRef kind":      pa.Kind == pb.Kind,
		"parentRef namespace": pa.Namespace == pb.Namespace,
		"parentRef section":   pa.SectionName == pb.SectionName,
		"status parentRef":    a.Status.Parents[0].ParentRef.Namespace == pa.Namespace,
		"backend namespace":   ba.Namespace == bb.Namespace,
		"backend port":        ba.Port == bb.Port,
		"backend weight":      ba.Weight == bb.Weight,
		"path type":           ma.Type == mb.Type,
		"path value":          ma.Value == mb.Value,
		"namespace":           unsafe.StringData(a.Namespace) == unsafe.StringData(b.Namespace),
		"label value":         unsafe.StringData(a.Labels["team"]) == unsafe.StringData(b.Labels["team"]),
		"backend name":        unsafe.StringData(string(ba.Name)) == unsafe.StringData(string(bb.Name)),
		"controller":          unsafe.StringData(string(a.Status.Parents[0].ControllerName)) == unsafe.StringData(string(b.Status.Parents[0].ControllerName)),
		"condition message":   unsafe.StringData(ca.Message) == unsafe.StringData(cb.Message),
		"condition reason":    unsafe.StringData(ca.Reason) == unsafe.StringData(cb.Reason),
	} {
		if !same {
			t.Errorf("the two routes' %s is two copies after the transform; want one shared", what)
		}
	}
}

func sharedRouteJSON(name string) string {
	return `{"metadata":{"name":"` + name + `","namespace":"kiwis","labels":{"team":"kiwis"}},
	"spec":{"parentRefs":[{"group":"gateway.networking.k8s.io","kind":"Gateway","namespace":"infra","name":"shared","sectionName":"http"}],
	"hostnames":["` + name + `.kiwis.example.com"],
	"rules":[{"matches":[{"path":{"type":"PathPrefix","value":"/"}}],
	"backendRefs":[{"group":"","kind":"Service","namespace":"kiwis","name":"web","port":80,"weight":1}]}]},
	"status":{"parents":[{"parentRef":{"group":"gateway.networking.k8s.io","kind":"Gateway","namespace":"infra","name":"shared","sectionName":"http"},
	"controllerName":"tenantgate.dev/gateway",
	"conditions":[{"type":"Accepted","status":"True","reason":"Accepted","message":"Route is accepted","lastTransitionTime":"2026-12-01T00:00:00Z","observedGeneration":1}]}]}}`
}

// A value past the table's bound keeps its own copy: unique paths cannot
// grow the table without end.
func TestSharedPointersAreBounded(t *testing.T) {
	var table pointers[string]
	for i := range sharedPointersMax + 10 {
		v := fmt.Sprintf("/p%d", i)
		table.share(&v)
	}
	if len(table.m) != sharedPointersMax {
		t.Fatalf("the table holds %d values after %d distinct ones; want its bound %d", len(table.m), sharedPointersMax+10, sharedPointersMax)
	}
	late := fmt.Sprintf("/p%d", sharedPointersMax+5)
	if got := table.share(&late); got != &late {
		t.Errorf("a value past the bound was given a shared pointer; want its own")
	}
	early := "/p1"
	if got := table.share(&early); got == &early || *got != early {
		t.Errorf("a value within the bound was not shared")
	}
}

// Every object of the translator's golden inputs comes out of the
// transform equal to what went in: sharing changes where values live,
// never what they are.
func TestCacheTransformKeepsGoldenObjects(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{clientgoscheme.AddToScheme, gatewayv1.Install, tenancyv1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	decoder := serializer.NewCodecFactory(scheme).UniversalDeserializer()
	files, err := filepath.Glob("../../../gateway/translate/testdata/*.in.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no golden inputs found (%v)", err)
	}
	transform := cacheTransform()
	routes := 0
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for doc := range strings.SplitSeq(string(data), "\n---") {
			obj, _, err := decoder.Decode([]byte(doc), nil, nil)
			if err != nil {
				continue // the test environment's own kind, or an empty document
			}
			before := obj.DeepCopyObject()
			out, err := transform(obj)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if !equality.Semantic.DeepEqual(before, out) {
				t.Errorf("%s: %T changed in the transform:\n%s", file, obj, cmp.Diff(before, out))
			}
			switch obj.(type) {
			case *gatewayv1.HTTPRoute, *gatewayv1.GRPCRoute, *gatewayv1.TLSRoute:
				routes++
			}
		}
	}
	if routes < 50 {
		t.Fatalf("only %d routes in the golden inputs; the check reads too little", routes)
	}
	t.Logf("%d routes from %d files kept equal", routes, len(files))
}
