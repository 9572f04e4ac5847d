package tcprelay

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// A client's half-close reaches the backend, the backend's answer still comes
// back, a failed dial closes the client's connection, and Close ends a
// connection that is still open.
func TestRelay(t *testing.T) {
	backend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	go func() {
		for {
			c, err := backend.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				body, _ := io.ReadAll(c) // until the client's half-close
				c.Write(append([]byte("echo:"), body...))
			}()
		}
	}()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := Serve(ln, func() (net.Conn, error) { return net.Dial("tcp", backend.Addr().String()) })
	defer r.Close()

	c, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("hello"))
	c.(*net.TCPConn).CloseWrite()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	got, err := io.ReadAll(c)
	c.Close()
	if err != nil || string(got) != "echo:hello" {
		t.Fatalf("relayed answer %q, %v; want %q", got, err, "echo:hello")
	}

	open, err := net.Dial("tcp", r.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer open.Close()
	open.Write([]byte("x")) // the relay has accepted and dialled once this is read
	time.Sleep(100 * time.Millisecond)
	r.Close()
	open.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(open); err != nil {
		t.Fatalf("after Close the open connection did not end cleanly: %v", err)
	}

	ln2, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r2 := Serve(ln2, func() (net.Conn, error) { return nil, errors.New("refused") })
	defer r2.Close()
	refused, err := net.Dial("tcp", r2.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer refused.Close()
	refused.SetDeadline(time.Now().Add(5 * time.Second))
	n, err := refused.Read(make([]byte, 1))
	var ne net.Error
	if n != 0 || err == nil || (errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("a failed dial left the client's connection open: %d, %v", n, err)
	}
}
