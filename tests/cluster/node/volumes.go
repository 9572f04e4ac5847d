package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// mount is one volume directory bind-mounted into a container's view.
type mount struct {
	source, target string
}

// materializeVolumes writes the Pod's Secret, ConfigMap and emptyDir volumes
// under dir and returns them by volume name. Other volume types (such as the
// projected service-account token) are not provided by the local node.
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
