package sweep

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/sim"
)

// File is a sweep's (or a shard's) result in its out directory.
const File = "sweep.json"

// maxSeeds bounds a seed list: a sweep keeps every seed's numbers (about a kilobyte
// each) until it writes sweep.json, so 10^7 seeds took gigabytes. More than this is
// sharded (--shard), each shard a process of its own.
const maxSeeds = 100_000

// ParseSeeds reads a seed list: "1..100", "7", "1,5,9", or a mix ("1..10,20,30..32").
// The result is sorted and without repeats.
func ParseSeeds(spec string) ([]uint64, error) {
	seen := map[uint64]bool{}
	var out []uint64
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "..")
		a, err := strconv.ParseUint(strings.TrimSpace(lo), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("seeds %q: %q is not a seed, a range A..B or a comma list of them", spec, part)
		}
		b := a
		if isRange {
			if b, err = strconv.ParseUint(strings.TrimSpace(hi), 10, 64); err != nil || b < a {
				return nil, fmt.Errorf("seeds %q: range %q must be A..B with whole numbers A <= B", spec, part)
			}
		}
		if b-a >= maxSeeds || len(out)+int(b-a) >= maxSeeds {
			return nil, fmt.Errorf("seeds %q: more than %d seeds in one sweep (each seed's numbers are kept in memory); split it with --shard i/n", spec, maxSeeds)
		}
		for s := a; ; s++ {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
			if s == b {
				break
			}
		}
	}
	slices.Sort(out)
	return out, nil
}

// ParseShard reads "i/n": the i-th of n shards, 1 <= i <= n (a Kubernetes indexed Job
// passes JOB_COMPLETION_INDEX+1).
func ParseShard(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 1 || i > n {
		return 0, 0, fmt.Errorf("shard %q: want i/n with 1 <= i <= n, e.g. 2/4", s)
	}
	return i, n, nil
}

// ShardSeeds is shard i of n: every n-th seed from the i-th on, so that slow and fast
// seeds spread evenly over shards.
func ShardSeeds(seeds []uint64, i, n int) []uint64 {
	var out []uint64
	for k := i - 1; k < len(seeds); k += n {
		out = append(out, seeds[k])
	}
	return out
}

// RunFunc runs one seed of the swept scenario and returns its summary with the
// expectations checked. Each call must be independent: sweeps call it from P goroutines.
type RunFunc func(seed uint64) (*sim.Summary, error)

// Options say what a sweep runs.
type Options struct {
	// Scenario is the scenario's name (summary.json's scenario).
	Scenario string
	// Source is the SCENARIO argument (for replay lines); Sets its --set overrides.
	Source string
	Sets   []string
	// SeedSpec is the seed list as given ("1..100"); the sweep covers all of it, or one
	// shard of it when Shards > 0.
	SeedSpec      string
	Shard, Shards int
	Parallel      int
	// ScenarioSHA256 is the hash of the scenario file's bytes, so that shards run on
	// different versions of a file are not merged as one sweep.
	ScenarioSHA256 string
	// Progress, if set, is called after each seed with the seeds done and their total,
	// from one goroutine at a time.
	Progress func(done, total int)
}

// Sweep is sweep.json: every seed's outcome and summary numbers, and their aggregate. It
// holds no wall-clock figure, so a sweep merged from shards equals the unsharded one.
type Sweep struct {
	Version  int      `json:"version"`
	Scenario string   `json:"scenario"`
	Source   string   `json:"source"`
	Sets     []string `json:"sets,omitempty"`
	SeedSpec string   `json:"seed_spec"`
	// ScenarioSHA256 is the SHA-256 of the scenario file the sweep ran.
	ScenarioSHA256 string `json:"scenario_sha256,omitempty"`
	// Shard is "i/n" for one shard of a sweep; empty for a whole or merged one.
	Shard string `json:"shard,omitempty"`
	// Paths names the columns of every seed's Values: the summary's numeric paths but perf.
	Paths     []string     `json:"paths"`
	Seeds     []SeedResult `json:"seeds"`
	Aggregate []PathStats  `json:"aggregate"`
}

// SeedResult is one seed of a sweep.
type SeedResult struct {
	Seed      uint64                  `json:"seed"`
	OK        bool                    `json:"ok"`
	TraceHash string                  `json:"trace_hash"`
	Failed    []sim.ExpectationResult `json:"failed,omitempty"`
	Values    []float64               `json:"values"`
}

// PathStats is one summary path's distribution across the seeds.
type PathStats struct {
	Path string  `json:"path"`
	Min  float64 `json:"min"`
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
}

// sweepPaths are the columns of a sweep: wall-clock figures differ between machines and
// would make shards unmergeable into the same bytes.
func sweepPaths() []string {
	var out []string
	for _, p := range sim.SummaryPaths() {
		if !strings.HasPrefix(p, "perf.") {
			out = append(out, p)
		}
	}
	return out
}

