package proxy

import (
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// recordedClientHello is the first flight crypto/tls sends for serverName.
func recordedClientHello(t testing.TB, serverName string) []byte {
	t.Helper()
	client, server := net.Pipe()
	defer server.Close()
	go func() {
		c := tls.Client(client, &tls.Config{ServerName: serverName, InsecureSkipVerify: serverName == ""})
		_ = c.Handshake() // fails once the other end closes
		_ = client.Close()
	}()
	_ = server.SetReadDeadline(time.Now().Add(5 * time.Second))
	raw, name, err := readClientHello(server)
	if err != nil {
		t.Fatal(err)
	}
	if name != serverName {
		t.Fatalf("crypto/tls sent %q, parser read %q", serverName, name)
	}
	return raw
}

// handshakeRecord wraps a handshake message body of type typ in one record.
func handshakeRecord(typ byte, body []byte) []byte {
	msg := append([]byte{typ, byte(len(body) >> 16), byte(len(body) >> 8), byte(len(body))}, body...)
	return record(msg)
}

func record(payload []byte) []byte {
	return append([]byte{recordTypeHandshake, 3, 1, byte(len(payload) >> 8), byte(len(payload))}, payload...)
}

// helloBody is a minimal ClientHello body with the given extensions block
// (nil: none at all).
func helloBody(extensions []byte) []byte {
	b := []byte{3, 3}
	b = append(b, make([]byte, clientHelloRandomSize)...)
	b = append(b, 0)                // session id
	b = append(b, 0, 2, 0x13, 0x01) // one cipher suite
	b = append(b, 1, 0)             // null compression
	if extensions != nil {
		b = binary.BigEndian.AppendUint16(b, uint16(len(extensions)))
		b = append(b, extensions...)
	}
	return b
}

func extension(typ uint16, data []byte) []byte {
	b := binary.BigEndian.AppendUint16(nil, typ)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// sniExtension holds one entry per name.
func sniExtension(names ...string) []byte {
	var list []byte
	for _, n := range names {
		list = append(list, serverNameTypeHost)
		list = binary.BigEndian.AppendUint16(list, uint16(len(n)))
		list = append(list, n...)
	}
	return extension(extensionServerName, append(binary.BigEndian.AppendUint16(nil, uint16(len(list))), list...))
}

func TestReadClientHello(t *testing.T) {
	real := recordedClientHello(t, "abc.example.com")
	// The same message split over two records, as a client may send it.
	msg := real[recordHeaderBytes:]
	split := append(record(msg[:10]), record(msg[10:])...)
	tests := []struct {
		name    string
		input   []byte
		want    string
		wantErr string
	}{
		{name: "crypto/tls client", input: real, want: "abc.example.com"},
		{name: "split over two records", input: split, want: "abc.example.com"},
		{name: "no extensions", input: handshakeRecord(1, helloBody(nil)), want: ""},
		{name: "extensions without server_name", input: handshakeRecord(1, helloBody(extension(10, []byte{0, 2, 0, 29}))), want: ""},
		{name: "server_name after another extension", input: handshakeRecord(1, helloBody(append(extension(10, []byte{0, 2, 0, 29}), sniExtension("x.example.com")...))), want: "x.example.com"},
		{name: "upper case kept for the table to fold", input: handshakeRecord(1, helloBody(sniExtension("ABC.Example.com"))), want: "ABC.Example.com"},
		{name: "plain HTTP", input: []byte("GET / HTTP/1.1\r\nHost: abc.example.com\r\n\r\n"), wantErr: errNotTLS.Error()},
		{name: "SSLv2-style first byte", input: []byte{0x80, 0x2e, 1, 3, 1}, wantErr: errNotTLS.Error()},
		{name: "empty record", input: []byte{22, 3, 1, 0, 0}, wantErr: "1 to 16384"},
		{name: "oversized record", input: []byte{22, 3, 1, 0x40, 1}, wantErr: "1 to 16384"},
		{name: "not a ClientHello", input: handshakeRecord(2, helloBody(nil)), wantErr: "not ClientHello"},
		{name: "ClientHello over the limit", input: record([]byte{1, 0x01, 0, 1}), wantErr: "exceeds"},
		{name: "truncated body", input: handshakeRecord(1, helloBody(nil)[:20]), wantErr: "truncated"},
		{name: "extension length past the end", input: handshakeRecord(1, append(helloBody(nil), 0, 9, 0, 0)), wantErr: "malformed"},
		{name: "server_name twice", input: handshakeRecord(1, helloBody(append(sniExtension("a.example.com"), sniExtension("b.example.com")...))), wantErr: "repeats"},
		{name: "two host names", input: handshakeRecord(1, helloBody(sniExtension("a.example.com", "b.example.com"))), wantErr: "two host names"},
		{name: "empty host name", input: handshakeRecord(1, helloBody(sniExtension(""))), wantErr: "1 to 255"},
		{name: "host name too long", input: handshakeRecord(1, helloBody(sniExtension(strings.Repeat("a", 256)))), wantErr: "1 to 255"},
		{name: "control byte in host name", input: handshakeRecord(1, helloBody(sniExtension("a\x00.example.com"))), wantErr: "printable"},
		{name: "stream ends inside a record", input: real[:len(real)-1], wantErr: "reading a TLS record"},
		{name: "stream ends before the message does", input: split[:len(record(msg[:10]))], wantErr: "record header"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, name, err := readClientHello(bytes.NewReader(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if name != tc.want {
				t.Errorf("server name %q, want %q", name, tc.want)
			}
			if !bytes.Equal(raw, tc.input) {
				t.Errorf("returned %d bytes, want exactly the %d read", len(raw), len(tc.input))
			}
		})
	}
}

// TestReadClientHelloStopsAtTheHello checks that the bytes after the
// ClientHello stay in the stream for the backend.
func TestReadClientHelloStopsAtTheHello(t *testing.T) {
	hello := handshakeRecord(1, helloBody(sniExtension("a.example.com")))
	r := bytes.NewReader(append(bytes.Clone(hello), "after"...))
	raw, _, err := readClientHello(r)
	if err != nil {
		t.Fatal(err)
	}
	rest, _ := io.ReadAll(r)
	if !bytes.Equal(raw, hello) || string(rest) != "after" {
		t.Fatalf("read %d bytes and left %q; want %d and %q", len(raw), rest, len(hello), "after")
	}
}

// FuzzReadClientHello: any input is refused or parsed without panicking,
// and what is returned is exactly a prefix of the input.
func FuzzReadClientHello(f *testing.F) {
	f.Add(recordedClientHello(f, "abc.example.com"))
	f.Add(recordedClientHello(f, ""))
	f.Add(handshakeRecord(1, helloBody(sniExtension("a.example.com", "b.example.com"))))
	f.Add([]byte("GET / HTTP/1.1\r\n\r\n"))
	f.Fuzz(func(t *testing.T, input []byte) {
		raw, name, err := readClientHello(bytes.NewReader(input))
		if !bytes.HasPrefix(input, raw) {
			t.Fatalf("returned bytes are not a prefix of the input")
		}
		if err != nil && name != "" {
			t.Fatalf("error %v with server name %q", err, name)
		}
		if errors.Is(err, errNotTLS) && len(raw) > recordHeaderBytes {
			t.Fatalf("read %d bytes of a stream that is not TLS", len(raw))
		}
		if len(name) > maxServerNameBytes {
			t.Fatalf("server name of %d bytes", len(name))
		}
	})
}
