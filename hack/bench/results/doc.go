// Package results holds what `make bench` measures, as plain data that the
// data-plane driver writes and the report reads, and the pure functions that
// turn tool output into it: wrk's text, `go test -bench` lines and `go tool
// pprof -top` tables, plus the statistics the report quotes (min, median,
// max, percentiles, shared with tests/bench). It runs nothing and reads no
// files; the commands under hack/bench/cmd and tests/bench do the I/O.
package results
