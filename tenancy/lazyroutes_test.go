package tenancy

import (
	"reflect"
	"testing"
)

// A policy built without routes and given them by WithRoutes audits exactly
// like one built with them, and lists them once.
func TestWithRoutesAuditsLikeNewPolicy(t *testing.T) {
	in := largeSnapshot(4, 3)
	hijack := benchRoute("t0001", 99)
	hijack.Spec.Hostnames = append(hijack.Spec.Hostnames, "t0002.example.com") // another tenant's hostname
	in.HTTPRoutes = append(in.HTTPRoutes, &hijack)
	full := NewPolicy(in)

	bare := in
	bare.HTTPRoutes = nil
	loads := 0
	lazy := NewPolicy(bare).WithRoutes(func() Routes {
		loads++
		return Routes{HTTPRoutes: in.HTTPRoutes}
	})
	if loads != 0 {
		t.Fatalf("WithRoutes listed the routes before the audit needed them")
	}
	for _, name := range []string{"t0000", "t0001", "t0002"} {
		want, got := full.TenantStatus(name), lazy.TenantStatus(name)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("tenant %s: audit with WithRoutes\n%+v\nwith NewPolicy\n%+v", name, got, want)
		}
	}
	if len(full.TenantStatus("t0001").Violations) == 0 {
		t.Fatal("the hijacking route is not reported: the comparison shows nothing")
	}
	if loads != 1 {
		t.Fatalf("the routes were listed %d times; want once", loads)
	}
}
