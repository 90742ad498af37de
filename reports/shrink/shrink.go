// Package shrink turns a failing scenario into a smaller one that fails the same
// expectation: fewer and shorter faults, fewer workers, pools, steps and streams, lower
// rates, shorter durations, constant instead of random distributions. A run is a pure
// function of the file and the seed, so every candidate is one full deterministic run,
// and the search itself is deterministic: candidates are tried in batches of a fixed size
// and in a fixed order, and the first one of a batch that still fails is kept, however
// many of them ran at once and whichever finished first.
//
// The search edits the scenario's own YAML tree, so the file it writes is the user's file
// with values changed (each marked with what it was) and entries removed (listed at the
// top); it loads with the scenarios loader like any other.
package shrink

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/tasksim/tasksim/reports/simulate"
	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// DefaultBudget is how many runs a search may make unless told otherwise: enough for a
// few passes over every dimension of a built-in scenario.
const DefaultBudget = 300

// BatchSize is how many candidates are evaluated together. It is fixed, not the number
// of cores, so that the path of runs is the same on every machine.
const BatchSize = 8

// Options says what to shrink and how hard to try.
type Options struct {
	// File names the scenario in errors (a path, or NAME.yaml for a built-in); Source is
	// how the user named it (the SCENARIO argument), shown in the report.
	File, Source string
	Data         []byte
	// Sets are --set overrides, applied before shrinking and written into the result.
	Sets []string
	// Seed overrides the file's seed when SeedSet.
	Seed    uint64
	SeedSet bool
	// Expect is the expectation to keep failing (PATH OP VALUE). Empty: the first
	// expectation of the file that fails.
	Expect string
	// Budget caps the runs, the first run of the original included; 0 is DefaultBudget.
	Budget int
	// Parallel is how many runs go at once; 0 is GOMAXPROCS. It changes only the speed.
	Parallel int
	// Path is where the shrunk file will be written, for its replay line.
	Path string
	// Progress, if set, is called after each batch with the runs made so far and the
	// size of the smallest failing scenario yet.
	Progress func(runs, budget int, best Size)
}

// InputError is a problem with what the user gave: the scenario, --expect, the budget.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// NotFailingError says that the original run held every expectation that was asked of
// it, so there is no failure to shrink.
type NotFailingError struct {
	Scenario string
	Seed     uint64
	Checked  []sim.ExpectationResult
}

func (e *NotFailingError) Error() string {
	if len(e.Checked) == 0 {
		return fmt.Sprintf("%s seed %d: the scenario has no expectations, so nothing can fail; give one with --expect", e.Scenario, e.Seed)
	}
	var parts []string
	for _, c := range e.Checked {
		parts = append(parts, fmt.Sprintf("%s (observed %s)", c.Expr, formatFloat(c.Observed)))
	}
	return fmt.Sprintf("%s seed %d does not fail, so there is nothing to shrink: %s held", e.Scenario, e.Seed, strings.Join(parts, ", "))
}

// Result is the outcome of a search: shrink.json, and the shrunk file.
type Result struct {
	Scenario string `json:"scenario"`
	Source   string `json:"source"`
	// Expectation is the line that fails before and after; From says where it came from
	// (the file, or --expect).
	Expectation string `json:"expectation"`
	From        string `json:"expectation_from"`
	Seed        uint64 `json:"seed"`
	ShrunkSeed  uint64 `json:"shrunk_seed"`
	// SeedNote explains a changed seed (the last resort); empty when the seed was kept.
	SeedNote string `json:"seed_note,omitempty"`
	Budget   int    `json:"budget"`
	// RunsUsed counts the runs of the search, the original's included; the check of the
	// written file is one more, not counted.
	RunsUsed int `json:"runs_used"`
	// Invalid counts candidates the loader rejected (never run).
	Invalid int   `json:"invalid_candidates"`
	Before  Size  `json:"before"`
	After   Size  `json:"after"`
	Path    []Run `json:"path"`
	// Accepted lists the changes kept, in order.
	Accepted []string `json:"accepted"`
	Replay   string   `json:"replay"`

	// File is shrunk.yaml; Config is what it loads to.
	File   []byte      `json:"-"`
	Config *sim.Config `json:"-"`
}

