package routetable

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// TestCoveringIsTheHostnameChain checks hostIndex.covering against the rule
// it implements, written out plainly: the most specific route hostname
// matching the host, then every wildcard covering that hostname in
// compareHostnames order, then the catch-all.
func TestCoveringIsTheHostnameChain(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	labels := []string{"a", "b", "c"}
	name := func(min int) string {
		n := min + rng.IntN(4-min)
		parts := make([]string, n)
		for i := range parts {
			parts[i] = labels[rng.IntN(len(labels))]
		}
		return strings.Join(parts, ".")
	}
	for range 2000 {
		var hostnames []string
		for range rng.IntN(8) {
			switch h := name(1); rng.IntN(5) {
			case 0:
				hostnames = append(hostnames, "*."+h)
			case 1:
				hostnames = append(hostnames, []string{"", "*"}[rng.IntN(2)])
			default:
				hostnames = append(hostnames, h)
			}
		}
		slices.Sort(hostnames)
		hostnames = slices.Compact(hostnames)
		var empty hostIndex[string]
		edit := empty.edit()
		for _, h := range hostnames {
			edit.set(h, &h)
		}
		x := edit.done()
		for range 20 {
			host := name(0)
			if rng.IntN(6) == 0 {
				host = "*." + host
			}
			var got []string
			x.covering(host, func(h *string) bool { got = append(got, *h); return true })
			if want := plainChain(hostnames, host); !slices.Equal(got, want) {
				t.Fatalf("hostnames %q, host %q: covering yields %q, want %q", hostnames, host, got, want)
			}
		}
	}
}

// plainChain is the chain of route hostnames a request for host tries.
func plainChain(hostnames []string, host string) []string {
	has := func(h string) bool { return slices.Contains(hostnames, h) }
	h, found := "", false
	if host != "" && !isWildcard(host) && has(host) {
		h, found = host, true
	}
	for i := 1; !found && i < len(host); i++ {
		if host[i] == '.' && has("*"+host[i:]) {
			h, found = "*"+host[i:], true
		}
	}
	if !found && !has("") {
		return nil
	}
	sorted := slices.SortedFunc(slices.Values(hostnames), compareHostnames)
	chain := []string{h}
	for _, w := range sorted {
		if isWildcard(w) && w != h && covers(w, h) {
			chain = append(chain, w)
		}
	}
	if h != "" && has("") {
		chain = append(chain, "")
	}
	return chain
}
