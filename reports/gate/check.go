package gate

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tasksim/tasksim/reports"
	"github.com/tasksim/tasksim/reports/safefile"
	"github.com/tasksim/tasksim/sim"
)

// Baseline is the file `tasksim check` compares against: for each scenario its trace
// hash and the values of chosen summary paths, and for each path how far it may move.
// `--update` rewrites the values and hashes and keeps the paths and tolerances, which
// are the user's to edit.
type Baseline struct {
	Version int `json:"version"`
	// StrictHash makes a changed trace hash a failure even when every value is within
	// tolerance (off: a changed hash is reported, and the tolerances decide).
	StrictHash bool `json:"strict_hash"`
	// Sets are the --set overrides the baseline was recorded with. A check applies them
	// when it is given none, and refuses other ones: a difference in flags would read
	// as a regression of the code.
	Sets []string `json:"sets,omitempty"`
	// Paths are the compared summary paths and their tolerances.
	Paths     map[string]Tolerance     `json:"paths"`
	Scenarios map[string]BaselineEntry `json:"scenarios"`
}

// Tolerance is how far a value may move from the baseline: the larger of Abs and Rel
// times the baseline value. Worse says which way is a regression: "up" (more is worse:
// latencies, losses, timeouts), "down" (less is worse: completed_ratio) or "either";
// empty is the path's natural direction (NaturalWorse), which --update writes out.
type Tolerance struct {
	Abs   float64 `json:"abs,omitempty"`
	Rel   float64 `json:"rel,omitempty"`
	Worse string  `json:"worse,omitempty"`
}

// BaselineEntry is one scenario's recorded outcome.
type BaselineEntry struct {
	Seed      uint64             `json:"seed"`
	TraceHash string             `json:"trace_hash"`
	Values    map[string]float64 `json:"values"`
	// Paths overrides the file's tolerances for this scenario (optional).
	Paths map[string]Tolerance `json:"paths,omitempty"`
}

// DefaultTolerances are the paths a new baseline compares: outcomes exactly, counts and
// latencies with some room, so that a change that reorders events without changing
// behaviour passes, and one that costs latency or loses tasks fails.
func DefaultTolerances() map[string]Tolerance {
	return map[string]Tolerance{
		"completed_ratio":                    {Abs: 0.005, Worse: "down"},
		"lost":                               {Worse: "up"},
		"failed":                             {Abs: 2, Rel: 0.1, Worse: "up"},
		"missed_detections":                  {Worse: "up"},
		"duplicate_results":                  {Abs: 2, Rel: 0.2, Worse: "up"},
		"double_executions":                  {Abs: 2, Rel: 0.2, Worse: "up"},
		"stale_results":                      {Abs: 2, Rel: 0.2, Worse: "up"},
		"early_timeouts":                     {Abs: 2, Rel: 0.2, Worse: "up"},
		"false_detections":                   {Abs: 3, Rel: 0.2, Worse: "up"},
		"attempts":                           {Abs: 5, Rel: 0.05, Worse: "up"},
		"retries.transport":                  {Abs: 5, Rel: 0.2, Worse: "up"},
		"timeouts.heartbeat":                 {Abs: 5, Rel: 0.2, Worse: "up"},
		"timeouts.queue":                     {Abs: 5, Rel: 0.2, Worse: "up"},
		"detection.since_last_heartbeat.p99": {Abs: 0.5, Rel: 0.1, Worse: "up"},
		"detection.since_last_heartbeat.max": {Abs: 0.5, Rel: 0.1, Worse: "up"},
		"detection.since_crash.max":          {Abs: 0.5, Rel: 0.1, Worse: "up"},
		"latency.end_to_end.p50":             {Abs: 0.05, Rel: 0.1, Worse: "up"},
		"latency.end_to_end.p99":             {Abs: 0.5, Rel: 0.1, Worse: "up"},
	}
}

// ReadBaseline loads a baseline file. A file that does not exist, or a scenario entry
// with no values, is an error unless allowMissing (for --update, which writes them).
func ReadBaseline(path string, allowMissing bool) (*Baseline, error) {
	var b Baseline
	err := reports.ReadJSON(path, &b)
	if err != nil {
		if _, statErr := os.Stat(path); allowMissing && errors.Is(statErr, fs.ErrNotExist) {
			return &Baseline{Version: 1, Paths: DefaultTolerances(), Scenarios: map[string]BaselineEntry{}}, nil
		}
		return nil, err
	}
	if b.Version != 1 {
		return nil, fmt.Errorf("%s: version %d, this tasksim reads version 1", path, b.Version)
	}
	for p, t := range b.Paths {
		if err := checkTolerance(p, t); err != nil {
			return nil, fmt.Errorf("%s: paths: %w", path, err)
		}
	}
	for name, e := range b.Scenarios {
		for p, t := range e.Paths {
			if err := checkTolerance(p, t); err != nil {
				return nil, fmt.Errorf("%s: scenarios.%s.paths: %w", path, name, err)
			}
		}
	}
	if b.Scenarios == nil {
		b.Scenarios = map[string]BaselineEntry{}
	}
	if !allowMissing {
		// An entry without values compares nothing, so it would pass any regression.
		// (--update, which allows a missing file, records them.)
		names := make([]string, 0, len(b.Scenarios))
		for name := range b.Scenarios {
			names = append(names, name)
		}
		sort.Strings(names)
		for _, name := range names {
			if len(b.Scenarios[name].Values) == 0 {
				return nil, fmt.Errorf("%s: scenarios.%s has no values, so nothing of it would be compared; record them with tasksim check --update", path, name)
			}
		}
	}
	return &b, nil
}

