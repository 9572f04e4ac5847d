package app

import (
	"maps"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
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
