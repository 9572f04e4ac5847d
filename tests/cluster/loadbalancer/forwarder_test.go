package loadbalancer

import (
	"bufio"
	"fmt"
	"net"
	"testing"

	"github.com/go-logr/logr"
)

// TestForwarderRoundRobin relays real connections over loopback to two
// backends in turn, and refuses connections once no backend is left.
func TestForwarderRoundRobin(t *testing.T) {
	var addrs []string
	for i := range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				fmt.Fprintf(c, "backend-%d\n", i)
				c.Close()
			}
		}()
		addrs = append(addrs, ln.Addr().String())
	}
	f, err := listen("127.77.0.1:0", logr.Discard())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.setBackends(addrs)
	ask := func() string {
		c, err := net.Dial("tcp", f.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		return line
	}
	counts := map[string]int{}
	for range 6 {
		counts[ask()]++
	}
	if counts["backend-0\n"] != 3 || counts["backend-1\n"] != 3 {
		t.Errorf("six connections went %v; want three to each backend", counts)
	}
	f.setBackends(nil)
	if got := ask(); got != "" {
		t.Errorf("with no backends a connection got %q; want it closed at once", got)
	}
}
