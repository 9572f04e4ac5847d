package audit

import (
	"slices"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Status is the status a Tenant should have, given its current status and
// its audit report: the report's namespaces and violations, and its
// conditions, each keeping the current LastTransitionTime unless its status
// changed (then it is now). Conditions of other types are dropped, so the
// status says only what the audit found.
func Status(current v1alpha1.TenantStatus, report tenancy.TenantReport, generation int64, now metav1.Time) v1alpha1.TenantStatus {
	want := report.Conditions(generation)
	conditions := make([]metav1.Condition, 0, len(want))
	for _, c := range current.Conditions {
		if slices.ContainsFunc(want, func(w metav1.Condition) bool { return w.Type == c.Type }) {
			conditions = append(conditions, c)
		}
	}
	for _, c := range want {
		c.LastTransitionTime = now
		meta.SetStatusCondition(&conditions, c)
	}
	return v1alpha1.TenantStatus{
		Conditions: conditions,
		Namespaces: report.Namespaces,
		Violations: report.Violations,
	}
}
