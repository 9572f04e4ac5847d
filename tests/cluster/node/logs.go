package node

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// kubeletPort is where the agent serves the part of kubelet's API the API
// server proxies to (`kubectl logs`), on the node's bridge address.
const kubeletPort = 10250

// logSink writes a process's output into its log file the way the container
// runtime does: one line per record, prefixed by its RFC 3339 time, so that
// `kubectl logs --since-time` works.
type logSink struct {
	mu   sync.Mutex
	file *os.File
}

func openLogSink(path string) (*logSink, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return &logSink{file: f}, nil
}

// pipe returns a writer for one process; its lines are copied to the file
// until the process closes it.
func (s *logSink) pipe() (*os.File, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			s.mu.Lock()
			fmt.Fprintf(s.file, "%s %s\n", time.Now().UTC().Format(time.RFC3339Nano), sc.Bytes())
			s.mu.Unlock()
		}
	}()
	return w, nil
}

func (s *logSink) Close() error { return s.file.Close() }

// serveKubelet serves GET /containerLogs/{namespace}/{pod}/{container} with
// the sinceTime, timestamps and tailLines options, on the node's address.
func (a *Agent) serveKubelet(ctx context.Context) error {
	cert, err := selfSigned(a.net.gateway.String())
	if err != nil {
		return err
	}
	l, err := tls.Listen("tcp", net.JoinHostPort(a.net.gateway.String(), strconv.Itoa(kubeletPort)),
		&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
	if err != nil {
		return fmt.Errorf("serving container logs: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /containerLogs/{namespace}/{pod}/{container}", a.containerLogs)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	go func() {
		if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.cfg.Log.Error(err, "kubelet endpoint stopped")
		}
	}()
	return nil
}

func (a *Agent) containerLogs(w http.ResponseWriter, r *http.Request) {
	path := filepath.Join(a.cfg.StateDir, r.PathValue("namespace")+"_"+r.PathValue("pod"), r.PathValue("container")+".log")
	if strings.Contains(r.PathValue("namespace")+r.PathValue("pod")+r.PathValue("container"), "..") {
		http.Error(w, "bad name", http.StatusBadRequest)
		return
	}
	f, err := os.Open(path)
	if err != nil {
		http.Error(w, fmt.Sprintf("no logs for container %s of pod %s/%s", r.PathValue("container"), r.PathValue("namespace"), r.PathValue("pod")), http.StatusNotFound)
		return
	}
	defer f.Close()
	q := r.URL.Query()
	var since time.Time
	if v := q.Get("sinceTime"); v != "" {
		if since, err = time.Parse(time.RFC3339, v); err != nil {
			http.Error(w, "sinceTime: "+err.Error(), http.StatusBadRequest)
			return
		}
	}
	if v := q.Get("sinceSeconds"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			since = time.Now().Add(-time.Duration(n) * time.Second)
		}
	}
	tail := -1
	if v := q.Get("tailLines"); v != "" {
		tail, _ = strconv.Atoi(v)
	}
	lines := selectLines(f, since, q.Get("timestamps") == "true", tail)
	w.Header().Set("Content-Type", "text/plain")
	for _, l := range lines {
		io.WriteString(w, l+"\n")
	}
}

// selectLines reads timestamped log lines, keeps those at or after since
// (and the last tail of them when tail >= 0), with or without the timestamp.
func selectLines(r io.Reader, since time.Time, timestamps bool, tail int) []string {
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		ts, text, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil || t.Before(since) {
			continue
		}
		if timestamps {
			text = ts + " " + text
		}
		out = append(out, text)
	}
	if tail >= 0 && len(out) > tail {
		out = out[len(out)-tail:]
	}
	return out
}

func selfSigned(ip string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "tenantgate-node"},
		NotBefore:    time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