// Size is how big a scenario is and what its run observed.
type Size struct {
	Steps   int `json:"steps"`
	Workers int `json:"workers"`
	Pools   int `json:"pools"`
	Streams int `json:"streams"`
	Faults  int `json:"faults"`
	// FaultSeconds adds up the windows of windowed faults.
	FaultSeconds float64 `json:"fault_seconds"`
	// Duration is the scenario's virtual-time cap; VirtualDuration how long the run went.
	Duration        float64 `json:"duration"`
	VirtualDuration float64 `json:"virtual_duration"`
	Events          int64   `json:"events"`
	Observed        float64 `json:"observed"`
	TraceHash       string  `json:"trace_hash"`
}

// Run is one run of the search.
type Run struct {
	N        int     `json:"n"`
	Batch    int     `json:"batch"`
	Change   string  `json:"change"`
	Fails    bool    `json:"fails"`
	Observed float64 `json:"observed"`
	Accepted bool    `json:"accepted,omitempty"`
	Steps    int     `json:"steps"`
	Workers  int     `json:"workers"`
	Faults   int     `json:"faults"`
	Hash     string  `json:"trace_hash"`
}

// state is the smallest failing scenario found so far.
type state struct {
	doc *yaml.Node
	cfg *sim.Config
	sum *sim.Summary
	// removed describes the entries taken out, for the file's header.
	removed []string
	// origins maps an entry of the original file (position) to its text.
	origins map[[2]int]string
}

// candidate is one edit of the current state, not yet run.
type candidate struct {
	change  string
	doc     *yaml.Node
	removed []string
	cfg     *sim.Config
	key     string
}

type outcome struct {
	fails bool
	sum   *sim.Summary
}

type search struct {
	opts     Options
	file     string
	target   sim.Expectation
	best     state
	seen     map[string]outcome // config -> its run, so that no config runs twice
	res      *Result
	batches  int
	seedNote string
}

// Shrink searches for the smallest scenario that fails like the original does.
func Shrink(opts Options) (*Result, error) {
	if opts.Budget == 0 {
		opts.Budget = DefaultBudget
	}
	if opts.Budget < 1 {
		return nil, &InputError{fmt.Errorf("--budget %d: must be at least 1 (the original's run)", opts.Budget)}
	}
	if opts.Parallel <= 0 {
		opts.Parallel = runtime.GOMAXPROCS(0)
	}
	if opts.Path == "" {
		opts.Path = "shrunk.yaml"
	}
	orig, err := scenarios.Load(opts.File, opts.Data, opts.Sets)
	if err != nil {
		return nil, &InputError{fmt.Errorf("scenario %s is not valid:\n%w", opts.File, err)}
	}
	fileSeed := orig.Seed
	if opts.SeedSet {
		orig.Seed = opts.Seed
	}
	exps, from := orig.Expect, "file"
	if opts.Expect != "" {
		e, err := scenarios.ParseExpectation(opts.Expect)
		if err != nil {
			return nil, &InputError{fmt.Errorf("--expect: %w", err)}
		}
		exps, from = []sim.Expectation{e}, "--expect"
	}

	s := &search{opts: opts, file: opts.File, seen: map[string]outcome{}}
	s.res = &Result{Scenario: orig.Name, Source: opts.Source, From: from, Seed: orig.Seed, Budget: opts.Budget}
	first, err := runChecked(orig, exps)
	if err != nil {
		return nil, err
	}
	s.res.RunsUsed = 1
	idx := -1
	for i, c := range first.Expectations {
		if !c.OK {
			idx = i
			break
		}
	}
	if idx < 0 {
		return nil, &NotFailingError{Scenario: orig.Name, Seed: orig.Seed, Checked: first.Expectations}
	}
	s.target = exps[idx]
	s.res.Expectation = s.target.Expr

	if err := s.prepare(orig, fileSeed, exps, first); err != nil {
		return nil, err
	}
	s.res.Before = sizeOf(s.best.cfg, s.best.sum, s.target)
	s.record(Run{N: 1, Change: "the original", Fails: true, Accepted: true}, s.best.cfg, s.best.sum)

	if err := s.run(); err != nil {
		return nil, err
	}
	if err := s.finish(); err != nil {
		return nil, err
	}
	return s.res, nil
}

