package roles

import "testing"

func TestProcNetAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"0100007F:1F90", "127.0.0.1:8080"},
		{"014A007F:0050", "127.0.74.1:80"},
		{"00000000000000000000000000000000:0050", "[::]:80"},
		{"0000000000000000FFFF00000100007F:1F91", "127.0.0.1:8081"},
		{"00000000000000000000000001000000:01BB", "[::1]:443"},
	} {
		got, err := procNetAddr(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("procNetAddr(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"7F000001", "0100007F:zz", "01007F:0050"} {
		if _, err := procNetAddr(bad); err == nil {
			t.Errorf("procNetAddr(%q) gave no error", bad)
		}
	}
}
