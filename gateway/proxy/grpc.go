package proxy

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// gRPC status codes the proxy answers with (google.golang.org/grpc/codes).
const (
	grpcUnknown          = 2
	grpcDeadlineExceeded = 4
	grpcUnimplemented    = 12
	grpcInternal         = 13
	grpcUnavailable      = 14
)

// isGRPC reports whether r is a gRPC call (application/grpc, maybe with a
// +codec or parameters; gRPC-Web is not), whose client reads only gRPC
// statuses.
func isGRPC(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/grpc") {
		return false
	}
	rest := ct[len("application/grpc"):]
	return rest == "" || rest[0] == '+' || rest[0] == ';'
}

// grpcCode maps the proxy's own HTTP answers to gRPC codes as gRPC's
// "HTTP to gRPC Status Code Mapping" does, except that an invalid backend
// (500) is UNAVAILABLE, as GRPCRouteRule.BackendRefs requires, and an
// expired timeout DEADLINE_EXCEEDED.
func grpcCode(status int) int {
	switch status {
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable,
		http.StatusMisdirectedRequest, http.StatusTooManyRequests:
		return grpcUnavailable
	case http.StatusGatewayTimeout, http.StatusRequestTimeout:
		return grpcDeadlineExceeded
	case http.StatusBadRequest:
		return grpcInternal
	}
	return grpcUnknown
}

// replyGRPC answers a gRPC call with a Trailers-Only response: HTTP 200
// and the status in headers, no body; over HTTP/2 net/http ends the stream
// with that HEADERS frame.
func replyGRPC(w http.ResponseWriter, status int, message string) {
	h := w.Header()
	h.Set("Content-Type", "application/grpc")
	h.Set("Grpc-Status", strconv.Itoa(grpcCode(status)))
	h.Set("Grpc-Message", grpcMessage(message))
	w.WriteHeader(http.StatusOK)
}

// grpcMessage percent-encodes a grpc-message value as the gRPC HTTP/2
// protocol requires (everything outside printable ASCII, and %).
func grpcMessage(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
