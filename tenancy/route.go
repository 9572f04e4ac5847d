package tenancy

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// routeCheck is the state of one route check.
type routeCheck struct {
	p        *Policy
	route    *routeView
	ns       string
	tenant   *tenantInfo // nil outside tenant namespaces
	warnings bool        // whether to compute warnings
	v        Verdict
	victims  []*tenantInfo // tenants whose hostnames a route of no tenant takes
}

var (
	specPath      = field.NewPath("spec")
	hostnamesPath = specPath.Child("hostnames")
	parentsPath   = specPath.Child("parentRefs")
	rulesPath     = specPath.Child("rules")
)

// checkRoute also returns, for a route of no tenant, the tenants whose
// hostnames it takes, so the audit can list it on their status.
func (p *Policy) checkRoute(route *routeView, warnings bool) (Verdict, []*tenantInfo) {
	c := &routeCheck{p: p, route: route, ns: route.namespace, warnings: warnings}
	c.v.Enforcement = v1alpha1.EnforcementDeny
	switch {
	case p.members.platform[c.ns]:
		// Trusted: only warnings.
	case p.members.owner[c.ns] != nil:
		c.tenant = p.members.owner[c.ns]
		c.v.Tenant, c.v.Enforcement = c.tenant.name, c.tenant.enforcement
		c.checkParents()
		c.checkTenantHostnames()
	default:
		c.checkUnmanagedHostnames()
	}
	c.checkTargets()
	c.checkRegexes()
	if warnings {
		c.warnListeners()
	}
	return c.v, c.victims
}

func (c *routeCheck) deny(e *field.Error) { c.v.Violations = append(c.v.Violations, e) }

func (c *routeCheck) warn(path *field.Path, format string, args ...any) {
	c.v.Warnings = append(c.v.Warnings, oneLine(path.String()+": "+fmt.Sprintf(format, args...)))
}

// checkParents enforces spec.gateways: each parent must be a listed
// Gateway, on a listener the tenant may use.
func (c *routeCheck) checkParents() {
	t := c.tenant
	if t.gateways == nil {
		return
	}
	if scope := c.route.common.UseDefaultGateways; scope != "" && scope != gatewayv1.GatewayDefaultScopeNone {
		c.deny(violation(specPath.Child("useDefaultGateways"), string(scope),
			"%q attaches the route to the cluster's default Gateways, but tenant %q may attach routes only to its gateways (%s); remove it and use parentRefs",
			scope, t.name, t.gatewayList()))
	}
	for i := range c.route.common.ParentRefs {
		ref := &c.route.common.ParentRefs[i]
		key := parentKey(ref, c.ns)
		if parentKindOf(ref) == kindListenerSet {
			c.checkListenerSetParent(i, key)
			continue
		}
		if !isGatewayParent(ref) {
			c.deny(violation(parentsPath.Index(i), key.String(),
				"parent %s %s is not a Gateway; tenant %q may attach routes only to its gateways (%s)",
				parentKind(ref), key, t.name, t.gatewayList()))
			continue
		}
		allowed := t.gateways[key]
		if allowed == nil {
			c.deny(violation(parentsPath.Index(i), key.String(),
				"Gateway %s is not one of the gateways tenant %q may use (%s); attach to one of them or add it to Tenant %s spec.gateways",
				key, t.name, t.gatewayList(), t.name))
			continue
		}
		if allowed.anyListener {
			continue
		}
		if ref.SectionName != nil {
			if s := string(*ref.SectionName); !allowed.allows(s) {
				c.deny(violation(parentsPath.Index(i).Child("sectionName"), s,
					"listener %q of Gateway %s is not one tenant %q may use (%s); use one of them or add it to Tenant %s spec.gateways",
					s, key, t.name, strings.Join(allowed.sections, ", "), t.name))
			}
			continue
		}
		if !c.allListenersAllowed(key, ref, allowed) {
			every := "every listener of Gateway " + key.String()
			if ref.Port != nil {
				every = fmt.Sprintf("every listener of Gateway %s on port %d", key, *ref.Port)
			}
			c.deny(violation(parentsPath.Index(i).Child("sectionName"), "",
				"unset, so the route attaches to %s, but tenant %q may use only listeners %s; set sectionName to one of them",
				every, t.name, strings.Join(allowed.sections, ", ")))
		}
	}
}

