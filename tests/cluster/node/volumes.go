package node

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// mount is one volume directory bind-mounted into a container's view.
type mount struct {
	source, target string
}

// materializeVolumes writes the Pod's Secret, ConfigMap, emptyDir and
// projected volumes (service-account token, ConfigMap, Secret, downward API:
// what the API server's ServiceAccount admission adds as kube-api-access-*)
// under dir and returns them by volume name. Other volume types are not
// provided by the local node.
func materializeVolumes(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, dir string) (map[string]string, error) {
	out := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		path := filepath.Join(dir, "volumes", v.Name)
		var files map[string][]byte
		switch {
		case v.Secret != nil:
			s, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: Secret %s/%s: %w", v.Name, pod.Namespace, v.Secret.SecretName, err)
			}
			files = project(s.Data, v.Secret.Items)
		case v.ConfigMap != nil:
			cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, v.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				return nil, fmt.Errorf("volume %s: ConfigMap %s/%s: %w", v.Name, pod.Namespace, v.ConfigMap.Name, err)
			}
			data := map[string][]byte{}
			for k, val := range cm.Data {
				data[k] = []byte(val)
			}
			files = project(data, v.ConfigMap.Items)
		case v.EmptyDir != nil:
			files = map[string][]byte{}
		case v.Projected != nil:
			var err error
			if files, err = projected(ctx, client, pod, v.Projected); err != nil {
				return nil, fmt.Errorf("volume %s: %w", v.Name, err)
			}
		default:
			continue
		}
		if err := os.MkdirAll(path, 0o755); err != nil {
			return nil, err
		}
		for name, data := range files {
			if err := os.MkdirAll(filepath.Dir(filepath.Join(path, name)), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(path, name), data, 0o644); err != nil {
				return nil, err
			}
		}
		out[v.Name] = path
	}
	return out, nil
}

// projected gathers a projected volume's files as kubelet writes them.
func projected(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, v *corev1.ProjectedVolumeSource) (map[string][]byte, error) {
	files := map[string][]byte{}
	for _, src := range v.Sources {
		switch {
		case src.ServiceAccountToken != nil:
			tok, err := serviceAccountToken(ctx, client, pod, src.ServiceAccountToken)
			if err != nil {
				return nil, err
			}
			files[src.ServiceAccountToken.Path] = []byte(tok)
		case src.ConfigMap != nil:
			cm, err := client.CoreV1().ConfigMaps(pod.Namespace).Get(ctx, src.ConfigMap.Name, metav1.GetOptions{})
			if err != nil {
				if src.ConfigMap.Optional != nil && *src.ConfigMap.Optional {
					continue
				}
				return nil, fmt.Errorf("ConfigMap %s/%s: %w", pod.Namespace, src.ConfigMap.Name, err)
			}
			data := map[string][]byte{}
			for k, val := range cm.Data {
				data[k] = []byte(val)
			}
			maps.Copy(files, project(data, src.ConfigMap.Items))
		case src.Secret != nil:
			s, err := client.CoreV1().Secrets(pod.Namespace).Get(ctx, src.Secret.Name, metav1.GetOptions{})
			if err != nil {
				if src.Secret.Optional != nil && *src.Secret.Optional {
					continue
				}
				return nil, fmt.Errorf("Secret %s/%s: %w", pod.Namespace, src.Secret.Name, err)
			}
			maps.Copy(files, project(s.Data, src.Secret.Items))
		case src.DownwardAPI != nil:
			for _, it := range src.DownwardAPI.Items {
				if it.FieldRef == nil {
					return nil, fmt.Errorf("downward API item %s: only fieldRef is supported by the local node", it.Path)
				}
				val, err := fieldValue(pod, it.FieldRef.FieldPath, pod.Status.PodIP, pod.Status.HostIP)
				if err != nil {
					return nil, err
				}
				files[it.Path] = []byte(val)
			}
		}
	}
	return files, nil
}

// serviceAccountToken asks the TokenRequest API for a token of the Pod's
// ServiceAccount bound to the Pod, as kubelet does (the Node authorizer
// allows a node exactly this for Pods bound to it).
func serviceAccountToken(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) (string, error) {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	tr, err := client.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("a token for ServiceAccount %s/%s: %w", pod.Namespace, sa, err)
	}
	return tr.Status.Token, nil
}

func project(data map[string][]byte, items []corev1.KeyToPath) map[string][]byte {
	if len(items) == 0 {
		return data
	}
	out := map[string][]byte{}
	for _, it := range items {
		if d, ok := data[it.Key]; ok {
			out[it.Path] = d
		}
	}
	return out
}

// containerMounts pairs a container's volumeMounts with the materialized
// volumes; mounts of volumes the node does not provide are left out.
func containerMounts(c *corev1.Container, volumes map[string]string) []mount {
	var ms []mount
	for _, vm := range c.VolumeMounts {
		if src, ok := volumes[vm.Name]; ok {
			ms = append(ms, mount{source: filepath.Join(src, vm.SubPath), target: vm.MountPath})
		}
	}
	return ms
}

// wrapWithMounts runs argv in a private mount namespace in which each mount
// source is bind-mounted at its target, so the container sees its volumes
// where its spec says while the host's view is unchanged. A missing target
// directory is created empty on the host and left for the agent to remove.
func wrapWithMounts(argv []string, mounts []mount) []string {
	if len(mounts) == 0 {
		return argv
	}
	var script strings.Builder
	script.WriteString("set -e\n")
	for i := range mounts {
		fmt.Fprintf(&script, "mkdir -p \"$%d\" && mount --bind \"$%d\" \"$%d\"\n", 2*i+2, 2*i+1, 2*i+2)
	}
	fmt.Fprintf(&script, "shift %d\nexec \"$@\"\n", 2*len(mounts))
	args := []string{"unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script.String(), "sh"}
	for _, m := range mounts {
		args = append(args, m.source, m.target)
	}
	return append(args, argv...)
}
