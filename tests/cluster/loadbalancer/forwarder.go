package loadbalancer

import (
	"errors"
	"net"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"

	"github.com/tenantgate/tenantgate/tests/cluster/tcprelay"
)

// forwarder accepts TCP connections on one address:port and relays each to
// the next ready backend, round robin.
type forwarder struct {
	*tcprelay.Relay
	log      logr.Logger
	backends atomic.Pointer[[]string]
	next     atomic.Uint64
}

func listen(addr string, log logr.Logger) (*forwarder, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &forwarder{log: log}
	f.backends.Store(&[]string{})
	f.Relay = tcprelay.Serve(ln, f.dial)
	return f, nil
}

// setBackends replaces the endpoints new connections go to; open ones stay.
func (f *forwarder) setBackends(b []string) { f.backends.Store(&b) }

// pick returns the next backend, or false when there is none.
func (f *forwarder) pick() (string, bool) {
	b := *f.backends.Load()
	if len(b) == 0 {
		return "", false
	}
	return b[(f.next.Add(1)-1)%uint64(len(b))], true
}

// dial connects to a backend, trying each at most once, as a client of
// kube-proxy's iptables mode would see: no backend, no connection.
func (f *forwarder) dial() (net.Conn, error) {
	for range len(*f.backends.Load()) {
		addr, ok := f.pick()
		if !ok {
			break
		}
		b, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err == nil {
			return b, nil
		}
		f.log.V(1).Info("backend refused a connection", "backend", addr, "error", err.Error())
	}
	return nil, errors.New("no ready backend")
}
