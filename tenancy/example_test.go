package tenancy_test

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/tenancy"
	"github.com/tenantgate/tenantgate/tenancy/v1alpha1"
)

// A team route that claims another team's hostname is denied with a line
// naming the field, the value, the tenant and the rule.
func ExamplePolicy_CheckHTTPRoute() {
	tenant := func(name string) v1alpha1.Tenant {
		return v1alpha1.Tenant{
			ObjectMeta: metav1.ObjectMeta{Name: name},
			Spec: v1alpha1.TenantSpec{
				Namespaces: v1alpha1.TenantNamespaces{Names: []v1alpha1.NamespaceName{v1alpha1.NamespaceName(name)}},
				Hostnames:  []v1alpha1.OwnedHostname{{Hostname: v1alpha1.Hostname(name + ".example.com")}},
			},
		}
	}
	p := tenancy.NewPolicy(tenancy.Inputs{
		Tenants:            []v1alpha1.Tenant{tenant("apples"), tenant("bananas")},
		PlatformNamespaces: []string{"infra"},
	})

	route := &gatewayv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "apples", Name: "shop"}}
	route.Spec.Hostnames = []gatewayv1.Hostname{"apples.example.com", "bananas.example.com"}
	v := p.CheckHTTPRoute(route)
	fmt.Println(v.Tenant, v.Denied())
	for _, line := range v.Messages() {
		fmt.Println(line)
	}
	// Output:
	// apples true
	// spec.hostnames[1]: "bananas.example.com" belongs to tenant "bananas", not tenant "apples"; use a hostname listed in Tenant apples spec.hostnames
}
