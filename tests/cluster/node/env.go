package node

import (
	"context"
	"fmt"
	"net"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// containerEnv resolves a container's environment the way kubelet does for
// the sources this agent supports: literal values, downward-API fields, and
// Secret and ConfigMap keys, after the service variables (which the
// container's own env may override).
func containerEnv(ctx context.Context, client kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, podIP, hostIP string, services []string) ([]string, error) {
	env := append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOSTNAME=" + pod.Name}, services...)
	for _, e := range c.Env {
		value := e.Value
		if src := e.ValueFrom; src != nil {
			var err error
			switch {
			case src.FieldRef != nil:
				value, err = fieldValue(pod, src.FieldRef.FieldPath, podIP, hostIP)
			case src.SecretKeyRef != nil:
				value, err = secretValue(ctx, client, pod.Namespace, src.SecretKeyRef)
			case src.ConfigMapKeyRef != nil:
				value, err = configMapValue(ctx, client, pod.Namespace, src.ConfigMapKeyRef)
			default:
				err = fmt.Errorf("env %s: only value, fieldRef, secretKeyRef and configMapKeyRef are supported by the local node", e.Name)
			}
			if err != nil {
				return nil, err
			}
		}
		env = append(env, e.Name+"="+value)
	}
	return env, nil
}

// serviceEnv is what in-cluster clients (client-go's rest.InClusterConfig)
// need: where the API server is, as seen from inside a Pod.
func (a *Agent) serviceEnv() []string {
	host, port, err := net.SplitHostPort(a.cfg.APIServer)
	if err != nil {
		return nil
	}
	return []string{
		"KUBERNETES_SERVICE_HOST=" + host, "KUBERNETES_SERVICE_PORT=" + port, "KUBERNETES_SERVICE_PORT_HTTPS=" + port,
		"KUBERNETES_PORT=tcp://" + net.JoinHostPort(host, port),
	}
}

func fieldValue(pod *corev1.Pod, path, podIP, hostIP string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.podIP":
		return podIP, nil
	case "status.hostIP":
		return hostIP, nil
	}
	if key, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return pod.Labels[strings.TrimSuffix(key, "']")], nil
	}
	if key, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return pod.Annotations[strings.TrimSuffix(key, "']")], nil
	}
	return "", fmt.Errorf("env fieldRef %q is not supported by the local node", path)
}

func secretValue(ctx context.Context, client kubernetes.Interface, ns string, ref *corev1.SecretKeySelector) (string, error) {
	s, err := client.CoreV1().Secrets(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", fmt.Errorf("env from Secret %s/%s: %w", ns, ref.Name, err)
	}
	return string(s.Data[ref.Key]), nil
}

func configMapValue(ctx context.Context, client kubernetes.Interface, ns string, ref *corev1.ConfigMapKeySelector) (string, error) {
	cm, err := client.CoreV1().ConfigMaps(ns).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		if ref.Optional != nil && *ref.Optional {
			return "", nil
		}
		return "", fmt.Errorf("env from ConfigMap %s/%s: %w", ns, ref.Name, err)
	}
	return cm.Data[ref.Key], nil
}
