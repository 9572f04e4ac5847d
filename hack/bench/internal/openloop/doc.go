// Package openloop offers HTTP/1.1 requests at a fixed rate, whatever the
// server does, and measures each latency from the time the request was due:
// coordinated omission corrected, as wrk2 does. It speaks raw HTTP/1.1 over
// keep-alive connections and parses answers without allocating, to stay
// cheap on the load-generator core it shares with the backend.
//
// Request i is due at start + i/rate. A connection that is free takes the
// next due request; if it is already late (every connection was busy) the
// latency counts from the due time, so a stalled server is charged for every
// request it held up, not just the few in flight. If the connection has to
// wait, it sleeps and counts from when it actually sent: Go timers wake up
// to a millisecond late, and that lateness is the generator's, not the
// server's.
//
// It owns only the load loop and its timing; percentiles and reporting
// belong to package results and the driver. It must send only to the
// address it is given (the driver gives it loopback ones).
package openloop
