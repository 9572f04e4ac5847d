package translate

import (
	"testing"
)

// TestIncrementalEndpointsWhileUnserved: routes that no Gateway of ours
// serves are not translated, so when their Services' endpoints change
// meanwhile, a later Build with the same endpoints must still translate
// them again rather than take them as fresh from the Build before.
func TestIncrementalEndpointsWhileUnserved(t *testing.T) {
	s := benchSnapshot()
	s.HTTPRoutes = s.HTTPRoutes[:5]
	s.Services, s.EndpointSlices = s.Services[:benchServicesPerNS], s.EndpointSlices[:benchServicesPerNS]
	inc := &Incremental{}
	check := func(step string, s *Snapshot) {
		t.Helper()
		stampVersions(s)
		if got, want := inc.Build(s), Build(s); !sameResults(got, want) {
			t.Fatalf("%s: incremental Build differs from a full Build:\n%s", step, diffResults(got, want))
		}
	}
	check("first Build", s)

	unserved := cloneSnapshot(s)
	unserved.Gateways = nil
	unserved.EndpointSlices[0].Endpoints[0].Addresses = []string{"10.99.0.1"}
	check("Gateway gone and endpoints changed", unserved)
	if n := inc.Stats().Translated; n != 0 {
		t.Fatalf("%d routes translated with no Gateway of ours; want none (the test needs them unvisited)", n)
	}

	back := cloneSnapshot(unserved)
	back.Gateways = cloneSnapshot(s).Gateways
	check("Gateway back, endpoints as in the Build before", back)
	if inc.Stats().Translated == 0 {
		t.Fatal("no route translated again though the endpoints they read changed while unserved")
	}
}
