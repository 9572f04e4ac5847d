package app

import (
	"strings"
	"testing"
	"time"
)

func TestProxyFlags(t *testing.T) {
	o, err := ParseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.ProxyMaxBufferedBodyBytes != 64<<20 || o.ProxyMaxBufferedBodyBytesPerRequest != 1<<20 || o.ProxyMaxConnectionsPerListener != 10000 || o.ProxyBodyReadTimeout != 30*time.Second {
		t.Fatalf("defaults: %+v", o)
	}
	o, err = ParseFlags([]string{"-proxy-max-buffered-body-bytes=1Gi", "-proxy-max-buffered-body-bytes-per-request=8388608"})
	if err != nil || o.ProxyMaxBufferedBodyBytes != 1<<30 || o.ProxyMaxBufferedBodyBytesPerRequest != 8<<20 {
		t.Fatalf("quantities: %v, %+v", err, o)
	}
	for _, tc := range []struct{ args, want string }{
		{"-proxy-max-buffered-body-bytes=lots", `"lots" is not a byte count`},
		{"-proxy-max-buffered-body-bytes=-1", "-proxy-max-buffered-body-bytes -1 is negative"},
		{"-proxy-max-buffered-body-bytes=1Mi -proxy-max-buffered-body-bytes-per-request=2Mi", "-proxy-max-buffered-body-bytes-per-request 2Mi is over -proxy-max-buffered-body-bytes 1Mi"},
		{"-proxy-max-connections-per-listener=-5", "-proxy-max-connections-per-listener -5 is negative"},
		{"-proxy-body-read-timeout=10ms", "-proxy-body-read-timeout 10ms is under 1s"},
	} {
		_, err := ParseFlags(strings.Fields(tc.args))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}

func TestGatewayServiceSelectorFlag(t *testing.T) {
	o, err := ParseFlags(nil)
	if err != nil || o.GatewayServiceSelector != "app.kubernetes.io/name=tenantgate,app.kubernetes.io/component=dataplane" {
		t.Fatalf("default: %v, %q; want manifests/default's data-plane Pod labels", err, o.GatewayServiceSelector)
	}
	if o, err = ParseFlags([]string{"-gateway-service-selector=app=proxy"}); err != nil || o.GatewayServiceSelector != "app=proxy" {
		t.Fatalf("app=proxy: %v, %q", err, o.GatewayServiceSelector)
	}
	for _, arg := range []string{"-gateway-service-selector=", "-gateway-service-selector=app", "-gateway-service-selector=a=b,,c"} {
		if _, err := ParseFlags([]string{arg}); err == nil || !strings.Contains(err.Error(), "is not a list of data-plane Pod labels") {
			t.Errorf("%s: error %v, want it to say the selector is not a list of data-plane Pod labels", arg, err)
		}
	}
}

func TestRoleFlag(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		args                   string
		role                   Role
		webhook, gateway, lead bool
		want                   parts
	}{
		{"default is all, as before", "", RoleAll, true, true, false, parts{webhook: true, gateway: true, proxy: true, writer: true}},
		{"all with the old flags", "-enable-gateway=false -leader-elect", RoleAll, true, false, true, parts{webhook: true, writer: true}},
		{"all without the webhook", "-role=all -enable-webhook=false", RoleAll, false, true, false, parts{gateway: true, proxy: true, writer: true}},
		{"webhook", "-role=webhook", RoleWebhook, true, false, false, parts{webhook: true}},
		{"controller, leader-elected", "-role=controller -leader-elect", RoleController, false, true, true, parts{gateway: true, writer: true}},
		{"dataplane", "-role dataplane", RoleDataPlane, false, true, false, parts{gateway: true, proxy: true}},
		{"dataplane, -leader-elect=false said aloud", "-role=dataplane -leader-elect=false", RoleDataPlane, false, true, false, parts{gateway: true, proxy: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ParseFlags(strings.Fields(tc.args))
			if err != nil {
				t.Fatal(err)
			}
			if o.Role != tc.role || o.EnableWebhook != tc.webhook || o.EnableGateway != tc.gateway || o.LeaderElect != tc.lead {
				t.Errorf("role %q webhook %v gateway %v leader-elect %v; want %q %v %v %v",
					o.Role, o.EnableWebhook, o.EnableGateway, o.LeaderElect, tc.role, tc.webhook, tc.gateway, tc.lead)
			}
			if got := o.parts(); got != tc.want {
				t.Errorf("parts %+v; want %+v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ args, want string }{
		{"-role=proxy", `-role "proxy" is not all, webhook, controller or dataplane`},
		{"-role=", `-role "" is not all, webhook, controller or dataplane`},
		{"-role=Webhook", `-role "Webhook" is not all`},
		{"-role=webhook -enable-gateway=true", "-enable-gateway applies only to -role=all; -role=webhook already decides"},
		{"-role=dataplane -enable-webhook=false", "-enable-webhook applies only to -role=all"},
		{"-role=webhook -leader-elect", "-leader-elect is set but -role=webhook never writes to the API"},
		{"-role=dataplane -leader-elect", "-leader-elect is set but -role=dataplane never writes"},
		{"-enable-webhook=false -enable-gateway=false", "both -enable-webhook and -enable-gateway are false"},
	} {
		_, err := ParseFlags(strings.Fields(tc.args))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
	// Options built in code (tests/stack, the local runner) leave Role empty: all.
	if (Options{EnableWebhook: true}).parts() != (parts{webhook: true, writer: true}) {
		t.Error("an empty Role does not run as -role=all")
	}
	if err := (Options{Role: "gateway", EnableGateway: true, LogFormat: "json"}).Validate(); err == nil || !strings.Contains(err.Error(), `-role "gateway"`) {
		t.Errorf("Validate of an unknown Role: %v", err)
	}
}

func TestTopologyFlags(t *testing.T) {
	o, err := ParseFlags([]string{"-role=dataplane", "-data-plane-gateway=bananas/web", "-gateway-target-ports=30000-30099"})
	if err != nil || o.DataPlaneGateway != "bananas/web" || o.GatewayTargetPorts != "30000-30099" || o.DataPlaneNamespace != "tenantgate-system" {
		t.Fatalf("dedicated data plane: %v, %+v", err, o)
	}
	for _, tc := range []struct{ args, want string }{
		{"-role=dataplane -data-plane-gateway=web", `-data-plane-gateway "web" is not namespace/name`},
		{"-role=controller -data-plane-gateway=bananas/web", "only -role=dataplane serves one Gateway"},
		{"-gateway-target-ports=80-90", `-gateway-target-ports "80-90" is not a port range`},
	} {
		_, err := ParseFlags(strings.Fields(tc.args))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to say %q", tc.args, err, tc.want)
		}
	}
}
