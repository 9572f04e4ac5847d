package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"github.com/tenantgate/tenantgate/hack/bench/results"
)

// checkTargets fetches both bodies over HTTP and HTTPS from every target and
// fails unless each is a 200 of the right size: a misconfigured proxy must
// not be measured answering errors fast.
func checkTargets(ts []target, caFile string) error {
	pool := x509.NewCertPool()
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return err
		}
		if !pool.AppendCertsFromPEM(pem) {
			return fmt.Errorf("%s holds no PEM certificate", caFile)
		}
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer client.CloseIdleConnections()
	for _, t := range ts {
		for _, base := range []string{t.http, t.https} {
			for body, size := range map[string]int{results.BodySmall: results.SmallBytes, results.BodyLarge: results.LargeBytes} {
				url := base + pathOf(body)
				resp, err := client.Get(url)
				if err != nil {
					return fmt.Errorf("target %s does not answer %s: %w", t.name, url, err)
				}
				n, err := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || n != int64(size) {
					return fmt.Errorf("target %s answered %s with status %d and %d bytes (%v), want 200 and %d bytes; check its config", t.name, url, resp.StatusCode, n, err, size)
				}
			}
		}
	}
	return nil
}
