//go:build unix

package proxy

import "syscall"

// mapMemory maps size bytes of private anonymous memory; pages cost RSS
// only once written.
func mapMemory(size int) ([]byte, error) {
	return syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}
