package codecbench

import (
	"fmt"
	"math"
	"regexp"
	"runtime"
	"slices"
	"time"
)

// Options says what Run measures and for how long.
type Options struct {
	// Payloads are the Value sizes of TaskAssignment and CompleteTaskRequest, in bytes;
	// DefaultPayloads if empty.
	Payloads []int
	// Time is how long each case is measured, all its samples together: a run takes
	// about Time times the number of cases, plus a tenth for warming up, on a busy machine
	// as on an idle one. DefaultTime if zero.
	Time time.Duration
	// Count is the number of samples per case, each Time/Count long; DefaultCount if
	// zero. Compare needs several on each side: many short samples let a slow spell of
	// the machine spoil a few of them rather than shift all.
	Count int
	// Match, if not empty, is a regular expression a case's Name must match to run.
	Match string
	// Progress, if set, is called after each sample with the samples done and the total.
	Progress func(done, total int)
	// Wrap, if set, replaces each case's operation (which runs the codec n times) with
	// what it returns. It is for tests, which inject a known slowdown through it to prove
	// that Compare catches one.
	Wrap func(c Case, op func(n int) error) func(n int) error
}

// The defaults of Options: 20 samples of 50ms per case, about 85 seconds for the
// default payloads' 72 cases.
const (
	DefaultTime  = time.Second
	DefaultCount = 20
)

// Estimate is how long Run takes for n cases: the samples, and the warm-up of each case.
func Estimate(cases int, perCase time.Duration) time.Duration {
	return time.Duration(cases) * (perCase + perCase/warmupShare)
}

// warmupShare: warming a case up (finding its loop count) takes 1/warmupShare of its time.
const warmupShare = 10

// CaseCount is the number of cases opts selects.
func CaseCount(opts Options) (int, error) {
	cases, err := selectCases(opts)
	return len(cases), err
}

func selectCases(opts Options) ([]Case, error) {
	cases, err := Cases(opts.Payloads)
	if err != nil {
		return nil, err
	}
	if opts.Match != "" {
		re, err := regexp.Compile(opts.Match)
		if err != nil {
			return nil, fmt.Errorf("codecbench: match: %w", err)
		}
		cases = slices.DeleteFunc(cases, func(c Case) bool { return !re.MatchString(c.Name()) })
		if len(cases) == 0 {
			return nil, fmt.Errorf("codecbench: no case matches %q", opts.Match)
		}
	}
	return cases, nil
}

