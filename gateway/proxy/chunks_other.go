//go:build !unix

package proxy

// mapMemory falls back to the heap where there is no mmap.
func mapMemory(size int) ([]byte, error) { return make([]byte, size), nil }