// Run runs every seed of opts (or of its shard) on opts.Parallel goroutines, each
// run on one goroutine as ever, and aggregates them. An error of any run fails the sweep;
// the one reported is that of the lowest seed, so that the message is reproducible.
func Run(opts Options, run RunFunc) (*Sweep, error) {
	seeds, err := ParseSeeds(opts.SeedSpec)
	if err != nil {
		return nil, err
	}
	sw := &Sweep{Version: 1, Scenario: opts.Scenario, Source: opts.Source, Sets: opts.Sets, SeedSpec: opts.SeedSpec,
		ScenarioSHA256: opts.ScenarioSHA256, Paths: sweepPaths()}
	if opts.Shards > 0 {
		seeds = ShardSeeds(seeds, opts.Shard, opts.Shards)
		sw.Shard = fmt.Sprintf("%d/%d", opts.Shard, opts.Shards)
	}
	results := make([]SeedResult, len(seeds))
	errs := make([]error, len(seeds))
	names := make([]string, len(seeds))
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for range max(1, min(opts.Parallel, len(seeds))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				s, err := run(seeds[i])
				if err != nil {
					errs[i] = fmt.Errorf("seed %d: %w", seeds[i], err)
					continue
				}
				names[i] = s.Scenario
				results[i], errs[i] = seedResult(seeds[i], s, sw.Paths)
				if opts.Progress != nil {
					mu.Lock()
					done++
					opts.Progress(done, len(seeds))
					mu.Unlock()
				}
			}
		}()
	}
	for i := range seeds {
		next <- i
	}
	close(next)
	wg.Wait()
	if err := firstError(errs); err != nil {
		return nil, err
	}
	if len(names) > 0 && sw.Scenario == "" {
		sw.Scenario = names[0]
	}
	sw.Seeds = results
	sw.aggregate()
	return sw, nil
}

func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func seedResult(seed uint64, s *sim.Summary, paths []string) (SeedResult, error) {
	r := SeedResult{Seed: seed, OK: true, TraceHash: s.TraceHash, Values: make([]float64, len(paths))}
	for _, e := range s.Expectations {
		if !e.OK {
			r.OK = false
			r.Failed = append(r.Failed, e)
		}
	}
	for i, p := range paths {
		v, err := s.Value(p)
		if err != nil {
			return r, fmt.Errorf("seed %d: %w", seed, err)
		}
		r.Values[i] = v
	}
	return r, nil
}

// aggregate computes each path's distribution across the seeds (nearest-rank quantiles).
func (sw *Sweep) aggregate() {
	sw.Aggregate = nil
	if len(sw.Seeds) == 0 {
		return
	}
	col := make([]float64, len(sw.Seeds))
	for j, p := range sw.Paths {
		sum := 0.0
		for i, s := range sw.Seeds {
			col[i] = s.Values[j]
			sum += col[i]
		}
		sort.Float64s(col)
		rank := func(q float64) float64 { return col[max(0, int(math.Ceil(q*float64(len(col))))-1)] }
		sw.Aggregate = append(sw.Aggregate, PathStats{
			Path: p, Min: col[0], Mean: sum / float64(len(col)),
			P50: rank(0.5), P90: rank(0.9), P99: rank(0.99), Max: col[len(col)-1],
		})
	}
}

// Failed returns the seeds whose expectations failed.
func (sw *Sweep) Failed() []SeedResult {
	var out []SeedResult
	for _, s := range sw.Seeds {
		if !s.OK {
			out = append(out, s)
		}
	}
	return out
}

