package leadership

import (
	"context"
	"testing"
	"time"
)

func TestLeadContextEndsWhenLeadershipIsLost(t *testing.T) {
	s := &State{}
	ctx, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	got := make(chan context.Context, 1)
	go func() {
		lctx, _, err := s.Lead(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- lctx
	}()
	select {
	case <-got:
		t.Fatal("Lead returned while the replica did not lead")
	case <-time.After(50 * time.Millisecond):
	}
	s.Set(true)
	lctx := <-got
	if lctx.Err() != nil {
		t.Fatal("the leading context ended while the replica still leads")
	}
	s.Set(false)
	select {
	case <-lctx.Done():
	case <-ctx.Done():
		t.Fatal("the leading context did not end when leadership was lost")
	}
}

func TestLeadReturnsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := (&State{}).Lead(ctx); err == nil {
		t.Fatal("Lead on an ended context of a non-leader returned no error")
	}
}

func TestGainedRunsOnEachGain(t *testing.T) {
	s := &State{}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	gains := make(chan struct{}, 10)
	go s.Gained(ctx, func() { gains <- struct{}{} })
	for i := range 3 {
		s.Set(true)
		select {
		case <-gains:
		case <-ctx.Done():
			t.Fatalf("gain %d not reported", i+1)
		}
		s.Set(false)
	}
	if len(gains) != 0 {
		t.Fatalf("%d extra gains reported", len(gains))
	}
}

func TestNilAndAlwaysLead(t *testing.T) {
	var s *State
	if !s.Leading() || !Always().Leading() {
		t.Fatal("a nil State and Always() must lead")
	}
	if (&State{}).Leading() {
		t.Fatal("the zero State must not lead")
	}
}
