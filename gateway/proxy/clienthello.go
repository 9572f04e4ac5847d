package proxy

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// TLS wire constants (RFC 8446 §5.1, §4; RFC 6066 §3).
const (
	recordTypeHandshake   = 22
	handshakeClientHello  = 1
	extensionServerName   = 0
	serverNameTypeHost    = 0
	maxRecordPayload      = 1 << 14
	maxClientHelloBytes   = 64 << 10 // far above any real ClientHello (post-quantum ones are ~2 KiB)
	maxServerNameBytes    = 255
	recordHeaderBytes     = 5
	handshakeHeaderBytes  = 4
	clientHelloRandomSize = 32
)

// errNotTLS says the first bytes are not a TLS handshake record.
var errNotTLS = errors.New("the client did not start a TLS handshake")

// readClientHello reads the TLS records that carry a connection's first
// handshake message, which must be a ClientHello, and returns every byte it
// read (to replay to the backend unchanged) and the server name the client
// asked for ("" when it sent none). It reads nothing past the ClientHello's
// last record, so the backend sees the stream exactly as the client sent it.
func readClientHello(r io.Reader) (raw []byte, serverName string, err error) {
	var handshake []byte
	header := make([]byte, recordHeaderBytes)
	for {
		if m, err := io.ReadFull(r, header); err != nil {
			return append(raw, header[:m]...), "", fmt.Errorf("reading a TLS record header: %w", err)
		}
		if header[0] != recordTypeHandshake || header[1] != 3 {
			if len(raw) > 0 {
				return append(raw, header...), "", errors.New("the ClientHello continues in a record that is not a handshake record")
			}
			return header, "", errNotTLS
		}
		n := int(binary.BigEndian.Uint16(header[3:5]))
		if n == 0 || n > maxRecordPayload {
			return append(raw, header...), "", fmt.Errorf("TLS record of %d bytes; a handshake record holds 1 to %d", n, maxRecordPayload)
		}
		raw = append(raw, header...)
		start := len(raw)
		raw = append(raw, make([]byte, n)...)
		if m, err := io.ReadFull(r, raw[start:]); err != nil {
			return raw[:start+m], "", fmt.Errorf("reading a TLS record: %w", err)
		}
		handshake = append(handshake, raw[start:]...)
		if len(handshake) < handshakeHeaderBytes {
			continue
		}
		if handshake[0] != handshakeClientHello {
			return raw, "", fmt.Errorf("the first handshake message has type %d, not ClientHello", handshake[0])
		}
		size := int(handshake[1])<<16 | int(handshake[2])<<8 | int(handshake[3])
		if size > maxClientHelloBytes {
			return raw, "", fmt.Errorf("ClientHello of %d bytes exceeds the %d-byte limit", size, maxClientHelloBytes)
		}
		if len(handshake) < handshakeHeaderBytes+size {
			continue // the message goes on in the next record
		}
		name, err := parseClientHello(handshake[handshakeHeaderBytes : handshakeHeaderBytes+size])
		return raw, name, err
	}
}

// parseClientHello returns the host_name of a ClientHello body's
// server_name extension, "" when there is none.
func parseClientHello(body []byte) (string, error) {
	c := cursor(body)
	if !c.skip(2+clientHelloRandomSize) || !c.skipVector(1) || !c.skipVector(2) || !c.skipVector(1) {
		return "", errors.New("truncated ClientHello")
	}
	if len(c) == 0 {
		return "", nil // no extensions
	}
	extensions, ok := c.vector(2)
	if !ok || len(c) != 0 {
		return "", errors.New("malformed ClientHello extensions")
	}
	var name string
	seen := false
	for len(extensions) > 0 {
		typ, ok1 := extensions.uint16()
		data, ok2 := extensions.vector(2)
		if !ok1 || !ok2 {
			return "", errors.New("malformed ClientHello extension")
		}
		if typ != extensionServerName {
			continue
		}
		if seen {
			return "", errors.New("ClientHello repeats the server_name extension")
		}
		seen = true
		var err error
		if name, err = parseServerName(data); err != nil {
			return "", err
		}
	}
	return name, nil
}

// parseServerName reads a server_name extension's host_name entry.
func parseServerName(data cursor) (string, error) {
	list, ok := data.vector(2)
	if !ok || len(data) != 0 || len(list) == 0 {
		return "", errors.New("malformed server_name extension")
	}
	var name string
	for len(list) > 0 {
		typ, ok1 := list.uint8()
		value, ok2 := list.vector(2)
		if !ok1 || !ok2 {
			return "", errors.New("malformed server_name entry")
		}
		if typ != serverNameTypeHost {
			continue
		}
		if name != "" {
			return "", errors.New("server_name extension has two host names")
		}
		if len(value) == 0 || len(value) > maxServerNameBytes {
			return "", fmt.Errorf("server name of %d bytes; it must have 1 to %d", len(value), maxServerNameBytes)
		}
		for _, ch := range value {
			if ch <= ' ' || ch >= 0x7f {
				return "", errors.New("server name holds a byte that is not printable ASCII")
			}
		}
		name = string(value)
	}
	return name, nil
}

// cursor reads big-endian TLS fields off the front of a byte slice.
type cursor []byte

func (c *cursor) skip(n int) bool {
	if len(*c) < n {
		return false
	}
	*c = (*c)[n:]
	return true
}

func (c *cursor) uint8() (byte, bool) {
	if len(*c) < 1 {
		return 0, false
	}
	v := (*c)[0]
	*c = (*c)[1:]
	return v, true
}

func (c *cursor) uint16() (uint16, bool) {
	if len(*c) < 2 {
		return 0, false
	}
	v := binary.BigEndian.Uint16(*c)
	*c = (*c)[2:]
	return v, true
}

// vector reads a field prefixed by its length in lenBytes (1 or 2) bytes.
func (c *cursor) vector(lenBytes int) (cursor, bool) {
	if len(*c) < lenBytes {
		return nil, false
	}
	n := int((*c)[0])
	if lenBytes == 2 {
		n = int(binary.BigEndian.Uint16(*c))
	}
	rest := (*c)[lenBytes:]
	if len(rest) < n {
		return nil, false
	}
	*c = rest[n:]
	return rest[:n], true
}

func (c *cursor) skipVector(lenBytes int) bool {
	_, ok := c.vector(lenBytes)
	return ok
}
