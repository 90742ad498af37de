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
	// Time is how long each sample runs, as -benchtime: the loop count is raised until
	// one run takes at least this long. DefaultTime if zero.
	Time time.Duration
	// Count is the number of samples per case, as -count; DefaultCount if zero. Compare
	// needs at least 4 on each side to see any difference at alpha 0.05, 5 or more to be
	// useful on a noisy machine.
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

// The defaults of Options.
const (
	DefaultTime  = time.Second
	DefaultCount = 5
)

// Run measures every case that opts selects, Count times each. Samples are taken round
// robin (every case once, then again) so that a slow spell of the machine spreads over
// all cases instead of skewing one.
func Run(opts Options) (*Report, error) {
	if opts.Time <= 0 {
		opts.Time = DefaultTime
	}
	if opts.Count <= 0 {
		opts.Count = DefaultCount
	}
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
	rows := make([]Row, len(cases))
	for i, c := range cases {
		rows[i] = Row{Message: c.Message, PayloadBytes: c.PayloadBytes, Op: string(c.Op),
			Variant: c.Variant, SimPath: c.SimPath}
	}
	done, total := 0, len(cases)*opts.Count
	for range opts.Count {
		for i, c := range cases {
			m, err := measure(ops[i], opts.Time)
			if err != nil {
				return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
			}
			r := &rows[i]
			r.SamplesNs = append(r.SamplesNs, round(m.nsPerOp))
			// Allocation counts barely vary between samples; keep the last.
			r.BytesPerOp, r.AllocsPerOp = m.bytesPerOp, m.allocsPerOp
			done++
			if opts.Progress != nil {
				opts.Progress(done, total)
			}
		}
	}
	for i, c := range cases {
		r := &rows[i]
		r.NsPerOp = round(median(r.SamplesNs))
		if r.NsPerOp > 0 {
			r.MBPerS = round(float64(c.WireBytes) / r.NsPerOp * 1e3)
		}
	}
	return &Report{Rows: rows}, nil
}

type measurement struct {
	nsPerOp                 float64
	bytesPerOp, allocsPerOp int64
}

// measure runs op in a loop whose count grows, as testing.B does, until one run lasts
// at least d, and reports that run. The shorter runs before it serve as warm-up.
func measure(op func(n int) error, d time.Duration) (measurement, error) {
	n := 1
	for {
		m, elapsed, err := runN(op, n)
		if err != nil {
			return m, err
		}
		if elapsed >= d || n >= 1e9 {
			return m, nil
		}
		// Aim 20% past d, but grow at most 100x at a time so that a slow first call
		// (a cold cache, a first allocation) does not make the estimate absurd.
		per := max(elapsed.Nanoseconds()/int64(n), 1)
		next := int(float64(d.Nanoseconds()) * 1.2 / float64(per))
		n = min(max(next, n+1), 100*n, 1e9)
	}
}

func runN(op func(n int) error, n int) (measurement, time.Duration, error) {
	// As testing.B does: collect garbage first so that one run does not pay for the
	// last, and count allocations from the runtime's own totals.
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	if err := op(n); err != nil {
		return measurement{}, 0, err
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	return measurement{
		nsPerOp:     float64(elapsed.Nanoseconds()) / float64(n),
		bytesPerOp:  int64(after.TotalAlloc-before.TotalAlloc) / int64(n),
		allocsPerOp: int64(after.Mallocs-before.Mallocs) / int64(n),
	}, elapsed, nil
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
