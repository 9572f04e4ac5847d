package tenancy

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/model"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// A listener claims a whole host on its port: with the most specific
// listener winning, a listener for another tenant's hostname takes that
// host's traffic (and shows its own certificate) from the owner's listeners,
// and routes without hostnames inherit it. So a listener hostname is checked
// as a takeover, never as an overlap.
//
// ListenerSets: in a tenant namespace, spec.parentRef must be one of the
// tenant's gateways (sectionNames name Gateway listeners and do not apply)
// and every listener hostname must be owned whole by the tenant (no
// hostname takes every host, and a listener cannot be kept inside the path
// prefixes of a shared host). In a namespace of no tenant (and not a
// platform namespace), a listener may not declare a hostname a tenant owns,
// a wildcard covering one, or no hostname while any tenant owns a hostname:
// a hostile namespace gets nothing on a Gateway by leaving the hostname out.
// Gateways in tenant namespaces follow the tenant rules for their listener
// hostnames; Gateways elsewhere are not policed (they get their own
// addresses and take no traffic from shared Gateways).

var listenersPath = specPath.Child("listeners")

// listenerCheck is the state of one Gateway or ListenerSet check.
type listenerCheck struct {
	p       *Policy
	kind    string // Gateway or ListenerSet
	ns      string
	tenant  *tenantInfo
	v       Verdict
	victims []*tenantInfo
	// listenerOf is, per violation, the index of its listener (-1: the object).
	listenerOf []int
}

func (c *listenerCheck) deny(listener int, e *field.Error) {
	c.v.Violations = append(c.v.Violations, e)
	c.listenerOf = append(c.listenerOf, listener)
}

func (p *Policy) newListenerCheck(kind, ns string) *listenerCheck {
	c := &listenerCheck{p: p, kind: kind, ns: ns}
	c.v.Enforcement = v1alpha1.EnforcementDeny
	if !p.members.platform[ns] {
		if t := p.members.owner[ns]; t != nil {
			c.tenant = t
			c.v.Tenant, c.v.Enforcement = t.name, t.enforcement
		}
	}
	return c
}

// CheckListenerSet checks a ListenerSet against the policy of its
// namespace (see the rules above); warnings say why an allowed one will not
// attach yet.
func (p *Policy) CheckListenerSet(ls *gatewayv1.ListenerSet) Verdict {
	c, _ := p.checkListenerSet(ls, true)
	return c.v
}

func (p *Policy) checkListenerSet(ls *gatewayv1.ListenerSet, warnings bool) (*listenerCheck, []*tenantInfo) {
	c := p.newListenerCheck(kindListenerSet, ls.Namespace)
	parent, isGateway := model.ListenerSetParentKey(ls)
	if p.members.platform[ls.Namespace] {
		// Trusted: only warnings.
	} else {
		if t := c.tenant; t != nil && t.gateways != nil && (!isGateway || t.gateways[objectKey{parent.Namespace, parent.Name}] == nil) {
			c.deny(-1, violation(specPath.Child("parentRef"), parent.String(),
				"%s %s is not one of the gateways tenant %q may use (%s) (tenant %q, spec.gateways); target one of them or add it to Tenant %s spec.gateways",
				parentGatewayKind(&ls.Spec.ParentRef), parent, t.name, t.gatewayList(), t.name, t.name))
		}
		c.checkListeners(listenerSetListeners(ls))
	}
	if warnings {
		c.warnCertificates(listenerSetListeners(ls))
		if ok, why := p.listenerSetAttached(ls); !ok {
			c.v.Warnings = append(c.v.Warnings, oneLine(fmt.Sprintf(
				"spec.parentRef: the ListenerSet will not attach (Accepted=False/NotAllowed): %s", why)))
		}
	}
	return c, c.victims
}

// CheckGateway checks the listener hostnames of a Gateway in a tenant
// namespace; Gateways elsewhere are not policed.
func (p *Policy) CheckGateway(gw *gatewayv1.Gateway) Verdict {
	c := p.checkGateway(gw)
	c.warnCertificates(gatewayListeners(gw))
	return c.v
}

func (p *Policy) checkGateway(gw *gatewayv1.Gateway) *listenerCheck {
	c := p.newListenerCheck(kindGateway, gw.Namespace)
	if c.tenant != nil {
		if len(gw.Spec.Addresses) > 0 {
			// An address is a platform resource: a requested one could be
			// another team's the moment that team's Gateway is recreated.
			c.deny(-1, violation(specPath.Child("addresses"), gw.Spec.Addresses[0].Value,
				"%q is requested, but Gateways of tenant %q may not request addresses (rule: addresses come from the platform's pool); remove spec.addresses",
				gw.Spec.Addresses[0].Value, c.tenant.name))
		}
		c.checkListeners(gatewayListeners(gw))
	}
	return c
}

// ListenerViolations are the enforced violations of a Gateway or
// ListenerSet: of the whole object (such as its parentRef), and per
// listener, so the gateway can refuse only the listeners that break policy.
type ListenerViolations struct {
	Object    []string
	Listeners map[gatewayv1.SectionName][]string
}

