#!/usr/bin/env bash
# Regenerates the Tenant API's deepcopy functions and CRD with controller-gen,
# built once from the pinned tools module hack/tools/gen into bin/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${root}/bin"
gen="${bin}/controller-gen"
version="$(cd "${root}/hack/tools/gen" && go list -m -f '{{.Version}}' sigs.k8s.io/controller-tools)"

# Rebuild only when the binary is missing or not the pinned version.
if [[ ! -x "${gen}" ]] || [[ "$("${gen}" --version)" != "Version: ${version}" ]]; then
	mkdir -p "${bin}"
	(cd "${root}/hack/tools/gen" && go build -o "${gen}" sigs.k8s.io/controller-tools/cmd/controller-gen)
fi

cd "${root}"
"${gen}" object paths=./tenancy/v1alpha1/...
"${gen}" crd paths=./tenancy/v1alpha1/... output:crd:artifacts:config=manifests/crds
"${gen}" rbac:roleName=tenantgate paths=./cmd/tenantgate/... output:rbac:artifacts:config=manifests/rbac
