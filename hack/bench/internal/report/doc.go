// Package report renders a results.Results as the Markdown report that
// `make bench` writes to docs/bench/REPORT.md: the machine, the versions,
// the verdict on every target of the benchmark issue with the measured
// figures behind it, and the tables. It is a pure function of its input (no
// clock, no files), tested with golden files; it measures nothing.
package report
