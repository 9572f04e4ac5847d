package translate

import (
	"path/filepath"
	"strings"
	"testing"
)

// FuzzBuild breaks golden inputs with the mutator, steered by the fuzzer's
// bytes, and checks the whole-snapshot properties (see property_test.go).
// `make fuzz` runs it for a long budget; plain `go test` runs its seeds.
func FuzzBuild(f *testing.F) {
	seeds := seedSnapshots(f)
	paths, _ := goldenSeeds()
	for i := range seeds {
		for m := range mutations {
			// Two bytes pick the number of mutations (one), two the mutation.
			f.Add(uint16(i), []byte{0, 0, byte(m >> 8), byte(m)})
		}
	}
	f.Fuzz(func(t *testing.T, seed uint16, choices []byte) {
		i := int(seed) % len(seeds)
		checkMutated(t, seeds[i], strings.TrimSuffix(filepath.Base(paths[i]), ".in.yaml"), choices)
	})
}
