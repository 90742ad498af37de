package sim

import (
	"math"
	"math/rand/v2"
	"time"
)

// MaxSample caps every sample (2^62 ns, about 146 years) so that adding a sample to a
// virtual time cannot overflow int64, whatever a heavy tail draws.
const MaxSample = time.Duration(1 << 62)

// lognormalZ99 is the standard normal's 99th percentile: with it, a lognormal given by
// its median and p99 has sigma = ln(p99/median) / lognormalZ99.
const lognormalZ99 = 2.3263478740408408

type samplerKind uint8

const (
	sampleConstant samplerKind = iota
	sampleUniform
	sampleExponential
	sampleLognormal
	samplePareto
)

// Sampler draws durations from a Dist. Its parameters are worked out once by NewSampler,
// so Sample is a few floating-point operations and never allocates. The zero Sampler
// always returns 0.
type Sampler struct {
	kind samplerKind
	base int64   // constant: the value; uniform: min
	span int64   // uniform: max - min
	x    float64 // exponential: mean; lognormal: median; pareto: min
	y    float64 // lognormal: sigma; pareto: 1/alpha
}

// NewSampler prepares d for sampling. It does not validate d (the scenarios package
// does): a p99 at or below the median gives a constant median, a uniform Max below Min
// gives Min, a non-positive Pareto alpha gives Min, and the zero Dist or an unknown
// kind gives 0.
func NewSampler(d Dist) Sampler {
	switch d.Kind {
	case DistConstant:
		return Sampler{kind: sampleConstant, base: int64(d.Value)}
	case DistUniform:
		return Sampler{kind: sampleUniform, base: int64(d.Min), span: max(int64(d.Max)-int64(d.Min), 0)}
	case DistExponential:
		return Sampler{kind: sampleExponential, x: float64(d.Mean)}
	case DistLognormal:
		s := Sampler{kind: sampleLognormal, x: float64(d.Median)}
		if d.Median > 0 && d.P99 > d.Median {
			s.y = math.Log(float64(d.P99)/float64(d.Median)) / lognormalZ99
		}
		return s
	case DistPareto:
		if d.Alpha <= 0 {
			return Sampler{kind: sampleConstant, base: int64(d.Min)}
		}
		return Sampler{kind: samplePareto, x: float64(d.Min), y: 1 / d.Alpha}
	}
	return Sampler{}
}

// Sample draws one duration from r, in [0, MaxSample]: whole nanoseconds for constant
// and uniform, whole microseconds for the distributions computed in floating point.
func (s Sampler) Sample(r *rand.Rand) time.Duration {
	switch s.kind {
	case sampleUniform:
		if s.span <= 0 {
			return clampInt(s.base)
		}
		// Inclusive of Max; Int64N is exact, where a float scale would round.
		if s.span == math.MaxInt64 {
			return clampInt(s.base + int64(r.Uint64()>>1))
		}
		return clampInt(s.base + r.Int64N(s.span+1))
	case sampleExponential:
		// float64(...) rounds the product, so no platform fuses it with what follows
		// (the Go spec allows fused multiply-add).
		return clampFloat(float64(r.ExpFloat64() * s.x))
	case sampleLognormal:
		return clampFloat(float64(s.x * math.Exp(float64(s.y*r.NormFloat64()))))
	case samplePareto:
		// Inverse transform: min * U^(-1/alpha) = min * exp(E/alpha) with E = -ln U ~ Exp(1).
		return clampFloat(float64(s.x * math.Exp(float64(r.ExpFloat64()*s.y))))
	}
	return clampInt(s.base)
}

func clampInt(v int64) time.Duration {
	return time.Duration(min(max(v, 0), int64(MaxSample)))
}

// floatQuantum is the resolution of samples computed in floating point. math.Exp on
// amd64 takes an FMA path on CPUs that have one, which can change the last bit of a
// result; rounding to whole microseconds makes such a difference almost never change a
// sample, so a seed gives the same run on every machine.
const floatQuantum = float64(time.Microsecond)

func clampFloat(v float64) time.Duration {
	if !(v > 0) { // also catches NaN
		return 0
	}
	if v >= float64(MaxSample) {
		return MaxSample
	}
	return time.Duration(math.Round(v/floatQuantum)) * time.Microsecond
}
