package routetable

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// CompiledBackendTLS is a backend's TLS client settings, ready to dial.
type CompiledBackendTLS struct {
	// Key is the same for backends with the same settings in any table, so
	// the proxy can keep one connection pool for them across table swaps.
	Key string
	// Config is shared by every connection; it must not be modified.
	Config *tls.Config
}

// compileBackendTLS parses the CAs and builds the client TLS config. With
// SubjectAltNames the chain is verified without the hostname check and the
// leaf must then carry one of the names.
func compileBackendTLS(in *BackendTLS, sc scope) (*CompiledBackendTLS, error) {
	where := sc.where
	if in.ServerName == "" {
		return nil, fmt.Errorf("%s has TLS settings from BackendTLSPolicy %s without a server name; set validation.hostname", where, in.Policy)
	}
	var roots *x509.CertPool // nil: the system's
	if !in.SystemCAs {
		var err error
		if roots, err = caPool(in.CAPEM); err != nil {
			return nil, fmt.Errorf("%s cannot use the CA certificates of BackendTLSPolicy %s (%s): %v; fix their ca.crt", where, in.Policy, strings.Join(in.CACertificates, ", "), err)
		}
	}
	for _, san := range in.SubjectAltNames {
		if san.Type != SANHostname && san.Type != SANURI {
			return nil, fmt.Errorf("%s has subject alt name type %q from BackendTLSPolicy %s; use Hostname or URI", where, san.Type, in.Policy)
		}
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: in.ServerName, RootCAs: roots}
	if sc.clientCert != nil {
		cfg.Certificates = []tls.Certificate{*sc.clientCert}
	}
	if len(in.SubjectAltNames) > 0 {
		sans := in.SubjectAltNames
		cfg.InsecureSkipVerify = true // VerifyConnection checks the chain itself, then the names
		cfg.VerifyConnection = func(cs tls.ConnectionState) error { return verifyBackend(cs, roots, sans) }
	}
	return &CompiledBackendTLS{Key: backendTLSKey(in, sc.clientCert), Config: cfg}, nil
}

// verifyBackend checks that the backend's certificate chains to roots and
// carries one of the subject alt names.
func verifyBackend(cs tls.ConnectionState, roots *x509.CertPool, sans []SubjectAltName) error {
	if len(cs.PeerCertificates) == 0 {
		return errors.New("the backend sent no certificate")
	}
	leaf := cs.PeerCertificates[0]
	intermediates := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		intermediates.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates}); err != nil {
		return err
	}
	if carriesName(leaf, sans) {
		return nil
	}
	names := make([]string, len(sans))
	for i, san := range sans {
		names[i] = san.Value
	}
	return fmt.Errorf("the backend's certificate carries none of the subject alt names %s", strings.Join(names, ", "))
}

func carriesName(leaf *x509.Certificate, sans []SubjectAltName) bool {
	for _, san := range sans {
		switch san.Type {
		case SANHostname:
			if leaf.VerifyHostname(san.Value) == nil {
				return true
			}
		case SANURI:
			for _, u := range leaf.URIs {
				if u.String() == san.Value {
					return true
				}
			}
		}
	}
	return false
}

// backendTLSKey digests everything that shapes a connection, the client
// certificate presented included.
func backendTLSKey(in *BackendTLS, clientCert *tls.Certificate) string {
	h := sha256.New()
	fmt.Fprintf(h, "%q %t %d\n", in.ServerName, in.SystemCAs, len(in.SubjectAltNames))
	for _, san := range in.SubjectAltNames {
		fmt.Fprintf(h, "%q %q\n", san.Type, san.Value)
	}
	h.Write(in.CAPEM)
	if clientCert != nil {
		for _, der := range clientCert.Certificate {
			h.Write(der)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}
