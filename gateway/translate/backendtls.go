package translate

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// maxPolicyAncestors is the API's limit on a policy's status.ancestors.
const maxPolicyAncestors = 16

// policyState is one BackendTLSPolicy as Build judges it.
type policyState struct {
	policy *gatewayv1.BackendTLSPolicy
	key    types.NamespacedName
	accept problem // Accepted: Conflicted, NoValidCACertificate or Invalid
	refs   problem // ResolvedRefs: InvalidKind or InvalidCACertificateRef
	// tls is what backends it applies to use; nil when it has no usable CA,
	// and requests to them then fail with 500 rather than go in the clear.
	tls *routetable.BackendTLS
	// ancestors are the Gateways that accepted a route using its targets.
	ancestors []*gatewayState
}

// policyTarget is what a BackendTLSPolicy applies to: a Service, or one of
// its ports by name (section).
type policyTarget struct {
	service types.NamespacedName
	section string
}

// backendTLSPolicies judges every BackendTLSPolicy and gives each target to
// the oldest policy naming it (then by namespace/name); the others are
// Conflicted there.
func (b *builder) backendTLSPolicies() {
	for _, p := range sortedByAge(b.s.BackendTLSPolicies) {
		st := &policyState{policy: p, key: keyOf(&p.ObjectMeta)}
		st.accept, st.refs = b.judgePolicy(st)
		for _, ref := range p.Spec.TargetRefs {
			if ref.Group != "" || ref.Kind != "Service" {
				continue // a target tenantgate does not connect to; it never applies
			}
			t := policyTarget{service: types.NamespacedName{Namespace: p.Namespace, Name: string(ref.Name)}, section: string(deref(ref.SectionName, ""))}
			b.policiesOn[t] = append(b.policiesOn[t], st)
			if winner := b.policyByTarget[t]; winner != nil {
				st.accept = firstProblem(newProblem(gatewayv1.PolicyReasonConflicted,
					"BackendTLSPolicy %s targets %s, as does BackendTLSPolicy %s, which is older (or first by name) and applies instead; target something else or delete one.",
					st.key, t.describe(), winner.key), st.accept)
				continue
			}
			b.policyByTarget[t] = st
		}
		b.policies = append(b.policies, st)
	}
}

func (t policyTarget) describe() string {
	if t.section == "" {
		return "Service " + t.service.String()
	}
	return fmt.Sprintf("port %s of Service %s", t.section, t.service)
}

// policyFor returns the policy for a Service port: the one naming the port,
// else the one naming the whole Service.
func (b *builder) policyFor(service types.NamespacedName, port string) *policyState {
	if p := b.policyByTarget[policyTarget{service: service, section: port}]; p != nil && port != "" {
		return p
	}
	return b.policyByTarget[policyTarget{service: service}]
}

// notePolicies records in t every policy targeting a Service port, the one
// that applies and those conflicting with it, so the Gateways accepting the
// route become ancestors of each.
func (b *builder) notePolicies(t *routeTranslation, service types.NamespacedName, port string) {
	for _, target := range [...]policyTarget{{service: service, section: port}, {service: service}} {
		for _, p := range b.policiesOn[target] {
			if !slices.Contains(t.policies, p) {
				t.policies = append(t.policies, p)
			}
		}
		if port == "" {
			return // both targets are the whole Service
		}
	}
}