// Merge joins the shards of one sweep. It checks that they are shards of the same
// sweep, that none is missing or given twice, and recomputes the aggregate, so that the
// result equals the sweep run unsharded.
func Merge(shards []*Sweep, names []string) (*Sweep, error) {
	if len(shards) == 0 {
		return nil, fmt.Errorf("no sweep files to merge")
	}
	first := shards[0]
	out := &Sweep{Version: 1, Scenario: first.Scenario, Source: first.Source, Sets: first.Sets, SeedSpec: first.SeedSpec,
		ScenarioSHA256: first.ScenarioSHA256, Paths: first.Paths}
	seedFrom := map[uint64]string{}
	shardSeen := map[string]string{}
	total := 0
	for k, sh := range shards {
		switch {
		case sh.Source != first.Source || sh.SeedSpec != first.SeedSpec || !slices.Equal(sh.Sets, first.Sets):
			return nil, fmt.Errorf("%s: a shard of %s (seeds %s, sets %q), not of %s (seeds %s, sets %q) like %s",
				names[k], sh.Source, sh.SeedSpec, sh.Sets, first.Source, first.SeedSpec, first.Sets, names[0])
		case sh.ScenarioSHA256 != first.ScenarioSHA256:
			return nil, fmt.Errorf("%s: a shard of another scenario file than %s (sha256 %s, not %s): the file changed between the shards' runs",
				names[k], names[0], short(sh.ScenarioSHA256), short(first.ScenarioSHA256))
		case !slices.Equal(sh.Paths, first.Paths):
			return nil, fmt.Errorf("%s: its summary paths differ from %s's (written by another tasksim version?)", names[k], names[0])
		case sh.Shard == "":
			return nil, fmt.Errorf("%s: not a shard (a whole sweep)", names[k])
		}
		if prev, dup := shardSeen[sh.Shard]; dup {
			return nil, fmt.Errorf("%s: shard %s is given twice (also %s)", names[k], sh.Shard, prev)
		}
		shardSeen[sh.Shard] = names[k]
		_, n, err := ParseShard(sh.Shard)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", names[k], err)
		}
		if total == 0 {
			total = n
		} else if n != total {
			return nil, fmt.Errorf("%s: shard %s of a sweep split %d ways, the others %d ways", names[k], sh.Shard, n, total)
		}
		for _, r := range sh.Seeds {
			if prev, dup := seedFrom[r.Seed]; dup {
				return nil, fmt.Errorf("%s: seed %d is also in %s; shards of one sweep share no seed", names[k], r.Seed, prev)
			}
			seedFrom[r.Seed] = names[k]
		}
		out.Seeds = append(out.Seeds, sh.Seeds...)
	}
	if len(shards) != total {
		var missing []string
		for i := 1; i <= total; i++ {
			if _, ok := shardSeen[fmt.Sprintf("%d/%d", i, total)]; !ok {
				missing = append(missing, fmt.Sprintf("%d/%d", i, total))
			}
		}
		return nil, fmt.Errorf("shards missing: %s", strings.Join(missing, ", "))
	}
	sort.Slice(out.Seeds, func(i, j int) bool { return out.Seeds[i].Seed < out.Seeds[j].Seed })
	if want, err := ParseSeeds(first.SeedSpec); err == nil && len(want) != len(out.Seeds) {
		for _, s := range want {
			if _, ok := seedFrom[s]; !ok {
				return nil, fmt.Errorf("the shards hold %d of the %d seeds of %s; seed %d is in none", len(out.Seeds), len(want), first.SeedSpec, s)
			}
		}
		return nil, fmt.Errorf("the shards hold %d seeds, %s has %d", len(out.Seeds), first.SeedSpec, len(want))
	}
	out.aggregate()
	return out, nil
}

func short(hash string) string {
	if hash == "" {
		return "none recorded"
	}
	return hash[:min(12, len(hash))]
}

// Marshal renders sweep.json.
func Marshal(sw *Sweep) ([]byte, error) {
	b, err := json.MarshalIndent(sw, "", " ")
	if err != nil {
		return nil, fmt.Errorf("render %s: %w", File, err)
	}
	return append(b, '\n'), nil
}

// Read loads a sweep.json (a sweep or a shard).
func Read(path string) (*Sweep, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		path = path + string(os.PathSeparator) + File
	}
	var sw Sweep
	if err := reports.ReadJSON(path, &sw); err != nil {
		return nil, err
	}
	if sw.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, this tasksim reads version 1", path, sw.Version)
	}
	for _, s := range sw.Seeds {
		if len(s.Values) != len(sw.Paths) {
			return nil, fmt.Errorf("%s: seed %d has %d values for %d paths", path, s.Seed, len(s.Values), len(sw.Paths))
		}
	}
	return &sw, nil
}

// WriteText prints a sweep for a terminal: the verdict, every failing seed with the
// line that replays it, and the distribution across seeds of every path, the ones that
// stayed zero included (lost 0 on every seed is what a sweep is run to confirm), in
// numbers a person reads: durations in their unit, ratios in percent, counts grouped by
// thousands.
func WriteText(w io.Writer, sw *Sweep) error {
	var b strings.Builder
	failed := sw.Failed()
	what := "sweep"
	if sw.Shard != "" {
		what = "shard " + sw.Shard + " of sweep"
	}
	verdict := "PASS"
	if len(failed) > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(&b, "%s  %s %s, seeds %s: %d runs, %d failed\n", verdict, what, sw.Scenario, sw.SeedSpec, len(sw.Seeds), len(failed))
	for _, f := range failed {
		var exprs []string
		for _, e := range f.Failed {
			exprs = append(exprs, fmt.Sprintf("%s (observed %s)", e.Expr, reports.FormatObserved(e.Expr, e.Observed)))
		}
		fmt.Fprintf(&b, "  FAIL seed %d: %s\n       %s\n", f.Seed, strings.Join(exprs, "; "), reports.ReplayCommand(sw.Source, f.Seed, sw.Sets))
	}
	b.WriteString("\nacross seeds:\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "path\tmin\tp50\tp90\tp99\tmax\tmean\t")
	for _, a := range sw.Aggregate {
		if a.Path == "seed" {
			continue
		}
		f := func(v float64) string { return humanNumber(a.Path, v) }
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", a.Path, f(a.Min), f(a.P50), f(a.P90), f(a.P99), f(a.Max), f(a.Mean))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// humanNumber shows a path's value for a person: 1.25s, 99.80%, 12,345, 3.142.
func humanNumber(path string, v float64) string {
	switch {
	case reports.IsDurationPath(path):
		return reports.Seconds(v)
	case strings.HasSuffix(path, "_ratio"):
		return strconv.FormatFloat(100*v, 'f', 2, 64) + "%"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return groupThousands(int64(v))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// groupThousands writes n with commas between groups of three digits.
func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
