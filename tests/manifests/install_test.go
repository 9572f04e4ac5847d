package manifests

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
)

const (
	namespace  = "tenantgate-system"
	webhookCfg = "tenantgate"
)

// deployed is one role's Deployment as manifests/default should have it.
type deployed struct {
	name        string
	role        app.Role
	account     string
	leaderElect bool
	ports       []string // container port names
	pdb         bool
	// bindsPrivileged: the data plane binds 80 and 443, so it alone may add NET_BIND_SERVICE.
	bindsPrivileged bool
}

// roles are manifests/default's three Deployments of the one image.
var roles = []deployed{
	{"tenantgate-webhook", app.RoleWebhook, "tenantgate-webhook", false, []string{"webhook", "metrics", "health"}, true, false},
	{"tenantgate-controller", app.RoleController, "tenantgate-controller", true, []string{"metrics", "health"}, false, false},
	{"tenantgate-dataplane", app.RoleDataPlane, "tenantgate-dataplane", false, []string{"metrics", "health"}, true, true},
}

// flags parses the Deployment's arguments with tenantgate's own flag parser.
func flags(t *testing.T, c corev1.Container) app.Options {
	t.Helper()
	if len(c.Command) != 0 {
		t.Fatalf("container %s overrides the image's entrypoint with %v; pass flags in args", c.Name, c.Command)
	}
	opts, err := app.ParseFlags(c.Args)
	if err != nil {
		t.Fatalf("the Deployment's args do not parse: %v", err)
	}
	return opts
}

// portOf returns the port number in a host:port bind address.
func portOf(t *testing.T, flag, addr string) int32 {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("%s %q is not host:port: %v", flag, addr, err)
	}
	n, err := strconv.ParseInt(p, 10, 32)
	if err != nil {
		t.Fatalf("%s %q has no numeric port", flag, addr)
	}
	return int32(n)
}

// containerPort resolves a Service targetPort or probe port against the container.
func containerPort(t *testing.T, c corev1.Container, target intstr.IntOrString) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if (target.Type == intstr.String && p.Name == target.StrVal) ||
			(target.Type == intstr.Int && p.ContainerPort == target.IntVal) {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s declares no port %s", c.Name, target.String())
	return 0
}

func selects(t *testing.T, sel *metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatal(err)
	}
	return !s.Empty() && s.Matches(labels.Set(podLabels))
}

func tenantgateContainer(t *testing.T, d *appsv1.Deployment) corev1.Container {
	t.Helper()
	if n := len(d.Spec.Template.Spec.Containers); n != 1 {
		t.Fatalf("Deployment %s has %d containers; want the one tenantgate container", d.Name, n)
	}
	return d.Spec.Template.Spec.Containers[0]
}