// prepare turns the user's document into the search's starting point: aliases expanded,
// the seed written in, a name of its own, and only the failing expectation kept. Loading
// it must give the original Config, which is what makes the first run stand for it.
func (s *search) prepare(orig *sim.Config, fileSeed uint64, exps []sim.Expectation, first *sim.Summary) error {
	root, err := scenarios.Document(s.file, s.opts.Data, s.opts.Sets)
	if err != nil {
		return &InputError{err}
	}
	doc, err := normalize(root)
	if err != nil {
		return &InputError{err}
	}
	replace(doc, "name", scalar(strings.TrimSuffix(orig.Name, "-shrunk")+"-shrunk"), "")
	// The original's description tells its whole story on one long line; the shrunk
	// file says what it is and keeps the first sentence.
	desc := fmt.Sprintf("%s, shrunk: it fails %s.", orig.Name, s.target.Expr)
	if first := firstSentence(orig.Description); first != "" {
		desc += " " + first
	}
	set(doc, "description", scalar(desc))
	replaceIfDifferent(doc, "seed", plain(strconv.FormatUint(orig.Seed, 10)), strconv.FormatUint(fileSeed, 10))
	var dropped []string
	for _, e := range exps {
		if e.Expr != s.target.Expr {
			dropped = append(dropped, e.Expr)
		}
	}
	set(doc, "expect", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Content: []*yaml.Node{scalar(s.target.Expr)}})
	var removed []string
	if len(dropped) > 0 {
		removed = append(removed, "expectations not being shrunk: "+strings.Join(dropped, "; "))
	}
	cfg, err := s.load(doc)
	if err != nil {
		return fmt.Errorf("shrink: the scenario does not load once prepared (a bug): %w", err)
	}
	a, b := *orig, *cfg
	a.Name, b.Name, a.Description, b.Description, a.Expect, b.Expect = "", "", "", "", nil, nil
	if !reflect.DeepEqual(a, b) {
		return fmt.Errorf("shrink: preparing %s changed what it means (a bug); the original and the prepared file differ", s.file)
	}
	sum := *first
	if _, err := sum.Check(cfg.Expect); err != nil {
		return err
	}
	s.best = state{doc: doc, cfg: cfg, sum: &sum, removed: removed, origins: recordOrigins(doc)}
	s.seen[configKey(cfg)] = outcome{fails: true, sum: &sum}
	return nil
}

// replaceIfDifferent replaces key's value unless it already reads the same.
func replaceIfDifferent(m *yaml.Node, key string, v *yaml.Node, was string) {
	if old := get(m, key); old != nil && old.Kind == yaml.ScalarNode && old.Value == v.Value {
		return
	}
	replace(m, key, v, was)
}

func (s *search) load(doc *yaml.Node) (*sim.Config, error) {
	b, err := marshal(doc)
	if err != nil {
		return nil, err
	}
	return scenarios.Load(s.file, b, nil)
}

// configKey identifies what a run depends on: the Config as JSON (deterministic, and
// it follows pointers should Config ever hold one), without the names a run ignores.
func configKey(cfg *sim.Config) string {
	c := *cfg
	c.Name, c.Description = "", ""
	b, err := json.Marshal(&c)
	if err != nil {
		panic(fmt.Sprintf("shrink: a scenario's Config does not marshal: %v", err)) // plain data: cannot happen
	}
	return string(b)
}

// runChecked runs cfg and checks exps (not cfg.Expect) against its summary.
func runChecked(cfg *sim.Config, exps []sim.Expectation) (*sim.Summary, error) {
	c := *cfg
	c.Expect = exps
	sum, err := simulate.Checked(&c)
	if err != nil {
		return nil, fmt.Errorf("shrink: run %s seed %d: %w", cfg.Name, cfg.Seed, err)
	}
	return sum, nil
}

func (s *search) left() int { return s.opts.Budget - s.res.RunsUsed }

// run makes passes over every dimension until a pass changes nothing or the budget is
// spent; then, as a last resort, it tries other seeds.
func (s *search) run() error {
	for seedTries := 0; s.left() > 0; seedTries++ {
		for s.left() > 0 {
			progress := false
			for _, dim := range dimensions {
				for s.left() > 0 {
					ok, err := s.step(dim.gen(&s.best))
					if err != nil {
						return err
					}
					if !ok {
						break
					}
					progress = true
				}
			}
			if !progress {
				break
			}
		}
		if s.left() <= 0 || seedTries == maxSeedPhases {
			return nil
		}
		ok, err := s.step(s.otherSeeds())
		if err != nil || !ok {
			return err
		}
	}
	return nil
}