// judgePolicy checks a policy's settings and resolves its CA certificates.
func (b *builder) judgePolicy(st *policyState) (accept, refs problem) {
	spec := &st.policy.Spec
	v := &spec.Validation
	if len(spec.Options) > 0 {
		keys := make([]string, 0, len(spec.Options))
		for k := range spec.Options {
			keys = append(keys, string(k))
		}
		slices.Sort(keys)
		return newProblem(gatewayv1.PolicyReasonInvalid,
			"BackendTLSPolicy %s sets options %s, which tenantgate does not support; remove them.", st.key, strings.Join(keys, ", ")), problem{}
	}
	tls := &routetable.BackendTLS{Policy: st.key.String(), ServerName: string(v.Hostname)}
	for i, san := range v.SubjectAltNames {
		switch san.Type {
		case gatewayv1.HostnameSubjectAltNameType:
			tls.SubjectAltNames = append(tls.SubjectAltNames, routetable.SubjectAltName{Type: routetable.SANHostname, Value: string(san.Hostname)})
		case gatewayv1.URISubjectAltNameType:
			tls.SubjectAltNames = append(tls.SubjectAltNames, routetable.SubjectAltName{Type: routetable.SANURI, Value: string(san.URI)})
		default:
			return newProblem(gatewayv1.PolicyReasonInvalid,
				"BackendTLSPolicy %s spec.validation.subjectAltNames[%d] has type %q; use Hostname or URI.", st.key, i, san.Type), problem{}
		}
	}
	switch {
	case v.Hostname == "":
		return newProblem(gatewayv1.PolicyReasonInvalid, "BackendTLSPolicy %s has no spec.validation.hostname; set the name to send as SNI.", st.key), problem{}
	case (len(v.CACertificateRefs) > 0) == (v.WellKnownCACertificates != nil):
		return newProblem(gatewayv1.PolicyReasonInvalid,
			"BackendTLSPolicy %s must set exactly one of spec.validation.caCertificateRefs and wellKnownCACertificates.", st.key), problem{}
	case v.WellKnownCACertificates != nil && *v.WellKnownCACertificates != gatewayv1.WellKnownCACertificatesSystem:
		return newProblem(gatewayv1.PolicyReasonInvalid,
			"BackendTLSPolicy %s sets wellKnownCACertificates %q; tenantgate knows only System.", st.key, *v.WellKnownCACertificates), problem{}
	case v.WellKnownCACertificates != nil:
		tls.SystemCAs = true
		st.tls = tls
		return problem{}, problem{}
	}
	var problems []problem
	for i, ref := range v.CACertificateRefs {
		group, kind := string(ref.Group), string(ref.Kind)
		key := types.NamespacedName{Namespace: st.key.Namespace, Name: string(ref.Name)}
		pem, fault, detail := b.caBundle(group, kind, key)
		if fault != caUsable {
			reason := gatewayv1.BackendTLSPolicyReasonInvalidCACertificateRef
			if fault == caUnsupportedKind {
				reason = gatewayv1.BackendTLSPolicyReasonInvalidKind
			}
			problems = append(problems, newProblem(reason, "BackendTLSPolicy %s spec.validation.caCertificateRefs[%d] refers to %s.", st.key, i, fault.describe(group, kind, key, detail)))
			continue
		}
		tls.CAPEM = append(tls.CAPEM, pem...)
		tls.CACertificates = append(tls.CACertificates, kind+" "+key.String())
	}
	refs = joinProblems(problems)
	if len(tls.CACertificates) == 0 {
		return newProblem(gatewayv1.BackendTLSPolicyReasonNoValidCACertificate,
			"BackendTLSPolicy %s has no usable CA certificate, so requests to its targets fail; see its ResolvedRefs condition.", st.key), refs
	}
	st.tls = tls
	return problem{}, refs
}

// apply gives a backend the policy for its Service port: TLS
// settings, or, for a policy without a usable CA, a reason its requests fail.
func (st *policyState) apply(out *routetable.Backend) {
	if st.tls == nil {
		out.Unresolved = fmt.Sprintf("BackendTLSPolicy %s has no usable CA certificate", st.key)
		return
	}
	out.TLS = st.tls
}

// addAncestor records that Gateway g accepted a route using the policy.
func (st *policyState) addAncestor(g *gatewayState) {
	if !slices.Contains(st.ancestors, g) {
		st.ancestors = append(st.ancestors, g)
	}
}

// policyStatuses records the status of every policy with a Gateway of ours
// among its ancestors, or with entries of ours it no longer should have.
func (b *builder) policyStatuses() {
	for _, st := range b.policies {
		if len(st.ancestors) == 0 {
			if slices.ContainsFunc(st.policy.Status.Ancestors, func(a gatewayv1.PolicyAncestorStatus) bool { return a.ControllerName == b.controller }) {
				b.result.BackendTLSPolicies[st.key] = gatewayv1.PolicyStatus{Ancestors: []gatewayv1.PolicyAncestorStatus{}}
			}
			continue
		}
		slices.SortFunc(st.ancestors, func(x, y *gatewayState) int {
			return cmp.Or(cmp.Compare(x.key.Namespace, y.key.Namespace), cmp.Compare(x.key.Name, y.key.Name))
		})
		gen := st.policy.Generation
		conds := []metav1.Condition{
			b.condition(string(gatewayv1.PolicyConditionAccepted), st.accept.ok(), orReason(st.accept, gatewayv1.PolicyReasonAccepted),
				orMessage(st.accept, "The policy applies to connections to its targets."), gen),
			b.condition(string(gatewayv1.BackendTLSPolicyConditionResolvedRefs), st.refs.ok(), orReason(st.refs, gatewayv1.BackendTLSPolicyReasonResolvedRefs),
				orMessage(st.refs, "All references resolved."), gen),
		}
		ancestors := make([]gatewayv1.PolicyAncestorStatus, 0, min(len(st.ancestors), maxPolicyAncestors))
		for _, g := range st.ancestors[:min(len(st.ancestors), maxPolicyAncestors)] {
			ns := gatewayv1.Namespace(g.key.Namespace)
			ancestors = append(ancestors, gatewayv1.PolicyAncestorStatus{
				AncestorRef:    gatewayv1.ParentReference{Group: new(gatewayv1.Group(gatewayv1.GroupName)), Kind: new(gatewayv1.Kind("Gateway")), Namespace: &ns, Name: gatewayv1.ObjectName(g.key.Name)},
				ControllerName: b.controller,
				Conditions:     slices.Clone(conds),
			})
		}
		b.result.BackendTLSPolicies[st.key] = gatewayv1.PolicyStatus{Ancestors: ancestors}
	}
}
