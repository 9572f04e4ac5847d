package tenancy

import (
	"fmt"

	"k8s.io/apimachinery/pkg/util/validation/field"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// maxShownRegex bounds how much of a refused expression a message repeats.
const maxShownRegex = 64

// checkRegexes refuses, in every namespace, an HTTPRoute regular expression
// the data plane could not compile (routetable.CompileRegex, the one check
// the translator uses too): too long, too deeply nested, too large, or not
// RE2. The gateway would drop that rule; admission says so at apply time.
func (c *routeCheck) checkRegexes() {
	r := c.route.http
	if r == nil {
		return
	}
	check := func(at *field.Path, kind *gatewayv1.PathMatchType, value string) {
		if kind == nil || *kind != gatewayv1.PathMatchRegularExpression {
			return
		}
		if _, err := routetable.CompileRegex(value); err != nil {
			c.deny(violation(at, clip(value), "%q is not a regular expression tenantgate can serve (%v); simplify it or use Exact or PathPrefix", clip(value), err))
		}
	}
	for i := range r.Spec.Rules {
		for j, m := range r.Spec.Rules[i].Matches {
			at := rulesPath.Index(i).Child("matches").Index(j)
			if m.Path != nil && m.Path.Value != nil {
				check(at.Child("path", "value"), m.Path.Type, *m.Path.Value)
			}
			for k, h := range m.Headers {
				check(at.Child("headers").Index(k).Child("value"), (*gatewayv1.PathMatchType)(h.Type), h.Value)
			}
			for k, q := range m.QueryParams {
				check(at.Child("queryParams").Index(k).Child("value"), (*gatewayv1.PathMatchType)(q.Type), q.Value)
			}
		}
	}
}

// clip shortens a long value for a message, saying how long it was.
func clip(s string) string {
	if len(s) <= maxShownRegex {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", s[:maxShownRegex], len(s))
}
