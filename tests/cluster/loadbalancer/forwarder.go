package loadbalancer

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
)

// forwarder accepts TCP connections on one address:port and relays each to
// the next ready backend, round robin.
type forwarder struct {
	ln       net.Listener
	log      logr.Logger
	backends atomic.Pointer[[]string]
	next     atomic.Uint64

	mu    sync.Mutex
	conns map[net.Conn]bool
	done  chan struct{}
}

func listen(addr string, log logr.Logger) (*forwarder, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	f := &forwarder{ln: ln, log: log, conns: map[net.Conn]bool{}, done: make(chan struct{})}
	f.backends.Store(&[]string{})
	go f.serve()
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

func (f *forwarder) serve() {
	defer close(f.done)
	for {
		c, err := f.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. too many open files; try again
			continue
		}
		go f.relay(c)
	}
}

func (f *forwarder) track(c net.Conn, on bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if on && f.conns == nil {
		return false // closed
	}
	if on {
		f.conns[c] = true
	} else if f.conns != nil {
		delete(f.conns, c)
	}
	return true
}

// relay connects the client to a backend, trying each backend at most once,
// as a client of kube-proxy's iptables mode would see: no backend, no connection.
func (f *forwarder) relay(client net.Conn) {
	if !f.track(client, true) {
		client.Close()
		return
	}
	defer f.track(client, false)
	defer client.Close()
	var backend net.Conn
	for range len(*f.backends.Load()) {
		addr, ok := f.pick()
		if !ok {
			break
		}
		b, err := net.DialTimeout("tcp", addr, 3*time.Second)
		if err == nil {
			backend = b
			break
		}
		f.log.V(1).Info("backend refused a connection", "backend", addr, "error", err.Error())
	}
	if backend == nil {
		return
	}
	if !f.track(backend, true) {
		backend.Close()
		return
	}
	defer f.track(backend, false)
	defer backend.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite() // pass the half-close on
		}
		done <- struct{}{}
	}
	go pipe(backend, client)
	go pipe(client, backend)
	<-done
	<-done
}

// close stops accepting and ends every relayed connection.
func (f *forwarder) close() {
	f.ln.Close()
	<-f.done
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for c := range conns {
		c.Close()
	}
}