func checkTolerance(path string, t Tolerance) error {
	switch {
	case !sim.IsSummaryPath(path):
		return fmt.Errorf("%q is not a numeric summary.json path", path)
	case t.Abs < 0 || t.Rel < 0:
		return fmt.Errorf("%s: tolerances must be >= 0", path)
	case t.Worse != "" && t.Worse != WorseUp && t.Worse != WorseDown && t.Worse != WorseEither:
		return fmt.Errorf("%s: worse is %q, want \"up\", \"down\", \"either\" or empty (the path's natural direction, %q)", path, t.Worse, NaturalWorse(path))
	}
	return nil
}

// The directions of worse.
const (
	WorseUp     = "up"
	WorseDown   = "down"
	WorseEither = "either"
)

// lessIsWorse are the summary paths that get worse as they shrink: what was done and
// how fast the simulator ran. Every other path (latencies, losses, timeouts, retries,
// hazards, detections) gets worse as it grows.
var lessIsWorse = map[string]bool{
	"completed":                            true,
	"completed_ratio":                      true,
	"perf.events_per_second":               true,
	"perf.virtual_seconds_per_wall_second": true,
	"perf.codec_mb_per_second":             true,
}

// NaturalWorse is the direction in which a summary path gets worse: "down" for what was
// done (completed, completed_ratio) and for speeds, "up" for everything else.
func NaturalWorse(path string) string {
	if lessIsWorse[path] {
		return WorseDown
	}
	return WorseUp
}

// worse is the tolerance's direction of worse, the path's natural one if unsaid.
func (t Tolerance) worse(path string) string {
	if t.Worse == "" {
		return NaturalWorse(path)
	}
	return t.Worse
}

// ApplySets reconciles a check's --set overrides with those the baseline was recorded
// with, and returns the ones to run with: the baseline's when the check has none, the
// check's when they agree or when updating (which records them). Other overrides are an
// error that names both.
func (b *Baseline) ApplySets(sets []string, update bool) ([]string, error) {
	switch {
	case update:
		b.Sets = slices.Clone(sets)
		return sets, nil
	case len(sets) == 0:
		return slices.Clone(b.Sets), nil
	case slices.Equal(sets, b.Sets):
		return sets, nil
	}
	return nil, fmt.Errorf("--set: the baseline was recorded with %s, this check has %s: different overrides would read as a regression; pass the baseline's (or none, to apply them), or record a new baseline with --update",
		describeSets(b.Sets), describeSets(sets))
}

func describeSets(sets []string) string {
	if len(sets) == 0 {
		return "no --set"
	}
	return "--set " + strings.Join(sets, " --set ")
}

// WriteBaseline writes the baseline file (keys sorted, so that diffs stay small), with
// every path's direction of worse written out.
func WriteBaseline(path string, b *Baseline) error {
	for p, t := range b.Paths {
		t.Worse = t.worse(p)
		b.Paths[p] = t
	}
	for _, e := range b.Scenarios {
		for p, t := range e.Paths {
			t.Worse = t.worse(p)
			e.Paths[p] = t
		}
	}
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return fmt.Errorf("render baseline: %w", err)
	}
	if err := safefile.WriteFile(path, append(data, '\n')); err != nil {
		return fmt.Errorf("write baseline: %w", err)
	}
	return nil
}

// RunFunc runs one scenario (a built-in name or file) and returns its summary with
// the expectations checked. It is called from several goroutines.
type RunFunc func(scenario string) (*sim.Summary, error)

// Result is one scenario's verdict.
type Result struct {
	Scenario string
	Summary  *sim.Summary
	// NotInBaseline: the baseline has no entry for the scenario (run --update).
	NotInBaseline bool
	HashChanged   bool
	BaselineHash  string
	Changes       []Change
	// Err is a run that did not finish (the scenario did not load or the run failed).
	Err error
}

