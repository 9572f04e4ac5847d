#!/usr/bin/env bash
# Builds the local cluster's binaries into bin/ from the Go module proxy, at
# the versions pinned in hack/tools/*/go.mod and go.mod. Idempotent: a binary
# whose stamp matches its pinned version is not rebuilt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/bin"
mkdir -p "$bin"

# stamp_ok NAME KEY: true when bin/NAME exists and was built for KEY.
stamp_ok() { [[ -x "$bin/$1" && -f "$bin/.$1.stamp" && "$(cat "$bin/.$1.stamp")" == "$2" ]]; }
stamp() { echo "$2" >"$bin/.$1.stamp"; }
key_of() { sha256sum "$@" | sha256sum | cut -c1-16; }

kube_version=v1.37.2
kube_key=$(key_of "$root/hack/tools/kube/go.mod" "$root/hack/tools/kube/go.sum")
if ! stamp_ok kube-apiserver "$kube_key" || ! stamp_ok kube-controller-manager "$kube_key" || ! stamp_ok kubectl "$kube_key"; then
  echo ">> building kube-apiserver, kube-controller-manager, kubectl $kube_version (a few minutes the first time)"
  ldflags="-s -w"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitTreeState=clean"
  done
  (cd "$root/hack/tools/kube" && go build -trimpath -ldflags "$ldflags" -o "$bin/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kubectl)
  for b in kube-apiserver kube-controller-manager kubectl; do stamp "$b" "$kube_key"; done
fi

etcd_key=$(key_of "$root/hack/tools/etcd/go.mod" "$root/hack/tools/etcd/go.sum" "$root/hack/tools/etcd/main.go")
if ! stamp_ok etcd "$etcd_key"; then
  echo ">> building etcd"
  (cd "$root/hack/tools/etcd" && go build -trimpath -ldflags "-s -w" -o "$bin/etcd" .)
  stamp etcd "$etcd_key"
fi

echo_key=$(key_of "$root/go.mod" "$root/go.sum")
if ! stamp_ok echo-basic "$echo_key"; then
  echo ">> building echo-basic (the Gateway API conformance echo server)"
  (cd "$root" && go build -trimpath -o "$bin/echo-basic" sigs.k8s.io/gateway-api/conformance/echo-basic)
  stamp echo-basic "$echo_key"
fi
