package tenancy

import (
	"fmt"
	"sort"
	"strings"
)

// maxListed bounds how many names a message lists, so a line stays short.
const maxListed = 5

// listUpTo joins names, listing at most maxListed and counting the rest.
func listUpTo(names []string) string {
	if len(names) <= maxListed {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:maxListed], ", "), len(names)-maxListed)
}

// oneLine replaces control characters, so a message built from object
// fields stays one line (warnings travel in HTTP headers).
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// orNone lists names, or says "none".
func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return listUpTo(names)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
