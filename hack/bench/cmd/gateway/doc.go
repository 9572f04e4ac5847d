// Command gateway runs tenantgate's proxy (gateway/proxy) standalone for
// `make bench`: one HTTP and one HTTPS listener, a catch-all route to the
// benchmark backend, no cluster. It also serves net/http/pprof on its own
// address so the driver can profile it under load.
//
// It only wires gateway/proxy and gateway/routetable as the controller
// would; it must not tune them, so the figures are the product's own.
package main
