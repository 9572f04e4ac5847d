// Command report gathers what `make bench` measured — the data-plane
// driver's JSON, the `go test -bench` output of the control-plane, policy
// and translation benchmarks, and the machine and version facts run.sh
// collected — into results.Results, and writes it as JSON and as the
// Markdown report. A missing input file means that part was skipped.
//
// It measures nothing; rendering belongs to internal/report.
package main
