package routetable

import (
	"crypto/x509"
	"regexp"
	"strings"
	"testing"
)

// FuzzCompileRegex: CompileRegex never panics, accepts only what the limits
// allow, and what it accepts matches exactly as the anchored expression.
func FuzzCompileRegex(f *testing.F) {
	for _, seed := range []string{"/api/v[0-9]+", "a)|(b", "(", ".{0,1000}", strings.Repeat("(", 40) + "x" + strings.Repeat(")", 40), `\C`, "é+"} {
		f.Add(seed, "/api/v1")
	}
	f.Fuzz(func(t *testing.T, expr, value string) {
		re, err := CompileRegex(expr)
		if err != nil {
			return
		}
		if len(expr) > MaxRegexLength {
			t.Fatalf("accepted %d bytes", len(expr))
		}
		if _, err := regexp.Compile(expr); err != nil {
			t.Fatalf("accepted %q, which does not compile alone: %v", expr, err)
		}
		if got, want := re.MatchString(value), regexp.MustCompile("^(?:"+expr+")$").MatchString(value); got != want {
			t.Fatalf("%q on %q: %t, anchored expression says %t", expr, value, got, want)
		}
	})
}

// FuzzParseCACertificates: the parser never panics, what it accepts a
// certificate pool accepts certificate for certificate, and re-encoding
// keeps exactly those certificates.
func FuzzParseCACertificates(f *testing.F) {
	f.Add([]byte(testCAPEM))
	f.Add([]byte(withPEMHeaders))
	f.Add([]byte(testCAPEM + "-----BEGIN CERTIFICATE-----\nAAAA"))
	f.Add([]byte("-----BEGIN CERTIFICATE-----\n" + testCAPEM))
	f.Fuzz(func(t *testing.T, bundle []byte) {
		certs, err := ParseCACertificates(bundle)
		if err != nil {
			return
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(bundle) {
			t.Fatal("accepted a bundle x509.CertPool finds no certificate in")
		}
		again, err := ParseCACertificates(EncodeCACertificates(certs))
		if err != nil || len(again) != len(certs) {
			t.Fatalf("re-encoded %d certificates, read back %d (%v)", len(certs), len(again), err)
		}
		for i := range certs {
			if !certs[i].Equal(again[i]) {
				t.Fatalf("certificate %d changed in re-encoding", i)
			}
		}
	})
}
