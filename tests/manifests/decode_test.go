package manifests

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tenantgate/tenantgate/tests/cluster"
)

// scheme knows every kind the install may contain; anything else is an error.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, cmapi.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return s
}()

// strict rejects unknown and duplicate fields, so a typo in a manifest fails
// here instead of being dropped silently by the API server.
var strict = serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()

// decodeAll decodes a multi-document YAML stream into typed objects, in order.
func decodeAll(data []byte) ([]client.Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var objs []client.Object
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return objs, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading YAML document %d: %w", i, err)
		}
		if len(bytes.TrimSpace(doc)) == 0 {
			continue
		}
		obj, gvk, err := strict.Decode(doc, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("document %d (%s): %w", i, gvk, err)
		}
		co, ok := obj.(client.Object)
		if !ok {
			return nil, fmt.Errorf("document %d (%s) is not an object with metadata", i, gvk)
		}
		objs = append(objs, co)
	}
}

// renderDefault is `kubectl kustomize manifests/default` with the
// repository's own kubectl, the kustomize users apply the install with.
func renderDefault(t *testing.T) []byte { return render(t, "default") }

// render is `kubectl kustomize manifests/<dir>`.
func render(t *testing.T, dir string) []byte {
	t.Helper()
	root, err := cluster.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	kubectl := filepath.Join(root, "bin", "kubectl")
	if _, err := os.Stat(kubectl); err != nil {
		t.Fatalf("%s is missing; run `make tools` first", kubectl)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(kubectl, "kustomize", filepath.Join(root, "manifests", dir))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kubectl kustomize manifests/%s: %v: %s", dir, err, stderr.String())
	}
	return out
}

// loadDefault renders and strictly decodes the install.
func loadDefault(t *testing.T) []client.Object { return load(t, "default") }

// load renders and strictly decodes manifests/<dir>.
func load(t *testing.T, dir string) []client.Object {
	t.Helper()
	objs, err := decodeAll(render(t, dir))
	if err != nil {
		t.Fatalf("decoding manifests/%s strictly: %v", dir, err)
	}
	return objs
}

// all returns the objects of type T.
func all[T client.Object](objs []client.Object) []T {
	var out []T
	for _, o := range objs {
		if typed, ok := o.(T); ok {
			out = append(out, typed)
		}
	}
	return out
}

// one returns the object of type T with the given name, failing when there is
// not exactly one.
func one[T client.Object](t *testing.T, objs []client.Object, name string) T {
	t.Helper()
	var found []T
	for _, o := range all[T](objs) {
		if o.GetName() == name {
			found = append(found, o)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("want exactly one %T named %q in the install, found %d", zero, name, len(found))
	}
	return found[0]
}

func TestDecodeIsStrict(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, wantErr string
	}{{
		name: "typed objects in order",
		yaml: "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n" +
			"apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {name: b}\nspec: {selfSigned: {}}\n",
	}, {
		name:    "misspelt Deployment field",
		yaml:    "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\nspec: {replica: 2}\n",
		wantErr: `unknown field "spec.replica"`,
	}, {
		name:    "misspelt Certificate field",
		yaml:    "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: a}\nspec: {secretName: s, dnsName: [x]}\n",
		wantErr: `unknown field "spec.dnsName"`,
	}, {
		name:    "duplicate field",
		yaml:    "apiVersion: v1\nkind: Service\nmetadata: {name: a}\nspec:\n  type: ClusterIP\n  type: LoadBalancer\n",
		wantErr: `"type" already set`,
	}, {
		name:    "kind nobody registered",
		yaml:    "apiVersion: example.dev/v1\nkind: Widget\nmetadata: {name: a}\n",
		wantErr: "no kind",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := decodeAll([]byte(tc.yaml))
			if tc.wantErr == "" {
				if err != nil || len(objs) != 2 {
					t.Fatalf("got %d objects, error %v; want 2 and no error", len(objs), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v; want one containing %q", err, tc.wantErr)
			}
		})
	}
}
