// Package golden compares a test's output with a file under testdata and,
// with -update, rewrites the file instead. Every golden test in the project
// uses it, so the flag and the diff read the same everywhere.
package golden

import (
	"bytes"
	"flag"
	"os"
	"testing"

	"github.com/pmezard/go-difflib/difflib"
)

var update = flag.Bool("update", false, "rewrite the golden files from the current output")

// Updating reports whether -update was given.
func Updating() bool { return *update }

// Check compares got with the file at path (or writes it with -update) and
// fails t with a unified diff when they differ.
func Check(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output (rerun with -update if the change is intended):\n%s", path, Diff(string(want), string(got)))
	}
}

// Diff is a unified diff from want to got.
func Diff(want, got string) string {
	diff, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: difflib.SplitLines(want), B: difflib.SplitLines(got),
		FromFile: "want", ToFile: "got", Context: 3,
	})
	if err != nil {
		return err.Error()
	}
	return diff
}
