package conformance

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"slices"
	"testing"
	"testing/fstest"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"
	"sigs.k8s.io/gateway-api/apis/v1alpha2"
	"sigs.k8s.io/gateway-api/apis/v1alpha3"
	xv1alpha1 "sigs.k8s.io/gateway-api/apisx/v1alpha1"
	"sigs.k8s.io/gateway-api/conformance"
	confv1 "sigs.k8s.io/gateway-api/conformance/apis/v1"
	"sigs.k8s.io/gateway-api/conformance/tests"
	conformanceconfig "sigs.k8s.io/gateway-api/conformance/utils/config"
	"sigs.k8s.io/gateway-api/conformance/utils/suite"
	"sigs.k8s.io/yaml"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/stack"
)

var (
	full       = flag.Bool("conformance-full", false, "run the whole GATEWAY-HTTP, GATEWAY-GRPC and GATEWAY-TLS profiles instead of the smoke subset")
	reportPath = flag.String("conformance-report", "", "where to write the suite's ConformanceReport YAML")
	only       = flag.String("conformance-test", "", "run this one conformance test (its ShortName)")
	// Two runs at once on one machine need different pools.
	poolPrefix = flag.String("conformance-pool", "127.30", "first two octets of the /16 the Gateways' addresses come from")
)

// smoke is the subset `make test` runs: one test per area of the core
// profiles.
var smoke = []string{
	"HTTPRouteSimpleSameNamespace",
	"HTTPRouteCrossNamespace",
	"HTTPRouteReferenceGrant",
	"HTTPRouteMatching",
	"HTTPRouteHostnameIntersection",
	"HTTPRouteInvalidCrossNamespaceBackendRef",
	"GatewayWithAttachedRoutes",
	"GRPCExactMethodMatching",
	"TLSRouteSimpleSameNamespace",
}

// profiles are the conformance profiles tenantgate claims.
var profiles = []suite.ConformanceProfileName{
	suite.GatewayHTTPConformanceProfileName,
	suite.GatewayGRPCConformanceProfileName,
	suite.GatewayTLSConformanceProfileName,
}

const className = "tenantgate-conformance"

func TestGatewayAPIConformance(t *testing.T) {
	start := time.Now()
	// The experimental channel: HTTPRoute retry exists only there.
	s := stack.Start(t, stack.Options{AddressPool: *poolPrefix + ".0.0/16", ExperimentalCRDs: true})
	ctx := context.Background()
	class := &gatewayv1.GatewayClass{
		ObjectMeta: metav1.ObjectMeta{Name: className},
		Spec:       gatewayv1.GatewayClassSpec{ControllerName: "tenantgate.dev/gateway-controller"},
	}
	if err := s.Client.Create(ctx, class); err != nil {
		t.Fatal(err)
	}
	stack.Eventually(t, time.Minute, "GatewayClass accepted with supportedFeatures", func(ctx context.Context) (bool, string) {
		if err := s.Client.Get(ctx, types.NamespacedName{Name: className}, class); err != nil {
			return false, err.Error()
		}
		return len(class.Status.SupportedFeatures) > 0, fmt.Sprint(class.Status.Conditions)
	})

	base, err := baseManifestsWithoutDNS()
	if err != nil {
		t.Fatal(err)
	}
	clientset := kubernetes.NewForConfigOrDie(s.Cluster.Admin)
	c, clientOpts, err := suiteClient(s)
	if err != nil {
		t.Fatal(err)
	}
	opts := suite.ConformanceOptions{
		ConfigurableOptions: suite.ConfigurableOptions{
			GatewayClassName:     className,
			CleanupBaseResources: true,
			CleanupTestResources: true,
			TimeoutConfig:        conformanceconfig.DefaultTimeoutConfig(),
			ConformanceProfiles:  profiles,
			Implementation: confv1.Implementation{
				Organization: "tenantgate", Project: "tenantgate", URL: "https://github.com/tenantgate/tenantgate",
				Version: "v0.1.0-dev", Contact: []string{"@tenantgate/maintainers"},
			},
			ReportOutputPath: *reportPath,
			// Inside the pool the Gateway can have them; outside it cannot.
			UsableNetworkAddresses: []gatewayv1.GatewaySpecAddress{
				{Type: ptr.To(gatewayv1.IPAddressType), Value: *poolPrefix + ".255.1"},
			},
			UnusableNetworkAddresses: []gatewayv1.GatewaySpecAddress{
				{Type: ptr.To(gatewayv1.IPAddressType), Value: "127.255.255.1"},
			},
		},
		Client:        c,
		ClientOptions: clientOpts,
		Clientset:     clientset,
		RestConfig:    s.Cluster.Admin,
		ManifestFS:    []fs.FS{base, &conformance.Manifests},
		BaseManifests: baseName,
	}
	switch {
	case *only != "":
		opts.RunTest = *only
	case !*full:
		opts.SkipTests = allExcept(smoke)
	}
	conformance.RunConformanceWithOptions(t, opts)
	t.Logf("conformance run took %s", time.Since(start).Round(time.Second))
}

const baseName = "tenantgate/base-manifests.yaml"

// baseManifestsWithoutDNS is the suite's base manifests minus the coredns
// Deployment and its Service, which only the UDP profile uses and the local
// node cannot run (it runs only echo-basic).
func baseManifestsWithoutDNS() (fs.FS, error) {
	data, err := fs.ReadFile(&conformance.Manifests, "base/manifests.yaml")
	if err != nil {
		return nil, err
	}
	var kept [][]byte
	for _, doc := range bytes.Split(data, []byte("\n---")) {
		var meta struct {
			Metadata struct{ Name string } `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, err
		}
		if meta.Metadata.Name == "coredns" {
			continue
		}
		kept = append(kept, doc)
	}
	return fstest.MapFS{baseName: &fstest.MapFile{Data: bytes.Join(kept, []byte("\n---"))}}, nil
}

// allExcept lists every conformance test but the given ones.
func allExcept(keep []string) []string {
	var skip []string
	for _, ct := range tests.ConformanceTests {
		if !slices.Contains(keep, ct.ShortName) {
			skip = append(skip, ct.ShortName)
		}
	}
	return skip
}

// suiteClient knows every type the suite reads, as conformance.DefaultOptions
// sets it up.
func suiteClient(s *stack.Stack) (client.Client, client.Options, error) {
	scheme, err := app.Scheme()
	if err != nil {
		return nil, client.Options{}, err
	}
	for _, add := range []func(*runtime.Scheme) error{
		v1alpha2.Install, v1alpha3.Install, xv1alpha1.Install, apiextensionsv1.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			return nil, client.Options{}, err
		}
	}
	opts := client.Options{Scheme: scheme}
	c, err := client.New(s.Cluster.Admin, opts)
	return c, opts, err
}
