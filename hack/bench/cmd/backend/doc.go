// Command backend is the static upstream of `make bench`: every proxy under
// test forwards to it, and "direct" measures it alone. /16KiB answers 16 KiB,
// any other path a small body (sizes in the results package), with a
// Content-Length and no chunking; the driver checks both through every
// target.
//
// It shares the load generator's core, so it is as cheap as it can be: a
// keep-alive HTTP/1.1 loop over raw connections that reads a request head
// (and skips a Content-Length body) and writes a prebuilt answer in one
// syscall. net/http spent about twice the CPU per request here, which made
// the shared core, not the proxy, the limit for the fastest proxies.
//
// It must not grow features: any per-request work it adds is charged to
// every target alike and shrinks the differences the benchmark shows.
package main
