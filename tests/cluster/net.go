package cluster

import (
	"crypto/tls"
	"net"
	"net/http"
)

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// insecureLoopback checks health endpoints of processes this harness started
// on 127.0.0.1 with self-signed serving certificates.
func insecureLoopback() *http.Transport {
	return &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback health probe only
}
