package proxy

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// backendPools holds one connection pool per endpoint address for the
// fast path; the general path keeps http.Transport's.
type backendPools struct {
	dialer  net.Dialer
	maxIdle int
	maxOpen int // 0: no limit
	mu      sync.RWMutex
	pools   map[string]*endpointPool
}

func newBackendPools(opts Options) *backendPools {
	return &backendPools{
		dialer:  net.Dialer{Timeout: opts.DialTimeout, KeepAlive: 30 * time.Second},
		maxIdle: opts.MaxIdleConnsPerHost, maxOpen: opts.MaxConnsPerEndpoint,
		pools: map[string]*endpointPool{},
	}
}

// endpointPool is one endpoint's idle connections and how many are open.
type endpointPool struct {
	addr  string
	idle  chan *backendConn
	open  atomic.Int32
	pools *backendPools
	// removed is set when sweep forgets the pool; connections coming back close.
	removed atomic.Bool
}

// backendIdleTimeout drops pooled connections idle this long, as the
// general path's Transport does (IdleConnTimeout).
const backendIdleTimeout = 90 * time.Second

// errPoolFull is a backend whose connection limit stays reached for a dial timeout.
var errPoolFull = errors.New("endpoint connection limit reached")

func (bp *backendPools) pool(addr string) *endpointPool {
	bp.mu.RLock()
	p := bp.pools[addr]
	bp.mu.RUnlock()
	if p != nil {
		return p
	}
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if p = bp.pools[addr]; p == nil {
		p = &endpointPool{addr: addr, idle: make(chan *backendConn, bp.maxIdle), pools: bp}
		bp.pools[addr] = p
	}
	return p
}

// get returns an idle connection (reused true) or a new one; at the
// connection limit it waits up to the dial timeout for one to come back.
func (p *endpointPool) get(now time.Time) (bc *backendConn, reused bool, err error) {
	for {
		select {
		case bc = <-p.idle:
			if now.Sub(bc.lastUsed) > backendIdleTimeout {
				bc.close()
				continue
			}
			return bc, true, nil
		default:
		}
		break
	}
	if max := p.pools.maxOpen; max > 0 && int(p.open.Load()) >= max {
		timer := time.NewTimer(p.pools.dialer.Timeout)
		defer timer.Stop()
		select {
		case bc = <-p.idle:
			return bc, true, nil
		case <-timer.C:
			return nil, false, &net.OpError{Op: "dial", Net: "tcp", Err: errPoolFull}
		}
	}
	return p.dial()
}

func (p *endpointPool) dial() (*backendConn, bool, error) {
	nc, err := p.pools.dialer.Dial("tcp", p.addr)
	if err != nil {
		return nil, false, err
	}
	p.open.Add(1)
	return &backendConn{nc: nc, pool: p, buf: make([]byte, backendReadBuffer)}, false, nil
}

// put keeps bc for the next request, or closes it when the pool is full.
func (p *endpointPool) put(bc *backendConn, now time.Time) {
	bc.lastUsed = now
	if p.removed.Load() {
		bc.close()
		return
	}
	select {
	case p.idle <- bc:
	default:
		bc.close()
	}
}

// sweep closes connections idle longer than backendIdleTimeout and forgets
// endpoints with none open, so the pools of endpoints gone from the table
// (Pods replaced) do not keep sockets to them.
func (bp *backendPools) sweep(now time.Time) {
	bp.mu.Lock()
	defer bp.mu.Unlock()
	for addr, p := range bp.pools {
		for range len(p.idle) {
			select {
			case bc := <-p.idle:
				if now.Sub(bc.lastUsed) > backendIdleTimeout {
					bc.close()
					continue
				}
				select {
				case p.idle <- bc:
				default:
					bc.close()
				}
			default:
			}
		}
		if p.open.Load() == 0 {
			p.removed.Store(true)
			delete(bp.pools, addr)
		}
	}
}

// sweepEvery sweeps until stop is closed.
func (bp *backendPools) sweepEvery(d time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			bp.sweep(now)
		case <-stop:
			return
		}
	}
}

// closeIdle closes every pooled connection.
func (bp *backendPools) closeIdle() {
	bp.mu.RLock()
	defer bp.mu.RUnlock()
	for _, p := range bp.pools {
		for {
			select {
			case bc := <-p.idle:
				bc.close()
				continue
			default:
			}
			break
		}
	}
}

const backendReadBuffer = 32 << 10

// backendConn is one pooled connection with its read buffer; buf[start:end]
// is read but not consumed.
type backendConn struct {
	nc         net.Conn
	pool       *endpointPool
	buf        []byte
	start, end int
	lastUsed   time.Time
	headers    [2 * maxFastHeaders]fastHeader
	nheaders   int
}

func (bc *backendConn) close() {
	_ = bc.nc.Close()
	bc.pool.open.Add(-1)
}

// fill reads more from the backend, compacting the buffer when it is full.
func (bc *backendConn) fill() error {
	if bc.start == bc.end {
		bc.start, bc.end = 0, 0
	} else if bc.end == len(bc.buf) && bc.start > 0 {
		bc.end = copy(bc.buf, bc.buf[bc.start:bc.end])
		bc.start = 0
	}
	if bc.end == len(bc.buf) {
		return errResponseHeadTooLarge
	}
	n, err := bc.nc.Read(bc.buf[bc.end:])
	bc.end += n
	if n > 0 {
		return nil
	}
	return err
}

var errResponseHeadTooLarge = errors.New("backend response line or head larger than the read buffer")
