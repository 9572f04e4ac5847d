package loadbalancer

import (
	"net"
	"sort"
	"strconv"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
)

// backends maps each TCP port of svc (by port number) to the ready
// endpoints serving it, "ip:port", from the Service's EndpointSlices: a slice
// port matches a Service port by name, as kube-proxy matches them.
func backends(svc *corev1.Service, slices []*discoveryv1.EndpointSlice) map[int32][]string {
	out := map[int32][]string{}
	for _, sp := range svc.Spec.Ports {
		if sp.Protocol != "" && sp.Protocol != corev1.ProtocolTCP {
			continue
		}
		seen := map[string]bool{}
		var addrs []string
		for _, s := range slices {
			if s.AddressType != discoveryv1.AddressTypeIPv4 {
				continue
			}
			port, ok := slicePort(s, sp.Name)
			if !ok {
				continue
			}
			for _, ep := range s.Endpoints {
				if ep.Conditions.Ready != nil && !*ep.Conditions.Ready {
					continue
				}
				for _, ip := range ep.Addresses {
					a := net.JoinHostPort(ip, strconv.Itoa(int(port)))
					if !seen[a] {
						seen[a] = true
						addrs = append(addrs, a)
					}
				}
			}
		}
		sort.Strings(addrs) // a stable order keeps round robin fair across updates
		out[sp.Port] = addrs
	}
	return out
}

func slicePort(s *discoveryv1.EndpointSlice, name string) (int32, bool) {
	for _, p := range s.Ports {
		pname := ""
		if p.Name != nil {
			pname = *p.Name
		}
		if pname == name && p.Port != nil && (p.Protocol == nil || *p.Protocol == corev1.ProtocolTCP) {
			return *p.Port, true
		}
	}
	return 0, false
}
