package routetable

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// ErrNoCACertificate is ParseCACertificates' error for a bundle without
// any PEM CERTIFICATE block.
var ErrNoCACertificate = errors.New("it holds no PEM certificate")

// ParseCACertificates reads a PEM CA bundle: every CERTIFICATE block must
// carry no PEM headers and parse as X.509 (other block types are ignored),
// and there must be at least one. It is the one place the data plane reads
// CA certificates, for client validation and backend TLS alike; the
// translator calls it on each referenced bundle, so what it accepts the
// data plane trusts, certificate for certificate.
func ParseCACertificates(bundle []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for n := 1; ; n++ {
		var block *pem.Block
		block, bundle = pem.Decode(bundle)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if len(block.Headers) > 0 {
			return nil, fmt.Errorf("its PEM block %d has headers (%s), which a certificate must not carry; remove them", n, strings.Join(slices.Sorted(maps.Keys(block.Headers)), ", "))
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("its PEM block %d is not an X.509 certificate (%v)", n, err)
		}
		certs = append(certs, cert)
	}
	if len(certs) == 0 {
		return nil, ErrNoCACertificate
	}
	return certs, nil
}

// EncodeCACertificates writes certificates as a PEM bundle without headers
// or other blocks, the form the translator hands the data plane.
func EncodeCACertificates(certs []*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// caPool parses a bundle into a certificate pool.
func caPool(bundle []byte) (*x509.CertPool, error) {
	certs, err := ParseCACertificates(bundle)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}
