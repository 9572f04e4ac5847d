package node

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"
)

// apiForwarder makes the API server reachable from inside a Pod at the same
// loopback address and port it has on the host (so its serving certificate,
// issued for 127.0.0.1, verifies): a listener opened inside the Pod's
// network namespace whose connections are relayed to the host's API server.
// It is what KUBERNETES_SERVICE_HOST/PORT point at.
type apiForwarder struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]bool
}

// forwardAPIServer opens the listener in netns and serves until close.
func forwardAPIServer(netns, apiServer string) (*apiForwarder, error) {
	ln, err := listenInNetns(netns, apiServer)
	if err != nil {
		return nil, fmt.Errorf("making the API server %s reachable in Pod network namespace %s: %w", apiServer, netns, err)
	}
	f := &apiForwarder{ln: ln, conns: map[net.Conn]bool{}}
	f.wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			f.wg.Go(func() { f.relay(c, apiServer) })
		}
	})
	return f, nil
}

func (f *apiForwarder) track(c net.Conn, on bool) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conns == nil {
		return false
	}
	if on {
		f.conns[c] = true
	} else {
		delete(f.conns, c)
	}
	return true
}

func (f *apiForwarder) relay(pod net.Conn, apiServer string) {
	defer pod.Close()
	host, err := net.Dial("tcp", apiServer) // from the host's namespace
	if err != nil {
		return
	}
	defer host.Close()
	if !f.track(pod, true) || !f.track(host, true) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(host, pod); done <- struct{}{} }()
	go func() { io.Copy(pod, host); done <- struct{}{} }()
	<-done // either side closing ends both (TLS has its own close_notify)
	f.track(pod, false)
	f.track(host, false)
}

// close stops the listener and every relayed connection.
func (f *apiForwarder) close() {
	f.ln.Close()
	f.mu.Lock()
	conns := f.conns
	f.conns = nil
	f.mu.Unlock()
	for c := range conns {
		c.Close()
	}
	f.wg.Wait()
}

// listenInNetns opens a TCP listener inside the named network namespace: a
// socket belongs to the namespace its thread was in when it was created, so
// a locked thread enters the namespace, listens and returns. If it cannot
// return, the thread is discarded rather than reused by other goroutines.
func listenInNetns(netns, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	out := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			out <- result{err: err}
			return
		}
		defer home.Close()
		target, err := os.Open(filepath.Join("/run/netns", netns))
		if err != nil {
			runtime.UnlockOSThread()
			out <- result{err: err}
			return
		}
		defer target.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			out <- result{err: err}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := unix.Setns(int(home.Fd()), unix.CLONE_NEWNET); err != nil {
			// Leave the thread locked: it exits with this goroutine.
			if ln != nil {
				ln.Close()
			}
			out <- result{err: errors.Join(lerr, fmt.Errorf("returning to the host network namespace: %w", err))}
			return
		}
		runtime.UnlockOSThread()
		out <- result{ln: ln, err: lerr}
	}()
	r := <-out
	return r.ln, r.err
}