// ListenerSetViolations returns the enforced violations of a ListenerSet;
// the zero value means the gateway may program all of it.
func (p *Policy) ListenerSetViolations(ls *gatewayv1.ListenerSet) ListenerViolations {
	c, _ := p.checkListenerSet(ls, false)
	return c.enforced(listenerSetListeners(ls))
}

// GatewayViolations returns the enforced violations of a Gateway's listeners.
func (p *Policy) GatewayViolations(gw *gatewayv1.Gateway) ListenerViolations {
	return p.checkGateway(gw).enforced(gatewayListeners(gw))
}

func (c *listenerCheck) enforced(listeners []listenerFields) ListenerViolations {
	var out ListenerViolations
	if !c.v.Denied() {
		return out
	}
	for i, e := range c.v.Violations {
		l := c.listenerOf[i]
		if l < 0 {
			out.Object = append(out.Object, Message(e))
			continue
		}
		if out.Listeners == nil {
			out.Listeners = map[gatewayv1.SectionName][]string{}
		}
		name := listeners[l].name
		out.Listeners[name] = append(out.Listeners[name], Message(e))
	}
	return out
}

// checkListeners checks each listener's hostname.
func (c *listenerCheck) checkListeners(listeners []listenerFields) {
	for i, l := range listeners {
		at := listenersPath.Index(i).Child("hostname")
		if c.tenant != nil {
			c.checkTenantListener(i, at, l)
		} else {
			c.checkUnmanagedListener(i, at, l)
		}
	}
}

func (c *listenerCheck) checkTenantListener(i int, at *field.Path, l listenerFields) {
	t := c.tenant
	if l.hostname == nil || *l.hostname == "" {
		c.deny(i, violation(at, "",
			"unset, so listener %q takes every hostname, and tenant %q does not own them all (tenant %q, spec.hostnames); set a hostname the tenant owns",
			l.name, t.name, t.name))
		return
	}
	h := parseHost(string(*l.hostname))
	whole, prefixes := c.p.ownership(t, h)
	switch {
	case whole:
	case prefixes != nil:
		c.deny(i, violation(at, string(*l.hostname),
			"%q is a shared host on which tenant %q owns only the paths %s, and a listener takes every path (tenant %q, spec.hostnames pathPrefixes); use a hostname the tenant owns whole",
			h, t.name, strings.Join(prefixes, ", "), t.name))
	default:
		c.deny(i, violation(at, string(*l.hostname), "%s", c.p.notOwned(t, h)))
	}
}

func (c *listenerCheck) checkUnmanagedListener(i int, at *field.Path, l listenerFields) {
	victim := func(t *tenantInfo) { c.victims = addVictim(c.victims, &c.v, t) }
	if l.hostname == nil || *l.hostname == "" {
		first, _ := c.p.takenBy(hostPattern("*"), victim)
		if first != nil {
			c.deny(i, violation(at, "",
				"unset, so listener %q takes every hostname, including %q of tenant %q, and namespace %q belongs to no tenant; set a hostname no tenant owns",
				l.name, first.pattern, first.tenant.name, c.ns))
		}
		return
	}
	h := parseHost(string(*l.hostname))
	first, covered := c.p.takenBy(h, victim)
	switch {
	case first == nil:
	case covered:
		c.deny(i, violation(at, string(*l.hostname),
			"%q is owned by tenant %q (%q), and namespace %q belongs to no tenant; use a hostname no tenant owns or create the %s in a namespace of tenant %s",
			h, first.tenant.name, first.pattern, c.ns, c.kind, first.tenant.name))
	default:
		c.deny(i, violation(at, string(*l.hostname),
			"wildcard %q covers %q, owned by tenant %q, and namespace %q belongs to no tenant; use a narrower hostname that no tenant owns",
			h, first.pattern, first.tenant.name, c.ns))
	}
}

// warnCertificates warns about listener certificates in other namespaces
// that no ReferenceGrant opens to this kind of object.
func (c *listenerCheck) warnCertificates(listeners []listenerFields) {
	for i, l := range listeners {
		if l.tls == nil {
			continue
		}
		for j, ref := range l.tls.CertificateRefs {
			ns := c.ns
			if ref.Namespace != nil && *ref.Namespace != "" {
				ns = string(*ref.Namespace)
			}
			group, kind := gatewayv1.Group(""), gatewayv1.Kind("Secret")
			if ref.Group != nil {
				group = *ref.Group
			}
			if ref.Kind != nil {
				kind = *ref.Kind
			}
			if ns == c.ns {
				continue
			}
			ok, ignored := c.p.granted(c.kind, c.ns, ns, group, kind, ref.Name)
			if ok {
				continue
			}
			c.v.Warnings = append(c.v.Warnings, oneLine(fmt.Sprintf(
				"%s: no ReferenceGrant in namespace %q lets %ss in namespace %q use %s %q%s; listener %q gets no certificate (ResolvedRefs=False/RefNotPermitted) until one does",
				listenersPath.Index(i).Child("tls", "certificateRefs").Index(j), ns, c.kind, c.ns, kind, ref.Name, parenthesised(ignored), l.name)))
		}
	}
}

// parentGatewayKind names a ListenerSet parentRef's kind for messages.
func parentGatewayKind(ref *gatewayv1.ParentGatewayReference) string {
	return parentKind(&gatewayv1.ParentReference{Group: ref.Group, Kind: ref.Kind})
}
