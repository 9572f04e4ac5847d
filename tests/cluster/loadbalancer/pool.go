package loadbalancer

import (
	"fmt"
	"net/netip"
)

// pool hands out the addresses of one prefix, skipping its network address.
// It is not safe for concurrent use; the controller serialises access.
type pool struct {
	prefix netip.Prefix
	used   map[netip.Addr]string // address -> owner (namespace/name)
}

func newPool(cidr string) (*pool, error) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		return nil, fmt.Errorf("load-balancer pool %q is not a CIDR such as 127.11.0.0/16: %w", cidr, err)
	}
	if !p.Addr().Is4() || p.Bits() > 30 {
		return nil, fmt.Errorf("load-balancer pool %q must be an IPv4 prefix of /30 or wider", cidr)
	}
	return &pool{prefix: p.Masked(), used: map[netip.Addr]string{}}, nil
}

// allocate returns owner's address: the one it already holds, else the
// requested one when it is in the pool and free, else the lowest free one.
// A request outside the pool or held by another owner is refused with a
// reason, and no address is taken.
func (p *pool) allocate(owner, requested string) (netip.Addr, error) {
	held, holds := p.holding(owner)
	if requested != "" {
		want, err := netip.ParseAddr(requested)
		switch {
		case err != nil:
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP %q is not an IP address", requested)
		case !p.contains(want):
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP %s is outside the local load-balancer pool %s", want, p.prefix)
		case p.used[want] != "" && p.used[want] != owner:
			return netip.Addr{}, fmt.Errorf("spec.loadBalancerIP %s is already used by Service %s", want, p.used[want])
		}
		if holds && held != want {
			delete(p.used, held)
		}
		p.used[want] = owner
		return want, nil
	}
	if holds {
		return held, nil
	}
	for a := p.prefix.Addr().Next(); p.prefix.Contains(a); a = a.Next() {
		if p.used[a] == "" && !isBroadcast(p.prefix, a) {
			p.used[a] = owner
			return a, nil
		}
	}
	return netip.Addr{}, fmt.Errorf("the local load-balancer pool %s is exhausted (%d addresses in use)", p.prefix, len(p.used))
}

func (p *pool) holding(owner string) (netip.Addr, bool) {
	for a, o := range p.used {
		if o == owner {
			return a, true
		}
	}
	return netip.Addr{}, false
}

// release frees owner's address, if it holds one.
func (p *pool) release(owner string) {
	if a, ok := p.holding(owner); ok {
		delete(p.used, a)
	}
}

func (p *pool) contains(a netip.Addr) bool {
	return p.prefix.Contains(a) && a != p.prefix.Addr() && !isBroadcast(p.prefix, a)
}

func isBroadcast(p netip.Prefix, a netip.Addr) bool {
	b := a.As4()
	host := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	mask := uint32(1)<<(32-p.Bits()) - 1
	return host&mask == mask
}
