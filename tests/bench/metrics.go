package bench

import (
	"fmt"
	"io"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Histogram is one Prometheus histogram: cumulative counts per upper bound.
type Histogram struct {
	// Bounds are the finite upper bounds, ascending; Counts[i] observations
	// were at or below Bounds[i]. Count includes those above the last bound.
	Bounds []float64
	Counts []float64
	Count  float64
	Sum    float64
}

// ParseHistogram reads Prometheus text exposition and adds up the series of
// family whose labels include every pair in match.
func ParseHistogram(r io.Reader, family string, match map[string]string) (Histogram, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return Histogram{}, fmt.Errorf("parsing metrics: %w", err)
	}
	f, ok := families[family]
	if !ok {
		return Histogram{}, nil // nothing observed yet
	}
	if f.GetType() != dto.MetricType_HISTOGRAM {
		return Histogram{}, fmt.Errorf("metric %s is a %s, not a histogram", family, f.GetType())
	}
	byBound := map[float64]float64{}
	var h Histogram
	for _, m := range f.GetMetric() {
		if !matches(m.GetLabel(), match) {
			continue
		}
		hist := m.GetHistogram()
		h.Count += float64(hist.GetSampleCount())
		h.Sum += hist.GetSampleSum()
		for _, b := range hist.GetBucket() {
			if !math.IsInf(b.GetUpperBound(), 1) {
				byBound[b.GetUpperBound()] += float64(b.GetCumulativeCount())
			}
		}
	}
	for b := range byBound {
		h.Bounds = append(h.Bounds, b)
	}
	sort.Float64s(h.Bounds)
	for _, b := range h.Bounds {
		h.Counts = append(h.Counts, byBound[b])
	}
	return h, nil
}

func matches(labels []*dto.LabelPair, want map[string]string) bool {
	found := 0
	for _, l := range labels {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(want)
}

// ParseCounter reads Prometheus text exposition and adds up the counters
// of family whose labels include every pair in match; 0 when absent.
func ParseCounter(r io.Reader, family string, match map[string]string) (float64, error) {
	return parseSum(r, family, match, dto.MetricType_COUNTER)
}

// ParseGauge is ParseCounter for a gauge.
func ParseGauge(r io.Reader, family string, match map[string]string) (float64, error) {
	return parseSum(r, family, match, dto.MetricType_GAUGE)
}

func parseSum(r io.Reader, family string, match map[string]string, kind dto.MetricType) (float64, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return 0, fmt.Errorf("parsing metrics: %w", err)
	}
	f, ok := families[family]
	if !ok {
		return 0, nil
	}
	if f.GetType() != kind {
		return 0, fmt.Errorf("metric %s is a %s, not a %s", family, f.GetType(), kind)
	}
	var sum float64
	for _, m := range f.GetMetric() {
		if matches(m.GetLabel(), match) {
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum, nil
}

// Since is what was observed between earlier and h, two scrapes of the same
// series; a bucket missing from earlier counts as zero there.
func (h Histogram) Since(earlier Histogram) Histogram {
	before := map[float64]float64{}
	for i, b := range earlier.Bounds {
		before[b] = earlier.Counts[i]
	}
	d := Histogram{Bounds: h.Bounds, Count: h.Count - earlier.Count, Sum: h.Sum - earlier.Sum}
	for i, b := range h.Bounds {
		d.Counts = append(d.Counts, h.Counts[i]-before[b])
	}
	return d
}

// Quantile estimates the q-quantile the way PromQL's histogram_quantile
// does: linearly inside the bucket that holds it, from 0 for the first. A
// quantile above the last finite bound returns that bound, a lower limit.
func (h Histogram) Quantile(q float64) float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	rank := q * h.Count
	lower, below := 0.0, 0.0
	for i, b := range h.Bounds {
		if h.Counts[i] >= rank {
			in := h.Counts[i] - below
			if in == 0 {
				return b
			}
			return lower + (b-lower)*(rank-below)/in
		}
		lower, below = b, h.Counts[i]
	}
	return lower
}

// AtOrBelow is the fraction of observations at or below bound, which must
// be one of the bucket bounds; NaN when it is not or nothing was observed.
func (h Histogram) AtOrBelow(bound float64) float64 {
	for i, b := range h.Bounds {
		if b == bound && h.Count > 0 {
			return h.Counts[i] / h.Count
		}
	}
	return math.NaN()
}