// checkListenerSetParent allows a ListenerSet parent whose Gateway the
// tenant may use; when the tenant may use only some listeners of that
// Gateway, only a ListenerSet of its own namespaces (whose listeners the
// ListenerSet policy keeps to its hostnames), as sectionNames name Gateway
// listeners, not a ListenerSet's.
func (c *routeCheck) checkListenerSetParent(i int, key objectKey) {
	t := c.tenant
	at := parentsPath.Index(i)
	ls := c.p.model.ListenerSet(key.nn())
	if ls == nil {
		c.deny(violation(at, key.String(),
			"ListenerSet %s does not exist, so its Gateway cannot be checked against the gateways tenant %q may use (%s); create the ListenerSet first or attach to one of those gateways",
			key, t.name, t.gatewayList()))
		return
	}
	pk, isGateway := model.ListenerSetParentKey(ls.Object)
	parent := objectKey{pk.Namespace, pk.Name}
	allowed := t.gateways[parent]
	if !isGateway || allowed == nil {
		c.deny(violation(at, key.String(),
			"ListenerSet %s adds listeners to Gateway %s, which is not one of the gateways tenant %q may use (%s); attach to a ListenerSet of one of them or add the Gateway to Tenant %s spec.gateways",
			key, parent, t.name, t.gatewayList(), t.name))
		return
	}
	if !allowed.anyListener && c.p.members.owner[key.namespace] != t {
		c.deny(violation(at, key.String(),
			"ListenerSet %s adds listeners to Gateway %s, of which tenant %q may use only listeners %s (spec.gateways sectionNames); attach to one of them or to a ListenerSet in the tenant's namespaces",
			key, parent, t.name, strings.Join(allowed.sections, ", ")))
	}
}

// allListenersAllowed reports whether every listener a parentRef without
// sectionName selects is one the tenant may use; an unknown Gateway cannot
// be proven safe.
func (c *routeCheck) allListenersAllowed(key objectKey, ref *gatewayv1.ParentReference, allowed *gatewayAllowance) bool {
	gw := c.p.model.Gateway(key.nn())
	if gw == nil {
		return false
	}
	for _, l := range selectListeners(gw.Listeners, ref) {
		if !allowed.allows(string(l.Spec.Name)) {
			return false
		}
	}
	return true
}

// sharedHost is a hostname the tenant owns only some paths on.
type sharedHost struct {
	at       *field.Path // the hostname's field (spec.hostnames when inherited)
	value    string
	name     string // with where it came from, for messages
	prefixes []string
}

// checkTenantHostnames enforces ownership of the claimed (or, with no
// hostnames, inherited) hostnames, then the paths on shared hosts.
func (c *routeCheck) checkTenantHostnames() {
	if !c.route.hostnamed {
		return
	}
	var shared []sharedHost
	if len(c.route.hostnames) == 0 {
		shared = c.checkInheritedHostnames()
	}
	for i, h := range c.route.hostnames {
		pat := parseHost(string(h))
		whole, prefixes := c.p.ownership(c.tenant, pat)
		switch {
		case whole:
		case prefixes != nil:
			shared = append(shared, sharedHost{at: hostnamesPath.Index(i), value: string(h), name: fmt.Sprintf("%q", pat), prefixes: prefixes})
		default:
			c.deny(violation(hostnamesPath.Index(i), string(h), "%s", c.p.notOwned(c.tenant, pat)))
		}
	}
	c.checkSharedPaths(shared)
}

