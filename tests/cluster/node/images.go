package node

import (
	"path/filepath"
	"sort"
	"strings"
)

// Images maps an image repository path (without registry host or tag) to the
// binary that plays it.
type Images map[string]string

// KnownImages are the images the local node can run, from binaries in bin:
// the Gateway API echo server, and tenantgate's own image (the name
// manifests/default's kustomization gives it) from the binary `make build` makes.
func KnownImages(bin string) Images {
	return Images{
		"gateway-api/echo-basic": filepath.Join(bin, "echo-basic"),
		"tenantgate":             filepath.Join(bin, "tenantgate"),
	}
}

// Resolve returns the binary for image, ignoring the registry host, tag and digest.
func (im Images) Resolve(image string) (string, bool) {
	repo := image
	if i := strings.Index(repo, "@"); i >= 0 {
		repo = repo[:i]
	}
	if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
		repo = repo[:i]
	}
	for known, binary := range im {
		if repo == known || strings.HasSuffix(repo, "/"+known) {
			return binary, true
		}
	}
	return "", false
}

// Names lists the known repositories, for messages.
func (im Images) Names() []string {
	names := make([]string, 0, len(im))
	for k := range im {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}
