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

// RunMetrics are counts beyond the summary that metrics export.
type RunMetrics struct {
	DuplicateDeliveries int64
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
