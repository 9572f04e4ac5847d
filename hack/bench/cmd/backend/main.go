package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

func main() {
	addr := flag.String("listen", "127.0.0.1:18400", "plain HTTP address")
	tlsAddr := flag.String("tls-listen", "127.0.0.1:18401", "HTTPS address (same certificate as the proxies)")
	certFile := flag.String("cert", "", "PEM certificate for -tls-listen")
	keyFile := flag.String("key", "", "PEM key for -tls-listen")
	flag.Parse()
	cert, err := tls.LoadX509KeyPair(*certFile, *keyFile)
	if err != nil {
		log.Fatalf("loading the benchmark certificate: %v", err)
	}
	plain, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	secure, err := tls.Listen("tcp", *tlsAddr, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}})
	if err != nil {
		log.Fatal(err)
	}
	small := answer(bytes.Repeat([]byte("x"), results.SmallBytes))
	large := answer(bytes.Repeat([]byte("y"), results.LargeBytes))
	for _, ln := range []net.Listener{plain, secure} {
		go accept(ln, small, large)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
}

// answer is a complete HTTP/1.1 response carrying body.
func answer(body []byte) []byte {
	body[len(body)-1] = '\n'
	head := "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return append([]byte(head), body...)
}

func accept(ln net.Listener, small, large []byte) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go serve(c, small, large)
	}
}

// serve answers the requests of one keep-alive connection until the client
// closes it, asks to close, or sends something that is not a simple request.
func serve(c net.Conn, small, large []byte) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 8<<10)
	for {
		_ = c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		line, err := br.ReadSlice('\n')
		if err != nil {
			return
		}
		resp := small
		if bytes.Contains(line, []byte(" /16KiB ")) {
			resp = large
		}
		length, closing, err := skipHeaders(br)
		if err != nil {
			fmt.Fprintf(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
			return
		}
		if _, err := br.Discard(length); err != nil {
			return
		}
		if _, err := c.Write(resp); err != nil || closing {
			return
		}
	}
}

// skipHeaders reads header lines up to the blank one and returns the
// request body's Content-Length and whether the client asked to close.
func skipHeaders(br *bufio.Reader) (length int, closing bool, err error) {
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return 0, false, err
		}
		line = bytes.TrimRight(line, "\r\n")
		if len(line) == 0 {
			return length, closing, nil
		}
		name, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil || length < 0 {
				return 0, false, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return 0, false, fmt.Errorf("chunked request bodies are not served")
		case bytes.EqualFold(name, []byte("Connection")) && bytes.EqualFold(value, []byte("close")):
			closing = true
		}
	}
}
