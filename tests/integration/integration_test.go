package integration

import "testing"

// TestTenantPolicy runs every suite against one cluster, in an order where
// each leaves the world as it found it (the audit, which stops the webhook
// for a while, runs last).
func TestTenantPolicy(t *testing.T) {
	h := newHarness(t)
	for _, suite := range []struct {
		name  string
		cases []admissionCase
	}{
		{"routes/membership and platform namespaces", membershipCases},
		{"routes/gateways and sectionNames", gatewayCases},
		{"routes/owned hostnames", hostnameCases},
		{"routes/paths on shared hosts", sharedHostCases},
		{"routes/without hostnames", noHostnameCases},
		{"routes/backendRefs and RequestMirror", targetCases},
		{"routes/namespaces of no tenant", unmanagedCases},
		{"routes/Warn mode", warnModeCases},
		{"routes/listener warnings", listenerWarningCases},
		{"routes/v1beta1", versionCases},
		{"routes/other kinds", otherRouteCases},
		{"routes/ListenerSet parents", listenerSetParentCases},
		{"listenersets", listenerSetCases},
		{"gateways in tenant namespaces", gatewayCasesInTenants},
		{"referencegrants", grantCases},
		{"referencegrants/other route kinds", grantKindCases},
		{"tenants", tenantCases},
	} {
		t.Run(suite.name, func(t *testing.T) { h.runCases(t, suite.cases) })
	}
	t.Run("routes/another implementation's Gateway", h.testOtherGatewayClass)
	t.Run("updates and deletes", h.testUpdates)
	t.Run("seed scenario b", h.testSeedScenario)
	t.Run("namespace moves", h.testNamespaceMoves)
	t.Run("a Service per Gateway", h.testGatewayInfrastructure)
	t.Run("audit of the other kinds", h.testAuditNewKinds)
	t.Run("metrics", h.testMetrics)
	t.Run("kubectl tenantgate", h.testPlugin)
	t.Run("audit of route counts", h.testAuditCounts)
	t.Run("audit", h.testAudit)
}
