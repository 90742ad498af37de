package scenarios

import (
	"github.com/tasksim/tasksim/sim"
)

// checkHeartbeats refuses a heartbeat interval at or above the heartbeat timeout, for
// the orchestrator's suggestion and for every pool's own interval. Such a worker cannot
// get a heartbeat in before the detector gives up on it: every task that runs longer than
// the timeout is failed while its worker is alive, and the run measures the mistake, not
// the dispatch. It is an error rather than a warning because nothing in the numbers
// would say why they are bad.
func (d *decoder) checkHeartbeats(cfg *sim.Config) {
	o := cfg.Orchestrator
	timeout := formatDuration(o.HeartbeatTimeout)
	if o.HeartbeatInterval >= o.HeartbeatTimeout {
		path := "orchestrator.heartbeat_interval"
		if _, set := d.locs[path]; !set {
			path = "orchestrator.heartbeat_timeout"
		}
		d.errPath(path, "heartbeat_interval %s is not less than heartbeat_timeout %s: every task running longer than the timeout would be failed while its worker is alive",
			formatDuration(o.HeartbeatInterval), timeout)
	}
	for i, p := range cfg.Workers {
		if p.HeartbeatInterval > 0 && p.HeartbeatInterval >= o.HeartbeatTimeout {
			d.errPath(joinPath(indexPath("workers", i), "heartbeat_interval"),
				"%s is not less than orchestrator.heartbeat_timeout %s: every task of this pool running longer than the timeout would be failed while its worker is alive",
				formatDuration(p.HeartbeatInterval), timeout)
		}
	}
}
