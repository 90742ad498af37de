package scenarios

import (
	"fmt"

	"github.com/tasksim/tasksim/sim"
)

// Warnings lists what in cfg is valid but almost certainly not what was meant.
//
// A heartbeat interval at or above the heartbeat timeout (the orchestrator's suggestion,
// or a pool's own interval): such a worker cannot get a heartbeat in before the detector
// gives up on it, so every task running longer than the timeout is failed while its
// worker is alive. It is a warning rather than an error because it is also how one
// studies false detections on purpose (a 1ns timeout fails every task during its claim),
// and the numbers then are the point.
func Warnings(cfg *sim.Config) []string {
	var w []string
	o := cfg.Orchestrator
	if o.HeartbeatInterval >= o.HeartbeatTimeout {
		w = append(w, fmt.Sprintf("orchestrator.heartbeat_interval %s is not less than orchestrator.heartbeat_timeout %s: every task running longer than the timeout will be failed while its worker is alive",
			formatDuration(o.HeartbeatInterval), formatDuration(o.HeartbeatTimeout)))
	}
	for i, p := range cfg.Workers {
		if p.HeartbeatInterval > 0 && p.HeartbeatInterval >= o.HeartbeatTimeout {
			w = append(w, fmt.Sprintf("workers[%d].heartbeat_interval %s is not less than orchestrator.heartbeat_timeout %s: every task of pool %s running longer than the timeout will be failed while its worker is alive",
				i, formatDuration(p.HeartbeatInterval), formatDuration(o.HeartbeatTimeout), p.Pool))
		}
	}
	return w
}
