package results

import "time"

// Results is one `make bench` run, everything the report shows.
type Results struct {
	// Machine and Versions are "name<TAB>value" facts, in the order found.
	Machine  []Fact `json:"machine"`
	Versions []Fact `json:"versions"`
	// DataPlane is the proxies' run; nil when it was skipped.
	DataPlane *DataPlane `json:"dataPlane,omitempty"`
	// ControlPlane is tests/bench's BenchmarkControlPlane output.
	ControlPlane []GoBench `json:"controlPlane,omitempty"`
	// Decisions is tenancy's BenchmarkCheckHTTPRoute on one core, once per count.
	Decisions []GoBench `json:"decisions,omitempty"`
	// Build is gateway/translate's BenchmarkBuild (5,000 routes), once per count.
	Build []GoBench `json:"build,omitempty"`
}

// Fact is one named value, such as "cpu" or "nginx".
type Fact struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// DataPlane is the data-plane driver's output.
type DataPlane struct {
	Settings Settings     `json:"settings"`
	Closed   []ClosedLoop `json:"closed"`
	Open     []OpenLoop   `json:"open"`
	// Profile is tenantgate's proxy CPU profile under the headline load.
	Profile *Profile `json:"profile,omitempty"`
}

// Settings are the knobs the driver ran with, quoted by the report.
type Settings struct {
	Targets          []string      `json:"targets"`
	Reps             int           `json:"reps"`
	Duration         time.Duration `json:"duration"`
	Conns            []int         `json:"conns"`
	HTTPSConns       []int         `json:"httpsConns"`
	OpenLoopDuration time.Duration `json:"openLoopDuration"`
	OpenLoopConns    int           `json:"openLoopConns"`
	// OpenLoopShare is the fraction of each target's own maximum offered open-loop.
	OpenLoopShare float64 `json:"openLoopShare"`
	SmallBytes    int     `json:"smallBytes"`
	LargeBytes    int     `json:"largeBytes"`
}

// Bodies the backend serves, by name, and their sizes.
const (
	BodySmall  = "small"
	BodyLarge  = "16KiB"
	SmallBytes = 32
	LargeBytes = 16 << 10
)

// ClosedLoop is one wrk run against one target.
type ClosedLoop struct {
	Target         string        `json:"target"`
	Scheme         string        `json:"scheme"`
	Body           string        `json:"body"`
	Conns          int           `json:"conns"`
	Rep            int           `json:"rep"`
	RequestsPerSec float64       `json:"requestsPerSec"`
	P50            time.Duration `json:"p50"`
	P99            time.Duration `json:"p99"`
	// Errors counts wrk's socket errors and non-2xx/3xx answers.
	Errors int `json:"errors"`
	// CPUSeconds the target's processes used during the run; 0 when not recorded.
	CPUSeconds float64 `json:"cpuSeconds,omitempty"`
	// HeapAllocs counts the heap objects the target allocated during the run;
	// nil when the target does not report them (only Go targets do).
	HeapAllocs *uint64 `json:"heapAllocs,omitempty"`
}

// AllocsPerRequest is the run's heap allocations per request, and whether
// the target reported them.
func (c ClosedLoop) AllocsPerRequest(d time.Duration) (float64, bool) {
	if c.HeapAllocs == nil || c.RequestsPerSec == 0 {
		return 0, false
	}
	return float64(*c.HeapAllocs) / (c.RequestsPerSec * d.Seconds()), true
}

// OpenLoop is one fixed-rate run against one target.
type OpenLoop struct {
	Target string  `json:"target"`
	Body   string  `json:"body"`
	Rep    int     `json:"rep"`
	Rate   float64 `json:"rate"`
	// Achieved is answers per second actually completed.
	Achieved float64       `json:"achieved"`
	P50      time.Duration `json:"p50"`
	P99      time.Duration `json:"p99"`
	P999     time.Duration `json:"p999"`
	Max      time.Duration `json:"max"`
	Requests int           `json:"requests"`
	Errors   int           `json:"errors"`
	// CPUSeconds the target's processes used during the run; 0 when not recorded.
	CPUSeconds float64 `json:"cpuSeconds,omitempty"`
}

// Profile is a CPU profile summarised: the heaviest functions and where
// the samples fall by category.
type Profile struct {
	// Load says what ran while the profile was taken.
	Load string `json:"load"`
	// Seconds of wall time profiled and the CPU seconds sampled in them.
	Seconds    float64        `json:"seconds"`
	CPUSeconds float64        `json:"cpuSeconds"`
	Top        []ProfileEntry `json:"top"`
	Categories []Share        `json:"categories"`
}

// ProfileEntry is one row of `go tool pprof -top`, percentages of all samples.
type ProfileEntry struct {
	Function string  `json:"function"`
	Flat     float64 `json:"flat"`
	Cum      float64 `json:"cum"`
}

// Share is a category's percentage of all samples.
type Share struct {
	Category string  `json:"category"`
	Percent  float64 `json:"percent"`
}
