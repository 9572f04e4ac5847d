//go:build faults

package faults

import (
	"testing"
	"time"
)

// The long fault tests, run by `make test-faults` (-tags faults): each
// fault of the default tests, repeated. They do not exist in `make test`.

// TestWebhookReplicasKilledRepeatedly kills the busiest webhook replica
// three times during 600 applies, a fresh replica joining after each kill.
func TestWebhookReplicasKilledRepeatedly(t *testing.T) {
	webhookReplicaKilled(t, 600, 3)
}

// TestAPIServerRestartedRepeatedly restarts the API server three times
// under traffic, each time down for 15s.
func TestAPIServerRestartedRepeatedly(t *testing.T) {
	apiServerRestarts(t, 3, 15*time.Second, true)
}

// TestAPIServerRestartWithoutLeaderElection is the same fault with
// -leader-elect=false, which tells a failure of leader election (the
// leader exits when it cannot renew its Lease) from one of the proxy or
// the watches.
func TestAPIServerRestartWithoutLeaderElection(t *testing.T) {
	apiServerRestarts(t, 1, 15*time.Second, false)
}

// TestGatewayLeaderKilledRepeatedly kills the leading gateway replica three
// times under load, a fresh replica joining after each kill.
func TestGatewayLeaderKilledRepeatedly(t *testing.T) {
	gatewayLeaderKills(t, 3)
}

// TestOneReplicaUnderLongerFaults deletes a backend Pod four times under
// traffic and holds 2000 slow-header connections.
func TestOneReplicaUnderLongerFaults(t *testing.T) {
	oneReplicaUnderFaults(t, 4, 2000)
}