// ownership returns whether tenant t owns the whole of hostname h or, if
// not, the path prefixes it owns there (nil when none). It scans the
// tenant's own entries (at most 256), not the index: a popular shared host
// may have an entry for every tenant.
func (p *Policy) ownership(t *tenantInfo, h hostPattern) (whole bool, prefixes []string) {
	for _, o := range t.hosts {
		if !o.pattern.covers(h) {
			continue
		}
		if !o.shared() {
			return true, nil
		}
		prefixes = append(prefixes, o.prefixes...)
	}
	return false, prefixes
}

// notOwned explains why tenant t may not claim h.
func (p *Policy) notOwned(t *tenantInfo, h hostPattern) string {
	var other *tenantInfo
	p.hosts.covering(h, func(o *ownedHost) bool {
		if o.tenant != t {
			other = o.tenant
			return false
		}
		return true
	})
	switch {
	case other != nil:
		return fmt.Sprintf("%q belongs to tenant %q, not tenant %q; use a hostname listed in Tenant %s spec.hostnames",
			h, other.name, t.name, t.name)
	case h.wildcard():
		return fmt.Sprintf("wildcard %q is not inside a wildcard hostname tenant %q owns (%s); use exact hostnames or a wildcard inside an owned one",
			h, t.name, orNone(t.wildcards()))
	case t.ownsWildcard(h.domain()):
		return fmt.Sprintf("%q is not owned by tenant %q (\"*.%s\" covers only names below it); add it to Tenant %s spec.hostnames or use an owned hostname",
			h, t.name, h.domain(), t.name)
	default:
		return fmt.Sprintf("%q is not owned by tenant %q; add it to Tenant %s spec.hostnames or use an owned hostname",
			h, t.name, t.name)
	}
}

// wildcards lists the wildcard hostnames the tenant owns.
func (t *tenantInfo) wildcards() []string {
	var out []string
	for _, o := range t.hosts {
		if o.pattern.wildcard() {
			out = append(out, o.pattern.String())
		}
	}
	return out
}

func (t *tenantInfo) ownsWildcard(domain string) bool {
	for _, o := range t.hosts {
		if o.pattern.wildcard() && o.pattern.domain() == domain {
			return true
		}
	}
	return false
}

// inherited is a hostname a route without hostnames takes from a listener.
type inherited struct {
	listener string       // "namespace/gateway/listener" or "namespace/listenerset/listener"
	hostname *hostPattern // nil: any hostname
}

// inheritedHostnames lists, once per hostname, what a route without
// hostnames takes from the listeners of its parents that admit it. A Gateway
// not in the snapshot contributes nothing (the route gets a warning); the
// translator re-checks the route once the Gateway exists.
func (c *routeCheck) inheritedHostnames() []inherited {
	var out []inherited
	nsLabels := c.p.members.labels[c.ns]
	take := func(listeners []*listenerInfo) {
		for _, l := range listeners {
			if l.Admits(gatewayv1.Kind(c.route.kind), c.ns, nsLabels) && !seenHostname(out, listenerHost(l)) {
				out = append(out, inherited{listener: listenerPath(l), hostname: listenerHost(l)})
			}
		}
	}
	for i := range c.route.common.ParentRefs {
		listeners, _, _ := c.p.parentListeners(&c.route.common.ParentRefs[i], c.ns)
		take(listeners)
	}
	for _, gw := range c.p.defaultGateways(c.route.common.UseDefaultGateways) {
		take(gw.Listeners)
	}
	return out
}

func seenHostname(list []inherited, h *hostPattern) bool {
	for _, in := range list {
		if (in.hostname == nil) == (h == nil) && (h == nil || *in.hostname == *h) {
			return true
		}
	}
	return false
}

