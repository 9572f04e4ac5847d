package tenancy

import (
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// tenantInfo is a Tenant's spec, normalized and indexed for the checks.
type tenantInfo struct {
	name        string
	obj         *v1alpha1.Tenant
	spec        *v1alpha1.TenantSpec
	enforcement v1alpha1.Enforcement
	hosts       []*ownedHost

	// gateways is nil when the tenant may attach to any Gateway.
	gateways map[objectKey]*gatewayAllowance

	backendNamespaces map[string]bool
	grantFrom         map[string]bool
	grantKinds        []string

	selector    labels.Selector // nil when the tenant selects no namespaces by label
	selectorErr error
}

// gatewayAllowance is which listeners of one Gateway a tenant may use.
type gatewayAllowance struct {
	anyListener bool
	sections    []string // sorted; meaningful when !anyListener
}

func (g *gatewayAllowance) allows(section string) bool {
	return g.anyListener || slices.Contains(g.sections, section)
}

// objectKey names a namespaced object.
type objectKey struct{ namespace, name string }

func (k objectKey) String() string { return k.namespace + "/" + k.name }

func newTenantInfo(t *v1alpha1.Tenant) *tenantInfo {
	spec := &t.Spec
	info := &tenantInfo{
		name:              t.Name,
		obj:               t,
		spec:              spec,
		enforcement:       spec.Enforcement,
		backendNamespaces: nameSet(spec.BackendNamespaces.Names),
		grantFrom:         nameSet(spec.ReferenceGrants.AllowFromNamespaces.Names),
		grantKinds:        spec.ReferenceGrants.AllowedKinds,
	}
	if info.enforcement != v1alpha1.EnforcementWarn {
		info.enforcement = v1alpha1.EnforcementDeny
	}
	if len(info.grantKinds) == 0 {
		info.grantKinds = []string{"Service"}
	}
	for i, h := range spec.Hostnames {
		o := &ownedHost{tenant: info, index: i, pattern: parseHost(string(h.Hostname))}
		for _, p := range h.PathPrefixes {
			o.prefixes = append(o.prefixes, normalizePrefix(string(p)))
		}
		info.hosts = append(info.hosts, o)
	}
	if len(spec.Gateways) > 0 {
		info.gateways = map[objectKey]*gatewayAllowance{}
		for _, g := range spec.Gateways {
			key := objectKey{string(g.Namespace), g.Name}
			a := info.gateways[key]
			if a == nil {
				a = &gatewayAllowance{}
				info.gateways[key] = a
			}
			if len(g.SectionNames) == 0 {
				a.anyListener = true
			}
			a.sections = append(a.sections, g.SectionNames...)
			slices.Sort(a.sections)
			a.sections = slices.Compact(a.sections)
		}
	}
	info.selector, info.selectorErr = tenantSelector(spec.Namespaces.Selector)
	return info
}

// tenantSelector converts a Tenant's namespace selector; an empty selector
// selects nothing, so a Tenant cannot take the whole cluster by accident.
func tenantSelector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil || (len(s.MatchLabels) == 0 && len(s.MatchExpressions) == 0) {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(s)
	if err != nil {
		return nil, err
	}
	return sel, nil
}

func nameSet[S ~string](names []S) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[string(n)] = true
	}
	return set
}

