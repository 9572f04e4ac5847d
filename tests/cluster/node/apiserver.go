package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/tenantgate/tenantgate/tests/cluster/tcprelay"
)

// apiForwarder makes the API server reachable from inside a Pod at the same
// loopback address and port it has on the host (so its serving certificate,
// issued for 127.0.0.1, verifies): a listener opened inside the Pod's
// network namespace whose connections are relayed to the host's API server.
// It is what KUBERNETES_SERVICE_HOST/PORT point at.
type apiForwarder = tcprelay.Relay

// forwardAPIServer opens the listener in netns and serves until Close.
func forwardAPIServer(netns, apiServer string) (*apiForwarder, error) {
	ln, err := listenInNetns(netns, apiServer)
	if err != nil {
		return nil, fmt.Errorf("making the API server %s reachable in Pod network namespace %s: %w", apiServer, netns, err)
	}
	// Dialled from the host's namespace: only the listener is in the Pod's.
	return tcprelay.Serve(ln, func() (net.Conn, error) { return net.Dial("tcp", apiServer) }), nil
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
