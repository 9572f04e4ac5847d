package app

import (
	"log/slog"

	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/go-logr/logr"
)

// memoryLimitRatio is the share of the container's memory limit the Go
// collector aims to stay under.
const memoryLimitRatio = 0.9

// limitMemory sets Go's soft memory limit to 90% of the container's
// (cgroup) memory limit, unless GOMEMLIMIT is set. Without it the heap may
// grow to twice what is live before the collector runs, and under a
// container limit that overshoot is an OOM kill rather than more frequent
// collections. Outside a limited container it does nothing.
func limitMemory(log logr.Logger) {
	limit, err := memlimit.SetGoMemLimitWithOpts(memlimit.WithRatio(memoryLimitRatio), memlimit.WithLogger(slog.New(logr.ToSlogHandler(log.V(1)))))
	switch {
	case err != nil:
		log.Error(err, "could not read the container's memory limit; the Go collector keeps its default pace (set GOMEMLIMIT to bound it)")
	case limit > 0:
		log.Info("Go memory limit set below the container's", "bytes", limit, "ratio", memoryLimitRatio)
	}
}
