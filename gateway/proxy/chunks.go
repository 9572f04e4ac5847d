package proxy

import "sync"

// bodyChunkSize is the unit in which request bodies are held and counted
// against the budget: small enough that a small body costs little budget.
const bodyChunkSize = 4 << 10

// chunkSlabSize is how much memory chunkStore maps at a time.
const chunkSlabSize = 1 << 20

type bodyChunk = [bodyChunkSize]byte

// chunkStore hands out body chunks from memory mapped outside the Go heap,
// never more than limit bytes of it, and reuses the chunks given back. Held
// bodies thus cost their bytes and no more: on the heap they would be
// garbage the collector lets the heap double for (GOGC), which is what a
// memory budget must not allow. The mapped memory is kept for reuse.
type chunkStore struct {
	mu     sync.Mutex
	free   []*bodyChunk
	mapped int64
	limit  int64
}

func (s *chunkStore) get() *bodyChunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.free) == 0 {
		s.grow()
	}
	if len(s.free) == 0 {
		return new(bodyChunk) // mapping failed: the heap still works
	}
	c := s.free[len(s.free)-1]
	s.free = s.free[:len(s.free)-1]
	return c
}

func (s *chunkStore) put(c *bodyChunk) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.free = append(s.free, c)
}

// grow maps another slab, within limit. Callers hold s.mu.
func (s *chunkStore) grow() {
	size := min(chunkSlabSize, s.limit-s.mapped) / bodyChunkSize * bodyChunkSize
	if size <= 0 {
		return
	}
	mem, err := mapMemory(int(size))
	if err != nil {
		return
	}
	s.mapped += size
	for i := 0; i+bodyChunkSize <= len(mem); i += bodyChunkSize {
		s.free = append(s.free, (*bodyChunk)(mem[i:i+bodyChunkSize]))
	}
}

// chunkBytes is n rounded up to whole chunks: what holding n bytes costs.
func chunkBytes(n int64) int64 {
	return (n + bodyChunkSize - 1) / bodyChunkSize * bodyChunkSize
}
