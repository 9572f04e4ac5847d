package tenancy

import (
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// MaxReportedViolations bounds TenantReport.Violations to what the Tenant
// CRD's status.violations accepts.
const MaxReportedViolations = 100

// TenantReport is the audit of one tenant, for its status.
type TenantReport struct {
	// Namespaces is the resolved membership, sorted.
	Namespaces []string
	// Hostnames are the tenant's hostnames as written in its spec, with
	// the path prefixes of shared ones ("shop.example.com/apples").
	Hostnames []string
	// HostnameConflicts and NamespaceConflicts are the tenant's overlaps
	// with other tenants (and platform namespaces), one line each.
	HostnameConflicts  []string
	NamespaceConflicts []string
	// Violations are existing objects that break the tenant's policy, or,
	// for objects in namespaces of no tenant, take its hostnames; sorted,
	// at most MaxReportedViolations.
	Violations []v1alpha1.TenantViolation
	// TotalViolations counts all of them.
	TotalViolations int
}

// TenantStatus audits one tenant; the zero report for an unknown name.
func (p *Policy) TenantStatus(name string) TenantReport {
	t := p.byName[name]
	if t == nil {
		return TenantReport{}
	}
	r := TenantReport{Namespaces: p.members.members[name]}
	for _, h := range t.spec.Hostnames {
		if len(h.PathPrefixes) == 0 {
			r.Hostnames = append(r.Hostnames, string(h.Hostname))
		}
		for _, prefix := range h.PathPrefixes {
			r.Hostnames = append(r.Hostnames, string(h.Hostname)+string(prefix))
		}
	}
	for _, e := range p.CheckTenant(t.obj).Violations {
		if strings.HasPrefix(e.Field, "spec.hostnames") {
			r.HostnameConflicts = append(r.HostnameConflicts, Message(e))
		} else {
			r.NamespaceConflicts = append(r.NamespaceConflicts, Message(e))
		}
	}
	p.auditOnce.Do(p.runAudit)
	all := p.audit[name]
	r.TotalViolations = len(all)
	r.Violations = all[:min(len(all), MaxReportedViolations)]
	return r
}

// runAudit checks every existing route and grant once per Policy and files
// the violations under the tenants they concern.
func (p *Policy) runAudit() {
	p.audit = map[string][]v1alpha1.TenantViolation{}
	file := func(tenants []string, kind, ns, name string, v Verdict) {
		for _, t := range tenants {
			for _, msg := range v.Messages() {
				p.audit[t] = append(p.audit[t], v1alpha1.TenantViolation{Kind: kind, Namespace: ns, Name: name, Message: msg})
			}
		}
	}
	p.forEachObject("", func(kind, ns, name string, v Verdict, victims []*tenantInfo) {
		tenants := []string{v.Tenant}
		if v.Tenant == "" { // an object of no tenant: the tenants whose hostnames it takes
			tenants = tenants[:0]
			for _, t := range victims {
				tenants = append(tenants, t.name)
			}
		}
		file(tenants, kind, ns, name, v)
	})
	for _, list := range p.audit {
		sort.SliceStable(list, func(i, j int) bool {
			a, b := list[i], list[j]
			if a.Kind != b.Kind {
				return a.Kind < b.Kind
			}
			if a.Namespace != b.Namespace {
				return a.Namespace < b.Namespace
			}
			return a.Name < b.Name
		})
	}
}

// Conditions turns the report into the Tenant's status conditions (Ready,
// HostnameConflict, NamespaceConflict). LastTransitionTime is left for the
// caller (meta.SetStatusCondition sets it), keeping this package free of clocks.
func (r TenantReport) Conditions(generation int64) []metav1.Condition {
	conflict := func(typ string, lines []string) metav1.Condition {
		c := metav1.Condition{Type: typ, Status: metav1.ConditionFalse, Reason: v1alpha1.ReasonNoConflict,
			Message: "No overlap with other tenants.", ObservedGeneration: generation}
		if len(lines) > 0 {
			c.Status, c.Reason, c.Message = metav1.ConditionTrue, v1alpha1.ReasonConflict, summary(lines)
		}
		return c
	}
	ready := metav1.Condition{Type: v1alpha1.ConditionReady, Status: metav1.ConditionTrue, Reason: v1alpha1.ReasonResolved,
		Message: "The tenant's policy is in force.", ObservedGeneration: generation}
	if all := append(append([]string(nil), r.HostnameConflicts...), r.NamespaceConflicts...); len(all) > 0 {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, v1alpha1.ReasonConflict, summary(all)
	}
	return []metav1.Condition{
		ready,
		conflict(v1alpha1.ConditionHostnameConflict, r.HostnameConflicts),
		conflict(v1alpha1.ConditionNamespaceConflict, r.NamespaceConflicts),
	}
}

// summary is the first line, with a count of the others.
func summary(lines []string) string {
	return lines[0] + more(len(lines)-1)
}

// forEachObject checks every existing object of the snapshot (only those
// in namespace ns, unless it is empty) and calls yield for each that
// breaks a rule, with, for an object of no tenant, the tenants whose
// hostnames it takes.
func (p *Policy) forEachObject(ns string, yield func(kind, ns, name string, v Verdict, victims []*tenantInfo)) {
	in := func(objNS string) bool { return ns == "" || objNS == ns }
	all := p.inputs()
	for _, r := range all.routeViews() {
		if !in(r.namespace) {
			continue
		}
		if v, victims := p.checkRoute(r, false); len(v.Violations) > 0 {
			yield(r.kind, r.namespace, r.name, v, victims)
		}
	}
	for i := range p.in.ListenerSets {
		ls := &p.in.ListenerSets[i]
		if !in(ls.Namespace) {
			continue
		}
		if c, victims := p.checkListenerSet(ls, false); len(c.v.Violations) > 0 {
			yield(kindListenerSet, ls.Namespace, ls.Name, c.v, victims)
		}
	}
	for i := range p.in.Gateways {
		gw := &p.in.Gateways[i]
		if !in(gw.Namespace) {
			continue
		}
		if v := p.CheckGateway(gw); len(v.Violations) > 0 {
			yield(kindGateway, gw.Namespace, gw.Name, v, nil)
		}
	}
	for _, g := range p.refGrants {
		if !in(g.Namespace) {
			continue
		}
		if v := p.CheckReferenceGrant(g); len(v.Violations) > 0 {
			yield("ReferenceGrant", g.Namespace, g.Name, v, nil)
		}
	}
}
