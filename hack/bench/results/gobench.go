package results

import (
	"bufio"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// GoBench is one result line of `go test -bench`.
type GoBench struct {
	// Name without the -GOMAXPROCS suffix, e.g. "BenchmarkControlPlane/apply=1000".
	Name string `json:"name"`
	N    int    `json:"n"`
	// Metrics by unit: "ns/op", "B/op", and custom ones from b.ReportMetric.
	Metrics map[string]float64 `json:"metrics"`
}

var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseGoBench reads the result lines of `go test -bench` output and skips
// everything else (goos, pkg, PASS, logs). A line that starts like a result
// but does not parse is an error, so a changed format is noticed.
func ParseGoBench(out string) ([]GoBench, error) {
	var benches []GoBench
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.Atoi(f[1])
		if err != nil {
			continue // a log line that happens to start with a benchmark's name
		}
		if len(f)%2 != 0 {
			return nil, fmt.Errorf("benchmark line %q has a value without a unit", sc.Text())
		}
		b := GoBench{Name: procsSuffix.ReplaceAllString(f[0], ""), N: n, Metrics: map[string]float64{}}
		for i := 2; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q has a value %q that is not a number", sc.Text(), f[i])
			}
			b.Metrics[f[i+1]] = v
		}
		benches = append(benches, b)
	}
	return benches, sc.Err()
}

// Metric collects unit's value from every result named name, in order.
func Metric(benches []GoBench, name, unit string) []float64 {
	var values []float64
	for _, b := range benches {
		if v, ok := b.Metrics[unit]; ok && b.Name == name {
			values = append(values, v)
		}
	}
	return values
}
