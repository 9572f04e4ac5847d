package routetable

import (
	"strings"
	"testing"
)

func weighted(weights ...int32) *CompiledRule {
	var backends []Backend
	for i, w := range weights {
		backends = append(backends, Backend{Name: string(rune('a' + i)), Weight: w})
	}
	r, err := compileRule(&Route{Namespace: "ns", Name: "r"}, Rule{Backends: backends}, scope{where: "test"})
	if err != nil {
		panic(err)
	}
	return r
}

func TestBackendAt(t *testing.T) {
	cases := []struct {
		name    string
		weights []int32
		// want names the backend for each n in [0, total weight).
		want string
	}{
		{"proportional to weight", []int32{3, 1}, "aaab"},
		{"weight zero never chosen", []int32{2, 0, 1}, "aac"},
		{"leading weight zero never chosen", []int32{0, 2}, "bb"},
		{"single backend", []int32{1}, "a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := weighted(tc.weights...)
			var got strings.Builder
			for n := range int64(len(tc.want)) {
				got.WriteString(r.backendAt(n).Name)
			}
			if got.String() != tc.want {
				t.Errorf("got %q, want %q", got.String(), tc.want)
			}
		})
	}
}

func TestPickBackendWithoutWeightIsNil(t *testing.T) {
	for name, r := range map[string]*CompiledRule{"no backends": weighted(), "all weights zero": weighted(0, 0)} {
		if b := r.PickBackend(); b != nil {
			t.Errorf("%s: PickBackend = %s, want nil", name, b.Name)
		}
	}
}

func TestPickEndpointRoundRobin(t *testing.T) {
	b, err := compileBackend(Backend{Name: "b", Endpoints: []Endpoint{{Address: "10.0.0.1", Port: 80}, {Address: "10.0.0.2", Port: 80}, {Address: "fd00::1", Port: 8080}}}, scope{where: "test"}, true)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 4 {
		got = append(got, b.PickEndpoint().URL.Host)
	}
	if want := "10.0.0.1:80 10.0.0.2:80 [fd00::1]:8080 10.0.0.1:80"; strings.Join(got, " ") != want {
		t.Errorf("got %q, want %q", strings.Join(got, " "), want)
	}
	if (&CompiledBackend{}).PickEndpoint() != nil {
		t.Error("a backend without endpoints picked one")
	}
}

func TestCompileErrors(t *testing.T) {
	badRegex := prefix("/")
	badRegex.Headers = []ValueMatch{{Type: MatchRegex, Name: "x", Value: "("}}
	https := listener("ns/gw/https", "")
	https.Protocol = ProtocolHTTPS
	https.Port = 443
	badCert := https
	badCert.Certificates = []Certificate{{Secret: "ns/cert", CertPEM: []byte("nope"), KeyPEM: []byte("nope")}}
	badCA := badCert // the CAs are checked first
	badCA.ClientValidation = &ClientValidation{CACertificates: []string{"ConfigMap ns/ca"}, CAPEM: []byte("nope")}
	validatingHTTP := listener("ns/gw/http", "")
	validatingHTTP.ClientValidation = &ClientValidation{CACertificates: []string{"ConfigMap ns/ca"}}
	other := listener("ns/gw/other", "")
	other.Protocol = ProtocolHTTPS
	other.Certificates = badCert.Certificates
	cases := []struct {
		name      string
		listeners []Listener
		want      string
	}{
		{"bad path regular expression names the route", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, rule(regex("(["))))},
			`HTTPRoute apples/shop rule 0 on listener ns/gw/http has path regular expression "([" that is not usable`},
		{"bad header regular expression names the route", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, rule(badRegex)))},
			`HTTPRoute apples/shop rule 0 on listener ns/gw/http has header "x" regular expression "(" that is not usable`},
		{"unknown path type", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, rule(Match{Path: PathMatch{Type: "Glob", Value: "/*"}})))},
			`has path match type "Glob"`},
		{"HTTPS without certificate", []Listener{https}, "listener ns/gw/https is HTTPS without a certificate"},
		{"certificate that does not parse", []Listener{badCert}, "listener ns/gw/https has a certificate from Secret ns/cert that does not parse"},
		{"client CA that does not parse", []Listener{badCA}, "listener ns/gw/https cannot use the CA certificates of ConfigMap ns/ca: it holds no PEM certificate"},
		{"client validation on HTTP", []Listener{validatingHTTP}, "listener ns/gw/http validates client certificates but is HTTP"},
		{"two protocols on one port", []Listener{listener("ns/gw/http", "a.com"), other}, "listener ns/gw/other uses HTTPS on 127.0.0.1:80 where listener ns/gw/http uses HTTP"},
		{"same hostname twice on one port", []Listener{listener("ns/gw/a", "x.com"), listener("ns/gw/b", "X.com.")}, `listener ns/gw/b has hostname "x.com" on 127.0.0.1:80 like listener ns/gw/a`},
		{"duplicate listener name", []Listener{listener("ns/gw/a", "x.com"), listener("ns/gw/a", "y.com")}, "listener ns/gw/a appears twice"},
		{"redirect with rewrite", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, Rule{Filters: []Filter{
			{Type: FilterRequestRedirect, Redirect: &Redirect{StatusCode: 302}},
			{Type: FilterURLRewrite, Rewrite: &Rewrite{}},
		}}))}, "combines RequestRedirect and URLRewrite"},
		{"filter without settings", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, Rule{Filters: []Filter{{Type: FilterRequestMirror}}}))},
			`has a "RequestMirror" filter without its settings`},
		{"unsupported filter", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, Rule{Filters: []Filter{{Type: "ExternalAuth"}}}))},
			`has filter type "ExternalAuth" the proxy does not implement`},
		{"CORS filter twice", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, Rule{Filters: []Filter{
			{Type: FilterCORS, CORS: &CORS{}}, {Type: FilterCORS, CORS: &CORS{}},
		}}))}, "has more than one CORS filter"},
		{"bad CORS origin names the route", []Listener{listener("ns/gw/http", "", route("apples/shop", 0, nil, Rule{Filters: []Filter{
			{Type: FilterCORS, CORS: &CORS{AllowOrigins: []string{"foo.com"}}},
		}}))}, `HTTPRoute apples/shop rule 0 on listener ns/gw/http has CORS origin "foo.com"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, faults := Compile(Config{Listeners: tc.listeners})
			if err := faults.Err(); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Compile faults %v, want one containing %q", err, tc.want)
			}
		})
	}
}
