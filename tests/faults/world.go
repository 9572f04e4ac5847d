package faults

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/cmd/tenantgate/app"
	"github.com/tenantgate/tenantgate/tests/cluster"
	"github.com/tenantgate/tenantgate/tests/stack"
)

// ControllerName is the GatewayClass controllerName the replicas implement.
const ControllerName = "tenantgate.dev/gateway-controller"

// World is one local cluster (tests/cluster) for one fault test.
type World struct {
	Cluster *cluster.Cluster
	// Client is cluster admin and knows tenantgate's types.
	Client client.Client
	// Seed is manifests/examples/seed, whose objects the tests use.
	Seed string
	// readOnly is the kubeconfig of ReadOnlyKubeconfig, once made.
	readOnly string
}

// StartWorld starts a cluster and stops it when the test ends. With
// webhooks, manifests/webhook is installed pointing at 127.0.0.1 on
// Webhooks().LocalServingPort, with a serving certificate in
// Webhooks().LocalServingCertDir; nothing listens there yet.
func StartWorld(t testing.TB, webhooks bool) *World {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	var hooks envtest.WebhookInstallOptions
	if webhooks {
		hooks = envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}, LocalServingHost: "127.0.0.1"}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, cluster.Options{Webhooks: hooks})
	if err != nil {
		t.Fatalf("starting the local cluster: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("stopping the local cluster: %v", err)
		}
	})
	scheme, err := app.Scheme()
	if err != nil {
		t.Fatal(err)
	}
	w := &World{Cluster: c, Seed: filepath.Join(root, "manifests", "examples", "seed")}
	cfg := rest.CopyConfig(c.Admin)
	cfg.QPS, cfg.Burst = 500, 1000 // client-go's default 5/s would pace the tests, not the cluster
	if w.Client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		t.Fatal(err)
	}
	w.Apply(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+LeaseNamespace+"}\n")
	return w
}

// Webhooks is where the API server sends admission requests.
func (w *World) Webhooks() envtest.WebhookInstallOptions {
	return w.Cluster.Env.WebhookInstallOptions
}

// Replica starts a tenantgate process against this cluster, as cluster
// admin unless opts.Kubeconfig says otherwise.
func (w *World) Replica(t testing.TB, name string, opts ReplicaOptions) *Replica {
	t.Helper()
	if opts.Kubeconfig == "" {
		opts.Kubeconfig = w.Cluster.AdminKubeconfig
	}
	if opts.Webhook && opts.WebhookCertDir == "" {
		opts.WebhookCertDir = w.Webhooks().LocalServingCertDir
	}
	return StartReplica(t, name, w.Cluster.Dir, opts)
}

// Apply server-side applies every object of a YAML stream, as
// `kubectl apply --server-side` does.
func (w *World) Apply(t testing.TB, manifests string) {
	t.Helper()
	if err := w.TryApply(context.Background(), manifests); err != nil {
		t.Fatal(err)
	}
}

// TryApply is Apply returning the first error, which names the object.
func (w *World) TryApply(ctx context.Context, manifests string) error {
	objs, err := decode(manifests)
	if err != nil {
		return err
	}
	for _, u := range objs {
		if err := w.Client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner("faults"), client.ForceOwnership); err != nil {
			return fmt.Errorf("applying %s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	return nil
}

// ApplySeed applies files of manifests/examples/seed, by path inside it.
func (w *World) ApplySeed(t testing.TB, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(w.Seed, f))
		if err != nil {
			t.Fatal(err)
		}
		w.Apply(t, string(data))
	}
}

// ApplyServingWorld applies the seed scenario with the teams' Gateway
// (scenario b) and apples' route, and waits until both echo Deployments
// are ready. It needs a webhook to answer: Tenants and routes go through it.
func (w *World) ApplyServingWorld(t testing.TB) {
	t.Helper()
	w.ApplySeed(t, "00-namespaces.yaml", "01-workloads.yaml", "02-gateway.yaml", "03-tenants.yaml",
		"scenario-b/gateway-allow-teams.yaml", "scenario-b/httproute-apples.yaml")
	w.AwaitEchoDeployments(t)
}

