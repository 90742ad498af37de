package sim

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/tasksim/tasksim/sim/rng"
)

const distSamples = 200_000

// sampleStats draws distSamples from d with a fixed stream and returns the sample mean and
// the sorted samples, in nanoseconds.
func sampleStats(t *testing.T, d Dist) (mean float64, sorted []float64) {
	t.Helper()
	s := NewSampler(d)
	r := rng.New(1, "dist-test/"+string(d.Kind))
	sorted = make([]float64, distSamples)
	var sum float64
	for i := range sorted {
		v := s.Sample(r)
		if v < 0 {
			t.Fatalf("%+v: negative sample %v", d, v)
		}
		sorted[i] = float64(v)
		sum += float64(v)
	}
	slices.Sort(sorted)
	return sum / distSamples, sorted
}

func quantile(sorted []float64, q float64) float64 {
	return sorted[int(q*float64(len(sorted)-1))]
}

func within(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol*want {
		t.Errorf("%s = %.4g, want %.4g within %.1f%%", what, got, want, tol*100)
	}
}

func TestDistStatistics(t *testing.T) {
	ms := float64(time.Millisecond)
	lnSigma := math.Log(250.0/40.0) / 2.3263478740408408
	for _, c := range []struct {
		name              string
		d                 Dist
		mean, p50, p99    float64 // theory, ns; mean 0 = not checked (heavy tail)
		tolMean, tolQuant float64
		lo, hi            float64 // every sample in [lo, hi]
	}{
		{
			name: "uniform",
			d:    Dist{Kind: DistUniform, Min: 10 * time.Millisecond, Max: 30 * time.Millisecond},
			mean: 20 * ms, p50: 20 * ms, p99: 29.8 * ms, tolMean: 0.005, tolQuant: 0.01,
			lo: 10 * ms, hi: 30 * ms,
		},
		{
			name: "exponential",
			d:    Dist{Kind: DistExponential, Mean: 100 * time.Millisecond},
			mean: 100 * ms, p50: 100 * ms * math.Ln2, p99: 100 * ms * math.Log(100), tolMean: 0.01, tolQuant: 0.02,
			lo: 0, hi: math.Inf(1),
		},
		{
			name: "lognormal",
			d:    Dist{Kind: DistLognormal, Median: 40 * time.Millisecond, P99: 250 * time.Millisecond},
			mean: 40 * ms * math.Exp(lnSigma*lnSigma/2), p50: 40 * ms, p99: 250 * ms, tolMean: 0.01, tolQuant: 0.02,
			lo: 0, hi: math.Inf(1),
		},
		{
			name: "pareto alpha=3",
			d:    Dist{Kind: DistPareto, Min: 5 * time.Millisecond, Alpha: 3},
			mean: 3 * 5 * ms / 2, p50: 5 * ms * math.Pow(2, 1.0/3), p99: 5 * ms * math.Pow(100, 1.0/3), tolMean: 0.02, tolQuant: 0.02,
			lo: 5 * ms, hi: math.Inf(1),
		},
		{
			// Infinite variance: the sample mean is unreliable, so only quantiles are checked.
			name: "pareto alpha=1.5",
			d:    Dist{Kind: DistPareto, Min: time.Second, Alpha: 1.5},
			p50:  1e9 * math.Pow(2, 1/1.5), p99: 1e9 * math.Pow(100, 1/1.5), tolQuant: 0.03,
			lo: 1e9, hi: math.Inf(1),
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			mean, sorted := sampleStats(t, c.d)
			if c.mean > 0 {
				within(t, "mean", mean, c.mean, c.tolMean)
			}
			within(t, "p50", quantile(sorted, 0.5), c.p50, c.tolQuant)
			within(t, "p99", quantile(sorted, 0.99), c.p99, c.tolQuant)
			if sorted[0] < c.lo || sorted[len(sorted)-1] > c.hi {
				t.Errorf("samples span [%v, %v], want within [%v, %v]", sorted[0], sorted[len(sorted)-1], c.lo, c.hi)
			}
		})
	}
}

