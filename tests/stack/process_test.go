package stack

import (
	"reflect"
	"testing"
	"time"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
)

// TestFlagsGiveTheSameOptions checks that the process gets what the
// in-process run would: every setting the stack makes survives the flags.
func TestFlagsGiveTheSameOptions(t *testing.T) {
	want := app.Options{
		MetricsAddr: "127.0.0.1:1001", HealthAddr: "127.0.0.1:1002", PprofAddr: "127.0.0.1:1003",
		EnableWebhook: true, EnableGateway: true,
		WebhookHost: "127.0.0.1", WebhookPort: 9555, WebhookCertDir: "/tmp/certs",
		GatewayAddressPool: "127.40.0.0/16", PlatformNamespaces: []string{"infra", "ops"},
		ControllerName: "tenantgate.dev/gateway-controller", ShutdownGrace: 2 * time.Second,
		LogLevel: "info", LogFormat: "json",
	}
	got, err := app.ParseFlags(Flags(want, "/tmp/kubeconfig"))
	if err != nil {
		t.Fatal(err)
	}
	if got.Kubeconfig != "/tmp/kubeconfig" {
		t.Errorf("kubeconfig %q", got.Kubeconfig)
	}
	for _, f := range []string{"MetricsAddr", "HealthAddr", "PprofAddr", "EnableWebhook", "EnableGateway", "WebhookHost", "WebhookPort",
		"WebhookCertDir", "GatewayAddressPool", "PlatformNamespaces", "ControllerName", "ShutdownGrace", "LogLevel", "LogFormat"} {
		g, w := reflect.ValueOf(got).FieldByName(f).Interface(), reflect.ValueOf(want).FieldByName(f).Interface()
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s: the process would get %v, in-process %v", f, g, w)
		}
	}
}
