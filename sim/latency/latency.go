// Package latency records latency distributions for the summary's quantiles and for
// plots, in memory that does not grow with the number of samples.
//
// A Recorder wraps an HDR histogram (github.com/HdrHistogram/hdrhistogram-go) at three
// significant digits, so any quantile is within 0.1% of a recorded value, over 1ns to
// one day. Count, min, max and mean are kept exactly beside it: the summary promises
// exact min and max, and those are the figures a reader checks first.
package latency

import (
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
)

const (
	// lowest is 1ns, not 1µs: with a coarser unit HDR's first bucket would quantise
	// sub-millisecond latencies (network hops) far beyond 0.1%.
	lowest = 1
	// highest is one day; longer samples are counted at one day (but Max stays exact).
	highest = int64(24 * time.Hour)
	digits  = 3
)

// Recorder accumulates durations. The zero value is an empty Recorder ready to use; its
// histogram (about 300 KiB, whatever the number of samples) is allocated by the first
// Record, so a metric that never sees a sample costs nothing.
type Recorder struct {
	h        *hdrhistogram.Histogram
	count    int64
	min, max time.Duration
	sum      float64 // nanoseconds; float so it cannot overflow
}

// New returns an empty Recorder.
func New() *Recorder { return &Recorder{} }

// Record adds one sample. Negative durations count as 0.
func (r *Recorder) Record(d time.Duration) {
	d = max(d, 0)
	if r.h == nil {
		r.h = hdrhistogram.New(lowest, highest, digits)
	}
	// In range after the clamps, so RecordValue cannot fail.
	_ = r.h.RecordValue(min(int64(d), highest))
	if r.count == 0 || d < r.min {
		r.min = d
	}
	if r.count == 0 || d > r.max {
		r.max = d
	}
	r.count++
	r.sum += float64(d)
}

// Count reports the number of samples.
func (r *Recorder) Count() int64 { return r.count }

// Min returns the smallest sample, exactly; 0 when empty.
func (r *Recorder) Min() time.Duration { return r.min }

// Max returns the largest sample, exactly; 0 when empty.
func (r *Recorder) Max() time.Duration { return r.max }

// Mean returns the mean of the samples (to the nearest nanosecond); 0 when empty.
func (r *Recorder) Mean() time.Duration {
	if r.count == 0 {
		return 0
	}
	return time.Duration(r.sum/float64(r.count) + 0.5)
}

// Quantile returns the q-quantile (q in [0, 1]; 0.99 is p99): the exact min for q <= 0,
// the exact max for q >= 1, and otherwise the histogram's value, within 0.1%, clamped
// into [Min, Max]. It returns 0 when empty.
func (r *Recorder) Quantile(q float64) time.Duration {
	switch {
	case r.count == 0:
		return 0
	case !(q > 0): // also NaN
		return r.min
	case q >= 1:
		return r.max
	}
	v := time.Duration(r.h.ValueAtQuantile(q * 100))
	return min(max(v, r.min), r.max)
}

// Merge adds other's samples to r; other is unchanged. Merging r into itself counts
// every sample twice.
func (r *Recorder) Merge(other *Recorder) {
	if other == nil || other.count == 0 {
		return
	}
	if r.h == nil {
		r.h = hdrhistogram.New(lowest, highest, digits)
	}
	if other == r {
		// Histogram.Merge iterates the source while recording into the target; give
		// it a snapshot.
		r.h.Merge(other.h.Clone())
	} else {
		r.h.Merge(other.h)
	}
	if r.count == 0 || other.min < r.min {
		r.min = other.min
	}
	if r.count == 0 || other.max > r.max {
		r.max = other.max
	}
	r.count += other.count
	r.sum += other.sum
}

// Bucket is one non-empty histogram bucket: Count samples lie in [Lower, Upper].
type Bucket struct {
	Lower, Upper time.Duration
	Count        int64
}

// Buckets returns the non-empty buckets in increasing order, for histogram and CDF
// plots. Bucket widths are 0.1% of their values. The first bucket's Lower is the exact
// Min and the last bucket's Upper the exact Max (samples above a day are counted in the
// last bucket). It allocates, and is meant for reports, not the event loop.
func (r *Recorder) Buckets() []Bucket {
	if r.count == 0 {
		return nil
	}
	var out []Bucket
	for _, b := range r.h.Distribution() {
		if b.Count > 0 {
			out = append(out, Bucket{Lower: time.Duration(b.From), Upper: time.Duration(b.To), Count: b.Count})
		}
	}
	out[0].Lower = r.min
	out[len(out)-1].Upper = r.max
	return out
}
