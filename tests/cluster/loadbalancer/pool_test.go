package loadbalancer

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/utils/ptr"
)

func TestPoolAllocation(t *testing.T) {
	p, err := newPool("127.77.0.0/30")
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.allocate("ns/a", "")
	if err != nil || a.String() != "127.77.0.1" {
		t.Fatalf("first address = %v, %v; want 127.77.0.1 (the network address is skipped)", a, err)
	}
	if again, _ := p.allocate("ns/a", ""); again != a {
		t.Errorf("a second allocation for the same Service moved it from %v to %v", a, again)
	}
	if _, err := p.allocate("ns/b", "127.77.0.1"); err == nil || !strings.Contains(err.Error(), "already used by Service ns/a") {
		t.Errorf("requesting a held address: %v; want it refused naming the holder", err)
	}
	if _, err := p.allocate("ns/b", "127.78.0.1"); err == nil || !strings.Contains(err.Error(), "outside the local load-balancer pool 127.77.0.0/30") {
		t.Errorf("requesting an address outside the pool: %v", err)
	}
	if _, err := p.allocate("ns/b", "not-an-ip"); err == nil || !strings.Contains(err.Error(), "is not an IP address") {
		t.Errorf("requesting garbage: %v", err)
	}
	b, err := p.allocate("ns/b", "127.77.0.2")
	if err != nil || b.String() != "127.77.0.2" {
		t.Fatalf("requesting a free address = %v, %v", b, err)
	}
	if _, err := p.allocate("ns/c", ""); err == nil || !strings.Contains(err.Error(), "exhausted") {
		t.Errorf("a /30 holds two addresses (no network, no broadcast); the third allocation gave %v", err)
	}
	p.release("ns/a")
	if c, err := p.allocate("ns/c", ""); err != nil || c != a {
		t.Errorf("after release, got %v, %v; want the freed %v", c, err, a)
	}
	// Changing the requested address moves the Service and frees the old one.
	if moved, err := p.allocate("ns/c", ""); err != nil || moved != a {
		t.Fatalf("%v %v", moved, err)
	}
	p.release("ns/b")
	if moved, err := p.allocate("ns/c", "127.77.0.2"); err != nil || moved.String() != "127.77.0.2" {
		t.Fatalf("moving to a requested address: %v, %v", moved, err)
	}
	if d, err := p.allocate("ns/d", ""); err != nil || d != a {
		t.Errorf("the address a move left should be free again; got %v, %v", d, err)
	}
}

func TestPoolRejectsBadPrefixes(t *testing.T) {
	for _, cidr := range []string{"127.77.0.1", "::1/128", "127.77.0.0/31", "banana"} {
		if _, err := newPool(cidr); err == nil {
			t.Errorf("newPool(%q) accepted it", cidr)
		}
	}
}

func TestBackendsFromReadyEndpointsByPortName(t *testing.T) {
	svc := &corev1.Service{Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{
		{Name: "http", Port: 80}, {Name: "https", Port: 443, Protocol: corev1.ProtocolTCP}, {Name: "dns", Port: 53, Protocol: corev1.ProtocolUDP},
	}}}
	slice := func(addrType discoveryv1.AddressType, ports map[string]int32, eps ...discoveryv1.Endpoint) *discoveryv1.EndpointSlice {
		s := &discoveryv1.EndpointSlice{AddressType: addrType, Endpoints: eps}
		for name, port := range ports {
			s.Ports = append(s.Ports, discoveryv1.EndpointPort{Name: ptr.To(name), Port: ptr.To(port)})
		}
		return s
	}
	ep := func(ready *bool, ips ...string) discoveryv1.Endpoint {
		return discoveryv1.Endpoint{Addresses: ips, Conditions: discoveryv1.EndpointConditions{Ready: ready}}
	}
	got := backends(svc, []*discoveryv1.EndpointSlice{
		slice(discoveryv1.AddressTypeIPv4, map[string]int32{"http": 8080, "https": 8443},
			ep(ptr.To(true), "10.244.1.3"), ep(nil, "10.244.1.2"), ep(ptr.To(false), "10.244.1.9")),
		slice(discoveryv1.AddressTypeIPv4, map[string]int32{"http": 9090}, ep(ptr.To(true), "10.244.1.4")),
		slice(discoveryv1.AddressTypeIPv6, map[string]int32{"http": 8080}, ep(ptr.To(true), "fd00::1")),
	})
	want := map[int32]string{
		80:  "10.244.1.2:8080 10.244.1.3:8080 10.244.1.4:9090",
		443: "10.244.1.2:8443 10.244.1.3:8443",
	}
	if len(got) != len(want) {
		t.Errorf("ports = %v; want only the TCP ports 80 and 443", got)
	}
	for port, w := range want {
		if g := strings.Join(got[port], " "); g != w {
			t.Errorf("port %d backends = %q; want %q (ready or unknown readiness, IPv4, by port name)", port, g, w)
		}
	}
}