// maxSeedPhases bounds how often the search falls back on another seed.
const maxSeedPhases = 2

// otherSeeds proposes the first reductions of every dimension under a few other seeds:
// the current seed may be all that keeps a smaller scenario from failing.
func (s *search) otherSeeds() []candidate {
	var out []candidate
	for _, dim := range dimensions {
		cands := dim.gen(&s.best)
		if len(cands) > 2 {
			cands = cands[:2]
		}
		for _, c := range cands {
			for k := uint64(1); k <= 4; k++ {
				seed := s.best.cfg.Seed + k
				d := clone(c.doc)
				replace(d, "seed", plain(strconv.FormatUint(seed, 10)), strconv.FormatUint(s.best.cfg.Seed, 10))
				out = append(out, candidate{change: fmt.Sprintf("%s, with seed %d", c.change, seed), doc: d, removed: c.removed})
			}
		}
	}
	return out
}

// step tries cands in order, a batch at a time, and keeps the first that fails.
func (s *search) step(cands []candidate) (bool, error) {
	bestKey := configKey(s.best.cfg)
	var valid []candidate
	for _, c := range cands {
		cfg, err := s.load(c.doc)
		if err != nil {
			s.res.Invalid++
			continue
		}
		c.cfg, c.key = cfg, configKey(cfg)
		if c.key == bestKey {
			continue
		}
		valid = append(valid, c)
	}
	for i := 0; i < len(valid); {
		// The next batch: candidates up to BatchSize unrun ones (or what the budget allows).
		var toRun []int
		j := i
		for ; j < len(valid) && len(toRun) < min(BatchSize, s.left()); j++ {
			if _, known := s.seen[valid[j].key]; !known && !slices.ContainsFunc(valid[i:j], func(c candidate) bool { return c.key == valid[j].key }) {
				toRun = append(toRun, j)
			}
		}
		if len(toRun) == 0 && j == i {
			return false, nil // the budget is spent
		}
		if len(toRun) > 0 {
			s.batches++
			if err := s.evaluate(valid, toRun); err != nil {
				return false, err
			}
		}
		for k := i; k < j; k++ {
			o := s.seen[valid[k].key]
			if o.fails {
				s.accept(valid[k], o.sum)
				return true, nil
			}
		}
		i = j
	}
	return false, nil
}

