package controller

import (
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func gateway(name string, age int, requested ...string) gatewayv1.Gateway {
	gw := gatewayv1.Gateway{ObjectMeta: metav1.ObjectMeta{
		Namespace: "infra", Name: name,
		CreationTimestamp: metav1.NewTime(time.Unix(1_700_000_000, 0).Add(-time.Duration(age) * time.Hour)),
	}}
	for _, r := range requested {
		gw.Spec.Addresses = append(gw.Spec.Addresses, gatewayv1.GatewaySpecAddress{Type: ptr.To(gatewayv1.IPAddressType), Value: r})
	}
	return gw
}

func withStatus(gw gatewayv1.Gateway, addr string) gatewayv1.Gateway {
	gw.Status.Addresses = []gatewayv1.GatewayStatusAddress{{Type: ptr.To(gatewayv1.IPAddressType), Value: addr}}
	return gw
}

func TestAssign(t *testing.T) {
	pool, err := ParsePool("127.10.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	key := func(n string) types.NamespacedName { return types.NamespacedName{Namespace: "infra", Name: n} }
	cases := []struct {
		name     string
		gateways []gatewayv1.Gateway
		want     map[string]string
		problems map[string]string
	}{
		{
			name:     "oldest gets the lowest address",
			gateways: []gatewayv1.Gateway{gateway("young", 1), gateway("old", 2)},
			want:     map[string]string{"old": "127.10.0.1", "young": "127.10.0.2"},
		},
		{
			name:     "an address in status is kept",
			gateways: []gatewayv1.Gateway{gateway("a", 2), withStatus(gateway("b", 1), "127.10.0.3")},
			want:     map[string]string{"a": "127.10.0.1", "b": "127.10.0.3"},
		},
		{
			name:     "a requested address is reserved before dynamic ones",
			gateways: []gatewayv1.Gateway{gateway("dynamic", 2), gateway("static", 1, "127.10.0.1")},
			want:     map[string]string{"static": "127.10.0.1", "dynamic": "127.10.0.2"},
		},
		{
			name:     "a new Gateway cannot take a serving Gateway's address by requesting it",
			gateways: []gatewayv1.Gateway{withStatus(gateway("shared", 1), "127.10.0.1"), gateway("hijack", 0, "127.10.0.1")},
			want:     map[string]string{"shared": "127.10.0.1"},
			problems: map[string]string{"hijack": "address 127.10.0.1 is already used by Gateway infra/shared; request another address"},
		},
		{
			name:     "an empty requested value means any pool address",
			gateways: []gatewayv1.Gateway{gateway("any", 1, "")},
			want:     map[string]string{"any": "127.10.0.1"},
		},
		{
			name:     "a requested address outside the pool is refused",
			gateways: []gatewayv1.Gateway{gateway("outside", 1, "192.0.2.7")},
			problems: map[string]string{"outside": "address 192.0.2.7 is outside the gateway address pool 127.10.0.0/30; request an address inside it"},
		},
		{
			name:     "the same requested address twice: the younger is refused",
			gateways: []gatewayv1.Gateway{gateway("first", 2, "127.10.0.2"), gateway("second", 1, "127.10.0.2")},
			want:     map[string]string{"first": "127.10.0.2"},
			problems: map[string]string{"second": "address 127.10.0.2 is already used by Gateway infra/first; request another address"},
		},
		{
			name:     "an exhausted pool says so",
			gateways: []gatewayv1.Gateway{gateway("a", 4), gateway("b", 3), gateway("c", 2), gateway("d", 1)},
			want:     map[string]string{"a": "127.10.0.1", "b": "127.10.0.2", "c": "127.10.0.3"},
			problems: map[string]string{"d": "the gateway address pool 127.10.0.0/30 has no free address; delete a Gateway or widen the pool"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, problems := pool.Assign(tc.gateways, nil)
			if len(got) != len(tc.want) || len(problems) != len(tc.problems) {
				t.Fatalf("got %v, problems %v; want %v, %v", got, problems, tc.want, tc.problems)
			}
			for n, a := range tc.want {
				if got[key(n)] != a {
					t.Errorf("%s got %q, want %q", n, got[key(n)], a)
				}
			}
			for n, p := range tc.problems {
				if problems[key(n)] != p {
					t.Errorf("%s problem %q, want %q", n, problems[key(n)], p)
				}
			}
		})
	}
}

func TestParsePoolRejectsGarbage(t *testing.T) {
	if _, err := ParsePool("127.10.0.0"); err == nil {
		t.Fatal("a bare address was accepted as a pool")
	}
}

// The cache may not show the status write that reported a Gateway's
// address when the next Gateways of a burst arrive: the address a client
// already read must keep reaching that Gateway, unless a status says
// another Gateway holds it (another replica assigned first).
func TestAssignKeepsWhatItGaveWhileStatusLags(t *testing.T) {
	pool, err := ParsePool("127.10.0.0/29")
	if err != nil {
		t.Fatal(err)
	}
	key := func(n string) types.NamespacedName { return types.NamespacedName{Namespace: "infra", Name: n} }
	withUID := func(gw gatewayv1.Gateway) gatewayv1.Gateway { gw.UID = types.UID("uid-" + gw.Name); return gw }
	// Same age: name order decides, so "a-late" would come first.
	first := withUID(gateway("exact", 1))
	got, _ := pool.Assign([]gatewayv1.Gateway{first}, nil)
	if got[key("exact")] != "127.10.0.1" {
		t.Fatalf("first Gateway got %v, want 127.10.0.1", got)
	}
	last := map[types.UID]string{first.UID: got[key("exact")]}
	burst := []gatewayv1.Gateway{withUID(gateway("a-late", 1)), first} // first's status not in the cache yet
	got, _ = pool.Assign(burst, last)
	if got[key("exact")] != "127.10.0.1" || got[key("a-late")] != "127.10.0.2" {
		t.Errorf("with the status lagging, got %v; want exact to keep 127.10.0.1 and a-late to get 127.10.0.2", got)
	}
	got, _ = pool.Assign(burst, nil)
	if got[key("a-late")] != "127.10.0.1" {
		t.Errorf("without memory got %v; the case above would not test anything", got)
	}
	// A status says another Gateway holds the address: the status wins.
	held := []gatewayv1.Gateway{withStatus(withUID(gateway("a-late", 1)), "127.10.0.1"), first}
	got, _ = pool.Assign(held, last)
	if got[key("a-late")] != "127.10.0.1" || got[key("exact")] != "127.10.0.2" {
		t.Errorf("with a-late's status holding 127.10.0.1, got %v; want the status to win", got)
	}
}
