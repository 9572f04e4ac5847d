package proxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// BenchmarkTLSPassthrough compares, in one run over loopback, a TLS client
// reaching a TLS echo backend directly, through tenantgate's passthrough
// listener, and through HAProxy in TCP mode routing by SNI (when the
// haproxy binary is installed; apt-get install haproxy). Both proxies run
// in their own process, as they would in production, so neither shares the
// Go scheduler with the client and backend. "handshake" opens a
// connection, completes the handshake with the backend and reads its first
// byte; "bulk" echoes 1 MiB per operation over one connection.
func BenchmarkTLSPassthrough(b *testing.B) {
	backend := startBenchTLSEcho(b, "bench.example.com")
	targets := []struct{ name, addr string }{{"direct", backend.ln.Addr().String()}, {"tenantgate", startProxyProcess(b, backend.ln.Addr().String())}}
	if addr, ok := startHAProxy(b, backend.ln.Addr().String()); ok {
		targets = append(targets, struct{ name, addr string }{"haproxy", addr})
	} else {
		b.Log("haproxy is not installed: its rows are missing from this run")
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(backend.cert.CertPEM)
	config := &tls.Config{ServerName: "bench.example.com", RootCAs: roots, ClientSessionCache: nil}
	for _, target := range targets {
		b.Run("handshake/"+target.name, func(b *testing.B) {
			b.SetParallelism(2)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				one := make([]byte, 1)
				for pb.Next() {
					c, err := tls.Dial("tcp", target.addr, config)
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := io.ReadFull(c, one); err != nil {
						b.Error(err)
					}
					_ = c.Close()
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "conns/s")
		})
		b.Run("bulk/"+target.name, func(b *testing.B) {
			c, err := tls.Dial("tcp", target.addr, config)
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			if _, err := io.ReadFull(c, make([]byte, 1)); err != nil {
				b.Fatal(err)
			}
			chunk := bytes.Repeat([]byte("x"), 1<<20)
			back := make([]byte, len(chunk))
			b.SetBytes(int64(len(chunk)))
			b.ResetTimer()
			for range b.N {
				errs := make(chan error, 1)
				go func() { _, err := c.Write(chunk); errs <- err }()
				if _, err := io.ReadFull(c, back); err != nil {
					b.Fatal(err)
				}
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// proxyProcessEnv makes this test binary, started by startProxyProcess,
// serve one passthrough listener instead of running tests.
const proxyProcessEnv = "TENANTGATE_BENCH_PASSTHROUGH"

func init() {
	if spec := os.Getenv(proxyProcessEnv); spec != "" {
		os.Exit(serveProxyProcess(spec))
	}
}

// serveProxyProcess serves "listen=backend": TLS passthrough on listen for
// bench.example.com to backend, until its stdin closes.
func serveProxyProcess(spec string) int {
	listen, backend, _ := strings.Cut(spec, "=")
	host, port, err1 := net.SplitHostPort(listen)
	bhost, bport, err2 := net.SplitHostPort(backend)
	p, err3 := strconv.Atoi(port)
	bp, err4 := strconv.Atoi(bport)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	table, faults := routetable.Compile(routetable.Config{Listeners: []routetable.Listener{{
		Name: "infra/gw/tls", Address: host, Port: int32(p), Protocol: routetable.ProtocolTLS, Hostname: "*.example.com",
		Routes: []*routetable.Route{tlsRouteTo("bench", []string{"bench.example.com"}, routetable.Backend{
			Name: "apples/echo:443", Weight: 1, Endpoints: []routetable.Endpoint{{Address: bhost, Port: int32(bp)}}})},
	}}})
	s := NewServer(Options{})
	if err := errors.Join(faults.Err(), errors.Join(mapValues(s.Apply(table))...)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = s.Shutdown(ctx)
	return 0
}

func mapValues(m map[string]error) []error {
	var out []error
	for _, err := range m {
		out = append(out, err)
	}
	return out
}

// startProxyProcess runs tenantgate's passthrough proxy in a child process
// for as long as the benchmark and returns its address.
func startProxyProcess(b *testing.B, backend string) string {
	b.Helper()
	addr, port := loopback(b)
	listen := net.JoinHostPort(addr, itoa(port))
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), proxyProcessEnv+"="+listen+"="+backend)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = stdin.Close() // the child shuts down when its stdin closes
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("the proxy process did not start: %q, %v", line, err)
	}
	return listen
}

// startBenchTLSEcho is a TLS backend that sends one byte, then echoes.
func startBenchTLSEcho(b *testing.B, name string) *tlsEchoBackend {
	b.Helper()
	e := &tlsEchoBackend{name: "echo", cert: testCertificate(b, name)}
	pair, err := tls.X509KeyPair(e.cert.CertPEM, e.cert.KeyPEM)
	if err != nil {
		b.Fatal(err)
	}
	if e.ln, err = tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{pair}}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = e.ln.Close() })
	go func() {
		for {
			c, err := e.ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := c.Write([]byte{'!'}); err != nil {
					return
				}
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return e
}

// startHAProxy runs HAProxy in TCP mode, routing bench.example.com by SNI
// to backend, for as long as the benchmark; false when it is not installed.
func startHAProxy(b *testing.B, backend string) (string, bool) {
	b.Helper()
	bin, err := exec.LookPath("haproxy")
	if err != nil {
		return "", false
	}
	addr, port := loopback(b)
	listen := net.JoinHostPort(addr, itoa(port))
	cfg := fmt.Sprintf(`global
  maxconn 4096
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend tls
  bind %s
  tcp-request inspect-delay 5s
  tcp-request content accept if { req_ssl_hello_type 1 }
  use_backend echo if { req_ssl_sni -i bench.example.com }
backend echo
  server echo %s
`, listen, backend)
	path := filepath.Join(b.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-db", "-f", path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); _ = cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", listen); err == nil {
			_ = c.Close()
			return listen, true
		}
	}
	b.Fatalf("haproxy did not start listening within 5s: %s", stderr.String())
	return "", false
}
