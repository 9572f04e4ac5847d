package translate

import (
	"maps"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

func claim(name string, age int, held map[int32]int32, want ...int32) PortClaim {
	return PortClaim{
		Gateway: types.NamespacedName{Namespace: "ns", Name: name},
		Created: metav1.NewTime(time.Unix(1000-int64(age), 0)),
		Held:    held, Want: want,
	}
}

func TestAssignTargetPorts(t *testing.T) {
	r := PortRange{First: 20000, Last: 20003}
	for _, tc := range []struct {
		name     string
		claims   []PortClaim
		want     map[string]map[int32]int32
		problems []string
	}{
		{"two Gateways on port 80 get distinct ports, older first",
			[]PortClaim{claim("young", 1, nil, 80), claim("old", 2, nil, 80, 443)},
			map[string]map[int32]int32{"old": {80: 20000, 443: 20001}, "young": {80: 20002}}, nil},
		{"held ports stay even when an older Gateway arrives",
			[]PortClaim{claim("old", 5, nil, 80), claim("serving", 1, map[int32]int32{80: 20000}, 80)},
			map[string]map[int32]int32{"serving": {80: 20000}, "old": {80: 20001}}, nil},
		{"a port held twice (a replayed Service) stays with neither, so neither takes the other's traffic",
			[]PortClaim{claim("thief", 2, map[int32]int32{80: 20000}, 80), claim("owner", 1, map[int32]int32{80: 20000}, 80)},
			map[string]map[int32]int32{"thief": {80: 20001}, "owner": {80: 20002}}, nil},
		{"a held port outside the range is replaced",
			[]PortClaim{claim("gw", 1, map[int32]int32{80: 8080}, 80)},
			map[string]map[int32]int32{"gw": {80: 20000}}, nil},
		{"a removed listener port frees its target port",
			[]PortClaim{claim("gw", 2, map[int32]int32{80: 20000, 81: 20001}, 81), claim("new", 1, nil, 80)},
			map[string]map[int32]int32{"gw": {81: 20001}, "new": {80: 20000}}, nil},
		{"the reader (no Want) keeps held ports only, deduplicated",
			[]PortClaim{claim("a", 2, map[int32]int32{80: 20000}), claim("b", 1, map[int32]int32{80: 20000, 443: 20003})},
			map[string]map[int32]int32{"a": {}, "b": {443: 20003}}, nil},
		{"an exhausted range says so for the Gateways left out",
			[]PortClaim{claim("big", 2, nil, 1, 2, 3), claim("late", 1, nil, 4, 5)},
			map[string]map[int32]int32{"big": {1: 20000, 2: 20001, 3: 20002}, "late": {4: 20003}}, []string{"late"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := AssignTargetPorts(tc.claims, r)
			for name, want := range tc.want {
				if g := got[types.NamespacedName{Namespace: "ns", Name: name}]; !maps.Equal(g, want) {
					t.Errorf("Gateway %s: %v, want %v", name, g, want)
				}
			}
			if len(problems) != len(tc.problems) {
				t.Errorf("problems %v, want for %v", problems, tc.problems)
			}
			for _, name := range tc.problems {
				if problems[types.NamespacedName{Namespace: "ns", Name: name}] == "" {
					t.Errorf("no problem for %s: %v", name, problems)
				}
			}
		})
	}
}

func TestParsePortRange(t *testing.T) {
	if r, err := ParsePortRange(DefaultTargetPorts); err != nil || r != (PortRange{20000, 29999}) {
		t.Errorf("ParsePortRange(%q) = %v, %v", DefaultTargetPorts, r, err)
	}
	for _, bad := range []string{"", "20000", "80-90", "30000-20000", "20000-70000", "a-b"} {
		if _, err := ParsePortRange(bad); err == nil {
			t.Errorf("ParsePortRange(%q) accepted", bad)
		}
	}
}
