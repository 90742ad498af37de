package latency

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// within01 reports whether got is within 0.1% of want.
func within01(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= 0.001*float64(want)
}

func TestEmpty(t *testing.T) {
	var r Recorder
	if r.Count() != 0 || r.Min() != 0 || r.Max() != 0 || r.Mean() != 0 || r.Quantile(0.5) != 0 || r.Buckets() != nil {
		t.Fatal("empty Recorder reports non-zero figures")
	}
	r.Merge(New())
	r.Merge(nil)
	if r.Count() != 0 || r.h != nil {
		t.Fatal("merging empty recorders changed an empty one")
	}
}

func TestUniformMilliseconds(t *testing.T) {
	// 1µs, 2µs, ..., 10000µs: the q-quantile is q*10ms.
	r := New()
	const n = 10_000
	for i := n; i >= 1; i-- { // order must not matter
		r.Record(time.Duration(i) * time.Microsecond)
	}
	if r.Count() != n || r.Min() != time.Microsecond || r.Max() != n*time.Microsecond {
		t.Fatalf("Count, Min, Max = %d, %v, %v", r.Count(), r.Min(), r.Max())
	}
	if got, want := r.Mean(), 5000500*time.Nanosecond; got != want {
		t.Fatalf("Mean = %v, want %v", got, want)
	}
	for _, q := range []float64{0.001, 0.1, 0.25, 0.5, 0.9, 0.99, 0.999} {
		want := time.Duration(q*n) * time.Microsecond
		if got := r.Quantile(q); !within01(got, want) {
			t.Errorf("Quantile(%v) = %v, want %v within 0.1%%", q, got, want)
		}
	}
	if r.Quantile(0) != time.Microsecond || r.Quantile(1) != n*time.Microsecond {
		t.Errorf("Quantile(0), Quantile(1) = %v, %v, want exact min and max", r.Quantile(0), r.Quantile(1))
	}
}

func TestSmallValuesExact(t *testing.T) {
	// Below 2048ns every nanosecond has its own bucket.
	r := New()
	for i := 1; i <= 100; i++ {
		r.Record(time.Duration(i))
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.01, 1}, {0.5, 50}, {0.9, 90}, {0.99, 99}, {1, 100}} {
		if got := r.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
}

func TestExactMinMaxClamp(t *testing.T) {
	// A single odd value: every quantile is that value exactly, though its HDR bucket
	// is wider than one nanosecond.
	r := New()
	d := 1234567891 * time.Nanosecond
	r.Record(d)
	for _, q := range []float64{0, 0.01, 0.5, 0.99, 1, math.NaN(), -1, 2} {
		if got := r.Quantile(q); got != d {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, d)
		}
	}
	b := r.Buckets()
	if len(b) != 1 || b[0] != (Bucket{Lower: d, Upper: d, Count: 1}) {
		t.Errorf("Buckets = %+v, want one bucket [%v, %v] of 1", b, d, d)
	}
}

func TestOutOfRange(t *testing.T) {
	r := New()
	r.Record(-time.Second)
	r.Record(time.Second)
	r.Record(100 * time.Hour) // beyond the histogram: counted at one day, max exact
	if r.Min() != 0 || r.Max() != 100*time.Hour || r.Count() != 3 {
		t.Fatalf("Min, Max, Count = %v, %v, %d", r.Min(), r.Max(), r.Count())
	}
	if got := r.Quantile(0.999); got < 24*time.Hour || got > 100*time.Hour {
		t.Errorf("Quantile(0.999) = %v, want within [24h, 100h]", got)
	}
	b := r.Buckets()
	if b[len(b)-1].Upper != 100*time.Hour || b[0].Lower != 0 {
		t.Errorf("Buckets = %+v, want first Lower 0 and last Upper 100h", b)
	}
}

