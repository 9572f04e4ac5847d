package leadership

import (
	"context"
	"sync"
)

// State is whether this replica leads; safe for concurrent use. The zero
// value does not lead.
type State struct {
	mu      sync.Mutex
	leading bool
	changed chan struct{} // closed and replaced at every change
}

// Always returns a State that leads from the start and is never changed,
// for a single replica (-leader-elect=false).
func Always() *State {
	s := &State{}
	s.Set(true)
	return s
}

// Leading reports whether this replica leads now. A nil State always leads.
func (s *State) Leading() bool {
	if s == nil {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.leading
}

// Set records whether this replica leads and wakes everyone waiting.
func (s *State) Set(leading bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	if s.leading == leading {
		return
	}
	s.leading = leading
	close(s.changed)
	s.changed = make(chan struct{})
}

// watch returns the current state and a channel closed at its next change.
func (s *State) watch() (bool, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(chan struct{})
	}
	return s.leading, s.changed
}

// Lead blocks until this replica leads, then returns a context that is
// canceled when it stops leading (or ctx ends): a writer does its work
// under it, so losing the Lease mid-flight stops the writing. It returns
// ctx's error when ctx ends first. A nil State leads at once.
func (s *State) Lead(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if s == nil {
		lctx, cancel := context.WithCancel(ctx)
		return lctx, cancel, nil
	}
	for {
		leading, changed := s.watch()
		if leading {
			lctx, cancel := context.WithCancel(ctx)
			go func() {
				select {
				case <-changed:
				case <-lctx.Done():
				}
				cancel()
			}()
			return lctx, cancel, nil
		}
		select {
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		case <-changed:
		}
	}
}

// Gained calls f each time this replica starts leading (at once if it
// leads already) until ctx ends; a writer uses it to redo its work with
// the latest desired state.
func (s *State) Gained(ctx context.Context, f func()) {
	if s == nil {
		f()
		return
	}
	for {
		lctx, cancel, err := s.Lead(ctx)
		if err != nil {
			return
		}
		f()
		<-lctx.Done()
		cancel()
	}
}
