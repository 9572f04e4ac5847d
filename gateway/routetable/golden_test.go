package routetable

import (
	"github.com/tenantgate/tenantgate/tests/golden"

	"cmp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// goldenInput is a Config and the requests to look up in it.
type goldenInput struct {
	Config   Config          `json:"config"`
	Requests []goldenRequest `json:"requests"`
}

type goldenRequest struct {
	Address string            `json:"address,omitempty"` // default 127.0.0.1
	Port    int32             `json:"port,omitempty"`    // default 80
	Method  string            `json:"method,omitempty"`  // default GET
	Host    string            `json:"host"`
	Target  string            `json:"target"`
	Headers map[string]string `json:"headers,omitempty"`
}

// goldenResult is what one lookup found.
type goldenResult struct {
	Request  string `json:"request"`
	Listener string `json:"listener,omitempty"`
	Match    string `json:"match"`
	Backends string `json:"backends,omitempty"`
}

// TestGolden compiles testdata/NAME.in.yaml and compares each lookup with
// testdata/NAME.out.yaml; -update rewrites the outputs.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/*.in.yaml")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var input goldenInput
			if err := yaml.UnmarshalStrict(raw, &input); err != nil {
				t.Fatalf("%s: %v", in, err)
			}
			got, err := yaml.Marshal(lookupAll(t, input))
			if err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join("testdata", name+".out.yaml"), got)
		})
	}
}

func lookupAll(t *testing.T, input goldenInput) []goldenResult {
	table := mustCompile(t, input.Config)
	var results []goldenResult
	for _, gr := range input.Requests {
		address, port, method := cmp.Or(gr.Address, "127.0.0.1"), cmp.Or(gr.Port, 80), cmp.Or(gr.Method, "GET")
		r := request(method, gr.Host, gr.Target)
		for k, v := range gr.Headers {
			r.Header.Set(k, v)
		}
		res := goldenResult{Request: method + " " + gr.Host + " " + gr.Target, Match: describe(table.Socket(address, port), r)}
		if s := table.Socket(address, port); s != nil {
			if l, m := s.Route(gr.Host, r); l != nil {
				res.Listener = l.Name
				if m != nil {
					res.Backends = backendShares(m.Rule)
				}
			}
		}
		results = append(results, res)
	}
	return results
}

// backendShares lists "name=weight" for a rule's backends, marking the unresolved.
func backendShares(r *CompiledRule) string {
	var parts []string
	for _, b := range r.Backends {
		part := b.Name + "=" + itoa32(b.Weight)
		if b.Unresolved != "" {
			part += " (500: " + b.Unresolved + ")"
		} else if len(b.Endpoints()) == 0 {
			part += " (503)"
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, ", ")
}

func itoa32(i int32) string { return strconv.Itoa(int(i)) }