func TestDistUniformInclusive(t *testing.T) {
	// A two-value range must produce both ends, evenly.
	s := NewSampler(Dist{Kind: DistUniform, Min: 5, Max: 6})
	r := rng.New(1, "uniform-ends")
	var n5, n6 int
	for range 10_000 {
		switch s.Sample(r) {
		case 5:
			n5++
		case 6:
			n6++
		default:
			t.Fatal("sample outside [5, 6]")
		}
	}
	if n5 < 4700 || n6 < 4700 {
		t.Fatalf("ends drawn %d and %d times of 10000", n5, n6)
	}
}

func TestDistDegenerate(t *testing.T) {
	r := rng.New(1, "degenerate")
	for _, c := range []struct {
		name string
		d    Dist
		want time.Duration
	}{
		{"zero Dist", Dist{}, 0},
		{"unknown kind", Dist{Kind: "weibull", Value: time.Second}, 0},
		{"constant", Dist{Kind: DistConstant, Value: 1500 * time.Millisecond}, 1500 * time.Millisecond},
		{"negative constant", Dist{Kind: DistConstant, Value: -time.Second}, 0},
		{"uniform max below min", Dist{Kind: DistUniform, Min: time.Second, Max: time.Millisecond}, time.Second},
		{"uniform negative", Dist{Kind: DistUniform, Min: -2 * time.Second, Max: -time.Second}, 0},
		{"exponential zero mean", Dist{Kind: DistExponential}, 0},
		{"lognormal p99 below median", Dist{Kind: DistLognormal, Median: time.Second, P99: time.Millisecond}, time.Second},
		{"pareto zero alpha", Dist{Kind: DistPareto, Min: time.Second}, time.Second},
	} {
		s := NewSampler(c.d)
		for range 100 {
			if got := s.Sample(r); got != c.want {
				t.Fatalf("%s: Sample = %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func TestDistCapped(t *testing.T) {
	// A tail this heavy overflows int64 often; samples must stay within MaxSample.
	s := NewSampler(Dist{Kind: DistPareto, Min: time.Second, Alpha: 0.05})
	r := rng.New(1, "capped")
	capped := 0
	for range 10_000 {
		v := s.Sample(r)
		if v < time.Second || v > MaxSample {
			t.Fatalf("sample %v outside [1s, MaxSample]", v)
		}
		if v == MaxSample {
			capped++
		}
	}
	if capped == 0 {
		t.Fatal("no sample reached the cap; the test does not exercise it")
	}
}

func TestDistReproducible(t *testing.T) {
	d := Dist{Kind: DistLognormal, Median: 40 * time.Millisecond, P99: 250 * time.Millisecond}
	a, b := rng.New(5, "x"), rng.New(5, "x")
	s := NewSampler(d)
	for range 1000 {
		if s.Sample(a) != s.Sample(b) {
			t.Fatal("same stream gave different samples")
		}
	}
}

func TestDistNoAllocs(t *testing.T) {
	r := rng.New(1, "allocs")
	for _, d := range []Dist{
		{Kind: DistConstant, Value: time.Second},
		{Kind: DistUniform, Min: 1, Max: 100},
		{Kind: DistExponential, Mean: time.Second},
		{Kind: DistLognormal, Median: time.Second, P99: 3 * time.Second},
		{Kind: DistPareto, Min: time.Second, Alpha: 2},
	} {
		s := NewSampler(d)
		if n := testing.AllocsPerRun(1000, func() { s.Sample(r) }); n != 0 {
			t.Errorf("%s: %v allocations per sample", d.Kind, n)
		}
	}
}

func BenchmarkDistSample(b *testing.B) {
	r := rng.New(1, "bench")
	for _, d := range []Dist{
		{Kind: DistUniform, Min: 1, Max: 1000},
		{Kind: DistExponential, Mean: time.Second},
		{Kind: DistLognormal, Median: time.Second, P99: 3 * time.Second},
		{Kind: DistPareto, Min: time.Second, Alpha: 2},
	} {
		b.Run(string(d.Kind), func(b *testing.B) {
			s := NewSampler(d)
			var sink time.Duration
			for b.Loop() {
				sink += s.Sample(r)
			}
			_ = sink
		})
	}
}