func TestInstallContents(t *testing.T) {
	objs := loadDefault(t)

	t.Run("namespaced objects live in tenantgate-system", func(t *testing.T) {
		one[*corev1.Namespace](t, objs, namespace)
		for _, o := range objs {
			if clusterScoped(o) {
				if o.GetNamespace() != "" {
					t.Errorf("cluster-scoped %T %s has namespace %q", o, o.GetName(), o.GetNamespace())
				}
				continue
			}
			if o.GetNamespace() != namespace {
				t.Errorf("%T %s is in namespace %q; want %s", o, o.GetName(), o.GetNamespace(), namespace)
			}
		}
	})

	t.Run("ships the Tenant CRD and not the Gateway API CRDs", func(t *testing.T) {
		var names []string
		for _, crd := range all[*apiextensionsv1.CustomResourceDefinition](objs) {
			names = append(names, crd.Name)
		}
		if !slices.Equal(names, []string{"tenants.tenancy.tenantgate.dev"}) {
			t.Fatalf("CRDs %v; want only tenants.tenancy.tenantgate.dev (users install the Gateway API CRDs)", names)
		}
	})

	t.Run("three Deployments, one per role", func(t *testing.T) {
		var names []string
		for _, d := range all[*appsv1.Deployment](objs) {
			names = append(names, d.Name)
		}
		slices.Sort(names)
		if want := []string{"tenantgate-controller", "tenantgate-dataplane", "tenantgate-webhook"}; !slices.Equal(names, want) {
			t.Fatalf("Deployments %v; want %v", names, want)
		}
	})

	pods := map[string]map[string]string{} // Deployment -> Pod labels
	for _, r := range roles {
		pods[r.name] = one[*appsv1.Deployment](t, objs, r.name).Spec.Template.Labels
	}
	for _, r := range roles {
		t.Run(r.name, func(t *testing.T) { checkDeployment(t, objs, r, pods) })
	}

	t.Run("Services reach the right Pods and ports", func(t *testing.T) {
		for _, tc := range []struct {
			service string
			typ     corev1.ServiceType
			selects []string // Deployments whose Pods it must select; it must select no other
			ports   map[int32]string
		}{
			{"tenantgate-webhook", corev1.ServiceTypeClusterIP, []string{"tenantgate-webhook"}, map[int32]string{443: "webhook"}},
			{"tenantgate-metrics", corev1.ServiceTypeClusterIP, []string{"tenantgate-controller", "tenantgate-dataplane", "tenantgate-webhook"}, map[int32]string{8080: "metrics"}},
		} {
			svc := one[*corev1.Service](t, objs, tc.service)
			if svc.Spec.Type != tc.typ {
				t.Errorf("Service %s is %s; want %s", svc.Name, svc.Spec.Type, tc.typ)
			}
			sel := &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}
			for _, r := range roles {
				if got, want := selects(t, sel, pods[r.name]), slices.Contains(tc.selects, r.name); got != want {
					t.Errorf("Service %s selector %v selects the Pods of %s: %v, want %v", svc.Name, svc.Spec.Selector, r.name, got, want)
				}
			}
			for _, target := range tc.selects {
				c := tenantgateContainer(t, one[*appsv1.Deployment](t, objs, target))
				opts := flags(t, c)
				got := map[int32]int32{}
				for _, p := range svc.Spec.Ports {
					got[p.Port] = containerPort(t, c, p.TargetPort)
				}
				want := map[int32]int32{}
				for port, name := range tc.ports {
					want[port] = containerPort(t, c, intstr.FromString(name))
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("Service %s maps ports %v on %s's Pods; want %v", svc.Name, got, target, want)
				}
				if tc.service == "tenantgate-webhook" && want[443] != int32(opts.WebhookPort) {
					t.Errorf("Service %s sends to port %d; %s's -webhook-port is %d", svc.Name, want[443], target, opts.WebhookPort)
				}
				if tc.service == "tenantgate-metrics" && want[8080] != portOf(t, "-metrics-bind-address", opts.MetricsAddr) {
					t.Errorf("Service %s sends to port %d; %s's -metrics-bind-address is %s", svc.Name, want[8080], target, opts.MetricsAddr)
				}
			}
		}
	})
}

