package routetable

import (
	"strings"
	"testing"
)

// withPEMHeaders is testCAPEM with a PEM header, which x509.CertPool's
// AppendCertsFromPEM silently skips.
var withPEMHeaders = strings.Replace(testCAPEM, "-----\n", "-----\nComment: issued by hand\n\n", 1)

func TestParseCACertificates(t *testing.T) {
	cases := []struct {
		name, bundle string
		certs        int
		want         string // part of the error, "" for none
	}{
		{"one certificate", testCAPEM, 1, ""},
		{"two certificates and a key block", testCAPEM + "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n" + testCAPEM, 2, ""},
		{"text around blocks", "my CA:\n" + testCAPEM + "\nthat's all", 1, ""},
		{"empty", "", 0, "holds no PEM certificate"},
		{"no PEM at all", "not a certificate", 0, "holds no PEM certificate"},
		{"PEM headers", withPEMHeaders, 0, "its PEM block 1 has headers (Comment), which a certificate must not carry"},
		{"PEM headers on the second", testCAPEM + withPEMHeaders, 0, "its PEM block 2 has headers"},
		{"garbage certificate", "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0, "its PEM block 1 is not an X.509 certificate"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := ParseCACertificates([]byte(tc.bundle))
			if tc.want == "" {
				if err != nil || len(certs) != tc.certs {
					t.Fatalf("got %d certificates and error %v, want %d", len(certs), err, tc.certs)
				}
				again, err := ParseCACertificates(EncodeCACertificates(certs))
				if err != nil || len(again) != len(certs) {
					t.Fatalf("re-encoded bundle: %d certificates, %v", len(again), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
