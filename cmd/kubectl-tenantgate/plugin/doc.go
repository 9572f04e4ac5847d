// Package plugin is `kubectl tenantgate`: explain (why a route is or is
// not serving, parent by parent) and check (the tenant policy over a
// manifest, by a server-side dry run). It reads only what a user with edit
// rights in their own namespace may read: the route, its status as the
// gateway wrote it, and the admission webhook's answer to a dry run, so a
// team needs no cluster-wide rights to debug its routes.
package plugin
