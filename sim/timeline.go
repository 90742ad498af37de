package sim

import "time"

// Timeline is what the plots over virtual time need: per-second samples of steps in
// flight and steps settled, and the fault windows.
type Timeline struct {
	// BucketSeconds is the width of each sample; 1 unless the run was long.
	BucketSeconds float64 `json:"bucket_seconds"`
	// InFlight[i] is the steps submitted but not settled at the start of bucket i.
	InFlight []int64 `json:"in_flight"`
	// Settled[i] is the steps that settled during bucket i.
	Settled []int64       `json:"settled"`
	Faults  []FaultWindow `json:"faults"`
}

// FaultWindow is when a fault was active, in virtual seconds.
type FaultWindow struct {
	Kind  string  `json:"kind"`
	Start float64 `json:"start"`
	End   float64 `json:"end"`
}

// RunMetrics are counts beyond the summary that metrics export, broken down the way the
// reference orchestrator labels its metrics.
type RunMetrics struct {
	DuplicateDeliveries int64
	// Components holds per-component counts, in the scenario's order.
	Components []ComponentStats `json:"components"`
	// Pools holds each pool's queue gauges at the end of the run, in the scenario's order.
	Pools []PoolStats `json:"pools"`
}

// ComponentStats counts one component's steps and tasks.
type ComponentStats struct {
	Component          string `json:"component"`
	Pool               string `json:"pool"`
	Success            int64  `json:"success"`
	Failure            int64  `json:"failure"`
	QueueTimeouts      int64  `json:"queue_timeouts"`
	HeartbeatTimeouts  int64  `json:"heartbeat_timeouts"`
	ExecutionTimeouts  int64  `json:"execution_timeouts"`
	RetriesTransport   int64  `json:"retries_transport"`
	RetriesComponent   int64  `json:"retries_component"`
	RetriesRecovery    int64  `json:"retries_recovery"`
	ExhaustedTransport int64  `json:"retries_exhausted_transport"`
	ExhaustedComponent int64  `json:"retries_exhausted_component"`
	Unhealthy          int64  `json:"unhealthy"`
}

// PoolStats are one pool's queue gauges.
type PoolStats struct {
	Pool             string `json:"pool"`
	QueueDepth       int64  `json:"queue_depth"`
	ConnectedWorkers int64  `json:"connected_workers"`
}

// maxBuckets bounds a timeline's length: long runs merge buckets.
const maxBuckets = 4096

func newTimeline() Timeline { return Timeline{BucketSeconds: 1} }

func (t *Timeline) bucket(now time.Duration) int {
	return int(now.Seconds() / t.BucketSeconds)
}

// advance opens buckets up to now, sampling inFlight at each opening.
func (t *Timeline) advance(now time.Duration, inFlight int64) {
	for b := t.bucket(now); len(t.InFlight) <= b; {
		if len(t.InFlight) >= maxBuckets {
			t.merge()
			b = t.bucket(now)
			continue
		}
		t.InFlight = append(t.InFlight, inFlight)
		t.Settled = append(t.Settled, 0)
	}
}

// quietUntil returns an instant before which advance opens no bucket: a little before
// the next bucket's start, checked against bucket() itself so that float rounding can
// only make it earlier, never late.
func (t *Timeline) quietUntil() time.Duration {
	q := time.Duration(float64(len(t.InFlight))*t.BucketSeconds*float64(time.Second)) - time.Millisecond
	for q > 0 && t.bucket(q) >= len(t.InFlight) {
		q -= time.Millisecond
	}
	return max(q, 0)
}

// Fit merges buckets, halving the resolution each time, until at most MaxBuckets remain:
// for a timeline read back from a file, which may hold more than the simulator writes
// (plotting a million buckets took gigabytes). InFlight and Settled must be as long.
func (t *Timeline) Fit() {
	for len(t.InFlight) > maxBuckets {
		t.merge()
	}
}

// MaxBuckets is the most buckets a timeline holds.
const MaxBuckets = maxBuckets

// merge halves the resolution so that the timeline stays small.
func (t *Timeline) merge() {
	n := len(t.InFlight) / 2
	for i := 0; i < n; i++ {
		t.InFlight[i] = t.InFlight[2*i]
		t.Settled[i] = t.Settled[2*i] + t.Settled[2*i+1]
	}
	t.InFlight, t.Settled = t.InFlight[:n], t.Settled[:n]
	t.BucketSeconds *= 2
}

func (t *Timeline) settle(now time.Duration) {
	if b := t.bucket(now); b < len(t.Settled) {
		t.Settled[b]++
	}
}

func (t *Timeline) finish(now time.Duration, inFlight int64) {
	t.advance(now, inFlight)
}