// AwaitEchoDeployments waits until apple-echo and banana-echo have all
// their replicas ready and up to date.
func (w *World) AwaitEchoDeployments(t testing.TB) {
	t.Helper()
	for _, d := range []types.NamespacedName{{Namespace: "apples", Name: "apple-echo"}, {Namespace: "bananas", Name: "banana-echo"}} {
		w.Eventually(t, 2*time.Minute, "Deployment "+d.String()+" ready", func(ctx context.Context) (bool, string) {
			var dep appsv1.Deployment
			if err := w.Client.Get(ctx, d, &dep); err != nil {
				return false, err.Error()
			}
			return dep.Status.ReadyReplicas == *dep.Spec.Replicas && dep.Status.UpdatedReplicas == *dep.Spec.Replicas, dep.Status.String()
		})
	}
}

// GatewayAddress waits until Gateway infra/shared is Programmed with an
// address and returns it with port 80.
func (w *World) GatewayAddress(t testing.TB) string {
	t.Helper()
	var addr string
	w.Eventually(t, time.Minute, "Gateway infra/shared Programmed with an address", func(ctx context.Context) (bool, string) {
		var err error
		addr, err = w.statusAddress(ctx)
		return err == nil, fmt.Sprint(err)
	})
	return addr
}

// statusAddress is the address:80 of Gateway infra/shared once Programmed.
func (w *World) statusAddress(ctx context.Context) (string, error) {
	var gw gatewayv1.Gateway
	if err := w.Client.Get(ctx, types.NamespacedName{Namespace: "infra", Name: "shared"}, &gw); err != nil {
		return "", err
	}
	c := meta.FindStatusCondition(gw.Status.Conditions, string(gatewayv1.GatewayConditionProgrammed))
	if c == nil || c.Status != metav1.ConditionTrue || len(gw.Status.Addresses) == 0 {
		return "", fmt.Errorf("not Programmed with an address: status %+v", gw.Status)
	}
	return gw.Status.Addresses[0].Value + ":80", nil
}

// RouteAccepted waits until our controller reports the route Accepted=True.
func (w *World) RouteAccepted(t testing.TB, ns, name string, timeout time.Duration) {
	t.Helper()
	w.Eventually(t, timeout, "HTTPRoute "+ns+"/"+name+" Accepted", func(ctx context.Context) (bool, string) {
		var r gatewayv1.HTTPRoute
		if err := w.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, &r); err != nil {
			return false, err.Error()
		}
		for _, p := range r.Status.Parents {
			if p.ControllerName == ControllerName && meta.IsStatusConditionTrue(p.Conditions, string(gatewayv1.RouteConditionAccepted)) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("parents %+v", r.Status.Parents)
	})
}

// ReadyPods lists the Pods of an app label in a namespace that are Ready
// and not being deleted.
func (w *World) ReadyPods(t testing.TB, ns, app string) []string {
	t.Helper()
	var pods corev1.PodList
	if err := w.Client.List(context.Background(), &pods, client.InNamespace(ns), client.MatchingLabels{"app": app}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range pods.Items {
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil {
				names = append(names, p.Name)
			}
		}
	}
	return names
}

// Eventually polls cond until it holds or timeout passes (stack.Eventually).
func (w *World) Eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) (bool, string)) {
	t.Helper()
	stack.Eventually(t, timeout, what, cond)
}

// decode splits a YAML stream into objects, skipping empty documents.
func decode(manifests string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(manifests)), 4096)
	var out []*unstructured.Unstructured
	for {
		u := &unstructured.Unstructured{}
		err := dec.Decode(&u.Object)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decoding manifests: %w", err)
		}
		if len(u.Object) > 0 {
			out = append(out, u)
		}
	}
}
