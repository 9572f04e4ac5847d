package app

import (
	"testing"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// applied counts the tables a fake data plane was given.
type applied struct{ tables int }

func (a *applied) Apply(*routetable.Table) map[string]error { a.tables++; return nil }

func TestFirstTableReadiness(t *testing.T) {
	plane := &applied{}
	f := &firstTable{DataPlane: plane, done: make(chan struct{})}
	if err := f.check(nil); err == nil {
		t.Fatal("Ready before any table was applied")
	}
	for range 2 {
		f.Apply(&routetable.Table{})
	}
	if err := f.check(nil); err != nil || plane.tables != 2 {
		t.Fatalf("after two tables: check %v, tables passed on %d; want Ready and 2", err, plane.tables)
	}
}

func TestControllerBindsNothing(t *testing.T) {
	if failed := (bindsNothing{}).Apply(&routetable.Table{}); failed != nil {
		t.Fatalf("bindsNothing reported %v; the controller reports no listener as failing", failed)
	}
}
