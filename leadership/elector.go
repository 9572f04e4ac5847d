package leadership

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// Lease timings, controller-runtime's defaults: a leader that cannot renew
// for RenewDeadline stops writing; a dead leader is replaced within about
// LeaseDuration plus RetryPeriod. Losing the Lease ends no process (only
// writes stop), so a short Lease costs nothing and shortens failover.
const (
	LeaseDuration = 15 * time.Second
	RenewDeadline = 10 * time.Second
	RetryPeriod   = 2 * time.Second
)

// Elector campaigns for a Lease in a loop and records the outcome in State:
// leading while it holds the Lease, not leading (and campaigning again)
// once it loses it. It is a manager runnable that runs on every replica.
type Elector struct {
	State *State
	elect leaderelection.LeaderElectionConfig
	log   logr.Logger
}

// NewElector returns an Elector for the Lease namespace/name, with an
// identity unique to this process (host name and a random suffix, as
// controller-runtime does).
func NewElector(cfg *rest.Config, namespace, name string, state *State, log logr.Logger) (*Elector, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, fmt.Errorf("reading the host name for the leader-election identity: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rest.AddUserAgent(rest.CopyConfig(cfg), "leader-election"))
	if err != nil {
		return nil, fmt.Errorf("creating the leader-election client: %w", err)
	}
	id := host + "_" + string(uuid.NewUUID())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, namespace, name, cs.CoreV1(), cs.CoordinationV1(),
		resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return nil, fmt.Errorf("creating the leader-election Lease lock %s/%s: %w", namespace, name, err)
	}
	e := &Elector{State: state, log: log.WithValues("lease", namespace+"/"+name, "identity", id)}
	e.elect = leaderelection.LeaderElectionConfig{
		Lock:          lock,
		Name:          name, // labels client-go's leader_election_master_status metric
		LeaseDuration: LeaseDuration,
		RenewDeadline: RenewDeadline,
		RetryPeriod:   RetryPeriod,
		// A replica shutting down hands the Lease over at once.
		ReleaseOnCancel: true,
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {
				e.log.Info("leading: this replica writes status")
				state.Set(true)
			},
			OnStoppedLeading: func() {
				if state.Leading() {
					e.log.Info("stopped leading: status writes stop until this replica leads again")
				}
				state.Set(false)
			},
		},
	}
	if _, err := leaderelection.NewLeaderElector(e.elect); err != nil {
		return nil, fmt.Errorf("configuring leader election: %w", err)
	}
	return e, nil
}

// Start campaigns until ctx ends; losing the Lease starts a new campaign.
func (e *Elector) Start(ctx context.Context) error {
	for ctx.Err() == nil {
		le, err := leaderelection.NewLeaderElector(e.elect)
		if err != nil {
			return err
		}
		le.Run(ctx) // returns once leadership is lost or ctx ends
	}
	return nil
}

// NeedLeaderElection is false: the Elector is how leadership is decided.
func (*Elector) NeedLeaderElection() bool { return false }
