package tenancy

import (
	"strings"
	"testing"
)

func TestRegexesTheDataPlaneCannotServeAreDenied(t *testing.T) {
	deep := strings.Repeat("(", 40) + "a" + strings.Repeat(")", 40)
	runObjectCases(t, []objectCase{{
		name: "a header regex nested 40 levels deep denied in a platform namespace too",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: infra, name: r}
spec:
  rules: [{matches: [{headers: [{type: RegularExpression, name: x, value: "` + deep + `"}]}]}]`,
		violations: []string{`spec.rules[0].matches[0].headers[0].value: "` + deep[:64] + `… (81 bytes)" is not a regular expression tenantgate can serve (it nests 41 levels deep, over the limit of 32); simplify it or use Exact or PathPrefix`},
	}, {
		name: "an ordinary path regex admitted",
		kind: kindHTTPRoute,
		obj: `
metadata: {namespace: infra, name: r}
spec:
  rules: [{matches: [{path: {type: RegularExpression, value: "/v[0-9]+/items"}}]}]`,
	}})
}
