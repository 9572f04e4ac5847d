package controller

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// fact is one condition saying part of an object could not be programmed:
// Accepted, ResolvedRefs or Programmed False.
type fact struct {
	where   string // "" for the object itself, else "listener https", "parent infra/shared", ...
	typ     string
	reason  string
	message string
}

func (f fact) String() string {
	s := fmt.Sprintf("%s=False (%s): %s", f.typ, f.reason, f.message)
	if f.where != "" {
		s = f.where + ": " + s
	}
	return s
}

// blocking are the condition types that say something is not programmed.
var blocking = []string{"Accepted", "ResolvedRefs", "Programmed"}

func conditionFacts(where string, conds []metav1.Condition) []fact {
	var out []fact
	for _, c := range conds {
		if c.Status == metav1.ConditionFalse && slices.Contains(blocking, c.Type) {
			out = append(out, fact{where: where, typ: c.Type, reason: c.Reason, message: c.Message})
		}
	}
	return out
}

func gatewayClassFacts(st *gatewayv1.GatewayClassStatus) []fact {
	return conditionFacts("", st.Conditions)
}

func gatewayFacts(st *gatewayv1.GatewayStatus) []fact {
	out := conditionFacts("", st.Conditions)
	for _, l := range st.Listeners {
		out = append(out, conditionFacts("listener "+string(l.Name), l.Conditions)...)
	}
	return out
}

func listenerSetFacts(st *gatewayv1.ListenerSetStatus) []fact {
	out := conditionFacts("", st.Conditions)
	for _, l := range st.Listeners {
		out = append(out, conditionFacts("listener "+string(l.Name), l.Conditions)...)
	}
	return out
}

// routeFacts reads only the parent entries of controller.
func routeFacts(controller gatewayv1.GatewayController) func(st *gatewayv1.HTTPRouteStatus) []fact {
	return func(st *gatewayv1.HTTPRouteStatus) []fact {
		var out []fact
		for _, p := range st.Parents {
			if p.ControllerName == controller {
				out = append(out, conditionFacts("parent "+parentName(p.ParentRef), p.Conditions)...)
			}
		}
		return out
	}
}

// routeBlocked reports whether routeFacts would find a fact, without
// building them: the counts run over every route of every build.
func routeBlocked(st *gatewayv1.RouteStatus, controller gatewayv1.GatewayController) bool {
	for i := range st.Parents {
		p := &st.Parents[i]
		if p.ControllerName != controller {
			continue
		}
		for j := range p.Conditions {
			if c := &p.Conditions[j]; c.Status == metav1.ConditionFalse && slices.Contains(blocking, c.Type) {
				return true
			}
		}
	}
	return false
}

// policyFacts reads only the ancestor entries of controller.
func policyFacts(controller gatewayv1.GatewayController) func(st *gatewayv1.PolicyStatus) []fact {
	return func(st *gatewayv1.PolicyStatus) []fact {
		var out []fact
		for _, a := range st.Ancestors {
			if a.ControllerName == controller {
				out = append(out, conditionFacts("ancestor "+parentName(a.AncestorRef), a.Conditions)...)
			}
		}
		return out
	}
}

func parentName(p gatewayv1.ParentReference) string {
	name := string(p.Name)
	if p.Namespace != nil {
		name = string(*p.Namespace) + "/" + name
	}
	if p.SectionName != nil {
		name += " section " + string(*p.SectionName)
	}
	return name
}

// newFacts returns the facts of after that before did not already state,
// so an unchanged fact never makes a second Event.
func newFacts(before, after []fact) []fact {
	var out []fact
	for _, f := range after {
		if !slices.Contains(before, f) {
			out = append(out, f)
		}
	}
	return out
}

// eventNote joins facts (each ends in a full stop) into an Event note
// within the API's 1024 bytes.
func eventNote(facts []fact) string {
	parts := make([]string, len(facts))
	for i, f := range facts {
		parts[i] = f.String()
	}
	note := strings.Join(parts, " ")
	if len(note) > 1024 {
		note = note[:1021] + "..."
	}
	return note
}

// notProgrammedCounts counts, by kind, the objects of a build with at least
// one fact; routes follows the HTTPRoutes from build to build.
func notProgrammedCounts(res translate.Result, controller gatewayv1.GatewayController, routes *blockedRoutes) map[string]int {
	out := map[string]int{"GatewayClass": 0, "Gateway": 0, "ListenerSet": 0, "HTTPRoute": 0, "BackendTLSPolicy": 0}
	for _, st := range res.GatewayClasses {
		if len(gatewayClassFacts(&st)) > 0 {
			out["GatewayClass"]++
		}
	}
	for _, st := range res.Gateways {
		if len(gatewayFacts(&st)) > 0 {
			out["Gateway"]++
		}
	}
	for _, st := range res.ListenerSets {
		if len(listenerSetFacts(&st)) > 0 {
			out["ListenerSet"]++
		}
	}
	out["HTTPRoute"] = routes.count(res.HTTPRoutes, controller)
	countGRPCRoutesNotProgrammed(out, res, controller)
	out["TLSRoute"] = tlsRoutesNotProgrammed(res, controller)
	pfacts := policyFacts(controller)
	for _, st := range res.BackendTLSPolicies {
		if len(pfacts(&st)) > 0 {
			out["BackendTLSPolicy"]++
		}
	}
	return out
}

// blockedRoutes counts the HTTPRoutes whose status states a fact, looking
// at the routes each build changed rather than all of them.
type blockedRoutes struct {
	last translate.RouteStatuses
	n    int
}

func (c *blockedRoutes) count(st translate.RouteStatuses, controller gatewayv1.GatewayController) int {
	blocked := func(r translate.RouteStatuses, k types.NamespacedName) int {
		if s, ok := r.Get(k); ok && routeBlocked(&s.RouteStatus, controller) {
			return 1
		}
		return 0
	}
	if keys, ok := st.ChangedSince(c.last); ok {
		for _, k := range keys {
			c.n += blocked(st, k) - blocked(c.last, k)
		}
	} else {
		c.n = 0
		for _, s := range st.All() {
			if routeBlocked(&s.RouteStatus, controller) {
				c.n++
			}
		}
	}
	c.last = st
	return c.n
}
