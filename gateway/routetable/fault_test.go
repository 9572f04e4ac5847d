package routetable

import (
	"strings"
	"testing"
)

// TestCompileConfinesFaults: a rule or listener that does not compile is
// left out and reported, and everything else is served as if it were not
// there.
func TestCompileConfinesFaults(t *testing.T) {
	deep := strings.Repeat("(", 40) + "x" + strings.Repeat(")", 40)
	badCA := listener("ns/gw/mtls", "")
	badCA.Protocol, badCA.Port = ProtocolHTTPS, 443
	badCA.Certificates = []Certificate{{Secret: "ns/cert", CertPEM: []byte("nope"), KeyPEM: []byte("nope")}}
	cfg := Config{Listeners: []Listener{
		listener("ns/gw/http", "",
			route("apples/shop", 0, nil, rule(exact("/good")), rule(regex(deep)), rule(prefix("/also-good"))),
			route("bananas/shop", 1, nil, rule(prefix("/"))),
		),
		listener("ns/gw/http", "other.example.com"), // the same name again
		badCA,
	}}
	table, faults := Compile(cfg)
	want := []string{
		"ns/gw/http apples/shop 1: HTTPRoute apples/shop rule 1 on listener ns/gw/http has path regular expression",
		"ns/gw/http  0: listener ns/gw/http appears twice",
		"ns/gw/mtls  0: listener ns/gw/mtls has a certificate from Secret ns/cert that does not parse",
	}
	if len(faults) != len(want) {
		t.Fatalf("faults %v, want %d", faults.Err(), len(want))
	}
	for i, f := range faults {
		got := f.Listener + " " + f.Route + " " + string(rune('0'+f.Rule)) + ": " + f.Error()
		if !strings.HasPrefix(got, want[i]) {
			t.Errorf("fault %d is %q, want it to start with %q", i, got, want[i])
		}
	}
	s := table.Socket("127.0.0.1", 80)
	for target, want := range map[string]string{
		"/good":      "apples/shop rule 0 match 0",
		"/also-good": "apples/shop rule 2 match 0",
		"/x":         "bananas/shop rule 0 match 0",
	} {
		if got := describe(s, request("GET", "a.example.com", target)); got != want {
			t.Errorf("%s went to %s, want %s", target, got, want)
		}
	}
	if table.Socket("127.0.0.1", 443) != nil {
		t.Error("the listener whose certificate does not parse got a socket")
	}
	if len(s.Listeners) != 1 || s.Listeners[0].Hostname != "" {
		t.Errorf("port 80 has %d listeners, want only the first ns/gw/http", len(s.Listeners))
	}
}