// Change is a compared path whose value differs from the baseline.
type Change struct {
	Path               string
	Baseline, Observed float64
	// Allowed is the tolerance in the path's unit; Worse the direction of worse;
	// Regression is a move beyond Allowed in that direction (a move beyond it the other
	// way is reported as an improvement, not failed).
	Allowed    float64
	Worse      string
	Regression bool
}

// FailedExpectations returns the run's expectations that did not hold.
func (r *Result) FailedExpectations() []sim.ExpectationResult {
	if r.Summary == nil {
		return nil
	}
	var out []sim.ExpectationResult
	for _, e := range r.Summary.Expectations {
		if !e.OK {
			out = append(out, e)
		}
	}
	return out
}

// Regressions returns the changes that fail the check.
func (r *Result) Regressions() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Regression {
			out = append(out, c)
		}
	}
	return out
}

// Passed reports whether the scenario passes the gate (strict says whether a changed
// hash alone fails it).
func (r *Result) Passed(strict bool) bool {
	return r.Err == nil && !r.NotInBaseline && len(r.FailedExpectations()) == 0 &&
		len(r.Regressions()) == 0 && !(strict && r.HashChanged)
}

// Report is the outcome of `tasksim check`.
type Report struct {
	Baseline *Baseline
	// Sets are the --set overrides every scenario ran with (for replay lines).
	Sets    []string
	Results []*Result
	Updated bool
}

// Passed reports whether every scenario passed.
func (c *Report) Passed() bool {
	for _, r := range c.Results {
		if !r.Passed(c.Baseline.StrictHash) {
			return false
		}
	}
	return true
}

// Run runs each scenario (parallel at a time) and compares it with the baseline.
// With update, the baseline's entries for those scenarios are replaced by what ran (the
// caller writes the file); expectations still decide whether it passed.
func Run(scenarios []string, base *Baseline, parallel int, update bool, run RunFunc) *Report {
	rep := &Report{Baseline: base, Updated: update}
	rep.Results = make([]*Result, len(scenarios))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(parallel, len(scenarios))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &Result{Scenario: scenarios[i]}
				r.Summary, r.Err = run(scenarios[i])
				if r.Err == nil && r.Summary.Scenario != "" {
					r.Scenario = r.Summary.Scenario // the baseline is keyed by name, not by file path
				}
				rep.Results[i] = r
			}
		}()
	}
	for i := range scenarios {
		next <- i
	}
	close(next)
	wg.Wait()
	for _, r := range rep.Results {
		if r.Err != nil {
			continue
		}
		if update {
			base.Scenarios[r.Scenario] = newEntry(r.Summary, base, base.Scenarios[r.Scenario].Paths)
			continue
		}
		compare(r, base)
	}
	return rep
}

func newEntry(s *sim.Summary, base *Baseline, overrides map[string]Tolerance) BaselineEntry {
	e := BaselineEntry{Seed: s.Seed, TraceHash: s.TraceHash, Values: map[string]float64{}, Paths: overrides}
	for p := range base.Paths {
		if v, err := s.Value(p); err == nil {
			e.Values[p] = v
		}
	}
	for p := range overrides {
		if v, err := s.Value(p); err == nil {
			e.Values[p] = v
		}
	}
	return e
}

// compare fills r's changes against the baseline.
func compare(r *Result, base *Baseline) {
	e, ok := base.Scenarios[r.Scenario]
	if !ok {
		r.NotInBaseline = true
		return
	}
	r.BaselineHash = e.TraceHash
	r.HashChanged = e.TraceHash != r.Summary.TraceHash
	tols := map[string]Tolerance{}
	for p, t := range base.Paths {
		tols[p] = t
	}
	for p, t := range e.Paths {
		tols[p] = t
	}
	paths := make([]string, 0, len(tols))
	for p := range tols {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		want, recorded := e.Values[p]
		got, err := r.Summary.Value(p)
		if !recorded || err != nil {
			continue // a path added to the file after this entry was recorded: --update records it
		}
		if got == want {
			continue
		}
		t := tols[p]
		allowed := math.Max(t.Abs, t.Rel*math.Abs(want))
		c := Change{Path: p, Baseline: want, Observed: got, Allowed: allowed, Worse: t.worse(p)}
		beyond := math.Abs(got-want) > allowed
		switch c.Worse {
		case WorseUp:
			c.Regression = beyond && got > want
		case WorseDown:
			c.Regression = beyond && got < want
		default:
			c.Regression = beyond
		}
		r.Changes = append(r.Changes, c)
	}
}

// describe is a change in words: "latency.end_to_end.p99 12.3s -> 15.1s (+22.8%, allowed ±1.23s)".
func (c Change) describe() string {
	f := func(v float64) string {
		if reports.IsDurationPath(c.Path) {
			return reports.Seconds(v)
		}
		return reports.FormatNumber(v)
	}
	rel := ""
	if c.Baseline != 0 {
		rel = fmt.Sprintf("%+.1f%%, ", 100*(c.Observed-c.Baseline)/math.Abs(c.Baseline))
	}
	return fmt.Sprintf("%s %s -> %s (%sallowed ±%s)", c.Path, f(c.Baseline), f(c.Observed), rel, f(c.Allowed))
}

