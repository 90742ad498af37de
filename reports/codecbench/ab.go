package codecbench

import (
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"runtime/debug"
	"slices"
	"text/tabwriter"
	"time"
)

// A Side is one build of the codec cases, timed on request: this process's own (Local),
// or another tasksim binary serving its cases over a pipe (StartRemote).
type Side interface {
	// Names lists the side's cases, by Case.Name.
	Names() []string
	// Time runs case i's operation n times and returns how long that took.
	Time(i, n int) (time.Duration, error)
	// Collect collects garbage. ABCompare keeps the collector off while it times (a
	// collection would slow whichever chunk it met) and calls Collect between rounds.
	Collect() error
}

// Local is this process's cases as a Side. ABCompare turns this process's garbage
// collector off while it times.
type Local struct {
	names []string
	ops   []func(n int) error
}

// NewLocal sets up every case opts selects (opts.Payloads, opts.Match, opts.Wrap).
func NewLocal(opts Options) (*Local, error) {
	cases, err := selectCases(opts)
	if err != nil {
		return nil, err
	}
	l := &Local{}
	for _, c := range cases {
		s, err := c.setup()
		if err != nil {
			return nil, fmt.Errorf("codecbench: %s: %w", c.Name(), err)
		}
		op := s.op
		if opts.Wrap != nil {
			op = opts.Wrap(c, op)
		}
		l.names = append(l.names, c.Name())
		l.ops = append(l.ops, op)
	}
	return l, nil
}

// Names implements Side.
func (l *Local) Names() []string { return l.names }

// Time implements Side.
func (l *Local) Time(i, n int) (time.Duration, error) {
	t0 := time.Now()
	err := l.ops[i](n)
	return time.Since(t0), err
}

// Collect implements Side.
func (l *Local) Collect() error {
	runtime.GC()
	return nil
}

// ABOptions says how long ABCompare measures and what it tolerates.
type ABOptions struct {
	// Time is how long each case is measured, its chunks on both sides together;
	// DefaultTime if zero. A comparison takes about Time times the number of cases, plus
	// a tenth for warming up.
	Time time.Duration
	// Threshold is the slowdown tolerated, as a fraction; DefaultThreshold if <= 0.
	Threshold float64
	// Progress, if set, is called after each round (every case once) with the
	// milliseconds of measuring done and their total.
	Progress func(done, total int)
}

// ABMethod names how ABCompare measures and judges, for its JSON.
const ABMethod = "ab-paired-chunks"

// ABConfidence is the confidence of the interval around a row's median ratio: the gate
// fails a row only when the whole interval lies beyond the threshold.
const ABConfidence = 0.99

// minPairs is the fewest pairs a row is judged on, however slow the machine: fewer would
// leave the interval too wide to tell a 25% slowdown from noise.
const minPairs = 41

// ABComparison is the verdict of ABCompare, one ABDelta per case both sides have.
type ABComparison struct {
	Method     string    `json:"method"`
	Threshold  float64   `json:"threshold"`
	Confidence float64   `json:"confidence"`
	Pairs      int       `json:"pairs"` // per case
	Deltas     []ABDelta `json:"deltas"`
	// Unmatched lists the cases only one side has; they are not compared.
	Unmatched []string `json:"unmatched,omitempty"`
}

// ABDelta is one case: the candidate's time over the baseline's, pair by pair.
type ABDelta struct {
	Case   string  `json:"case"`
	BaseNs float64 `json:"base_ns"` // medians of ns/op over the chunks
	CandNs float64 `json:"cand_ns"`
	// Ratio is the median over the pairs of candidate time / baseline time, Low and High
	// the bounds of its ABConfidence interval: 1.25 is 25% slower.
	Ratio float64 `json:"ratio"`
	Low   float64 `json:"low"`
	High  float64 `json:"high"`
	// Regression: Low is above 1 + threshold, on a codec row (the memmove floor measures
	// the machine, not a codec, and never fails the gate).
	Regression bool `json:"regression"`
}

// Failed reports whether any row regressed.
func (c ABComparison) Failed() bool { return len(c.Regressions()) > 0 }

// Regressions returns the rows that fail the gate.
func (c ABComparison) Regressions() []ABDelta {
	var out []ABDelta
	for _, d := range c.Deltas {
		if d.Regression {
			out = append(out, d)
		}
	}
	return out
}

