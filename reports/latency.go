package reports

import (
	"fmt"
	"math"

	"github.com/tasksim/tasksim/sim/latency"
)

// Distribution is a latency recorder as saved in latency.json: the recorder's own buckets
// (high dynamic range, so within 0.1% of the recorded values) with the exact min and max
// kept apart. Everything is in virtual seconds. Plots and metrics read this, never the
// recorder, so that a saved run re-draws exactly like a live one.
type Distribution struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	// Sum is exact (the recorder keeps it apart): a Prometheus histogram's _sum.
	Sum float64 `json:"sum"`
	// Buckets are the non-empty recorder buckets in increasing order.
	Buckets []Bucket `json:"buckets"`
}

// Bucket holds Count values that lie in [Lo, Hi] seconds.
type Bucket struct {
	Lo    float64 `json:"lo"`
	Hi    float64 `json:"hi"`
	Count int64   `json:"n"`
}

// FromRecorder copies a recorder's buckets and exact extremes. A nil recorder is empty.
func FromRecorder(r *latency.Recorder) Distribution {
	if r == nil || r.Count() == 0 {
		return Distribution{}
	}
	d := Distribution{Count: r.Count(), Min: r.Min().Seconds(), Max: r.Max().Seconds(),
		Sum: r.Mean().Seconds() * float64(r.Count())}
	for _, b := range r.Buckets() {
		if b.Count > 0 {
			d.Buckets = append(d.Buckets, Bucket{Lo: b.Lower.Seconds(), Hi: b.Upper.Seconds(), Count: b.Count})
		}
	}
	return d
}

// validate reports the first way d is inconsistent, so that a hand-edited or truncated
// latency.json is named rather than plotted wrong.
func (d *Distribution) validate() error {
	var n int64
	prev := math.Inf(-1)
	for i, b := range d.Buckets {
		switch {
		case b.Count < 0:
			return fmt.Errorf("bucket %d has a negative count %d", i, b.Count)
		case b.Lo > b.Hi:
			return fmt.Errorf("bucket %d: lo %g is above hi %g", i, b.Lo, b.Hi)
		case b.Lo < prev:
			return fmt.Errorf("bucket %d starts at %g, before the previous one ends at %g", i, b.Lo, prev)
		}
		prev = b.Hi
		n += b.Count
	}
	if n != d.Count {
		return fmt.Errorf("bucket counts sum to %d but count is %d", n, d.Count)
	}
	if d.Count > 0 && d.Min > d.Max {
		return fmt.Errorf("min %g is above max %g", d.Min, d.Max)
	}
	return nil
}

// BucketValue is where a bucket's values are taken to lie: its midpoint, clamped to the exact
// extremes so that the first and last buckets do not reach beyond what was recorded.
func (d *Distribution) BucketValue(b Bucket) float64 {
	return math.Min(math.Max((b.Lo+b.Hi)/2, d.Min), d.Max)
}

// CountAtMost is how many values are at most x. A bucket counts when it starts at or
// below x, so that a value recorded exactly at x (a deadline detector's detections land
// exactly on the timeout) is always included; the error is within one bucket (0.1%).
func (d *Distribution) CountAtMost(x float64) int64 {
	if d.Count == 0 || x < d.Min {
		return 0
	}
	if x >= d.Max {
		return d.Count
	}
	var n int64
	for _, b := range d.Buckets {
		if b.Lo > x {
			break
		}
		n += b.Count
	}
	return n
}

// Quantile is the value at quantile q in [0, 1]; 0 and 1 give the exact min and max.
// It is the recorder's own rule (sim/latency, HDR's ValueAtQuantile): the sample of rank
// round(q*count), reported as its bucket's highest equivalent value clamped into
// [min, max]. So every quantile a report prints, whether read here or from summary.json,
// is the same number.
func (d *Distribution) Quantile(q float64) float64 {
	if d.Count == 0 {
		return 0
	}
	if !(q > 0) {
		return d.Min
	}
	if q >= 1 {
		return d.Max
	}
	rank := int64(math.Min(math.Max(q*float64(d.Count)+0.5, 1), float64(d.Count)))
	var n int64
	for _, b := range d.Buckets {
		if n += b.Count; n >= rank {
			return math.Min(math.Max(b.Hi, d.Min), d.Max)
		}
	}
	return d.Max
}

// CDF returns the points of the empirical distribution function: for each bucket, its
// value and the fraction of values at or below it, starting at the exact min.
func (d *Distribution) CDF() (xs, ys []float64) {
	if d.Count == 0 {
		return nil, nil
	}
	xs, ys = append(xs, d.Min), append(ys, 0)
	var n int64
	for _, b := range d.Buckets {
		n += b.Count
		xs = append(xs, d.BucketValue(b))
		ys = append(ys, float64(n)/float64(d.Count))
	}
	xs[len(xs)-1] = d.Max // the last step lands exactly on the max
	return xs, ys
}
