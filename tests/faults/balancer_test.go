package faults

import (
	"bufio"
	"net"
	"slices"
	"testing"
	"time"
)

// namedServer answers every line it reads with its name, until closed.
func namedServer(t *testing.T, name string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					if _, err := c.Write([]byte(name + "\n")); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln
}

// ask opens a connection through the balancer and returns who answered.
func ask(t *testing.T, addr string) (string, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("who\n")); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return line, err
}

func TestBalancerRotatesAndDropsDeadReplicas(t *testing.T) {
	a, b := namedServer(t, "a"), namedServer(t, "b")
	defer b.Close()
	lb, err := NewBalancer("127.0.0.1:0", a.Addr().String(), b.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()

	var got []string
	for range 4 {
		who, err := ask(t, lb.Addr())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, who)
	}
	if want := []string{"a\n", "b\n", "a\n", "b\n"}; !slices.Equal(got, want) {
		t.Fatalf("answers %q, want round robin %q", got, want)
	}

	a.Close() // replica a dies: its connects are refused from now on
	for i := range 4 {
		who, err := ask(t, lb.Addr())
		if err != nil || who != "b\n" {
			t.Fatalf("connection %d after a died: answer %q, error %v; want b", i, who, err)
		}
	}
	if d := lb.Dropped(); !slices.Equal(d, []string{a.Addr().String()}) {
		t.Errorf("dropped %q, want only a (%s)", d, a.Addr())
	}
	// The last pair closes a moment after the client does.
	live := lb.Live()
	for deadline := time.Now().Add(2 * time.Second); len(live) == 1 && live[0].Active > 0 && time.Now().Before(deadline); live = lb.Live() {
		time.Sleep(10 * time.Millisecond)
	}
	if len(live) != 1 || live[0].Addr != b.Addr().String() || live[0].Total != 6 || live[0].Active != 0 {
		t.Errorf("live replicas %+v, want only b with 6 connections forwarded and none open", live)
	}
}

func TestBalancerCutsConnectionsWhenTheReplicaDies(t *testing.T) {
	a := namedServer(t, "a")
	lb, err := NewBalancer("127.0.0.1:0", a.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	c, err := net.Dial("tcp", lb.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	c.Write([]byte("who\n"))
	if line, err := r.ReadString('\n'); err != nil || line != "a\n" {
		t.Fatalf("first answer %q, %v", line, err)
	}
	lb.Close() // also what a replica's death does to the pair: both ends close
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := r.ReadString('\n'); err == nil {
		t.Fatal("the client connection stayed open after the balancer closed")
	}
}

func TestBalancerWithNoLiveReplicaClosesTheConnection(t *testing.T) {
	a := namedServer(t, "a")
	addr := a.Addr().String()
	a.Close()
	lb, err := NewBalancer("127.0.0.1:0", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	if who, err := ask(t, lb.Addr()); err == nil {
		t.Fatalf("answer %q with no replica alive", who)
	}
	if len(lb.Live()) != 0 {
		t.Errorf("live %+v, want none", lb.Live())
	}
}
