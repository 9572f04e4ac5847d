package bench

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// floorHook is an HTTPS admission webhook that allows every request at
// once, served by the benchmark. The API server's latency for calling it at
// the same rate, on the same cluster, is the floor tenantgate's webhook is
// compared with: what is above it is tenantgate's.
type floorHook struct {
	url string
	srv *http.Server
}

// startFloorHook serves with the certificate the API server already trusts
// for tenantgate's webhook (same host, same CA bundle).
func (e *env) startFloorHook(b *testing.B) *floorHook {
	dir := e.s.Options.WebhookCertDir
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		b.Fatalf("loading the webhook serving certificate: %v", err)
	}
	l, err := tls.Listen("tcp", net.JoinHostPort(e.s.Options.WebhookHost, "0"), &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		b.Fatal(err)
	}
	h := &floorHook{url: "https://" + l.Addr().String() + "/allow", srv: &http.Server{Handler: http.HandlerFunc(allowAll), ReadHeaderTimeout: 5 * time.Second}}
	go func() {
		if err := h.srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
			b.Errorf("floor webhook: %v", err)
		}
	}()
	b.Cleanup(func() { h.srv.Close() })
	return h
}

// allowAll answers an AdmissionReview with allowed.
func allowAll(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
		http.Error(w, "not an AdmissionReview", http.StatusBadRequest)
		return
	}
	review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	review.Request = nil
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(&review)
}

// pointHTTPRouteHook points the HTTPRoute webhook of tenantgate's
// configuration at url (keeping its name, so the API server's histogram
// series is the same) and returns what it pointed at before.
func (e *env) pointHTTPRouteHook(b *testing.B, url *string) *string {
	ctx := context.Background()
	var hooks admissionregistrationv1.ValidatingWebhookConfigurationList
	if err := e.c.List(ctx, &hooks); err != nil {
		b.Fatal(err)
	}
	for i := range hooks.Items {
		cfg := &hooks.Items[i]
		for j := range cfg.Webhooks {
			if cfg.Webhooks[j].Name != httpRouteHook {
				continue
			}
			was := cfg.Webhooks[j].ClientConfig.URL
			cfg.Webhooks[j].ClientConfig.URL = url
			if err := e.c.Update(ctx, cfg); err != nil {
				b.Fatalf("pointing webhook %s elsewhere: %v", httpRouteHook, err)
			}
			return was
		}
	}
	b.Fatalf("no webhook %s among the ValidatingWebhookConfigurations", httpRouteHook)
	return nil
}

// awaitDenying waits until tenantgate's webhook denies a route in t0001
// claiming t0002's hostname: the configuration points at it and its
// policy knows the seeded tenants.
func (e *env) awaitDenying(b *testing.B) {
	ctx := context.Background()
	hijack := tenantRoute(1, 0, "/")
	hijack.Name, hijack.Spec.Hostnames[0] = "hijack", "t0002.example.com"
	deadline := time.Now().Add(time.Minute)
	for err := e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll); err == nil || !strings.Contains(err.Error(), "denied"); err = e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll) {
		if time.Now().After(deadline) {
			b.Fatalf("the webhook still does not deny a route claiming another tenant's hostname after a minute; last answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// awaitAllowing waits until a route that tenantgate would deny is allowed:
// the API server calls the floor webhook.
func (e *env) awaitAllowing(b *testing.B) {
	ctx := context.Background()
	hijack := tenantRoute(1, 0, "/")
	hijack.Name, hijack.Spec.Hostnames[0] = "hijack", "t0002.example.com"
	deadline := time.Now().Add(time.Minute)
	for err := e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll); err != nil; err = e.c.Create(ctx, hijack.DeepCopy(), client.DryRunAll) {
		if time.Now().After(deadline) {
			b.Fatalf("the API server still does not call the allow-all floor webhook after a minute; last answer: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
