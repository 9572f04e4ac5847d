package controller

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// objectsReader serves Gets from a map, as metadata (the cache) or in full
// (the API server), and counts the full reads. A stand-in for a unit test of
// the store's bookkeeping; the integration test runs it against a real API
// server.
type objectsReader struct {
	objects   map[objectRef]client.Object
	fullReads int
}

func (o *objectsReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	kind := kindSecret
	switch v := obj.(type) {
	case *metav1.PartialObjectMetadata:
		kind = v.Kind
	case *corev1.ConfigMap:
		kind = kindConfigMap
	}
	stored, ok := o.objects[objectRef{Kind: kind, NamespacedName: key}]
	if !ok {
		return apierrors.NewNotFound(schema.GroupResource{Resource: kind}, key.Name)
	}
	switch v := obj.(type) {
	case *metav1.PartialObjectMetadata:
		v.ObjectMeta = *stored.(*corev1.Secret).ObjectMeta.DeepCopy()
	case *corev1.Secret:
		o.fullReads++
		*v = *stored.(*corev1.Secret).DeepCopy()
	}
	return nil
}

func (o *objectsReader) List(context.Context, client.ObjectList, ...client.ListOption) error {
	panic("the store never lists")
}

func tlsSecret(ns, name, rv, data string) *corev1.Secret {
	return &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv}, Data: map[string][]byte{"tls.crt": []byte(data)}}
}

func TestReferencedStoreFetchesOnlyWhatChanged(t *testing.T) {
	ctx := context.Background()
	api := &objectsReader{objects: map[objectRef]client.Object{
		secret("infra", "a"): tlsSecret("infra", "a", "1", "a1"),
		secret("infra", "b"): tlsSecret("infra", "b", "1", "b1"),
	}}
	s := newReferencedStore(api, api)
	s.want(refSet{secret("infra", "a"): {}, secret("infra", "missing"): {}})

	got, _, err := s.sync(ctx)
	if err != nil || len(got) != 1 || string(got[0].Data["tls.crt"]) != "a1" || api.fullReads != 1 {
		t.Fatalf("first sync: %d secrets %v, %d full reads, error %v; want infra/a only, 1 full read", len(got), got, api.fullReads, err)
	}
	if !s.wants(kindSecret, tlsSecret("infra", "missing", "", "")) || s.wants(kindSecret, tlsSecret("infra", "b", "", "")) {
		t.Error("wants must pass a referenced Secret (even one that does not exist yet) and filter an unreferenced one")
	}

	if _, _, err := s.sync(ctx); err != nil || api.fullReads != 1 {
		t.Fatalf("an unchanged resourceVersion was fetched again: %d full reads (error %v); want 1", api.fullReads, err)
	}

	api.objects[secret("infra", "a")] = tlsSecret("infra", "a", "2", "a2")
	got, _, err = s.sync(ctx)
	if err != nil || len(got) != 1 || string(got[0].Data["tls.crt"]) != "a2" || api.fullReads != 2 {
		t.Fatalf("after a rotation: %v, %d full reads, error %v; want the new data with 1 more read", got, api.fullReads, err)
	}

	s.want(refSet{secret("infra", "b"): {}})
	got, _, _ = s.sync(ctx)
	if len(got) != 1 || got[0].Name != "b" || s.size() != 1 {
		t.Fatalf("after the reference moved: %v, store holds %d; want only infra/b", got, s.size())
	}

	delete(api.objects, secret("infra", "b"))
	if got, _, _ = s.sync(ctx); len(got) != 0 || s.size() != 0 {
		t.Fatalf("after infra/b was deleted: %v, store holds %d; want nothing", got, s.size())
	}
}
