package translate

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TargetPorts maps each Gateway to its listener ports and, for each, the
// port the shared data plane listens on for it (its Service's targetPort).
type TargetPorts map[types.NamespacedName]map[int32]int32

// PortRange is the range of data-plane ports handed out as target ports
// (-gateway-target-ports), so Gateways sharing the data-plane Pods never
// share a socket even when their listeners use the same port.
type PortRange struct{ First, Last int32 }

// DefaultTargetPorts is the range used when the flag is not given.
const DefaultTargetPorts = "20000-29999"

// ParsePortRange reads "first-last", both within 1024-65535.
func ParsePortRange(s string) (PortRange, error) {
	lo, hi, ok := strings.Cut(s, "-")
	first, err1 := strconv.ParseInt(strings.TrimSpace(lo), 10, 32)
	last, err2 := strconv.ParseInt(strings.TrimSpace(hi), 10, 32)
	if !ok || err1 != nil || err2 != nil || first < 1024 || last > 65535 || first > last {
		return PortRange{}, fmt.Errorf("-gateway-target-ports %q is not a port range such as %s; give first-last with 1024 <= first <= last <= 65535", s, DefaultTargetPorts)
	}
	return PortRange{First: int32(first), Last: int32(last)}, nil
}

// Contains says whether p is in the range.
func (r PortRange) Contains(p int32) bool { return p >= r.First && p <= r.Last }

func (r PortRange) String() string { return fmt.Sprintf("%d-%d", r.First, r.Last) }

// PortClaim is one Gateway's side of the assignment: the target ports its
// own Service already holds and the listener ports it needs.
type PortClaim struct {
	Gateway types.NamespacedName
	Created metav1.Time
	// Held are its Service's listener port → targetPort pairs.
	Held map[int32]int32
	// Want are its listener ports; nil keeps only what it holds (the data
	// plane, which never writes, reads the assignment this way).
	Want []int32
}

// AssignTargetPorts gives each claimed listener port a target port in r.
// A held target port stays with its Gateway (Kubernetes, through the
// Service, is the only store), unless it is outside r or another Gateway
// holds it too (then neither keeps it); the rest get the lowest free
// ports, older Gateways first. Without Want, a
// Gateway keeps its held ports that survive those checks. It returns the
// assignment and, for Gateways the range cannot serve, why.
func AssignTargetPorts(claims []PortClaim, r PortRange) (TargetPorts, map[types.NamespacedName]string) {
	order := slices.Clone(claims)
	slices.SortStableFunc(order, func(a, b PortClaim) int {
		if !a.Created.Equal(&b.Created) {
			if a.Created.Before(&b.Created) {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(a.Gateway.Namespace, b.Gateway.Namespace), cmp.Compare(a.Gateway.Name, b.Gateway.Name))
	})
	out := TargetPorts{}
	problems := map[types.NamespacedName]string{}
	taken := map[int32]types.NamespacedName{}
	holders := map[int32]map[types.NamespacedName]bool{}
	for _, c := range order {
		for _, target := range c.Held {
			if holders[target] == nil {
				holders[target] = map[types.NamespacedName]bool{}
			}
			holders[target][c.Gateway] = true
		}
	}
	for target, by := range holders {
		if len(by) > 1 {
			taken[target] = types.NamespacedName{} // nor handed to anyone this round, until no Service holds it
		}
	}
	for _, c := range order {
		ports := map[int32]int32{}
		for _, port := range slices.Sorted(maps.Keys(c.Held)) {
			target := c.Held[port]
			// A port two Gateways hold was never handed out so (a replayed or
			// stale Service): neither keeps it, so neither can take the other's traffic.
			if _, busy := taken[target]; busy || len(holders[target]) > 1 || !r.Contains(target) || (c.Want != nil && !slices.Contains(c.Want, port)) {
				continue
			}
			ports[port], taken[target] = target, c.Gateway
		}
		out[c.Gateway] = ports
	}
	next := r.First
	for _, c := range order {
		for _, port := range sortedUnique(c.Want) {
			if _, ok := out[c.Gateway][port]; ok {
				continue
			}
			for ; next <= r.Last; next++ {
				if _, busy := taken[next]; !busy {
					break
				}
			}
			if next > r.Last {
				problems[c.Gateway] = fmt.Sprintf("the data-plane port range %s has no free port for its listener port %d; delete a Gateway or widen -gateway-target-ports", r, port)
				break
			}
			out[c.Gateway][port], taken[next] = next, c.Gateway
		}
	}
	return out, problems
}

func sortedUnique(ports []int32) []int32 {
	out := slices.Clone(ports)
	slices.Sort(out)
	return slices.Compact(out)
}
