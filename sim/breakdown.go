package sim

import (
	"time"

	"github.com/tasksim/tasksim/sim/latency"
)

// DetectionCause is what really lay behind a task the heartbeat timer failed, as the
// oracle's ground truth has it. Plots title and legend detections by it, so that false or
// partition detections are never drawn as "crash detection".
type DetectionCause uint8

const (
	CauseCrash     DetectionCause = iota // the worker had crashed
	CauseFalse                           // alive and running the task: heartbeats lost or late
	CausePause                           // the worker was paused
	CausePartition                       // alive but cut off by a partition
	// CauseTerminate: the worker got SIGTERM and ended without completing the task (its
	// grace ran out and it cancelled it). Counted in detection.since_crash, measured from
	// the cancel: the process is gone as after a crash, only announced.
	CauseTerminate
	// NumDetectionCauses sizes arrays indexed by cause.
	NumDetectionCauses
)

var causeNames = [NumDetectionCauses]string{"crash", "false", "pause", "partition", "terminate"}

// String is the cause's name as reports show it: crash, false, pause, partition, terminate.
func (c DetectionCause) String() string {
	if c < NumDetectionCauses {
		return causeNames[c]
	}
	return "DetectionCause(?)"
}

// breakdown holds the oracle's per-cause, per-component and per-pool latency recorders.
// Recorders allocate on their first sample, so a component that completes nothing costs
// nothing.
type breakdown struct {
	byCause [NumDetectionCauses]*latency.Recorder
	// componentPool maps a component index to its pool's index in Config.Workers (-1: none).
	componentPool         []int
	componentEnd, poolEnd []*latency.Recorder
}

func newBreakdown(cfg *Config) breakdown {
	b := breakdown{componentPool: make([]int, len(cfg.Components))}
	for i := range b.byCause {
		b.byCause[i] = latency.New()
	}
	for i, c := range cfg.Components {
		b.componentPool[i] = -1
		for j, p := range cfg.Workers {
			if p.Pool == c.Pool {
				b.componentPool[i] = j
				break
			}
		}
		b.componentEnd = append(b.componentEnd, latency.New())
	}
	for range cfg.Workers {
		b.poolEnd = append(b.poolEnd, latency.New())
	}
	return b
}

// detected records a heartbeat timeout's latency since the last heartbeat under its cause.
func (b *breakdown) detected(c DetectionCause, sinceLastHeartbeat time.Duration) {
	b.byCause[c].Record(sinceLastHeartbeat)
}

// completed records a completed step's end-to-end latency under its component and pool.
func (b *breakdown) completed(component int32, endToEnd time.Duration) {
	if component < 0 || int(component) >= len(b.componentEnd) {
		return
	}
	b.componentEnd[component].Record(endToEnd)
	if p := b.componentPool[component]; p >= 0 {
		b.poolEnd[p].Record(endToEnd)
	}
}

// Breakdown is the latency data behind the per-cause plots and the per-component and
// per-pool report rows.
type Breakdown struct {
	// DetectionByCause holds each heartbeat timeout's time since the last heartbeat, by
	// cause; their counts add up to timeouts.heartbeat.
	DetectionByCause [NumDetectionCauses]*latency.Recorder
	// ComponentEndToEnd and PoolEndToEnd hold completed steps' end-to-end latency, indexed
	// like Config.Components and Config.Workers.
	ComponentEndToEnd, PoolEndToEnd []*latency.Recorder
}

func (b *breakdown) result() Breakdown {
	return Breakdown{DetectionByCause: b.byCause, ComponentEndToEnd: b.componentEnd, PoolEndToEnd: b.poolEnd}
}
