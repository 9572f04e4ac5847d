package results

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WrkRun is what one wrk run printed.
type WrkRun struct {
	RequestsPerSec float64
	P50, P99       time.Duration
	// Errors counts socket errors (connect, read, write, timeout) and
	// non-2xx/3xx responses.
	Errors int
}

// ParseWrk reads the output of `wrk --latency`. It fails when the summary
// line or the 50th and 99th percentiles are missing, so a crashed or
// misconfigured run is never reported as zero.
func ParseWrk(out string) (WrkRun, error) {
	var r WrkRun
	var haveRate, have50, have99 bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		switch {
		case len(f) == 2 && f[0] == "Requests/sec:":
			v, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				return r, fmt.Errorf("wrk printed a request rate %q that is not a number", f[1])
			}
			r.RequestsPerSec, haveRate = v, true
		case len(f) == 2 && (f[0] == "50%" || f[0] == "99%"):
			d, err := parseWrkDuration(f[1])
			if err != nil {
				return r, err
			}
			if f[0] == "50%" {
				r.P50, have50 = d, true
			} else {
				r.P99, have99 = d, true
			}
		case len(f) == 5 && f[0] == "Non-2xx":
			n, err := strconv.Atoi(f[4])
			if err != nil {
				return r, fmt.Errorf("wrk printed a non-2xx count %q that is not a number", f[4])
			}
			r.Errors += n
		case len(f) >= 3 && f[0] == "Socket" && f[1] == "errors:":
			// "Socket errors: connect 0, read 0, write 0, timeout 0"
			for i := 3; i < len(f); i += 2 {
				n, err := strconv.Atoi(strings.TrimSuffix(f[i], ","))
				if err != nil {
					return r, fmt.Errorf("wrk printed a socket error count %q that is not a number", f[i])
				}
				r.Errors += n
			}
		}
	}
	if !haveRate || !have50 || !have99 {
		return r, fmt.Errorf("wrk output has no Requests/sec line or no 50%%/99%% latency (was it run with --latency?): %q", out)
	}
	return r, nil
}

// parseWrkDuration reads wrk's latencies: "812.00us", "1.23ms", "2.00s", "1.00m".
func parseWrkDuration(s string) (time.Duration, error) {
	units := []struct { // "us" and "ms" before "s" and "m"
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"m", time.Minute}, {"s", time.Second}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				break
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("wrk printed a latency %q in a unit this parser does not know", s)
}