// Run measures every case that opts selects, Count samples each, Time/Count of wall
// time per sample whatever the machine's load. Samples are taken round robin (every
// case once, then again) so that a slow spell of the machine spreads over all cases
// instead of skewing one.
//
// A sample alternates short chunks (about chunkTime) of the case with chunks of its
// reference variant (referenceOf), each timed on its own, and keeps the median chunk of
// each: a chunk the scheduler interrupted (another process took the CPU) is an outlier
// the median ignores, and the reference, measured in the chunks between, slows with the
// machine when the case does, so that Compare can judge the case by its ratio to it.
func Run(opts Options) (*Report, error) {
	if opts.Time <= 0 {
		opts.Time = DefaultTime
	}
	if opts.Count <= 0 {
		opts.Count = DefaultCount
	}
	cases, err := selectCases(opts)
	if err != nil {
		return nil, err
	}
	sample := opts.Time / time.Duration(opts.Count)
	ops := make([]func(n int) error, len(cases))
	for i, c := range cases {
		s, err := c.setup()
		if err != nil {
			return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
		}
		ops[i] = s.op
		if opts.Wrap != nil {
			ops[i] = opts.Wrap(c, s.op)
		}
	}
	// Each case's reference (see referenceOf), -1 if none was selected.
	refs := make([]int, len(cases))
	for i, c := range cases {
		refs[i] = -1
		want := referenceOf(c.Variant)
		for j, f := range cases {
			if want != "" && f.Variant == want && f.Message == c.Message && f.PayloadBytes == c.PayloadBytes && f.Op == c.Op {
				refs[i] = j
			}
		}
	}
	chunks := make([]int, len(cases))
	allocates := make([]bool, len(cases))
	for i, c := range cases {
		if chunks[i], allocates[i], err = calibrate(ops[i], opts.Time/warmupShare); err != nil {
			return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
		}
	}
	rows := make([]Row, len(cases))
	for i, c := range cases {
		rows[i] = Row{Message: c.Message, PayloadBytes: c.PayloadBytes, Op: string(c.Op),
			Variant: c.Variant, SimPath: c.SimPath}
	}
	done, total := 0, len(cases)*opts.Count
	anyAllocates := slices.Contains(allocates, true)
	for range opts.Count {
		if anyAllocates {
			// As testing.B does, collect garbage first so that one case does not pay for
			// another's; once a round, not once a sample: on a busy machine a collection
			// takes milliseconds, and one per sample made a run 3 times longer than --time.
			runtime.GC()
		}
		for i, c := range cases {
			var refOp func(int) error
			refN := 0
			if f := refs[i]; f >= 0 {
				refOp, refN = ops[f], chunks[f]
			}
			m, err := measure(ops[i], chunks[i], refOp, refN, sample)
			if err != nil {
				return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
			}
			r := &rows[i]
			r.SamplesNs = append(r.SamplesNs, round(m.nsPerOp))
			if refOp != nil {
				r.Reference = cases[refs[i]].Variant
				r.RefSamplesNs = append(r.RefSamplesNs, round(m.refNsPerOp))
			}
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	}
	for i, c := range cases {
		r := &rows[i]
		// Allocations are counted once per case, on their own: reading them stops the
		// world (milliseconds on a busy machine), and within a sample they would count
		// the reference's too.
		if r.BytesPerOp, r.AllocsPerOp, err = allocations(ops[i], chunks[i]); err != nil {
			return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
		}
		r.NsPerOp = round(median(r.SamplesNs))
		if r.NsPerOp > 0 {
			r.MBPerS = round(float64(c.WireBytes) / r.NsPerOp * 1e3)
		}
	}
	return &Report{Method: Method, SampleNs: sample.Nanoseconds(), Rows: rows}, nil
}

// Method names how Run measures, so that Compare does not judge a report against one
// measured another way (an older tasksim timed whole samples).
const Method = "median-chunk-vs-reference"

// chunkTime is how long one timed chunk of a sample runs: short enough that most chunks
// run without the scheduler taking the CPU away on a busy machine (time slices are
// milliseconds), long enough that reading the clock costs nothing.
const chunkTime = 100 * time.Microsecond

// minChunks is the fewest chunks a sample has, however long they take. It is small so
// that a run takes the time --time says even on a machine so busy that the process gets
// a fraction of a CPU (15 made a run 2.6 times longer at load 27 on two cores); the
// median of three still ignores one interrupted chunk, and the gate that a busy machine
// cannot fool is ABCompare, not this.
const minChunks = 3

type measurement struct {
	nsPerOp, refNsPerOp float64
}

// calibrate warms op up for about budget and returns the loop count of a chunk (about
// chunkTime), and whether op allocates. Counts grow tenfold until a run lasts a tenth
// of a chunk; the rest of budget runs chunks, so that caches, pools and branch
// predictors are warm when sampling starts.
func calibrate(op func(n int) error, budget time.Duration) (int, bool, error) {
	start := time.Now()
	n := 1
	for {
		t0 := time.Now()
		if err := op(n); err != nil {
			return 0, false, err
		}
		elapsed := time.Since(t0)
		if elapsed >= chunkTime/10 || n >= 1e8 {
			per := float64(max(elapsed, 1)) / float64(n)
			n = max(1, int(float64(chunkTime)/per))
			break
		}
		n *= 10
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for time.Since(start) < budget {
		if err := op(n); err != nil {
			return 0, false, err
		}
	}
	if err := op(n); err != nil {
		return 0, false, err
	}
	runtime.ReadMemStats(&after)
	return n, after.Mallocs != before.Mallocs, nil
}

// measure is one sample: chunks of n ops, each followed by a chunk of refN reference
// ops when there is a reference, until d of wall time has passed. It returns the median
// chunk's ns/op of each.
func measure(op func(n int) error, n int, ref func(n int) error, refN int, d time.Duration) (measurement, error) {
	var times, refTimes []float64
	ops := 0
	for start := time.Now(); len(times) < minChunks || time.Since(start) < d; {
		t0 := time.Now()
		if err := op(n); err != nil {
			return measurement{}, err
		}
		t1 := time.Now()
		times = append(times, float64(t1.Sub(t0).Nanoseconds())/float64(n))
		ops += n
		if ref != nil {
			if err := ref(refN); err != nil {
				return measurement{}, err
			}
			refTimes = append(refTimes, float64(time.Since(t1).Nanoseconds())/float64(refN))
		}
	}
	return measurement{nsPerOp: median(times), refNsPerOp: median(refTimes)}, nil
}

// allocations runs n ops and returns the bytes and allocations per op.
func allocations(op func(n int) error, n int) (bytesPerOp, allocsPerOp int64, err error) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := op(n); err != nil {
		return 0, 0, err
	}
	runtime.ReadMemStats(&after)
	return int64(after.TotalAlloc-before.TotalAlloc) / int64(n), int64(after.Mallocs-before.Mallocs) / int64(n), nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// round keeps two decimals: more is noise, and it keeps codec.json readable.
func round(x float64) float64 { return math.Round(x*100) / 100 }

// referenceOf is the variant a case is timed against, chunk by chunk: protobuf-go's for
// every codec (vtprotobuf's for protobuf-go itself). Codecs do the same kind of work on
// the same message, so a machine that runs slower for a while (another process's cache
// traffic, a busier hypervisor) slows both alike and their ratio holds, where the memmove
// floor, bound by memory rather than by branches, would not. The floor has none: it is
// never gated.
func referenceOf(variant string) string {
	switch variant {
	case VariantMemmove:
		return ""
	case VariantProto:
		return VariantVTProto
	}
	return VariantProto
}
