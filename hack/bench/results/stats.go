package results

import (
	"cmp"
	"slices"
	"time"
)

// Summary is the spread of repeated measurements of one figure.
type Summary struct {
	Min, Median, Max float64
	N                int
}

// Summarize returns min, median and max of values (the mean of the two
// middle values when there is an even number); the zero Summary for none.
func Summarize(values []float64) Summary {
	if len(values) == 0 {
		return Summary{}
	}
	v := slices.Clone(values)
	slices.Sort(v)
	n := len(v)
	median := v[n/2]
	if n%2 == 0 {
		median = (v[n/2-1] + v[n/2]) / 2
	}
	return Summary{Min: v[0], Median: median, Max: v[n-1], N: n}
}

// Percentile returns the nearest-rank q-quantile (0 < q <= 1) of sorted
// values: the smallest value with at least q of all values at or below it.
func Percentile[T cmp.Ordered](sorted []T, q float64) T {
	var zero T
	if len(sorted) == 0 {
		return zero
	}
	rank := int(q*float64(len(sorted))+0.999999999) - 1 // ceil without float surprises at exact ranks
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// Milliseconds is d in (fractional) milliseconds.
func Milliseconds(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
