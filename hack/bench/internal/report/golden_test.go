package report

import (
	"github.com/tenantgate/tenantgate/tests/golden"

	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// TestRender renders every testdata/NAME.in.json (a results.Results, read
// strictly) and compares it with NAME.out.md.
func TestRender(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.json")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs in testdata (%v)", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var r results.Results
			dec := json.NewDecoder(strings.NewReader(string(data)))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&r); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			got := Render(r)
			golden.Check(t, filepath.Join("testdata", name+".out.md"), []byte(got))
		})
	}
}

func itoa(i int) string { return count(float64(i)) }
