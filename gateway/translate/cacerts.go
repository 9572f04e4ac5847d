package translate

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/types"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// caFault is why a CA certificate reference cannot be used.
type caFault int

const (
	caUsable          caFault = iota
	caUnsupportedKind         // neither a ConfigMap nor a Secret
	caNotFound                // the object does not exist
	caNoCertificate           // no ca.crt, or no PEM certificate in it
	caUnusable                // ca.crt has a certificate block the data plane cannot use
)

// caCertificateKey is where a ConfigMap or Secret holds a CA bundle.
const caCertificateKey = "ca.crt"

// caBundle reads the PEM CA certificates a reference points at: key ca.crt
// of a core ConfigMap (the API's Core support) or Secret (tenantgate's
// addition). It parses them with the data plane's own parser and returns
// them re-encoded, headers and other blocks gone, so bundles concatenate
// safely; detail says what is wrong with an unusable one. The caller checks
// ReferenceGrants first.
func (b *builder) caBundle(group, kind string, key types.NamespacedName) (bundle []byte, fault caFault, detail error) {
	if group != "" {
		return nil, caUnsupportedKind, nil
	}
	var data []byte
	switch kind {
	case "ConfigMap":
		cm := b.configMaps[key]
		if cm == nil {
			return nil, caNotFound, nil
		}
		data = []byte(cm.Data[caCertificateKey])
	case "Secret":
		secret := b.secrets[key]
		if secret == nil {
			return nil, caNotFound, nil
		}
		data = secret.Data[caCertificateKey]
	default:
		return nil, caUnsupportedKind, nil
	}
	certs, err := routetable.ParseCACertificates(data)
	switch {
	case errors.Is(err, routetable.ErrNoCACertificate):
		return nil, caNoCertificate, err
	case err != nil:
		return nil, caUnusable, err
	}
	return routetable.EncodeCACertificates(certs), caUsable, nil
}

// describe says what is wrong with a CA reference, to follow "... refers to ".
func (f caFault) describe(group, kind string, key types.NamespacedName, detail error) string {
	switch f {
	case caUnsupportedKind:
		return fmt.Sprintf("%s %q in group %q; use a core ConfigMap (or Secret) with the CA certificates in ca.crt", kind, key.Name, group)
	case caNotFound:
		return fmt.Sprintf("%s %s, which does not exist; create it", kind, key)
	case caNoCertificate:
		return fmt.Sprintf("%s %s, which has no PEM certificate under key ca.crt; add the CA certificates there", kind, key)
	case caUnusable:
		return fmt.Sprintf("%s %s, whose ca.crt cannot be used: %v", kind, key, detail)
	}
	return kind + " " + key.String()
}