// ABCompare times each case on base and on cand alternately, in short chunks of the same
// operation count, and judges cand by its time relative to base pair by pair. A pair is
// four chunks, base cand cand base (cand base base cand in every other round, so that
// neither side always runs after itself): a machine that is slower or busier for a
// while slows both sides of a pair alike, which is what a baseline measured at another
// time cannot give. Chunks are short (about chunkTime) so that most run without the
// scheduler taking the CPU away, and a pair keeps the faster chunk of each side (noise
// only ever adds time); the garbage collector is off while chunks run and collects
// between rounds, so that a collection one case started does not land on another's
// chunks. A pair where both chunks of a side were slowed is an outlier either way, and
// a row is judged by the median pair ratio with a distribution-free
// ABConfidence interval (order statistics of the binomial). A row regresses when the
// interval's lower bound exceeds 1 + threshold: it is slower by more than the threshold
// beyond reasonable doubt. Cases are visited round robin, one pair each per round.
func ABCompare(base, cand Side, opts ABOptions) (ABComparison, error) {
	if opts.Time <= 0 {
		opts.Time = DefaultTime
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	c := ABComparison{Method: ABMethod, Threshold: opts.Threshold, Confidence: ABConfidence}
	baseIndex := map[string]int{}
	for i, n := range base.Names() {
		baseIndex[n] = i
	}
	type row struct {
		name         string
		b, c         int // index on each side
		n            int // operations per chunk
		baseT, candT []float64
		ratios       []float64
	}
	var rows []*row
	candNames := map[string]bool{}
	for i, name := range cand.Names() {
		candNames[name] = true
		j, ok := baseIndex[name]
		if !ok {
			c.Unmatched = append(c.Unmatched, "new: "+name)
			continue
		}
		rows = append(rows, &row{name: name, b: j, c: i})
	}
	for _, name := range base.Names() {
		if !candNames[name] {
			c.Unmatched = append(c.Unmatched, "gone: "+name)
		}
	}
	if len(rows) == 0 {
		return c, errors.New("codecbench: compare: the two builds have no case in common")
	}
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	// Warm-up: find each case's chunk size on the candidate, then run both sides for a
	// tenth of the time, so that caches, pools and branch predictors are warm.
	for _, r := range rows {
		n, err := chunkOps(func(n int) (time.Duration, error) { return cand.Time(r.c, n) })
		if err != nil {
			return c, fmt.Errorf("codecbench: %s: %w", r.name, err)
		}
		r.n = n
		warm := opts.Time / warmupShare
		for start := time.Now(); time.Since(start) < warm; {
			if _, err := base.Time(r.b, n); err != nil {
				return c, fmt.Errorf("codecbench: %s on the baseline: %w", r.name, err)
			}
			if _, err := cand.Time(r.c, n); err != nil {
				return c, fmt.Errorf("codecbench: %s: %w", r.name, err)
			}
		}
		if err := errors.Join(base.Collect(), cand.Collect()); err != nil {
			return c, fmt.Errorf("codecbench: %w", err)
		}
	}
	pair := func(r *row, candFirst bool) error {
		var a1, b1, b2, a2 time.Duration
		var err error
		first, second := base, cand
		fi, si := r.b, r.c
		if candFirst {
			first, second, fi, si = cand, base, r.c, r.b
		}
		if a1, err = first.Time(fi, r.n); err != nil {
			return err
		}
		if b1, err = second.Time(si, r.n); err != nil {
			return err
		}
		if b2, err = second.Time(si, r.n); err != nil {
			return err
		}
		if a2, err = first.Time(fi, r.n); err != nil {
			return err
		}
		// The faster chunk of each side: noise (an interruption, caches another process
		// emptied) only ever adds time.
		bt, ct := min(a1, a2), min(b1, b2)
		if candFirst {
			bt, ct = ct, bt
		}
		if bt <= 0 || ct <= 0 {
			return nil // below the clock's resolution; chunkOps makes this rare
		}
		r.baseT = append(r.baseT, float64(bt)/float64(r.n))
		r.candT = append(r.candT, float64(ct)/float64(r.n))
		r.ratios = append(r.ratios, float64(ct)/float64(bt))
		return nil
	}
	runRound := func(k int) error {
		for _, r := range rows {
			if err := pair(r, k%2 == 1); err != nil {
				return fmt.Errorf("codecbench: %s: %w", r.name, err)
			}
		}
		if err := base.Collect(); err != nil {
			return fmt.Errorf("codecbench: baseline: %w", err)
		}
		return cand.Collect()
	}
	// Rounds run until every case has had its Time (and at least minPairs rounds).
	budget := time.Duration(len(rows)) * opts.Time
	rounds := 0
	for start := time.Now(); rounds < minPairs || time.Since(start) < budget; rounds++ {
		if err := runRound(rounds); err != nil {
			return c, err
		}
		if opts.Progress != nil {
			elapsed := time.Since(start)
			opts.Progress(int(min(elapsed, budget)/time.Millisecond), int(budget/time.Millisecond))
		}
	}
	c.Pairs = rounds
	for _, r := range rows {
		d := ABDelta{Case: r.name, BaseNs: round(median(r.baseT)), CandNs: round(median(r.candT))}
		d.Ratio, d.Low, d.High = medianInterval(r.ratios, ABConfidence)
		d.Regression = d.Low > 1+opts.Threshold && variantOfName(r.name) != VariantMemmove
		c.Deltas = append(c.Deltas, d)
	}
	return c, nil
}

// variantOfName is the last element of a case name.
func variantOfName(name string) string {
	for i := len(name) - 1; i >= 0; i-- {
		if name[i] == '/' {
			return name[i+1:]
		}
	}
	return name
}

// chunkOps returns the operation count of a chunk of about chunkTime: counts grow
// tenfold until a run lasts a tenth of a chunk, then a few chunks of that estimate are
// timed and the fastest sets the count (the first runs of a case are slow: cold caches,
// first allocations, and would make chunks too short).
func chunkOps(timeOp func(n int) (time.Duration, error)) (int, error) {
	perOp := func(d time.Duration, n int) float64 { return float64(max(d, 1)) / float64(n) }
	n := 1
	for {
		elapsed, err := timeOp(n)
		if err != nil {
			return 0, err
		}
		if elapsed >= chunkTime/10 || n >= 1e8 {
			n = max(1, int(float64(chunkTime)/perOp(elapsed, n)))
			break
		}
		n *= 10
	}
	fastest := math.Inf(1)
	for range 5 {
		elapsed, err := timeOp(n)
		if err != nil {
			return 0, err
		}
		fastest = min(fastest, perOp(elapsed, n))
	}
	return max(1, int(float64(chunkTime)/fastest)), nil
}

// medianInterval returns the median of xs and a distribution-free confidence interval
// for it: the order statistics k and n+1-k, where k is the largest count whose binomial
// (n, 1/2) tail is at most (1-confidence)/2. With fewer than about 10 values no such k
// exists and the interval is the whole range.
func medianInterval(xs []float64, confidence float64) (med, lo, hi float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	med = median(s)
	tail := (1 - confidence) / 2
	// P(X <= k-1) for X ~ Binomial(n, 1/2), accumulated in logs to stay finite.
	k, cum := 0, 0.0
	for j := 0; j < n; j++ {
		lg, _ := math.Lgamma(float64(n + 1))
		l1, _ := math.Lgamma(float64(j + 1))
		l2, _ := math.Lgamma(float64(n - j + 1))
		cum += math.Exp(lg - l1 - l2 - float64(n)*math.Ln2)
		if cum > tail {
			break
		}
		k = j + 1
	}
	if k == 0 {
		return med, s[0], s[n-1]
	}
	return med, s[k-1], s[n-k]
}

// Table writes the comparison, one row per case, and the verdict.
func (c ABComparison) Table(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "case\tbase ns/op\tnew ns/op\tnew/base\t%.0f%% interval\t\n", 100*c.Confidence)
	for _, d := range c.Deltas {
		mark := ""
		if d.Regression {
			mark = "REGRESSION"
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.3f\t%.3f-%.3f\t%s\n", d.Case, d.BaseNs, d.CandNs, d.Ratio, d.Low, d.High, mark)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("codecbench: write comparison: %w", err)
	}
	for _, u := range c.Unmatched {
		fmt.Fprintf(w, "not compared: %s\n", u)
	}
	n := len(c.Regressions())
	verdict := "no slowdown"
	if n > 0 {
		verdict = fmt.Sprintf("%d slowdown(s)", n)
	}
	_, err := fmt.Fprintf(w, "%s beyond %.0f%% (%d pairs of chunks per case, timed alternately on both builds; a row fails when its whole %.0f%% interval is beyond)\n",
		verdict, 100*c.Threshold, c.Pairs, 100*c.Confidence)
	return err
}
