package shrink

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/scenarios"
	"github.com/tasksim/tasksim/sim"
)

// plantAbsent returns "PATH == 0" for the first "PATH > 0" expectation of a built-in: the
// built-in asserts its hazard happens, so the hazard's absence is a failure planted in a
// run that is known to fail, whatever the model's exact numbers are.
func plantAbsent(t *testing.T, name string) (data []byte, expect string) {
	t.Helper()
	data, ok := scenarios.Builtin(name)
	if !ok {
		t.Fatalf("no built-in %s", name)
	}
	cfg, err := scenarios.Load(name+".yaml", data, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range cfg.Expect {
		if e.Op == ">" && e.Value == 0 {
			return data, e.Path + " == 0"
		}
	}
	t.Fatalf("%s has no expectation PATH > 0 to turn around", name)
	return nil, ""
}

// rerun loads a shrunk file as a user would and runs it.
func rerun(t *testing.T, file []byte) *sim.Summary {
	t.Helper()
	cfg, err := scenarios.Load("shrunk.yaml", file, nil)
	if err != nil {
		t.Fatalf("shrunk file does not load: %v\n%s", err, file)
	}
	res, err := sim.Run(cfg, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := res.Summary.Check(cfg.Expect); err != nil {
		t.Fatal(err)
	}
	return &res.Summary
}

// TestShrinkPlantedHazard: hazard built-ins with an expectation that their hazard is
// absent shrink to files that still fail it, with at most a tenth of the steps and half
// the workers, and a second search, with other parallelism, gives the same file and the
// same path.
func TestShrinkPlantedHazard(t *testing.T) {
	for _, tc := range []struct {
		name  string
		again bool // search a second time; one hazard is enough, and keeps the test quick
	}{{"hazard-double-copy", true}, {"hazard-slot-aging", false}} {
		name := tc.name
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, expect := plantAbsent(t, name)
			opts := Options{File: name + ".yaml", Source: name, Data: data, Expect: expect, Budget: 200, Parallel: 1}
			first, err := Shrink(opts)
			if err != nil {
				t.Fatal(err)
			}
			b, a := first.Before, first.After
			t.Logf("%s: steps %d -> %d, workers %d -> %d, %d runs", expect, b.Steps, a.Steps, b.Workers, a.Workers, first.RunsUsed)
			if a.Steps*10 > b.Steps || a.Workers*2 > b.Workers {
				t.Errorf("shrunk to %d steps and %d workers; want at most %d and %d", a.Steps, a.Workers, b.Steps/10, b.Workers/2)
			}
			if first.Expectation != expect || first.RunsUsed > opts.Budget {
				t.Errorf("expectation %q after %d runs; want %q within %d", first.Expectation, first.RunsUsed, expect, opts.Budget)
			}

			again := rerun(t, first.File)
			if again.Expectations[0].OK || again.Expectations[0].Expr != expect {
				t.Errorf("the shrunk file's run: %+v; want %s to fail", again.Expectations, expect)
			}
			if again.TraceHash != a.TraceHash || again.Expectations[0].Observed != a.Observed {
				t.Errorf("re-run: trace %s observed %v; the search saw %s and %v", again.TraceHash, again.Expectations[0].Observed, a.TraceHash, a.Observed)
			}

			if !tc.again {
				return
			}
			opts.Parallel = 3
			second, err := Shrink(opts)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.File, second.File) {
				t.Errorf("a second search wrote another file:\n%s\n---\n%s", first.File, second.File)
			}
			j1, _ := MarshalResult(first)
			j2, _ := MarshalResult(second)
			if !bytes.Equal(j1, j2) {
				t.Errorf("a second search took another path")
			}
		})
	}
}

