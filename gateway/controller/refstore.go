package controller

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// referencedStore holds full copies of only the Secrets and ConfigMaps the
// translator references. The manager caches every Secret and ConfigMap as
// metadata only; the store reads a referenced object's resourceVersion from
// that cache and fetches the object from the API server (never through the
// cache, which would start a full informer) only when it is new or changed.
type referencedStore struct {
	// metadata is the manager's cache, read for PartialObjectMetadata only.
	metadata client.Reader
	// api reads from the API server directly.
	api client.Reader

	// wanted is the last published refSet; event filters read it.
	wanted atomic.Pointer[refSet]

	mu      sync.Mutex
	objects map[objectRef]client.Object // *corev1.Secret or *corev1.ConfigMap
}

func newReferencedStore(metadata, api client.Reader) *referencedStore {
	s := &referencedStore{metadata: metadata, api: api, objects: map[objectRef]client.Object{}}
	s.wanted.Store(&refSet{})
	return s
}

// want publishes the set the next sync fetches. Publish before fetching: an
// event for an object is then either filtered out before the fetch (which
// reads its current state) or let through after it (and rebuilds).
func (s *referencedStore) want(refs refSet) { s.wanted.Store(&refs) }

// wants reports whether an event about this object may change a rebuild.
func (s *referencedStore) wants(kind string, obj client.Object) bool {
	_, ok := (*s.wanted.Load())[objectRef{Kind: kind, NamespacedName: client.ObjectKeyFromObject(obj)}]
	return ok
}

// sync brings the store in line with the wanted set and returns its Secrets
// and ConfigMaps, sorted by namespace/name. Objects no longer wanted are
// dropped. When a fetch fails the previous copy (if any) is returned with
// the error, so the data plane keeps what it had.
func (s *referencedStore) sync(ctx context.Context) ([]corev1.Secret, []corev1.ConfigMap, error) {
	wanted := *s.wanted.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	for ref := range s.objects {
		if _, ok := wanted[ref]; !ok {
			delete(s.objects, ref)
		}
	}
	var errs []error
	for ref := range wanted {
		if err := s.refresh(ctx, ref); err != nil {
			errs = append(errs, err)
		}
	}
	var secrets []corev1.Secret
	var configMaps []corev1.ConfigMap
	for _, obj := range s.objects {
		switch o := obj.(type) {
		case *corev1.Secret:
			secrets = append(secrets, *o)
		case *corev1.ConfigMap:
			configMaps = append(configMaps, *o)
		}
	}
	slices.SortFunc(secrets, func(a, b corev1.Secret) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	slices.SortFunc(configMaps, func(a, b corev1.ConfigMap) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return secrets, configMaps, errors.Join(errs...)
}

// refresh fetches one object when the metadata cache shows a resourceVersion
// other than the stored one, and drops it when the cache says it is gone.
func (s *referencedStore) refresh(ctx context.Context, ref objectRef) error {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind(ref.Kind))
	err := s.metadata.Get(ctx, ref.NamespacedName, meta)
	if apierrors.IsNotFound(err) {
		delete(s.objects, ref)
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the metadata of referenced %s %s: %w", ref.Kind, ref.NamespacedName, err)
	}
	if old, ok := s.objects[ref]; ok && old.GetResourceVersion() == meta.ResourceVersion {
		return nil
	}
	obj := newObject(ref.Kind)
	err = s.api.Get(ctx, ref.NamespacedName, obj)
	switch {
	case apierrors.IsNotFound(err):
		delete(s.objects, ref)
		return nil
	case err != nil:
		return fmt.Errorf("fetching referenced %s %s: %w", ref.Kind, ref.NamespacedName, err)
	}
	obj.SetManagedFields(nil) // the translator never reads them
	s.objects[ref] = obj
	return nil
}

func newObject(kind string) client.Object {
	if kind == kindConfigMap {
		return &corev1.ConfigMap{}
	}
	return &corev1.Secret{}
}

// size is how many objects the store holds, for tests and logs.
func (s *referencedStore) size() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects)
}

// keyOf names an object for logs and maps.
func keyOf(obj client.Object) types.NamespacedName { return client.ObjectKeyFromObject(obj) }
