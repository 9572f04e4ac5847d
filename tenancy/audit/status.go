package audit

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// Status is the status a Tenant should have, given its current status, its
// audit report and the counts of its routes: the report's namespaces and
// violations, the counts, a summary of them, and the report's conditions,
// each keeping the current LastTransitionTime unless its status changed
// (then it is now). Conditions of other types are dropped, so the status
// says only what the audit found.
func Status(current v1alpha1.TenantStatus, report tenancy.TenantReport, routes []v1alpha1.TenantRouteCount, generation int64, now metav1.Time) v1alpha1.TenantStatus {
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
		Routes:     routes,
		Summary: v1alpha1.TenantSummary{
			Namespaces: shortList(report.Namespaces, 512),
			Hostnames:  shortList(report.Hostnames, 1024),
			Routes:     servedOfTotal(routes),
			Violations: int32(report.TotalViolations),
		},
	}
}

// listedItems is how many items a summary names before "+N more": enough
// for most tenants, narrow enough for a terminal.
const listedItems = 3

// shortList joins the first few items and counts the rest, within limit
// bytes (the CRD's MaxLength).
func shortList(items []string, limit int) string {
	shown := items[:min(len(items), listedItems)]
	s := strings.Join(shown, ",")
	if rest := len(items) - len(shown); rest > 0 {
		s += fmt.Sprintf(" + %d more...", rest) // as kubectl get ingress lists hosts
	}
	if len(s) > limit {
		s = s[:limit-3] + "..."
	}
	return s
}

// servedOfTotal is "served/total" over every kind; "" with no routes.
func servedOfTotal(routes []v1alpha1.TenantRouteCount) string {
	var served, total int32
	for _, r := range routes {
		served += r.Served
		total += r.Served + r.Refused + r.Pending
	}
	if total == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", served, total)
}