// everything has two pools, three streams, faults of each kind, anchors and a merge key.
const everything = `name: everything
description: every dimension the search has
seed: 4
duration: 10m
workers:
  - &pool {pool: a, count: 12, flavour: python, start: {dist: uniform, min: 0s, max: 5s}}
  - {<<: *pool, pool: b, count: 6, flavour: rust, concurrency: 3}
network:
  latency: {dist: lognormal, median: 2ms, p99: 20ms}
  loss: 1%
components:
  - {path: /a/x, pool: a, duration: {dist: exponential, mean: 2s}, error_rate: 5%}
  - {path: /b/y, pool: b, duration: 1s}
  - {path: /a/unused, pool: a}
load:
  - {component: /a/x, tasks: 300, arrival: {process: poisson, rate: 50/s}}
  - {component: /b/y, tasks: 100, arrival: {process: constant, rate: 20/s}, at: 3s}
  - {component: /a/x, tasks: 50, arrival: {process: burst}, at: 10s}
faults:
  - {at: 5s, crash: {pool: a, fraction: 25%}, restart_after: 10s}
  - {at: 8s, for: 6s, heartbeat_loss: {pool: a, count: 3, rate: 50%}}
  - {at: 9s, for: 4s, partition: {pool: b, workers: [b-1, b-4]}}
  - {at: 12s, for: 3s, pause: {pool: a, count: 2}}
  - {at: 14s, for: 5s, duplicate_delivery: {pool: b, rate: 10%}}
  - {at: 20s, orchestrator_restart: {downtime: 2s}}
expect:
  - steps < 1
  - lost == 0
`