// checkInheritedHostnames denies inheriting a hostname the tenant does not
// own and returns the inherited shared hosts.
func (c *routeCheck) checkInheritedHostnames() []sharedHost {
	t := c.tenant
	var shared []sharedHost
	for _, in := range c.inheritedHostnames() {
		if in.hostname == nil {
			c.deny(violation(hostnamesPath, "",
				"empty, so the route takes every hostname, because listener %s accepts any hostname, and tenant %q does not own them all; list hostnames the tenant owns in spec.hostnames",
				in.listener, t.name))
			continue
		}
		whole, prefixes := c.p.ownership(t, *in.hostname)
		switch {
		case whole:
		case prefixes != nil:
			shared = append(shared, sharedHost{at: hostnamesPath, name: fmt.Sprintf("%q (inherited from listener %s)", in.hostname, in.listener), prefixes: prefixes})
		default:
			c.deny(violation(hostnamesPath, "",
				"empty, so the route inherits %q from listener %s, which tenant %q does not own; list hostnames the tenant owns in spec.hostnames",
				in.hostname, in.listener, t.name))
		}
	}
	return shared
}

// checkSharedPaths denies rules whose paths leave the prefixes the tenant
// owns on a shared host. No matches, or a match without a path, means
// PathPrefix "/"; a regular expression cannot be proven to stay inside.
func (c *routeCheck) checkSharedPaths(shared []sharedHost) {
	if len(shared) == 0 {
		return
	}
	t := c.tenant
	if c.route.http == nil {
		for _, sh := range shared {
			c.deny(violation(sh.at, sh.value,
				"%s is a shared host on which tenant %q owns only the paths %s, and %s (tenant %q, spec.hostnames pathPrefixes); use a hostname the tenant owns whole",
				sh.name, t.name, strings.Join(sh.prefixes, ", "), c.route.noPaths, t.name))
		}
		return
	}
	route := c.route.http
	root := pathMatch{kind: gatewayv1.PathMatchPathPrefix, value: "/"}
	if len(route.Spec.Rules) == 0 {
		for _, sh := range shared {
			c.deny(violation(rulesPath, "",
				"empty, so the route matches every path, which is outside the paths tenant %q owns on shared host %s (%s); add a rule matching a path under one of them",
				t.name, sh.name, strings.Join(sh.prefixes, ", ")))
		}
	}
	for i := range route.Spec.Rules {
		rule := &route.Spec.Rules[i]
		if len(rule.Matches) == 0 {
			for _, sh := range shared {
				if !root.within(sh.prefixes) {
					c.deny(violation(rulesPath.Index(i).Child("matches"), "",
						"empty, so the rule matches every path (PathPrefix \"/\"), which is outside the paths tenant %q owns on shared host %s (%s); add a path match under one of them",
						t.name, sh.name, strings.Join(sh.prefixes, ", ")))
				}
			}
		}
		for j := range rule.Matches {
			m := rule.Matches[j].Path
			pm := effectivePath(m)
			for _, sh := range shared {
				if pm.within(sh.prefixes) {
					continue
				}
				at := rulesPath.Index(i).Child("matches").Index(j).Child("path")
				c.deny(violation(at, pm.value, "%s", c.pathOutside(m, pm, sh)))
			}
		}
	}
}

func (c *routeCheck) pathOutside(m *gatewayv1.HTTPPathMatch, pm pathMatch, sh sharedHost) string {
	owned := strings.Join(sh.prefixes, ", ")
	switch {
	case m == nil:
		return fmt.Sprintf("unset, so the match covers every path (PathPrefix \"/\"), which is outside the paths tenant %q owns on shared host %s (%s); match a path under one of them",
			c.tenant.name, sh.name, owned)
	case pm.kind == gatewayv1.PathMatchRegularExpression:
		return fmt.Sprintf("RegularExpression %q cannot be proven to stay inside the paths tenant %q owns on shared host %s (%s); use PathPrefix or Exact under one of them",
			pm.value, c.tenant.name, sh.name, owned)
	default:
		return fmt.Sprintf("%s %q is outside the paths tenant %q owns on shared host %s (%s); match a path under one of them",
			pm.kind, pm.value, c.tenant.name, sh.name, owned)
	}
}