// checkDeployment checks one role's Deployment: its flags, identity,
// replicas, Pod security, probes, resources, spread and PDB.
func checkDeployment(t *testing.T, objs []client.Object, r deployed, pods map[string]map[string]string) {
	d := one[*appsv1.Deployment](t, objs, r.name)
	pod := d.Spec.Template
	c := tenantgateContainer(t, d)
	opts := flags(t, c)

	if opts.Role != r.role || opts.LeaderElect != r.leaderElect {
		t.Errorf("-role=%s -leader-elect=%v; want -role=%s -leader-elect=%v", opts.Role, opts.LeaderElect, r.role, r.leaderElect)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v; want 2", d.Spec.Replicas)
	}
	for other, labels := range pods {
		if got, want := selects(t, d.Spec.Selector, labels), other == r.name; got != want {
			t.Errorf("selector %v selects the Pods of %s: %v, want %v", d.Spec.Selector, other, got, want)
		}
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru == nil || ru.MaxUnavailable == nil || ru.MaxUnavailable.IntValue() != 0 {
		t.Errorf("rolling update %+v; want maxUnavailable 0 so a rollout never drops a serving replica", ru)
	}
	if pod.Spec.ServiceAccountName != r.account {
		t.Errorf("serviceAccountName %q; want %s", pod.Spec.ServiceAccountName, r.account)
	}
	var ports []string
	for _, p := range c.Ports {
		ports = append(ports, p.Name)
	}
	if !slices.Equal(ports, r.ports) {
		t.Errorf("container ports %v; want %v", ports, r.ports)
	}
	if opts.GatewayAddressPool != "" {
		t.Errorf("-gateway-address-pool %q; want none, so each Gateway gets its own Service, address and data-plane ports", opts.GatewayAddressPool)
	}
	if r.role == app.RoleController && opts.DataPlaneImage != c.Image {
		t.Errorf("-data-plane-image %q; want the controller's own image %q (the kustomization's replacement)", opts.DataPlaneImage, c.Image)
	}

	psc := pod.Spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot ||
		psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("pod securityContext %+v; want runAsNonRoot and seccomp RuntimeDefault", psc)
	}
	if psc != nil && (psc.RunAsUser == nil || *psc.RunAsUser == 0) {
		t.Errorf("pod runAsUser %v; want a numeric non-root user (the image has no /etc/passwd)", psc.RunAsUser)
	}
	if psc != nil && (len(psc.Sysctls) > 0) != r.bindsPrivileged {
		t.Errorf("pod sysctls %v; only the data plane, which binds 80 and 443, lowers ip_unprivileged_port_start", psc.Sysctls)
	}
	sc := c.SecurityContext
	if sc == nil {
		t.Fatal("the container has no securityContext")
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Error("readOnlyRootFilesystem is not true")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Error("allowPrivilegeEscalation is not false")
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Error("the container is privileged")
	}
	var add []corev1.Capability
	if r.bindsPrivileged {
		add = []corev1.Capability{"NET_BIND_SERVICE"}
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || !slices.Equal(sc.Capabilities.Add, add) {
		t.Errorf("capabilities %+v; want drop [ALL], add %v", sc.Capabilities, add)
	}
	if pod.Spec.HostNetwork || pod.Spec.HostPID || pod.Spec.HostIPC {
		t.Error("the Pod shares a host namespace")
	}

	health := portOf(t, "-health-probe-bind-address", opts.HealthAddr)
	for _, p := range []struct {
		kind  string
		probe *corev1.Probe
		path  string
	}{{"liveness", c.LivenessProbe, "/healthz"}, {"readiness", c.ReadinessProbe, "/readyz"}} {
		if p.probe == nil || p.probe.HTTPGet == nil {
			t.Errorf("no %s HTTP probe", p.kind)
			continue
		}
		if p.probe.HTTPGet.Path != p.path || containerPort(t, c, p.probe.HTTPGet.Port) != health {
			t.Errorf("%s probe %s on port %s; want %s on %d", p.kind, p.probe.HTTPGet.Path, p.probe.HTTPGet.Port.String(), p.path, health)
		}
	}

	req := c.Resources.Requests
	if req.Cpu().IsZero() || req.Memory().IsZero() {
		t.Errorf("requests %v; want cpu and memory", req)
	}
	if c.Resources.Limits.Memory().IsZero() {
		t.Errorf("limits %v; want a memory limit", c.Resources.Limits)
	}
	grace := pod.Spec.TerminationGracePeriodSeconds
	if grace == nil || float64(*grace) <= opts.ShutdownGrace.Seconds() {
		t.Errorf("terminationGracePeriodSeconds %v; want more than -shutdown-grace %s", grace, opts.ShutdownGrace)
	}

	var keys []string
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		for other, labels := range pods {
			if got, want := selects(t, tsc.LabelSelector, labels), other == r.name; got != want {
				t.Errorf("spread constraint on %s selects the Pods of %s: %v, want %v", tsc.TopologyKey, other, got, want)
			}
		}
		keys = append(keys, tsc.TopologyKey)
	}
	if !slices.Contains(keys, corev1.LabelHostname) {
		t.Errorf("spread over %v; want %s among them", keys, corev1.LabelHostname)
	}

	var budget *policyv1.PodDisruptionBudget
	for _, pdb := range all[*policyv1.PodDisruptionBudget](objs) {
		if selects(t, pdb.Spec.Selector, pod.Labels) {
			if budget != nil {
				t.Errorf("PDBs %s and %s both select %s's Pods", budget.Name, pdb.Name, r.name)
			}
			budget = pdb
		}
	}
	switch {
	case !r.pdb && budget != nil:
		t.Errorf("PDB %s selects %s's Pods; want none", budget.Name, r.name)
	case r.pdb && budget == nil:
		t.Errorf("no PodDisruptionBudget selects %s's Pods", r.name)
	case r.pdb && (budget.Spec.MinAvailable == nil || budget.Spec.MinAvailable.IntValue() != 1):
		t.Errorf("PDB %s minAvailable %v; want 1", budget.Name, budget.Spec.MinAvailable)
	}
}

