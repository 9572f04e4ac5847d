package tenancy

import (
	"os"
	"testing"

	"sigs.k8s.io/yaml"
)

// readYAML decodes a file strictly: an unknown field fails the test.
func readYAML(t testing.TB, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	decodeYAML(t, string(data), into)
}

func decodeYAML(t testing.TB, text string, into any) {
	t.Helper()
	if err := yaml.UnmarshalStrict([]byte(text), into); err != nil {
		t.Fatalf("decoding %T: %v\n%s", into, err, text)
	}
}

// worldPolicy is the policy of testdata/world.yaml.
func worldPolicy(t testing.TB) *Policy {
	t.Helper()
	var in Inputs
	readYAML(t, "testdata/world.yaml", &in)
	return NewPolicy(in)
}

// equalLines compares two lists of messages, reporting each difference.
func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) == len(want) {
		same := true
		for i := range got {
			same = same && got[i] == want[i]
		}
		if same {
			return
		}
	}
	t.Errorf("%s:\n got %d:\n%s\nwant %d:\n%s", what, len(got), numbered(got), len(want), numbered(want))
}

func numbered(lines []string) string {
	out := ""
	for _, l := range lines {
		out += "  " + l + "\n"
	}
	return out
}