// TestShrinkToFloor: an expectation that every run fails (steps < 1) shrinks every
// dimension to its floor: one pool, one stream of one step, one worker, no faults.
func TestShrinkToFloor(t *testing.T) {
	src := everything
	if _, err := scenarios.Load("everything.yaml", []byte(src), nil); err != nil {
		t.Fatalf("test scenario does not load: %v", err)
	}
	r, err := Shrink(Options{File: "everything.yaml", Source: "everything.yaml", Data: []byte(src), Budget: 400})
	if err != nil {
		t.Fatal(err)
	}
	if r.Expectation != "steps < 1" || r.From != "file" {
		t.Errorf("target %q from %s; want the first failing expectation of the file, steps < 1", r.Expectation, r.From)
	}
	want := Size{Steps: 1, Workers: 1, Pools: 1, Streams: 1, Faults: 0}
	got := r.After
	if got.Steps != want.Steps || got.Workers != want.Workers || got.Pools != want.Pools || got.Streams != want.Streams || got.Faults != want.Faults {
		t.Errorf("shrunk to %+v; want steps, workers, pools, streams 1 and no faults", got)
	}
	if r.Before.Steps != 450 || r.Before.Workers != 18 || r.Before.Faults != 6 || r.Before.Pools != 2 {
		t.Errorf("before: %+v", r.Before)
	}
	if r.ShrunkSeed != 4 || r.SeedNote != "" {
		t.Errorf("seed %d (%q); a failure every seed has needs no other seed", r.ShrunkSeed, r.SeedNote)
	}
	cfg := r.Config
	if cfg.Network.Loss != 0 || cfg.Network.Latency.Kind != sim.DistConstant || cfg.Workers[0].Start.Kind != sim.DistConstant ||
		cfg.Components[0].Duration.Kind != sim.DistConstant || len(cfg.Components) != 1 || cfg.Duration.Seconds() != 1 {
		t.Errorf("shrunk config keeps randomness, loss or unused parts: %+v", cfg)
	}
	file := string(r.File)
	for _, want := range []string{
		"# Shrunk by `tasksim shrink` from everything.yaml (seed 4)",
		"# Removed fault {at: 20s, orchestrator_restart: {downtime: 2s}}",
		"# Removed expectations not being shrunk: lost == 0",
		"# Removed stream {component: /a/x, tasks: 300, arrival: {process: poisson, rate: 50/s}}",
		"# Removed pool {pool: b, count: 6, flavour: rust, concurrency: 3, start: {dist: uniform, min: 0s, max: 5s}}",
		"tasks: 1, arrival: {process: burst}, at: 0s} # shrink: tasks was 50; at was 10s",
		"count: 1, flavour: python, concurrency: 1, start: 0s} # shrink: count was 12; concurrency was 4 (the default)",
		"name: everything-shrunk # shrink: was everything",
	} {
		if !strings.Contains(file, want) {
			t.Errorf("shrunk file lacks %q:\n%s", want, file)
		}
	}
	if strings.Contains(file, "&") || strings.Contains(file, "<<") {
		t.Errorf("shrunk file keeps anchors or merge keys:\n%s", file)
	}
	// A note inside braces would comment out the rest of the line.
	if m := regexp.MustCompile(`(?m)\{[^}\n]*#.*$`).FindString(file); m != "" {
		t.Errorf("a comment inside a flow mapping: %q", m)
	}
	if s := rerun(t, r.File); s.Expectations[0].OK {
		t.Errorf("the shrunk file passes")
	}

	// The files are written fresh: a symlink where one goes is replaced, not followed.
	dir := t.TempDir()
	outside := filepath.Join(dir, "keep")
	if err := os.WriteFile(outside, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(out, ShrunkFile)); err != nil {
		t.Fatal(err)
	}
	if err := WriteFiles(out, r); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(outside); string(b) != "keep me" {
		t.Errorf("writing through a symlink changed its target: %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(out, ShrunkFile)); !bytes.Equal(b, r.File) {
		t.Errorf("%s holds %q", ShrunkFile, b)
	}

	// A shrunk file shrinks again: nothing is left to take, and its name and notes stay.
	r2, err := Shrink(Options{File: "shrunk.yaml", Source: "shrunk.yaml", Data: r.File, Budget: 60})
	if err != nil {
		t.Fatal(err)
	}
	if r2.Config.Name != "everything-shrunk" || r2.After.Steps != 1 || !strings.Contains(string(r2.File), "count: 1, flavour: python, concurrency: 1, start: 0s} # shrink: count was 12") {
		t.Errorf("shrinking the shrunk file: name %s, %d steps:\n%s", r2.Config.Name, r2.After.Steps, r2.File)
	}
}

// TestShrinkBudget: the budget caps the runs, the original's included; a budget of one
// leaves the original as it was, and still writes a file that fails.
func TestShrinkBudget(t *testing.T) {
	data, expect := plantAbsent(t, "hazard-slot-aging")
	for _, budget := range []int{1, 9} {
		r, err := Shrink(Options{File: "hazard-slot-aging.yaml", Data: data, Expect: expect, Budget: budget})
		if err != nil {
			t.Fatal(err)
		}
		if r.RunsUsed > budget || len(r.Path) != r.RunsUsed {
			t.Errorf("budget %d: %d runs, %d in the path", budget, r.RunsUsed, len(r.Path))
		}
		if budget == 1 && (r.After.Steps != r.Before.Steps || len(r.Accepted) != 0) {
			t.Errorf("budget 1 changed the scenario: %+v", r.After)
		}
		if budget > 1 && len(r.Accepted) == 0 {
			t.Errorf("budget %d: nothing was shrunk", budget)
		}
		if s := rerun(t, r.File); s.Expectations[0].OK {
			t.Errorf("budget %d: the shrunk file passes", budget)
		}
	}
}

// TestShrinkRefuses: a run that does not fail is exit 1's error; bad input is InputError.
func TestShrinkRefuses(t *testing.T) {
	data, ok := scenarios.Builtin("hazard-slot-aging")
	if !ok {
		t.Fatal("no built-in")
	}
	_, err := Shrink(Options{File: "hazard-slot-aging.yaml", Data: data, Budget: 10})
	var nf *NotFailingError
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "does not fail") {
		t.Errorf("a passing built-in: %v; want NotFailingError", err)
	}
	_, err = Shrink(Options{File: "hazard-slot-aging.yaml", Data: data, Expect: "steps >= 1"})
	if !errors.As(err, &nf) {
		t.Errorf("--expect that holds: %v; want NotFailingError", err)
	}
	_, err = Shrink(Options{File: "x.yaml", Data: []byte("name: x\nload: [{tasks: 5}]\n")})
	if !errors.As(err, &nf) || !strings.Contains(err.Error(), "no expectations") {
		t.Errorf("no expectations: %v", err)
	}

	var ie *InputError
	for _, o := range []Options{
		{File: "hazard-slot-aging.yaml", Data: data, Expect: "lots == 0"},
		{File: "hazard-slot-aging.yaml", Data: data, Expect: "timeouts.queue is 0"},
		{File: "hazard-slot-aging.yaml", Data: data, Budget: -1},
		{File: "broken.yaml", Data: []byte("name: x\nload: [{tasks: -5}]\n")},
	} {
		if _, err := Shrink(o); !errors.As(err, &ie) {
			t.Errorf("%+v: %v; want InputError", o.Expect, err)
		}
	}
	_, err = Shrink(Options{File: "hazard-slot-aging.yaml", Data: data, Expect: "lots == 0"})
	if !strings.Contains(err.Error(), "--expect") || !strings.Contains(err.Error(), "lots") {
		t.Errorf("bad --expect: %v; want it named", err)
	}
}