func TestAgainstExactQuantiles(t *testing.T) {
	// Lognormal latencies over several decades: HDR quantiles are within 0.1% of the
	// exact order statistic of the same rank.
	rng := rand.New(rand.NewPCG(3, 4))
	r := New()
	vals := make([]time.Duration, 200_000)
	for i := range vals {
		vals[i] = time.Duration(float64(time.Millisecond) * math.Exp(2*rng.NormFloat64()))
		r.Record(vals[i])
	}
	slices.Sort(vals)
	for _, q := range []float64{0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999, 0.9999} {
		rank := int(q*float64(len(vals))+0.5) - 1
		if got, want := r.Quantile(q), vals[rank]; !within01(got, want) {
			t.Errorf("Quantile(%v) = %v, exact %v: off by more than 0.1%%", q, got, want)
		}
	}
}

func TestMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	all, a, b := New(), New(), New()
	for i := range 50_000 {
		d := time.Duration(rng.Int64N(int64(10 * time.Second)))
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	var m Recorder // zero value merges too
	m.Merge(a)
	m.Merge(b)
	if m.Count() != all.Count() || m.Min() != all.Min() || m.Max() != all.Max() {
		t.Fatalf("merged Count, Min, Max = %d, %v, %v, want %d, %v, %v",
			m.Count(), m.Min(), m.Max(), all.Count(), all.Min(), all.Max())
	}
	if !within01(m.Mean(), all.Mean()) {
		t.Errorf("merged Mean = %v, want %v", m.Mean(), all.Mean())
	}
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
		if m.Quantile(q) != all.Quantile(q) {
			t.Errorf("merged Quantile(%v) = %v, want %v", q, m.Quantile(q), all.Quantile(q))
		}
	}
	if !slices.Equal(m.Buckets(), all.Buckets()) {
		t.Error("merged Buckets differ")
	}
	if a.Count() != 16_667 {
		t.Errorf("merge changed its source: Count = %d", a.Count())
	}

	c := New()
	c.Record(time.Second)
	c.Record(2 * time.Second)
	c.Merge(c)
	if c.Count() != 4 || !within01(c.Quantile(0.5), time.Second) || c.Quantile(0.75) != 2*time.Second {
		t.Errorf("self-merge: Count %d, p50 %v, p75 %v", c.Count(), c.Quantile(0.5), c.Quantile(0.75))
	}
}

func TestBuckets(t *testing.T) {
	r := New()
	for range 3 {
		r.Record(10 * time.Millisecond)
	}
	r.Record(20 * time.Millisecond)
	for range 6 {
		r.Record(5 * time.Second)
	}
	b := r.Buckets()
	if len(b) != 3 {
		t.Fatalf("Buckets = %+v, want 3", b)
	}
	for i, want := range []struct {
		v time.Duration
		n int64
	}{{10 * time.Millisecond, 3}, {20 * time.Millisecond, 1}, {5 * time.Second, 6}} {
		if b[i].Count != want.n || want.v < b[i].Lower || want.v > b[i].Upper || !within01(b[i].Upper, want.v) {
			t.Errorf("bucket %d = %+v, want %d around %v", i, b[i], want.n, want.v)
		}
	}
}

func TestMemoryIndependentOfSamples(t *testing.T) {
	r := New()
	r.Record(time.Millisecond)
	size := r.h.ByteSize()
	rng := rand.New(rand.NewPCG(1, 1))
	allocs := testing.AllocsPerRun(100_000, func() {
		r.Record(time.Duration(rng.Int64N(int64(time.Hour))))
	})
	if allocs != 0 || r.h.ByteSize() != size {
		t.Fatalf("Record allocates %v per sample; histogram grew from %d to %d bytes", allocs, size, r.h.ByteSize())
	}
}

func BenchmarkRecord(b *testing.B) {
	r := New()
	rng := rand.New(rand.NewPCG(1, 1))
	vals := make([]time.Duration, 4096)
	for i := range vals {
		vals[i] = time.Duration(rng.Int64N(int64(10 * time.Second)))
	}
	i := 0
	for b.Loop() {
		r.Record(vals[i&4095])
		i++
	}
}
