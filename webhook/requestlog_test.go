package webhook

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
)

// countingSink counts the WithValues calls of the sink it wraps.
type countingSink struct {
	logr.LogSink
	withValues *int
}

func (c countingSink) WithValues(kv ...any) logr.LogSink {
	*c.withValues++
	return countingSink{c.LogSink.WithValues(kv...), c.withValues}
}

// TestRequestLoggerAddsValuesWhenWriting: the request's values are in every
// message written, and building the logger (every admission) or asking
// whether a level is on adds none.
func TestRequestLoggerAddsValuesWhenWriting(t *testing.T) {
	var lines []string
	base := funcr.New(func(prefix, args string) { lines = append(lines, prefix+" "+args) }, funcr.Options{Verbosity: 1})
	withValues := 0
	base = logr.New(countingSink{base.GetSink(), &withValues})
	req := &admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "uid-1", Namespace: "apples", Name: "shop",
		Resource: metav1.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"},
		UserInfo: authenticationv1.UserInfo{Username: "apple-dev"},
	}}
	log := requestLogger(schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"})(base.WithName("admission"), req)
	if log.V(5).Enabled() {
		t.Fatal("level 5 enabled at verbosity 1")
	}
	log.V(5).Info("received request")
	if withValues != 0 || len(lines) != 0 {
		t.Fatalf("a logger nothing was written with added values %d times and wrote %q", withValues, lines)
	}
	log.WithValues("step", "decode").Error(errors.New("bad object"), "unable to decode")
	log.V(1).Info("denied")
	if len(lines) != 2 {
		t.Fatalf("wrote %d lines, want 2: %q", len(lines), lines)
	}
	for _, want := range []string{`"requestID"="uid-1"`, `"namespace"="apples"`, `"name"="shop"`, `"user"="apple-dev"`, `"webhookKind"="HTTPRoute"`, "admission"} {
		for _, line := range lines {
			if !strings.Contains(line, want) {
				t.Errorf("line %q lacks %s", line, want)
			}
		}
	}
	if !strings.Contains(lines[0], `"step"="decode"`) || !strings.Contains(lines[0], "bad object") {
		t.Errorf("the error line %q lacks its own values", lines[0])
	}
	if nilReq := requestLogger(schema.GroupVersionKind{Kind: "HTTPRoute"})(base, nil); nilReq.GetSink() == nil {
		t.Error("no logger for a message about no request")
	}
}
