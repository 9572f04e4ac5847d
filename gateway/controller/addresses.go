package controller

import (
	"fmt"
	"net/netip"
	"sort"

	"k8s.io/apimachinery/pkg/types"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// AddressPool hands each Gateway its own IP from a prefix (locally a
// loopback range such as 127.10.0.0/16).
type AddressPool struct {
	Prefix netip.Prefix
}

// ParsePool reads the -gateway-address-pool flag; empty means no pool, so only
// Gateways that ask for an address in spec.addresses get one.
func ParsePool(cidr string) (AddressPool, error) {
	if cidr == "" {
		return AddressPool{}, nil
	}
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return AddressPool{}, fmt.Errorf("-gateway-address-pool %q is not a CIDR such as 127.10.0.0/16: %w", cidr, err)
	}
	return AddressPool{Prefix: p.Masked()}, nil
}

// Assign gives every Gateway one address, deterministically: a Gateway that
// asks for IPs in spec.addresses gets the first one if it is in the pool and
// free; otherwise it keeps the pool address in its status when still free;
// otherwise it gets the lowest free one. Older Gateways choose first.
// last is what the last Assign of this process gave (by UID; nil for
// none): a Gateway whose status does not show its address yet (the cache
// lags our own status write) keeps it, after every address a status shows,
// so a Gateway created in the same burst cannot take it and the address a
// client already read keeps reaching the same Gateway. It returns the
// address of each Gateway that got one and, for the others, why not.
func (p AddressPool) Assign(gateways []gatewayv1.Gateway, last map[types.UID]string) (map[types.NamespacedName]string, map[types.NamespacedName]string) {
	order := make([]*gatewayv1.Gateway, len(gateways))
	for i := range gateways {
		order[i] = &gateways[i]
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, b := order[i], order[j]
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	out := map[types.NamespacedName]string{}
	problems := map[types.NamespacedName]string{}
	taken := map[netip.Addr]types.NamespacedName{}
	var dynamic []*gatewayv1.Gateway

	take := func(key types.NamespacedName, a netip.Addr) {
		out[key] = a.String()
		taken[a] = key
	}
	// Addresses Gateways already hold (their status reports them, or this
	// process gave them last) stay theirs, oldest Gateway first: a new
	// Gateway in any namespace cannot take a serving Gateway's address by
	// requesting it. Status first: another replica's memory may differ.
	held := map[types.NamespacedName]bool{}
	hold := func(gw *gatewayv1.Gateway, prev netip.Addr) {
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if len(gw.Spec.Addresses) > 0 {
			if a, any, why := p.requested(gw); !any && (why != "" || a != prev) {
				return // it asks for another address now
			}
		}
		if _, busy := taken[prev]; !busy {
			take(key, prev)
			held[key] = true
		}
	}
	for _, gw := range order {
		if prev, ok := p.previous(gw); ok {
			hold(gw, prev)
		}
	}
	for _, gw := range order {
		if _, ok := p.previous(gw); !ok {
			if prev, ok := p.remembered(gw, last); ok {
				hold(gw, prev)
			}
		}
	}
	// Requested addresses next, so a dynamic Gateway never takes them.
	for _, gw := range order {
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if held[key] {
			continue
		}
		if len(gw.Spec.Addresses) == 0 {
			dynamic = append(dynamic, gw)
			continue
		}
		a, any, why := p.requested(gw)
		if any {
			dynamic = append(dynamic, gw)
			continue
		}
		if why != "" {
			problems[key] = why
			continue
		}
		if owner, busy := taken[a]; busy {
			problems[key] = fmt.Sprintf("address %s is already used by Gateway %s; request another address", a, owner)
			continue
		}
		take(key, a)
	}
	for _, gw := range dynamic {
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		if held[key] {
			continue
		}
		if prev, ok := p.previous(gw); ok {
			if _, busy := taken[prev]; !busy {
				take(key, prev)
				continue
			}
		}
		a, ok := p.next(taken)
		if !ok {
			problems[key] = p.exhausted()
			continue
		}
		take(key, a)
	}
	return out, problems
}

// requested returns the IP a Gateway asks for, whether any pool address will
// do, or why it cannot have what it asks for.
func (p AddressPool) requested(gw *gatewayv1.Gateway) (netip.Addr, bool, string) {
	for _, want := range gw.Spec.Addresses {
		if want.Type != nil && *want.Type != gatewayv1.IPAddressType {
			return netip.Addr{}, false, fmt.Sprintf("address type %s is not supported; use IPAddress", *want.Type)
		}
		if want.Value == "" {
			continue // empty value: any address from the pool will do
		}
		a, err := netip.ParseAddr(want.Value)
		if err != nil {
			return netip.Addr{}, false, fmt.Sprintf("address %q is not an IP address", want.Value)
		}
		if !p.Prefix.IsValid() || !p.Prefix.Contains(a) {
			return netip.Addr{}, false, fmt.Sprintf("address %s is outside the gateway address pool %s; request an address inside it", a, p.describe())
		}
		return a, false, ""
	}
	return netip.Addr{}, true, ""
}

// remembered is the pool address the last Assign gave gw, if any.
func (p AddressPool) remembered(gw *gatewayv1.Gateway, last map[types.UID]string) (netip.Addr, bool) {
	if s, ok := last[gw.UID]; ok && gw.UID != "" {
		return p.address(s)
	}
	return netip.Addr{}, false
}

// previous is the pool address gw's status reports, if any.
func (p AddressPool) previous(gw *gatewayv1.Gateway) (netip.Addr, bool) {
	for _, s := range gw.Status.Addresses {
		if a, ok := p.address(s.Value); ok {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// address is s as an address of the pool; false when it is not one.
func (p AddressPool) address(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	return a, err == nil && p.Prefix.IsValid() && p.Prefix.Contains(a)
}

// next is the lowest pool address that is not taken, skipping the network
// address itself.
func (p AddressPool) next(taken map[netip.Addr]types.NamespacedName) (netip.Addr, bool) {
	if !p.Prefix.IsValid() {
		return netip.Addr{}, false
	}
	for a := p.Prefix.Addr().Next(); p.Prefix.Contains(a); a = a.Next() {
		if _, busy := taken[a]; !busy {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func (p AddressPool) exhausted() string {
	if !p.Prefix.IsValid() {
		return "no gateway address pool is configured (-gateway-address-pool) and the Gateway requests no address"
	}
	return fmt.Sprintf("the gateway address pool %s has no free address; delete a Gateway or widen the pool", p.Prefix)
}

func (p AddressPool) describe() string {
	if !p.Prefix.IsValid() {
		return "(none configured)"
	}
	return p.Prefix.String()
}