// problems lists in words why a scenario failed, what else is worth knowing (an
// improvement beyond tolerance, a changed trace hash), and the noise: what changed
// within tolerance.
func (r *Result) problems(strict bool) (fails, notes, noise []string) {
	if r.Err != nil {
		return []string{"did not run: " + r.Err.Error()}, nil, nil
	}
	if r.NotInBaseline {
		fails = append(fails, "not in the baseline (run tasksim check --update to record it)")
	}
	for _, e := range r.FailedExpectations() {
		fails = append(fails, fmt.Sprintf("expectation failed: %s (observed %s)", e.Expr, reports.FormatObserved(e.Expr, e.Observed)))
	}
	for _, c := range r.Changes {
		switch {
		case c.Regression:
			fails = append(fails, "regression: "+c.describe())
		case math.Abs(c.Observed-c.Baseline) > c.Allowed:
			notes = append(notes, "improved: "+c.describe())
		default:
			noise = append(noise, "changed: "+c.describe())
		}
	}
	if r.HashChanged {
		msg := fmt.Sprintf("trace hash %s -> %s: the run's events changed", r.BaselineHash, r.Summary.TraceHash)
		if strict {
			fails = append(fails, msg+" (strict_hash)")
		} else {
			notes = append(notes, msg)
		}
	}
	return fails, notes, noise
}

// WriteText prints the check for a terminal: one line per scenario, then what failed
// or changed under it; changes within tolerance only when verbose.
func WriteText(w io.Writer, rep *Report, verbose bool) error {
	var b strings.Builder
	strict := rep.Baseline.StrictHash
	failed, hidden := 0, 0
	for _, r := range rep.Results {
		fails, notes, noise := r.problems(strict)
		if verbose {
			notes = append(notes, noise...)
		} else {
			hidden += len(noise)
		}
		if rep.Updated && r.Err == nil {
			fails = fails[:0]
			for _, e := range r.FailedExpectations() {
				fails = append(fails, fmt.Sprintf("expectation failed: %s (observed %s)", e.Expr, reports.FormatObserved(e.Expr, e.Observed)))
			}
			notes = []string{"recorded in the baseline"}
		}
		mark := "ok  "
		if len(fails) > 0 {
			mark = "FAIL"
			failed++
		}
		fmt.Fprintf(&b, "%s  %s\n", mark, r.Scenario)
		for _, f := range fails {
			fmt.Fprintf(&b, "        %s\n", f)
		}
		for _, n := range notes {
			fmt.Fprintf(&b, "        %s\n", n)
		}
	}
	verdict := "PASS"
	if failed > 0 {
		verdict = "FAIL"
	}
	if hidden > 0 && !rep.Updated {
		fmt.Fprintf(&b, "(%d changes within tolerance not shown; --verbose shows them)\n", hidden)
	}
	fmt.Fprintf(&b, "%s  check: %d scenarios, %d failed\n", verdict, len(rep.Results), failed)
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMarkdown writes the check's report.md for a CI job summary.
func WriteMarkdown(w io.Writer, rep *Report) error {
	var b strings.Builder
	strict := rep.Baseline.StrictHash
	failed := 0
	for _, r := range rep.Results {
		if !r.Passed(strict) {
			failed++
		}
	}
	icon, verdict := "✅", "PASS"
	if failed > 0 {
		icon, verdict = "❌", "FAIL"
	}
	fmt.Fprintf(&b, "## %s tasksim check: %s\n\n%d scenarios, %d failed.\n\n", icon, verdict, len(rep.Results), failed)
	b.WriteString("| | scenario | seed | steps | completed | detection p99 | end-to-end p99 | what changed |\n| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |\n")
	for _, r := range rep.Results {
		fails, notes, noise := r.problems(strict)
		mark := "✅"
		if !r.Passed(strict) {
			mark = "❌"
		}
		var seed, steps, completed, det, e2e string
		if s := r.Summary; s != nil {
			seed, steps = fmt.Sprint(s.Seed), fmt.Sprint(s.Steps)
			completed = fmt.Sprintf("%.2f%%", 100*s.CompletedRatio)
			det, e2e = reports.Seconds(s.Detection.SinceLastHeartbeat.P99), reports.Seconds(s.Latency.EndToEnd.P99)
		}
		what := slices.Concat(fails, notes, noise)
		if len(what) == 0 {
			what = []string{"nothing"}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", mark, r.Scenario, seed, steps, completed, det, e2e, reports.MarkdownCell(strings.Join(what, "<br>")))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
