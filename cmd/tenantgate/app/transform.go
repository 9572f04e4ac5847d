package app

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// cacheTransform trims what nothing here reads before an object enters the
// cache: managedFields, and the copy of the whole object kubectl apply
// keeps in an annotation. Each is often larger than the rest of a route,
// and the cache holds every route of the cluster. What is left shares its
// repeated values with the rest of the cache (intern.go).
func cacheTransform() toolscache.TransformFunc {
	strip := cache.TransformStripManagedFields()
	shared := &interner{}
	return func(in any) (any, error) {
		out, err := strip(in)
		if err != nil {
			return out, err
		}
		if obj, err := meta.Accessor(out); err == nil {
			if a := obj.GetAnnotations(); a[corev1.LastAppliedConfigAnnotation] != "" {
				trimmed := make(map[string]string, len(a)-1)
				for k, v := range a {
					if k != corev1.LastAppliedConfigAnnotation {
						trimmed[k] = v
					}
				}
				obj.SetAnnotations(trimmed)
			}
		}
		return shared.object(out), nil
	}
}
