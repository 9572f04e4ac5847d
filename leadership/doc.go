// Package leadership says whether this replica is the one that writes to
// the API (status, Events), and campaigns for the Lease that decides it.
//
// Losing the Lease never ends the process: the writers gated on State stop
// writing, every replica keeps serving admission and traffic, and the
// Elector campaigns again. With -leader-elect=false a replica always leads.
package leadership
