package proxy

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/tenantgate/tenantgate/gateway/routetable"
)

// grpcBackend is a real gRPC server (h2c) that answers any method with a
// HealthCheckResponse, names itself in the "x-backend" header, reports the
// request's "x-set" header as "seen-x-set" and its method in a trailer; the
// method "/fail.Me/Now" answers NOT_FOUND.
func grpcBackend(t *testing.T, name string, opts ...grpc.ServerOption) routetable.Backend {
	t.Helper()
	srv := grpc.NewServer(append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		var req healthpb.HealthCheckRequest
		if err := stream.RecvMsg(&req); err != nil {
			return err
		}
		md, _ := metadata.FromIncomingContext(stream.Context())
		method, _ := grpc.MethodFromServerStream(stream)
		if err := stream.SetHeader(metadata.Pairs("x-backend", name, "seen-x-set", strings.Join(md.Get("x-set"), ","))); err != nil {
			return err
		}
		stream.SetTrailer(metadata.Pairs("x-method", method))
		if method == "/fail.Me/Now" {
			return status.Error(codes.NotFound, "no such thing")
		}
		return stream.SendMsg(&healthpb.HealthCheckResponse{Status: healthpb.HealthCheckResponse_SERVING})
	}))...)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	addr := ln.Addr().(*net.TCPAddr)
	return routetable.Backend{Name: "apples/" + name + ":8080", Weight: 1, AppProtocol: routetable.AppProtocolH2C,
		Endpoints: []routetable.Endpoint{{Address: addr.IP.String(), Port: int32(addr.Port)}}}
}

// grpcTestRoute is GRPCRoute apples/NAME with the given rules.
func grpcTestRoute(name string, rules ...routetable.Rule) *routetable.Route {
	for i := range rules {
		rules[i].Index = i
	}
	return &routetable.Route{Namespace: "apples", Name: name, GRPC: true, Rules: rules}
}

func grpcMethod(service, method string) []routetable.Match {
	return []routetable.Match{{GRPC: &routetable.GRPCMethodMatch{Type: routetable.MatchExact, Service: service, Method: method}}}
}

