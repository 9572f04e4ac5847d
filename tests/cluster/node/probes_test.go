package node

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

func TestProberThresholdsAndTiming(t *testing.T) {
	start := time.Unix(1000, 0)
	p := prober{spec: &corev1.Probe{InitialDelaySeconds: 10, PeriodSeconds: 5, FailureThreshold: 2, SuccessThreshold: 2}}
	if p.due(start, start.Add(9*time.Second)) {
		t.Error("due before initialDelaySeconds")
	}
	now := start.Add(10 * time.Second)
	if !p.due(start, now) {
		t.Fatal("not due at initialDelaySeconds")
	}
	ready := false
	if ready = p.record(now, true, ready); ready {
		t.Error("ready after one success; successThreshold is 2")
	}
	if p.due(start, now.Add(4*time.Second)) || !p.due(start, now.Add(5*time.Second)) {
		t.Error("the probe must run every periodSeconds (5 s)")
	}
	if ready = p.record(now.Add(5*time.Second), true, ready); !ready {
		t.Error("not ready after two successes")
	}
	if ready = p.record(now.Add(10*time.Second), false, ready); !ready {
		t.Error("unready after one failure; failureThreshold is 2")
	}
	if ready = p.record(now.Add(15*time.Second), true, ready); !ready {
		t.Error("a success in between must reset the failure count")
	}
	ready = p.record(now.Add(20*time.Second), false, ready)
	if ready = p.record(now.Add(25*time.Second), false, ready); ready {
		t.Error("still ready after two failures in a row")
	}

	defaults := prober{spec: &corev1.Probe{}}
	live := true
	for i := range 2 {
		if live = defaults.record(start, false, live); !live {
			t.Fatalf("failed after %d failures; the default failureThreshold is 3", i+1)
		}
	}
	if live = defaults.record(start, false, live); live {
		t.Error("not failed after the default 3 failures")
	}
}