// checkUnmanagedHostnames keeps a route in a namespace of no tenant off
// every hostname a tenant owns, whether it claims, shadows (with a
// wildcard) or inherits it.
func (c *routeCheck) checkUnmanagedHostnames() {
	if !c.route.hostnamed {
		return
	}
	for i, h := range c.route.hostnames {
		pat := parseHost(string(h))
		first, covered := c.takenBy(pat)
		if first == nil {
			continue
		}
		if covered {
			c.deny(violation(hostnamesPath.Index(i), string(h),
				"%q is owned by tenant %q (%q), and namespace %q belongs to no tenant; use a hostname no tenant owns or create the route in a namespace of tenant %s",
				pat, first.tenant.name, first.pattern, c.ns, first.tenant.name))
		} else {
			c.deny(violation(hostnamesPath.Index(i), string(h),
				"wildcard %q covers %q, owned by tenant %q, and namespace %q belongs to no tenant; use a narrower hostname that no tenant owns",
				pat, first.pattern, first.tenant.name, c.ns))
		}
	}
	if len(c.route.hostnames) > 0 {
		return
	}
	for _, in := range c.inheritedHostnames() {
		h := hostPattern("*") // a listener without hostname accepts any
		if in.hostname != nil {
			h = *in.hostname
		}
		first, _ := c.takenBy(h)
		if first == nil {
			continue
		}
		c.deny(violation(hostnamesPath, "",
			"empty, so the route takes %q from listener %s, which covers %q of tenant %q, and namespace %q belongs to no tenant; list hostnames no tenant owns in spec.hostnames",
			h, in.listener, first.pattern, first.tenant.name, c.ns))
	}
}

func (c *routeCheck) takenBy(h hostPattern) (first *ownedHost, covered bool) {
	return c.p.takenBy(h, func(t *tenantInfo) { c.victims = addVictim(c.victims, &c.v, t) })
}

// takenBy finds the tenant hostnames h overlaps, calls victim with their
// tenants, and returns the first (a covering one if any, with covered set).
func (p *Policy) takenBy(h hostPattern, victim func(*tenantInfo)) (first *ownedHost, covered bool) {
	p.hosts.covering(h, func(o *ownedHost) bool {
		if first == nil {
			first, covered = o, true
		}
		victim(o.tenant)
		return true
	})
	p.hosts.below(h, func(o *ownedHost) bool {
		if first == nil {
			first = o
		}
		victim(o.tenant)
		return true
	})
	return first, covered
}

// addVictim records a tenant whose hostname an object of no tenant takes;
// the violation is enforced unless every such tenant is in Warn mode.
func addVictim(victims []*tenantInfo, v *Verdict, t *tenantInfo) []*tenantInfo {
	for _, o := range victims {
		if o == t {
			return victims
		}
	}
	victims = append(victims, t)
	if len(victims) == 1 {
		v.Enforcement = t.enforcement
	} else if t.enforcement == v1alpha1.EnforcementDeny {
		v.Enforcement = v1alpha1.EnforcementDeny
	}
	return victims
}

// warnListeners warns about parents the route will not attach to, with
// the model's finding: the same text the gateway writes in the route's
// Accepted condition.
func (c *routeCheck) warnListeners() {
	r := model.Route{Kind: gatewayv1.Kind(c.route.kind), Namespace: c.ns, Hostnames: c.route.hostnames}
	for i := range c.route.common.ParentRefs {
		ref := &c.route.common.ParentRefs[i]
		if parentKindOf(ref) == "" {
			continue
		}
		parent, ok := c.p.model.ParentRef(ref, c.ns)
		if !ok {
			_, _, why := c.p.parentListeners(ref, c.ns)
			c.warn(parentsPath.Index(i), "%s; the route will not attach until it does", why)
			continue
		}
		// A hostname mismatch (NoMatchingListenerHostname) is left to the
		// route's status: the listener may be meant to get that hostname.
		if _, finding := c.p.model.Attach(r, ref, parent); finding != nil && finding.Reason != string(gatewayv1.RouteReasonNoMatchingListenerHostname) {
			c.warn(parentsPath.Index(i), "the route will not attach (Accepted=False/%s): %s", finding.Reason, finding.Message)
		}
	}
}
