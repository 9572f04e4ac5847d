package tcprelay

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// Relay serves one listener until Close.
type Relay struct {
	ln   net.Listener
	dial func() (net.Conn, error)
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{} // nil once closed
}

// Serve relays every connection ln accepts to a connection dial opens; a
// dial error closes the accepted connection, as a refused backend would.
func Serve(ln net.Listener, dial func() (net.Conn, error)) *Relay {
	r := &Relay{ln: ln, dial: dial, conns: map[net.Conn]struct{}{}}
	r.wg.Go(r.accept)
	return r
}

// Addr is the listener's address.
func (r *Relay) Addr() net.Addr { return r.ln.Addr() }

// Close stops accepting, ends every relayed connection and waits for them.
func (r *Relay) Close() {
	r.ln.Close()
	r.mu.Lock()
	conns := r.conns
	r.conns = nil
	r.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	r.wg.Wait()
}

func (r *Relay) accept() {
	for {
		c, err := r.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(10 * time.Millisecond) // e.g. too many open files; try again
			continue
		}
		r.wg.Go(func() { r.relay(c) })
	}
}

// track adds (on) or removes c; adding fails once the relay is closed.
func (r *Relay) track(c net.Conn, on bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		return false
	}
	if on {
		r.conns[c] = struct{}{}
	} else {
		delete(r.conns, c)
	}
	return true
}

func (r *Relay) relay(client net.Conn) {
	defer client.Close()
	if !r.track(client, true) {
		return
	}
	defer r.track(client, false)
	backend, err := r.dial()
	if err != nil {
		return
	}
	defer backend.Close()
	if !r.track(backend, true) {
		return
	}
	defer r.track(backend, false)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if hc, ok := dst.(interface{ CloseWrite() error }); ok {
			hc.CloseWrite() // pass the half-close on
		}
		done <- struct{}{}
	}
	go pipe(backend, client)
	go pipe(client, backend)
	<-done
	<-done
}
