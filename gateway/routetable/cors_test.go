package routetable

import (
	"strings"
	"testing"
)

func mustCompileCORS(t testing.TB, in CORS) *CompiledCORS {
	t.Helper()
	c, err := compileCORS(&in, "test")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCORSAllowsOrigin(t *testing.T) {
	cases := []struct {
		name    string
		allowed []string
		origin  string
		want    bool
	}{
		{"exact origin", []string{"https://www.foo.com"}, "https://www.foo.com", true},
		{"host compares case-insensitively", []string{"https://www.foo.com"}, "https://WWW.Foo.com", true},
		{"default port is implied on the request", []string{"https://www.foo.com"}, "https://www.foo.com:443", true},
		{"default port is implied in the pattern", []string{"http://www.foo.com:80"}, "http://www.foo.com", true},
		{"other port does not match", []string{"https://www.foo.com"}, "https://www.foo.com:8443", false},
		{"other scheme does not match", []string{"https://www.foo.com"}, "http://www.foo.com", false},
		{"other host does not match", []string{"https://www.foo.com"}, "https://foobar.com", false},
		{"wildcard takes one label", []string{"https://*.bar.com"}, "https://www.bar.com", true},
		{"wildcard takes many labels", []string{"https://*.bar.com"}, "https://xpto.www.bar.com", true},
		{"wildcard needs a label", []string{"https://*.bar.com"}, "https://bar.com", false},
		{"wildcard is a whole label", []string{"https://*.bar.com"}, "https://foobar.com", false},
		{"lone wildcard host keeps scheme and port", []string{"http://*"}, "http://anything.example", true},
		{"lone wildcard host on another port", []string{"http://*"}, "http://anything.example:8080", false},
		{"star allows any origin", []string{"*"}, "https://foobar.com:12345", true},
		{"second pattern matches", []string{"https://www.foo.com", "https://*.bar.com"}, "https://a.bar.com", true},
		{"IPv6 origin", []string{"http://[::1]:8080"}, "http://[::1]:8080", true},
		{"no origin", []string{"*"}, "", false},
		{"opaque origin null", []string{"https://www.foo.com"}, "null", false},
		{"origin with a path is not an origin", []string{"https://www.foo.com"}, "https://www.foo.com/x", false},
		{"origin with a bad port", []string{"https://www.foo.com"}, "https://www.foo.com:99999", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCompileCORS(t, CORS{AllowOrigins: tc.allowed})
			if got := c.AllowsOrigin(tc.origin); got != tc.want {
				t.Errorf("AllowsOrigin(%q) with %v = %v, want %v", tc.origin, tc.allowed, got, tc.want)
			}
		})
	}
}

func TestCORSAllowValues(t *testing.T) {
	cases := []struct {
		name              string
		cors              CORS
		method, headers   string // requested
		wantMethods       string
		wantHeaders       string
		wantExposeHeaders string
	}{
		{"listed values are joined in order", CORS{AllowMethods: []string{"GET", "OPTIONS"}, AllowHeaders: []string{"x-header-1", "x-header-2"}, ExposeHeaders: []string{"x-header-3", "x-header-4"}},
			"GET", "x-a", "GET, OPTIONS", "x-header-1, x-header-2", "x-header-3, x-header-4"},
		{"wildcard echoes the request", CORS{AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, AllowCredentials: true},
			"PUT", "x-header-1, x-header-2", "PUT", "x-header-1, x-header-2", ""},
		{"wildcard without credentials and nothing requested", CORS{AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, ExposeHeaders: []string{"*"}},
			"", "", "*", "*", "*"},
		{"wildcard with credentials and nothing requested is omitted", CORS{AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}, ExposeHeaders: []string{"*"}, AllowCredentials: true},
			"", "", "", "", ""},
		{"nothing configured", CORS{}, "GET", "x-a", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := mustCompileCORS(t, tc.cors)
			if got := c.AllowMethods(tc.method); got != tc.wantMethods {
				t.Errorf("AllowMethods(%q) = %q, want %q", tc.method, got, tc.wantMethods)
			}
			if got := c.AllowHeaders(tc.headers); got != tc.wantHeaders {
				t.Errorf("AllowHeaders(%q) = %q, want %q", tc.headers, got, tc.wantHeaders)
			}
			if c.ExposeHeaders != tc.wantExposeHeaders {
				t.Errorf("ExposeHeaders = %q, want %q", c.ExposeHeaders, tc.wantExposeHeaders)
			}
		})
	}
}

func TestCORSMaxAge(t *testing.T) {
	if got := mustCompileCORS(t, CORS{MaxAge: 3600}).MaxAge; got != "3600" {
		t.Errorf("MaxAge = %q, want 3600", got)
	}
	if got := mustCompileCORS(t, CORS{}).MaxAge; got != "" {
		t.Errorf("MaxAge without a value = %q, want it omitted", got)
	}
}

func TestCompileCORSErrors(t *testing.T) {
	cases := []struct {
		name string
		cors CORS
		want string
	}{
		{"origin without scheme", CORS{AllowOrigins: []string{"www.foo.com"}}, `origin "www.foo.com"`},
		{"origin with another scheme", CORS{AllowOrigins: []string{"ftp://www.foo.com"}}, `origin "ftp://www.foo.com"`},
		{"wildcard inside the host", CORS{AllowOrigins: []string{"https://www.*.com"}}, `origin "https://www.*.com"`},
		{"wildcard glued to a label", CORS{AllowOrigins: []string{"https://*foo.com"}}, `origin "https://*foo.com"`},
		{"port out of range", CORS{AllowOrigins: []string{"https://foo.com:0"}}, `origin "https://foo.com:0"`},
		{"method wildcard with others", CORS{AllowMethods: []string{"*", "GET"}}, `method "*" with other values`},
		{"header wildcard with others", CORS{AllowHeaders: []string{"x-a", "*"}}, `header "*" with other values`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileCORS(&tc.cors, "HTTPRoute ns/r rule 0")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %s", err, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "HTTPRoute ns/r rule 0 ") || strings.Contains(err.Error(), "\n") {
				t.Errorf("error %q does not name the rule in one line", err)
			}
		})
	}
}

func TestCORSAllowsOriginDoesNotAllocate(t *testing.T) {
	c := mustCompileCORS(t, CORS{AllowOrigins: []string{"https://www.foo.com", "https://*.bar.com"}})
	allocs := testing.AllocsPerRun(100, func() {
		c.AllowsOrigin("https://xpto.www.bar.com")
		c.AllowsOrigin("https://foobar.com:12345")
	})
	if allocs != 0 {
		t.Errorf("AllowsOrigin allocates %.1f times per run, want 0", allocs)
	}
}

func TestCheckCORS(t *testing.T) {
	if err := CheckCORS(&CORS{AllowOrigins: []string{"https://*.example.com:8443", "*"}, AllowMethods: []string{"GET"}}); err != nil {
		t.Errorf("a valid filter: %v", err)
	}
	if err := CheckCORS(&CORS{AllowOrigins: []string{"ftp://example.com"}}); err == nil || !strings.Contains(err.Error(), `the filter has CORS origin "ftp://example.com"`) {
		t.Errorf("an ftp origin: %v", err)
	}
}
