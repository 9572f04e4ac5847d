package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func refused() error {
	return &net.OpError{Op: "dial", Net: "tcp", Err: fmt.Errorf("connect: %w", syscall.ECONNREFUSED)}
}

func TestUntilReachableRetriesOnlyUnreachable(t *testing.T) {
	tooMany := apierrors.NewTooManyRequests("slow down", 1)
	notFound := apierrors.NewNotFound(schema.GroupResource{Resource: "httproutes"}, "x")
	for _, tc := range []struct {
		name      string
		errs      []error // returned in order; then success
		wantCalls int
		wantErr   error
	}{
		{"refused twice, then answered", []error{refused(), refused()}, 3, nil},
		{"reset, then answered", []error{fmt.Errorf("read: %w", syscall.ECONNRESET)}, 2, nil},
		{"429 is the server's answer", []error{tooMany}, 1, tooMany},
		{"404 is the server's answer", []error{notFound}, 1, notFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			v, err := untilReachable(context.Background(), func() (int, error) {
				calls++
				if calls <= len(tc.errs) {
					return 0, tc.errs[calls-1]
				}
				return 7, nil
			})
			if calls != tc.wantCalls || !errors.Is(err, tc.wantErr) {
				t.Fatalf("calls %d err %v; want calls %d err %v", calls, err, tc.wantCalls, tc.wantErr)
			}
			if err == nil && v != 7 {
				t.Fatalf("value %d, want 7", v)
			}
		})
	}
}

func TestUntilReachableEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	calls := 0
	_, err := untilReachable(ctx, func() (int, error) { calls++; return 0, refused() })
	if err == nil || !unreachable(err) {
		t.Fatalf("err %v, want the last connection error", err)
	}
	if calls < 2 {
		t.Fatalf("%d calls in 300ms; it should have retried", calls)
	}
}
