package faults

import (
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"time"
)

// Balancer is a TCP load balancer on loopback that stands in for a
// Service's endpoints in front of replicas: the API server calls one webhook
// URL, as it calls one Service in a real cluster, and each new connection
// goes to the next live replica in turn. A replica whose connect fails is
// dropped at once, as the endpoints controller would drop a dead Pod, and
// the connection tries the next one. Bytes pass through untouched (TLS ends
// at the replica), so a connection in flight on a replica that dies is cut,
// exactly as with a real Service.
type Balancer struct {
	ln net.Listener

	mu      sync.Mutex
	live    []*upstream
	dropped []string
	next    int
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

type upstream struct {
	addr   string
	active int // connections open now
	total  int // connections ever forwarded
}

// BackendStats is what the balancer saw of one replica.
type BackendStats struct {
	Addr          string
	Active, Total int
}

// NewBalancer listens on addr and forwards to backends.
func NewBalancer(addr string, backends ...string) (*Balancer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("balancer cannot listen on %s: %w", addr, err)
	}
	b := &Balancer{ln: ln, conns: map[net.Conn]struct{}{}}
	for _, a := range backends {
		b.live = append(b.live, &upstream{addr: a})
	}
	b.wg.Add(1)
	go b.serve()
	return b, nil
}

// Add puts a replica in rotation, as a new Pod's endpoint.
func (b *Balancer) Add(addr string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.live = append(b.live, &upstream{addr: addr})
}

// Addr is the address clients connect to.
func (b *Balancer) Addr() string { return b.ln.Addr().String() }

// Live lists the replicas still in rotation, with their connection counts.
func (b *Balancer) Live() []BackendStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]BackendStats, len(b.live))
	for i, u := range b.live {
		out[i] = BackendStats{Addr: u.addr, Active: u.active, Total: u.total}
	}
	return out
}

// Dropped lists the replicas taken out of rotation after a failed connect.
func (b *Balancer) Dropped() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.dropped)
}

// Close stops listening, cuts every forwarded connection and waits for them.
func (b *Balancer) Close() error {
	err := b.ln.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.conns = nil
	b.mu.Unlock()
	b.wg.Wait()
	return err
}

func (b *Balancer) serve() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return // closed
		}
		if !b.track(c) {
			c.Close()
			return
		}
		b.wg.Add(1)
		go b.forward(c)
	}
}

// track remembers c so Close can cut it; false once closing.
func (b *Balancer) track(c net.Conn) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		return false
	}
	b.conns[c] = struct{}{}
	return true
}

func (b *Balancer) untrack(c net.Conn) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.conns, c)
}

// forward connects client to the next live replica and copies both ways
// until either side closes.
func (b *Balancer) forward(client net.Conn) {
	defer b.wg.Done()
	defer b.untrack(client)
	defer client.Close()
	up, server, err := b.dial()
	if err != nil {
		return // no replica left: the client sees the connection close
	}
	if !b.track(server) {
		server.Close()
		b.release(up)
		return
	}
	defer b.untrack(server)
	defer b.release(up)
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Either side ending ends the pair, as a dead endpoint's RST would.
		dst.Close()
		src.Close()
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	<-done
}

// dial tries live replicas in turn, dropping each one that refuses.
func (b *Balancer) dial() (*upstream, net.Conn, error) {
	for {
		up := b.pick()
		if up == nil {
			return nil, nil, errors.New("no live replica")
		}
		c, err := net.DialTimeout("tcp", up.addr, time.Second)
		if err == nil {
			return up, c, nil
		}
		b.drop(up)
	}
}

func (b *Balancer) pick() *upstream {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.live) == 0 {
		return nil
	}
	up := b.live[b.next%len(b.live)]
	b.next++
	up.active++
	up.total++
	return up
}

func (b *Balancer) release(up *upstream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	up.active--
}

func (b *Balancer) drop(up *upstream) {
	b.mu.Lock()
	defer b.mu.Unlock()
	up.active--
	up.total--
	if i := slices.Index(b.live, up); i >= 0 {
		b.live = slices.Delete(b.live, i, i+1)
		b.dropped = append(b.dropped, up.addr)
	}
}
