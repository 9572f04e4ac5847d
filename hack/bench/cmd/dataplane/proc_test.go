package main

import (
	"os"
	"testing"
)

func TestStatTicks(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       int64
		wantErr    bool
	}{
		{"nginx worker", "4242 (nginx) S 4241 4241 1 0 -1 4194624 120 0 0 0 731 269 0 0 20 0 1 0 5000 100000 200 18446744073709551615", 1000, false},
		{"name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 5 6 0 0 20 0 1 0 1 1 1 1", 11, false},
		{"truncated", "7 (x) R 1 7", 0, true},
		{"no parenthesis", "garbage", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := statTicks(tc.stat)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("statTicks = %d, %v; want %d, error %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestProcessTreeCPUOfThisProcess(t *testing.T) {
	if _, err := processTreeCPU(os.Getpid()); err != nil {
		t.Fatal(err)
	}
	if _, err := processTreeCPU(1 << 30); err == nil {
		t.Error("a PID that cannot exist read without error")
	}
}
