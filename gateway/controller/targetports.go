package controller

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/tenantgate/tenantgate/gateway/translate"
)

// portClaims are ours' target-port claims: what their own Services hold
// (with a valid signature) and, when want is given, the listener ports they need.
func (r *Reconciler) portClaims(ours []gatewayv1.Gateway, services []corev1.Service, want map[types.NamespacedName][]listenerPort, signKey []byte) []translate.PortClaim {
	byName := servicesByName(services)
	claims := make([]translate.PortClaim, 0, len(ours))
	for i := range ours {
		gw := &ours[i]
		key := types.NamespacedName{Namespace: gw.Namespace, Name: gw.Name}
		c := translate.PortClaim{Gateway: key, Created: gw.CreationTimestamp, Held: map[int32]int32{}}
		if svc, ok := byName[types.NamespacedName{Namespace: gw.Namespace, Name: ServiceName(gw.Name)}]; ok && controlledBy(svc, gw) && portsSigned(signKey, svc, gw) {
			for _, p := range svc.Spec.Ports {
				if p.TargetPort.IntVal > 0 {
					c.Held[p.Port] = p.TargetPort.IntVal
				}
			}
		}
		if want != nil {
			c.Want = []int32{}
			for _, l := range want[key] {
				c.Want = append(c.Want, l.port)
			}
		}
		claims = append(claims, c)
	}
	return claims
}

// The target ports a Service holds are believed only with the controller's
// signature: the Service sits in the Gateway's namespace, where a tenant may
// edit it (and its managed fields), so an unsigned or re-edited mapping could
// otherwise claim another Gateway's data-plane port. The key is a Secret in
// the data-plane namespace, which tenants cannot read; the leader makes it.
const (
	targetPortKeySecret   = "tenantgate-target-ports"
	annotationTargetPorts = "tenantgate.dev/target-ports-signature"
)

// signTargetPorts is the signature of gw's Service ports.
func signTargetPorts(key []byte, gw types.UID, ports []corev1.ServicePort) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(gw))
	for _, p := range slices.SortedFunc(slices.Values(ports), func(a, b corev1.ServicePort) int {
		return cmp.Or(cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol))
	}) {
		fmt.Fprintf(mac, "|%d/%s=%d", p.Port, p.Protocol, p.TargetPort.IntVal)
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// portsSigned: svc's target ports carry the controller's signature for gw.
func portsSigned(key []byte, svc *corev1.Service, gw *gatewayv1.Gateway) bool {
	return len(key) > 0 && hmac.Equal([]byte(svc.Annotations[annotationTargetPorts]), []byte(signTargetPorts(key, gw.UID, svc.Spec.Ports)))
}

// targetPortKey reads the signing key; with create (the leader), it makes
// the Secret when missing. Once read it is kept for the process's life.
func (r *Reconciler) targetPortKey(ctx context.Context, create bool) ([]byte, error) {
	r.mu.Lock()
	key := r.portKey
	r.mu.Unlock()
	if key != nil {
		return key, nil
	}
	name := types.NamespacedName{Namespace: r.dataPlaneNamespace(), Name: targetPortKeySecret}
	var reader client.Reader = r.Writer // a Reconciler built in a test may have no APIReader
	if r.APIReader != nil {
		reader = r.APIReader
	}
	var sec corev1.Secret
	err := reader.Get(ctx, name, &sec)
	if apierrors.IsNotFound(err) && create {
		fresh := make([]byte, 32)
		rand.Read(fresh)
		sec = corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: name.Namespace, Name: name.Name}, Data: map[string][]byte{"key": fresh}}
		if err = r.Writer.Create(ctx, &sec, client.FieldOwner(FieldOwner)); apierrors.IsAlreadyExists(err) {
			err = reader.Get(ctx, name, &sec)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("reading the target-port signing key, Secret %s: %w", name, err)
	}
	if key = sec.Data["key"]; len(key) < 32 {
		return nil, fmt.Errorf("Secret %s holds no 32-byte key; delete it and the controller makes a new one", name)
	}
	r.mu.Lock()
	r.portKey = key
	r.mu.Unlock()
	return key, nil
}

func (r *Reconciler) targetRange() translate.PortRange {
	if r.TargetPortRange == (translate.PortRange{}) {
		rng, _ := translate.ParsePortRange(translate.DefaultTargetPorts)
		return rng
	}
	return r.TargetPortRange
}
