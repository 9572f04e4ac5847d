package translate

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSpecPrintFollowsSpecAndMetadata: a parent's fingerprint changes with
// its generation and metadata, and not with its resourceVersion alone (the
// status tenantgate writes) or the order its labels are read in.
func TestSpecPrintFollowsSpecAndMetadata(t *testing.T) {
	base := func() *metav1.ObjectMeta {
		return &metav1.ObjectMeta{
			Namespace: "infra", Name: "gw", UID: "u1", Generation: 3, ResourceVersion: "10",
			CreationTimestamp: metav1.NewTime(time.Unix(1700000000, 0)),
			Labels:            map[string]string{"a": "1", "b": "2"},
			Annotations:       map[string]string{"note": "x"},
		}
	}
	want, known := specPrint("Gateway", base())
	if !known {
		t.Fatal("a parent with a resourceVersion is known")
	}
	same := map[string]func(m *metav1.ObjectMeta){
		"a new resourceVersion (status written)": func(m *metav1.ObjectMeta) { m.ResourceVersion = "11" },
		"the same labels built in another order": func(m *metav1.ObjectMeta) { m.Labels = map[string]string{"b": "2", "a": "1"} },
	}
	for name, edit := range same {
		m := base()
		edit(m)
		if got, _ := specPrint("Gateway", m); got != want {
			t.Errorf("%s changed the fingerprint", name)
		}
	}
	deleted := metav1.NewTime(time.Unix(1700000100, 0))
	differ := map[string]func(m *metav1.ObjectMeta){
		"generation":             func(m *metav1.ObjectMeta) { m.Generation++ },
		"a label's value":        func(m *metav1.ObjectMeta) { m.Labels["a"] = "2" },
		"labels' values swapped": func(m *metav1.ObjectMeta) { m.Labels = map[string]string{"a": "2", "b": "1"} },
		"a label moved to annotations": func(m *metav1.ObjectMeta) {
			delete(m.Labels, "b")
			m.Annotations["b"] = "2"
		},
		"an annotation added":     func(m *metav1.ObjectMeta) { m.Annotations["other"] = "" },
		"deletion started":        func(m *metav1.ObjectMeta) { m.DeletionTimestamp = &deleted },
		"recreated (new UID)":     func(m *metav1.ObjectMeta) { m.UID = "u2" },
		"created at another time": func(m *metav1.ObjectMeta) { m.CreationTimestamp = deleted },
	}
	for name, edit := range differ {
		m := base()
		edit(m)
		if got, _ := specPrint("Gateway", m); got == want {
			t.Errorf("%s kept the fingerprint", name)
		}
	}
	if other, _ := specPrint("ListenerSet", base()); other == want {
		t.Error("a ListenerSet and a Gateway of the same name share a fingerprint")
	}
}
