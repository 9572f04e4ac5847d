# tenantgate's container image: one static binary on an empty base.
#   docker build -t REGISTRY/tenantgate:TAG .
# tests/manifests builds the binary with the `go build` line below and checks
# it is static, so this file is tested even where Docker cannot run.
# Keep bin/ and .local/ out of the build context (a .dockerignore): they hold
# the local cluster's binaries and state, hundreds of megabytes.

ARG GO_VERSION=1.26
FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} go build -trimpath -ldflags "-s -w" -o /out/tenantgate ./cmd/tenantgate

# scratch: nothing but the binary and the CA roots for outgoing TLS; runs as
# the same numeric non-root user as distroless "nonroot".
FROM scratch
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tenantgate /tenantgate
USER 65532:65532
ENTRYPOINT ["/tenantgate"]
