package webhook

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	gatewayv1beta1 "sigs.k8s.io/gateway-api/apis/v1beta1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// newManager builds a manager that is never started; nothing listens and
// the API server address (loopback) is never dialled.
func newManager(t *testing.T, scheme *runtime.Scheme) ctrl.Manager {
	t.Helper()
	mgr, err := ctrl.NewManager(&rest.Config{Host: "https://127.0.0.1:1"}, ctrl.Options{
		Scheme:  scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
	})
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

func TestRegisterServesEveryPath(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, gatewayv1.Install, gatewayv1beta1.Install, v1alpha1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	mgr := newManager(t, scheme)
	if err := Register(mgr, tenancy.Static(testPolicy(t))); err != nil {
		t.Fatal(err)
	}
	mux := mgr.GetWebhookServer().WebhookMux()
	for _, path := range []string{HTTPRoutePath, GRPCRoutePath, TLSRoutePath, TCPRoutePath, UDPRoutePath, ListenerSetPath,
		GatewayPath, NamespacePath, ReferenceGrantPath, ReferenceGrantV1beta1Path, TenantPath} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, path, strings.NewReader("{}")))
		// An empty review reaches the admission handler, which answers 200
		// with an error inside the AdmissionReview; an unknown path is a 404.
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"allowed":false`) {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
}

func TestRegisterNeedsTheSchemes(t *testing.T) {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, gatewayv1.Install} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	err := Register(newManager(t, scheme), tenancy.Static(testPolicy(t)))
	want := "the manager's scheme does not know gateway.networking.k8s.io/v1beta1, Kind=ReferenceGrant; add core v1, gateway-api v1 and v1beta1 and tenancy v1alpha1 to it before registering the webhook"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