func grpcConn(t *testing.T, target string, creds credentials.TransportCredentials) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(creds), grpc.WithAuthority("grpc.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// grpcCall invokes method and returns the code, the headers and trailers.
func grpcCall(t *testing.T, conn *grpc.ClientConn, method string, md ...string) (codes.Code, metadata.MD, metadata.MD) {
	t.Helper()
	ctx, cancel := context.WithTimeout(metadata.AppendToOutgoingContext(context.Background(), md...), 10*time.Second)
	defer cancel()
	var header, trailer metadata.MD
	err := conn.Invoke(ctx, method, &healthpb.HealthCheckRequest{}, &healthpb.HealthCheckResponse{}, grpc.Header(&header), grpc.Trailer(&trailer))
	return status.Code(err), header, trailer
}

func TestGRPCThroughH2CListener(t *testing.T) {
	v1, v2 := grpcBackend(t, "v1"), grpcBackend(t, "v2")
	noEndpoints := v2
	noEndpoints.Name, noEndpoints.Endpoints = "apples/empty:8080", nil
	g := startGateway(t, Options{},
		grpcTestRoute("echo",
			routetable.Rule{Matches: grpcMethod("echo.Echo", "Echo"), Backends: []routetable.Backend{v1},
				Filters: []routetable.Filter{{Type: routetable.FilterRequestHeaderModifier, RequestHeader: &routetable.HeaderModifier{Set: []routetable.Header{{Name: "x-set", Value: "by-gateway"}}}}}},
			routetable.Rule{Matches: grpcMethod("echo.Echo", "EchoTwo"), Backends: []routetable.Backend{v2}},
			routetable.Rule{Matches: grpcMethod("fail.Me", ""), Backends: []routetable.Backend{v2}},
			routetable.Rule{Matches: grpcMethod("broken.Ref", ""), Backends: []routetable.Backend{{Name: "apples/gone:8080", Weight: 1, Unresolved: "BackendNotFound"}}},
			routetable.Rule{Matches: grpcMethod("no.Endpoints", ""), Backends: []routetable.Backend{noEndpoints}},
		))
	conn := grpcConn(t, net.JoinHostPort(g.addr, itoa(g.port)), insecure.NewCredentials())
	cases := []struct {
		method      string
		want        codes.Code
		wantBackend string
	}{
		{"/echo.Echo/Echo", codes.OK, "v1"},
		{"/echo.Echo/EchoTwo", codes.OK, "v2"},
		{"/echo.Echo/EchoThree", codes.Unimplemented, ""}, // no rule matches
		{"/fail.Me/Now", codes.NotFound, "v2"},            // the backend's own status, in its trailers
		{"/broken.Ref/Call", codes.Unavailable, ""},       // an invalid backendRef
		{"/no.Endpoints/Call", codes.Unavailable, ""},     // no ready endpoint
	}
	for _, c := range cases {
		code, header, trailer := grpcCall(t, conn, c.method, "x-set", "by-client")
		if code != c.want || strings.Join(header.Get("x-backend"), ",") != c.wantBackend {
			t.Errorf("%s: got %s from %q, want %s from %q", c.method, code, header.Get("x-backend"), c.want, c.wantBackend)
		}
		if c.wantBackend != "" && strings.Join(trailer.Get("x-method"), ",") != c.method {
			t.Errorf("%s: backend trailer x-method %q did not come through", c.method, trailer.Get("x-method"))
		}
		if c.method == "/echo.Echo/Echo" && strings.Join(header.Get("seen-x-set"), ",") != "by-gateway" {
			t.Errorf("%s: backend saw x-set %q, want the filter's by-gateway", c.method, header.Get("seen-x-set"))
		}
	}
}

func TestGRPCThroughHTTPSListenerWithALPN(t *testing.T) {
	backend := grpcBackend(t, "tls")
	addr, port := loopback(t)
	cert := testCertificate(t, "grpc.example.com")
	s := NewServer(Options{})
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	applyConfig(t, s, routetable.Config{Listeners: []routetable.Listener{{
		Name: "infra/gw/https", Address: addr, Port: port, Protocol: routetable.ProtocolHTTPS, Hostname: "grpc.example.com",
		Certificates: []routetable.Certificate{cert},
		Routes:       []*routetable.Route{grpcTestRoute("tls", routetable.Rule{Matches: grpcMethod("", ""), Backends: []routetable.Backend{backend}})},
	}}})
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(cert.CertPEM)
	conn := grpcConn(t, net.JoinHostPort(addr, itoa(port)), credentials.NewTLS(&tls.Config{RootCAs: roots, ServerName: "grpc.example.com"}))
	if code, header, _ := grpcCall(t, conn, "/any.Service/Call"); code != codes.OK || strings.Join(header.Get("x-backend"), ",") != "tls" {
		t.Errorf("got %s from %q, want OK from tls", code, header.Get("x-backend"))
	}
}

// A backend with TLS settings (BackendTLSPolicy) is spoken to over HTTP/2
// on TLS, verified against its CA; one whose certificate does not verify
// answers UNAVAILABLE.
func TestGRPCToTLSBackend(t *testing.T) {
	ca, other := newTestAuthority(t, "backend CA"), newTestAuthority(t, "other CA")
	cert := ca.server(t, []string{"backend.example.com"})
	backend := grpcBackend(t, "tls", grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}})))
	backend.AppProtocol = routetable.AppProtocolHTTP2
	withTLS := func(b routetable.Backend, name string, caPEM []byte) routetable.Backend {
		b.Name = "apples/" + name + ":443"
		b.TLS = &routetable.BackendTLS{Policy: "apples/" + name, ServerName: "backend.example.com", CAPEM: caPEM, CACertificates: []string{"ConfigMap apples/ca"}}
		return b
	}
	g := startGateway(t, Options{}, grpcTestRoute("tls",
		routetable.Rule{Matches: grpcMethod("good.Svc", ""), Backends: []routetable.Backend{withTLS(backend, "good", ca.pem)}},
		routetable.Rule{Matches: grpcMethod("bad.Svc", ""), Backends: []routetable.Backend{withTLS(backend, "bad", other.pem)}},
	))
	conn := grpcConn(t, net.JoinHostPort(g.addr, itoa(g.port)), insecure.NewCredentials())
	if code, header, _ := grpcCall(t, conn, "/good.Svc/Call"); code != codes.OK || strings.Join(header.Get("x-backend"), ",") != "tls" {
		t.Errorf("verified backend: got %s from %q, want OK from tls", code, header.Get("x-backend"))
	}
	if code, _, _ := grpcCall(t, conn, "/bad.Svc/Call"); code != codes.Unavailable {
		t.Errorf("backend certificate from another CA: got %s, want Unavailable", code)
	}
}

// A client that is not gRPC gets the proxy's HTTP answers, even on a
// GRPCRoute's rule; a gRPC one gets them as gRPC statuses.
func TestGRPCErrorsOnlyForGRPCClients(t *testing.T) {
	g := startGateway(t, Options{}, grpcTestRoute("broken", routetable.Rule{Backends: []routetable.Backend{{Name: "apples/gone:8080", Weight: 1, Unresolved: "BackendNotFound"}}}))
	resp, _ := send(t, g.client, "POST", g.url("/a.B/C"), "grpc.example.com")
	if resp.StatusCode != http.StatusInternalServerError || resp.Header.Get("Grpc-Status") != "" {
		t.Errorf("plain client: got %d grpc-status %q, want 500 without grpc-status", resp.StatusCode, resp.Header.Get("Grpc-Status"))
	}
	resp, body := send(t, g.client, "POST", g.url("/a.B/C"), "grpc.example.com", "Content-Type", "application/grpc+proto")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Grpc-Status") != "14" || resp.Header.Get("Content-Type") != "application/grpc" || body != "" {
		t.Errorf("gRPC client: got %d grpc-status %q content-type %q body %q, want 200, 14, application/grpc and no body",
			resp.StatusCode, resp.Header.Get("Grpc-Status"), resp.Header.Get("Content-Type"), body)
	}
}

func TestIsGRPC(t *testing.T) {
	for ct, want := range map[string]bool{
		"application/grpc": true, "application/grpc+proto": true, "application/grpc;charset=utf-8": true,
		"application/grpc-web": false, "application/grpc-web+proto": false, "application/json": false, "": false,
	} {
		r, _ := http.NewRequest("POST", "http://h/", nil)
		r.Header.Set("Content-Type", ct)
		if got := isGRPC(r); got != want {
			t.Errorf("%q: got %v, want %v", ct, got, want)
		}
	}
}

func TestGRPCMessageEncoding(t *testing.T) {
	if got, want := grpcMessage("100% über\n"), "100%25 %C3%BCber%0A"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