// evaluate runs the candidates at idx, Parallel at a time, and records them in order.
func (s *search) evaluate(cands []candidate, idx []int) error {
	outs := make([]outcome, len(idx))
	errs := make([]error, len(idx))
	sem := make(chan struct{}, s.opts.Parallel)
	var wg sync.WaitGroup
	for n, j := range idx {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			sum, err := runChecked(cands[j].cfg, cands[j].cfg.Expect)
			if err != nil {
				errs[n] = err
				return
			}
			outs[n] = outcome{fails: !sum.Expectations[0].OK, sum: sum}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	for n, j := range idx {
		c := cands[j]
		s.seen[c.key] = outs[n]
		s.res.RunsUsed++
		s.record(Run{N: s.res.RunsUsed, Batch: s.batches, Change: c.change, Fails: outs[n].fails}, c.cfg, outs[n].sum)
	}
	if s.opts.Progress != nil {
		s.opts.Progress(s.res.RunsUsed, s.opts.Budget, sizeOf(s.best.cfg, s.best.sum, s.target))
	}
	return nil
}

func (s *search) record(r Run, cfg *sim.Config, sum *sim.Summary) {
	z := sizeOf(cfg, sum, s.target)
	r.Observed, r.Hash, r.Steps, r.Workers, r.Faults = z.Observed, z.TraceHash, z.Steps, z.Workers, z.Faults
	s.res.Path = append(s.res.Path, r)
}

func (s *search) accept(c candidate, sum *sim.Summary) {
	for i := len(s.res.Path) - 1; i >= 0; i-- {
		if s.res.Path[i].Change == c.change && s.res.Path[i].Hash == sum.TraceHash {
			s.res.Path[i].Accepted = true
			break
		}
	}
	if c.cfg.Seed != s.best.cfg.Seed {
		s.seedNote = fmt.Sprintf("the seed changed from %d to %d: no smaller scenario failed with seed %d, so other seeds were tried as a last resort",
			s.res.Seed, c.cfg.Seed, s.best.cfg.Seed)
	}
	s.best = state{doc: c.doc, cfg: c.cfg, sum: sum, removed: append(append([]string(nil), s.best.removed...), c.removed...), origins: s.best.origins}
	s.res.Accepted = append(s.res.Accepted, c.change)
}

// finish writes the header, renders the file, and checks that it loads to the scenario
// that was run and fails again when run once more.
func (s *search) finish() error {
	r := s.res
	r.After = sizeOf(s.best.cfg, s.best.sum, s.target)
	r.ShrunkSeed = s.best.cfg.Seed
	r.SeedNote = s.seedNote
	r.Replay = "tasksim run " + s.opts.Path
	doc := clone(s.best.doc)
	hoistNotes(doc)
	doc.Content[0].HeadComment = s.header()
	b, err := marshal(doc)
	if err != nil {
		return err
	}
	cfg, err := scenarios.Load(s.opts.Path, b, nil)
	if err != nil {
		return fmt.Errorf("shrink: the shrunk file does not load (a bug): %w", err)
	}
	if configKey(cfg) != configKey(s.best.cfg) {
		return fmt.Errorf("shrink: the shrunk file loads to another scenario than the one that ran (a bug)")
	}
	again, err := runChecked(cfg, cfg.Expect)
	if err != nil {
		return err
	}
	if again.TraceHash != s.best.sum.TraceHash || again.Expectations[0].OK {
		return fmt.Errorf("shrink: the shrunk file did not fail the same way when run again (trace %s, was %s): the simulation is not deterministic",
			again.TraceHash, s.best.sum.TraceHash)
	}
	r.File, r.Config = b, cfg
	return nil
}

func (s *search) header() string {
	r := s.res
	var lines []string
	add := func(format string, args ...any) { lines = append(lines, fmt.Sprintf(format, args...)) }
	add("Shrunk by `tasksim shrink` from %s (seed %d) in %d runs (budget %d).", r.Source, r.Seed, r.RunsUsed, r.Budget)
	add("It still fails: %s  (observed %s; the original: %s)", r.Expectation, formatFloat(r.After.Observed), formatFloat(r.Before.Observed))
	add("Replay: %s", r.Replay)
	add("Before -> after: steps %d -> %d, workers %d -> %d, pools %d -> %d, streams %d -> %d, faults %d -> %d.",
		r.Before.Steps, r.After.Steps, r.Before.Workers, r.After.Workers, r.Before.Pools, r.After.Pools,
		r.Before.Streams, r.After.Streams, r.Before.Faults, r.After.Faults)
	if r.SeedNote != "" {
		add("Note: %s.", r.SeedNote)
	}
	for _, rm := range s.best.removed {
		add("Removed %s", rm)
	}
	add("Values the search changed say what they were (shrink: was ...).")
	return strings.Join(lines, "\n")
}

func sizeOf(cfg *sim.Config, sum *sim.Summary, target sim.Expectation) Size {
	z := Size{Pools: len(cfg.Workers), Streams: len(cfg.Load), Faults: len(cfg.Faults), Duration: cfg.Duration.Seconds()}
	for _, p := range cfg.Workers {
		z.Workers += p.Count
	}
	for _, l := range cfg.Load {
		z.Steps += l.Tasks
	}
	for _, f := range cfg.Faults {
		z.FaultSeconds += f.For.Seconds()
	}
	if sum != nil {
		z.VirtualDuration, z.Events, z.TraceHash = sum.VirtualDuration, sum.Perf.Events, sum.TraceHash
		if v, err := sum.Value(target.Path); err == nil {
			z.Observed = v
		}
	}
	return z
}

func formatFloat(f float64) string { return strconv.FormatFloat(f, 'g', 6, 64) }

// firstSentence is s up to its first full stop, on one line.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i >= 0 {
		return s[:i+1]
	}
	return s
}
