package app

import (
	"strings"
	"testing"
	"time"
)

func TestProxyFlags(t *testing.T) {
	o, err := ParseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.ProxyMaxBufferedBodyBytes != 64<<20 || o.ProxyMaxBufferedBodyBytesPerRequest != 1<<20 || o.ProxyMaxConnectionsPerListener != 10000 || o.ProxyBodyReadTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", o)
	}
	o, err = ParseFlags([]string{"-proxy-max-buffered-body-bytes=1Gi", "-proxy-max-buffered-body-bytes-per-request=8388608"})
	if err != nil || o.ProxyMaxBufferedBodyBytes != 1<<30 || o.ProxyMaxBufferedBodyBytesPerRequest != 8<<20 {
		t.Fatalf("quantities: %v, %+v", err, o)
	}
	for _, tc := range []struct{ args, want string }{
		{"-proxy-max-buffered-body-bytes=lots", `"lots" is not a byte count`},
		{"-proxy-max-buffered-body-bytes=-1", "-proxy-max-buffered-body-bytes -1 is negative"},
		{"-proxy-max-buffered-body-bytes=1Mi -proxy-max-buffered-body-bytes-per-request=2Mi", "-proxy-max-buffered-body-bytes-per-request 2Mi is over -proxy-max-buffered-body-bytes 1Mi"},
		{"-proxy-max-connections-per-listener=-5", "-proxy-max-connections-per-listener -5 is negative"},
		{"-proxy-body-read-timeout=10ms", "-proxy-body-read-timeout 10ms is under 1s"},
	} {
		_, err := ParseFlags(strings.Fields(tc.args))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}
