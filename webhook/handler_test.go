package webhook

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
)

// serveHTTPRoutes serves the HTTPRoute webhook as Register wires it, on a
// loopback test server.
func serveHTTPRoutes(t *testing.T) *httptest.Server {
	t.Helper()
	scheme := runtime.NewScheme()
	if err := gatewayv1.Install(scheme); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(HTTPRoutePath, admission.WithValidator(scheme, NewHTTPRouteValidator(tenancy.Static(testPolicy(t)), nil)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// review posts a body and decodes the AdmissionReview answer.
func review(t *testing.T, srv *httptest.Server, contentType, body string) *admissionv1.AdmissionResponse {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+HTTPRoutePath, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("the webhook server failed: %v", err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Response == nil {
		t.Fatalf("answer (HTTP %d) is not an AdmissionReview: %v", resp.StatusCode, err)
	}
	return out.Response
}

func reviewOf(t *testing.T, operation admissionv1.Operation, obj, old any) string {
	t.Helper()
	raw := func(v any) runtime.RawExtension {
		if v == nil {
			return runtime.RawExtension{}
		}
		if s, ok := v.(string); ok {
			return runtime.RawExtension{Raw: []byte(s)}
		}
		data, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return runtime.RawExtension{Raw: data}
	}
	ar := admissionv1.AdmissionReview{Request: &admissionv1.AdmissionRequest{
		UID: "1", Operation: operation, Namespace: "apples", Name: "r", Object: raw(obj), OldObject: raw(old)}}
	ar.APIVersion, ar.Kind = "admission.k8s.io/v1", "AdmissionReview"
	data, err := json.Marshal(ar)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestMalformedAdmissionReviews(t *testing.T) {
	srv := serveHTTPRoutes(t)
	for _, tc := range []struct {
		name, contentType, body string
	}{
		{"empty body", "application/json", ""},
		{"not JSON", "application/json", "<AdmissionReview/>"},
		{"truncated JSON", "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"1"`},
		{"request of the wrong type", "application/json", `{"request":"CREATE"}`},
		{"review without a request", "application/json", `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`},
		{"unknown operation", "application/json", reviewOf(t, "EXPLODE", route("apples"), nil)},
		{"create without an object", "application/json", reviewOf(t, admissionv1.Create, nil, nil)},
		{"object of the wrong shape", "application/json", reviewOf(t, admissionv1.Create, `{"spec":{"hostnames":5}}`, nil)},
		{"object that is not JSON", "application/json", reviewOf(t, admissionv1.Create, `"\u0000"`, nil)},
		{"update with a broken old object", "application/json", reviewOf(t, admissionv1.Update, route("apples"), `{"spec":[]}`)},
		{"deeply nested JSON", "application/json", `{"request":{"object":` + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + `}}`},
		{"wrong content type", "text/plain", reviewOf(t, admissionv1.Create, route("apples", "apples.example.com"), nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := review(t, srv, tc.contentType, tc.body)
			if r.Allowed || r.Result == nil || r.Result.Code < 400 {
				t.Fatalf("answer = allowed %v, result %+v; want an error response", r.Allowed, r.Result)
			}
			t.Logf("%d %s", r.Result.Code, r.Result.Message)
		})
	}
	// The server survived all of that.
	if r := review(t, srv, "application/json", reviewOf(t, admissionv1.Create, route("apples", "apples.example.com"), nil)); !r.Allowed {
		t.Errorf("a valid route was refused after the malformed requests: %+v", r.Result)
	}
}

func TestAdmissionReviewAnswers(t *testing.T) {
	srv := serveHTTPRoutes(t)
	denied := review(t, srv, "application/json", reviewOf(t, admissionv1.Create, route("apples", "bananas.example.com"), nil))
	if denied.Allowed || denied.Result.Code != 403 || denied.Result.Message != bananasDenied {
		t.Errorf("denial = %+v, want 403 %q", denied.Result, bananasDenied)
	}
	warned := review(t, srv, "application/json", reviewOf(t, admissionv1.Create, route("cherries", "bananas.example.com"), nil))
	if !warned.Allowed || len(warned.Warnings) != 1 || warned.Warnings[0] != cherriesWarn {
		t.Errorf("Warn mode answer = allowed %v, warnings %q; want allowed with %q", warned.Allowed, warned.Warnings, cherriesWarn)
	}
	if r := review(t, srv, "application/json", reviewOf(t, admissionv1.Delete, nil, route("apples", "bananas.example.com"))); !r.Allowed {
		t.Errorf("delete refused: %+v", r.Result)
	}
}