// TestWebhookTLS checks, in both installs, that the API server reaches the
// webhook Pods through the webhook Service with a certificate it trusts.
func TestWebhookTLS(t *testing.T) {
	for _, dir := range []string{"default", "webhook-only"} {
		t.Run(dir, func(t *testing.T) { testWebhookTLS(t, load(t, dir)) })
	}
}

func testWebhookTLS(t *testing.T, objs []client.Object) {
	d := one[*appsv1.Deployment](t, objs, "tenantgate-webhook")
	c := tenantgateContainer(t, d)
	opts := flags(t, c)
	vwc := one[*admissionregistrationv1.ValidatingWebhookConfiguration](t, objs, webhookCfg)

	injectFrom := vwc.Annotations["cert-manager.io/inject-ca-from"]
	if injectFrom != "tenantgate-system/tenantgate-webhook" {
		t.Errorf("inject-ca-from %q; want tenantgate-system/tenantgate-webhook", injectFrom)
	}
	certNS, certName, _ := strings.Cut(injectFrom, "/")
	serving := one[*cmapi.Certificate](t, objs, certName)
	if serving.Namespace != certNS {
		t.Fatalf("inject-ca-from names namespace %q but Certificate %s is in %q", certNS, certName, serving.Namespace)
	}

	t.Run("every webhook calls the webhook Service, covered by the certificate", func(t *testing.T) {
		if len(vwc.Webhooks) == 0 {
			t.Fatal("the ValidatingWebhookConfiguration has no webhooks")
		}
		for _, wh := range vwc.Webhooks {
			ref := wh.ClientConfig.Service
			if ref == nil || wh.ClientConfig.URL != nil {
				t.Errorf("webhook %s does not call a Service", wh.Name)
				continue
			}
			svc := one[*corev1.Service](t, objs, ref.Name)
			if !selects(t, &metav1.LabelSelector{MatchLabels: svc.Spec.Selector}, d.Spec.Template.Labels) {
				t.Errorf("webhook %s calls Service %s, which does not select the webhook Pods", wh.Name, svc.Name)
			}
			if ref.Namespace != svc.Namespace || ref.Port == nil ||
				!slices.ContainsFunc(svc.Spec.Ports, func(p corev1.ServicePort) bool { return p.Port == *ref.Port }) {
				t.Errorf("webhook %s calls %s/%s port %v, which Service %s/%s does not offer", wh.Name, ref.Namespace, ref.Name, ref.Port, svc.Namespace, svc.Name)
			}
			dns := ref.Name + "." + ref.Namespace + ".svc"
			if !slices.Contains(serving.Spec.DNSNames, dns) {
				t.Errorf("webhook %s calls %s, which the Certificate's dnsNames %v do not cover", wh.Name, dns, serving.Spec.DNSNames)
			}
			if len(wh.ClientConfig.CABundle) != 0 {
				t.Errorf("webhook %s has a caBundle in the manifest; cert-manager injects it", wh.Name)
			}
		}
	})

	t.Run("the serving Secret is mounted at -webhook-cert-dir", func(t *testing.T) {
		var volume string
		for _, m := range c.VolumeMounts {
			if m.MountPath == opts.WebhookCertDir {
				volume = m.Name
			}
		}
		idx := slices.IndexFunc(d.Spec.Template.Spec.Volumes, func(v corev1.Volume) bool { return v.Name == volume })
		if volume == "" || idx < 0 || d.Spec.Template.Spec.Volumes[idx].Secret == nil {
			t.Fatalf("nothing from a Secret is mounted at -webhook-cert-dir %s", opts.WebhookCertDir)
		}
		if got := d.Spec.Template.Spec.Volumes[idx].Secret.SecretName; got != serving.Spec.SecretName {
			t.Errorf("-webhook-cert-dir holds Secret %s; want the serving Certificate's %s", got, serving.Spec.SecretName)
		}
	})

	t.Run("issuer chain: self-signed -> CA Certificate -> CA Issuer -> serving Certificate", func(t *testing.T) {
		if !slices.Contains(serving.Spec.Usages, cmapi.UsageServerAuth) {
			t.Errorf("serving Certificate usages %v lack %q", serving.Spec.Usages, cmapi.UsageServerAuth)
		}
		caIssuer := issuerOf(t, objs, serving)
		if caIssuer.Spec.CA == nil {
			t.Fatalf("serving Certificate is issued by %s, which is not a CA Issuer", caIssuer.Name)
		}
		var caCert *cmapi.Certificate
		for _, cert := range all[*cmapi.Certificate](objs) {
			if cert.Spec.SecretName == caIssuer.Spec.CA.SecretName {
				caCert = cert
			}
		}
		if caCert == nil || !caCert.Spec.IsCA {
			t.Fatalf("CA Issuer %s signs with Secret %s, which no isCA Certificate issues", caIssuer.Name, caIssuer.Spec.CA.SecretName)
		}
		if root := issuerOf(t, objs, caCert); root.Spec.SelfSigned == nil {
			t.Errorf("CA Certificate %s is issued by %s, which is not self-signed", caCert.Name, root.Name)
		}
	})
}

// issuerOf returns the namespaced Issuer a Certificate names.
func issuerOf(t *testing.T, objs []client.Object, cert *cmapi.Certificate) *cmapi.Issuer {
	t.Helper()
	ref := cert.Spec.IssuerRef
	if (ref.Kind != "" && ref.Kind != cmapi.IssuerKind) || (ref.Group != "" && ref.Group != "cert-manager.io") {
		t.Fatalf("Certificate %s uses issuer %s/%s; want a cert-manager.io Issuer in the install", cert.Name, ref.Group, ref.Kind)
	}
	iss := one[*cmapi.Issuer](t, objs, ref.Name)
	if iss.Namespace != cert.Namespace {
		t.Fatalf("Certificate %s is in %s but Issuer %s in %s", cert.Name, cert.Namespace, iss.Name, iss.Namespace)
	}
	return iss
}

// clusterScoped reports the kinds in the install that have no namespace.
func clusterScoped(o client.Object) bool {
	switch o.(type) {
	case *corev1.Namespace, *apiextensionsv1.CustomResourceDefinition,
		*admissionregistrationv1.ValidatingWebhookConfiguration:
		return true
	}
	return isClusterRBAC(o)
}