// gatewayList describes the gateways a tenant may use, for messages.
func (t *tenantInfo) gatewayList() string {
	var parts []string
	for key, a := range t.gateways {
		s := key.String()
		if !a.anyListener {
			s += " (listeners " + strings.Join(a.sections, ", ") + ")"
		}
		parts = append(parts, s)
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// namespaceClaim is a tenant's claim on a namespace.
type namespaceClaim struct {
	tenant *tenantInfo
	byName bool // listed in spec.namespaces.names, rather than selected by labels
}

// membership resolves which tenant each namespace belongs to.
type membership struct {
	platform map[string]bool
	labels   map[string]labels.Set
	names    []string                    // the namespaces of the snapshot, sorted
	claims   map[string][]namespaceClaim // every claim, tenants in name order
	owner    map[string]*tenantInfo      // the tenant a namespace belongs to
	members  map[string][]string         // tenant name -> sorted namespaces
}

// newMembership resolves namespace claims. A namespace claimed by two
// tenants (which CheckTenant prevents and the audit reports) belongs to the
// first that lists it by name, else to the first that selects it, in tenant
// name order, so the answer is deterministic. Platform namespaces belong to
// no tenant.
func newMembership(tenants []*tenantInfo, namespaces []corev1.Namespace, platform []string) *membership {
	m := &membership{
		platform: nameSet(platform),
		labels:   make(map[string]labels.Set, len(namespaces)),
		claims:   map[string][]namespaceClaim{},
		owner:    map[string]*tenantInfo{},
		members:  map[string][]string{},
	}
	for i := range namespaces {
		m.labels[namespaces[i].Name] = labels.Set(namespaces[i].Labels)
		m.names = append(m.names, namespaces[i].Name)
	}
	sort.Strings(m.names)
	for _, t := range tenants {
		for _, n := range t.spec.Namespaces.Names {
			m.addClaim(string(n), namespaceClaim{tenant: t, byName: true})
		}
	}
	byLabel, scanned := selectorIndex(tenants)
	for i := range namespaces {
		ns := &namespaces[i]
		for _, t := range selectingTenants(ns.Labels, byLabel, scanned) {
			m.addClaim(ns.Name, namespaceClaim{tenant: t})
		}
	}
	for ns, claims := range m.claims {
		sort.SliceStable(claims, func(i, j int) bool {
			if claims[i].byName != claims[j].byName {
				return claims[i].byName
			}
			return claims[i].tenant.name < claims[j].tenant.name
		})
		if m.platform[ns] {
			continue
		}
		owner := claims[0].tenant
		m.owner[ns] = owner
		m.members[owner.name] = append(m.members[owner.name], ns)
	}
	for _, list := range m.members {
		sort.Strings(list)
	}
	return m
}

// addClaim records a claim unless the tenant already claims the namespace.
func (m *membership) addClaim(ns string, c namespaceClaim) {
	if !slices.ContainsFunc(m.claims[ns], func(o namespaceClaim) bool { return o.tenant == c.tenant }) {
		m.claims[ns] = append(m.claims[ns], c)
	}
}

// selectorIndex files each tenant with a label selector under one of its
// matchLabels pairs, so a namespace only tests the selectors that could
// match it; selectors with only matchExpressions are scanned for every
// namespace.
func selectorIndex(tenants []*tenantInfo) (byLabel map[string][]*tenantInfo, scanned []*tenantInfo) {
	byLabel = map[string][]*tenantInfo{}
	for _, t := range tenants {
		if t.selector == nil {
			continue
		}
		ml := t.spec.Namespaces.Selector.MatchLabels
		if len(ml) == 0 {
			scanned = append(scanned, t)
			continue
		}
		keys := make([]string, 0, len(ml))
		for k := range ml {
			keys = append(keys, k)
		}
		k := slices.Min(keys)
		byLabel[k+"="+ml[k]] = append(byLabel[k+"="+ml[k]], t)
	}
	return byLabel, scanned
}

// selectingTenants returns the tenants whose selector matches the labels,
// in tenant name order.
func selectingTenants(nsLabels map[string]string, byLabel map[string][]*tenantInfo, scanned []*tenantInfo) []*tenantInfo {
	var out []*tenantInfo
	set := labels.Set(nsLabels)
	for k, v := range nsLabels {
		for _, t := range byLabel[k+"="+v] {
			if t.selector.Matches(set) {
				out = append(out, t)
			}
		}
	}
	for _, t := range scanned {
		if t.selector.Matches(set) {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// claimants returns the tenants other than self that claim the namespace.
func (m *membership) claimants(ns, self string) []string {
	var out []string
	for _, c := range m.claims[ns] {
		if c.tenant.name != self {
			out = append(out, c.tenant.name)
		}
	}
	return out
}

// TenantOf names the tenant namespace ns belongs to; "" for platform
// namespaces and namespaces of no tenant.
func (p *Policy) TenantOf(ns string) string {
	if t := p.members.owner[ns]; t != nil {
		return t.name
	}
	return ""
}
