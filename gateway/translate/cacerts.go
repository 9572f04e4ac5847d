package translate

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"

	"k8s.io/apimachinery/pkg/types"
)

// caFault is why a CA certificate reference cannot be used.
type caFault int

const (
	caUsable          caFault = iota
	caUnsupportedKind         // neither a ConfigMap nor a Secret
	caNotFound                // the object does not exist
	caNoCertificate           // no ca.crt, or no PEM certificate in it
)

// caCertificateKey is where a ConfigMap or Secret holds a CA bundle.
const caCertificateKey = "ca.crt"

// caBundle reads the PEM CA certificates a reference points at: key ca.crt
// of a core ConfigMap (the API's Core support) or Secret (tenantgate's
// addition). The caller checks ReferenceGrants first.
func (b *builder) caBundle(group, kind string, key types.NamespacedName) ([]byte, caFault) {
	if group != "" {
		return nil, caUnsupportedKind
	}
	var data []byte
	switch kind {
	case "ConfigMap":
		cm := b.configMaps[key]
		if cm == nil {
			return nil, caNotFound
		}
		data = []byte(cm.Data[caCertificateKey])
	case "Secret":
		secret := b.secrets[key]
		if secret == nil {
			return nil, caNotFound
		}
		data = secret.Data[caCertificateKey]
	default:
		return nil, caUnsupportedKind
	}
	if !hasPEMCertificate(data) {
		return nil, caNoCertificate
	}
	return bytes.Clone(data), caUsable
}

// describe says what is wrong with a CA reference, to follow "... refers to ".
func (f caFault) describe(group, kind string, key types.NamespacedName) string {
	switch f {
	case caUnsupportedKind:
		return fmt.Sprintf("%s %q in group %q; use a core ConfigMap (or Secret) with the CA certificates in ca.crt", kind, key.Name, group)
	case caNotFound:
		return fmt.Sprintf("%s %s, which does not exist; create it", kind, key)
	case caNoCertificate:
		return fmt.Sprintf("%s %s, which has no PEM certificate under key ca.crt; add the CA certificates there", kind, key)
	}
	return kind + " " + key.String()
}

// hasPEMCertificate reports whether data holds at least one PEM certificate
// that parses.
func hasPEMCertificate(data []byte) bool {
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return false
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(block.Bytes); err == nil {
			return true
		}
	}
	return false
}
