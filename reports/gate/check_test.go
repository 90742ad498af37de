package gate

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tasksim/tasksim/reports/reportstest"
	"github.com/tasksim/tasksim/sim"
)

func checkRun(t *testing.T, sets []string) RunFunc {
	return func(name string) (*sim.Summary, error) {
		_, res := reportstest.Simulate(t, name, 0, sets)
		return &res.Summary, nil
	}
}

func TestCheckPassesFreshBaselineFailsChangedScenario(t *testing.T) {
	path := filepath.Join(t.TempDir(), "baseline.json")
	base, err := ReadBaseline(path, true)
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"crash-storm"}
	if rep := Run(names, base, 2, true, checkRun(t, reportstest.SmallSets)); !rep.Passed() {
		t.Fatal("--update run failed")
	}
	if err := WriteBaseline(path, base); err != nil {
		t.Fatal(err)
	}
	base, err = ReadBaseline(path, false)
	if err != nil {
		t.Fatal(err)
	}

	rep := Run(names, base, 2, false, checkRun(t, reportstest.SmallSets))
	if !rep.Passed() {
		var b bytes.Buffer
		WriteText(&b, rep, true)
		t.Fatalf("check against a fresh baseline failed:\n%s", b.String())
	}

	// Slower components: latency regresses beyond tolerance.
	changed := append(append([]string(nil), reportstest.SmallSets...), "components[0].duration=20s")
	rep = Run(names, base, 2, false, checkRun(t, changed))
	if rep.Passed() {
		t.Fatal("check passed a scenario made 10x slower")
	}
	var text, junit, md bytes.Buffer
	if err := WriteText(&text, rep, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "regression: latency.end_to_end.p50") {
		t.Errorf("check text does not name the regressed path:\n%s", text.String())
	}
	if err := WriteJUnit(&junit, rep); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(junit.Bytes(), &doc); err != nil {
		t.Fatalf("JUnit XML does not parse: %v\n%s", err, junit.String())
	}
	c := doc.Suites[0].Cases[0]
	if doc.Failures != 1 || c.Name != "crash-storm" || c.Failure == nil || !strings.Contains(c.Failure.Text, "latency.end_to_end.p50") {
		t.Errorf("JUnit does not report the regression: %+v", doc)
	}
	if err := WriteMarkdown(&md, rep); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), "❌ tasksim check: FAIL") || !strings.Contains(md.String(), "latency.end_to_end.p50") {
		t.Errorf("check report.md:\n%s", md.String())
	}
}

func TestCheckDirectionAndTolerance(t *testing.T) {
	base := &Baseline{Version: 1,
		Paths: map[string]Tolerance{"lost": {Worse: "up"}, "completed_ratio": {Abs: 0.01, Worse: "down"}, "attempts": {Rel: 0.1},
			"timeouts.heartbeat": {Abs: 5, Rel: 0.2}, "failed": {Abs: 1, Worse: "either"}},
		Scenarios: map[string]BaselineEntry{"x": {Seed: 1, TraceHash: "h", Values: map[string]float64{
			"lost": 2, "completed_ratio": 0.9, "attempts": 100, "timeouts.heartbeat": 62, "failed": 10}}}}
	tests := []struct {
		name  string
		s     sim.Summary
		fails []string
	}{
		{"same", sim.Summary{Lost: 2, CompletedRatio: 0.9, Attempts: 100, Timeouts: sim.Timeouts{Heartbeat: 62}, Failed: 10}, nil},
		// Fewer heartbeat timeouts and attempts, whose direction the file leaves to
		// the path's nature (up), are an improvement: 62 -> 45 is not a regression.
		{"better", sim.Summary{Lost: 0, CompletedRatio: 0.99, Attempts: 80, Timeouts: sim.Timeouts{Heartbeat: 45}, Failed: 10}, nil},
		{"within", sim.Summary{Lost: 2, CompletedRatio: 0.895, Attempts: 109, Timeouts: sim.Timeouts{Heartbeat: 74}, Failed: 11}, nil},
		{"worse", sim.Summary{Lost: 3, CompletedRatio: 0.85, Attempts: 111, Timeouts: sim.Timeouts{Heartbeat: 75}, Failed: 10},
			[]string{"lost", "completed_ratio", "attempts", "timeouts.heartbeat"}},
		// "either": a move beyond tolerance both ways is a regression.
		{"either way", sim.Summary{Lost: 2, CompletedRatio: 0.9, Attempts: 100, Timeouts: sim.Timeouts{Heartbeat: 62}, Failed: 8}, []string{"failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.s.Scenario, tt.s.TraceHash = "x", "h"
			rep := Run([]string{"x"}, base, 1, false, func(string) (*sim.Summary, error) { return &tt.s, nil })
			var got []string
			for _, c := range rep.Results[0].Regressions() {
				got = append(got, c.Path)
			}
			if strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(tt.fails)), ",") {
				t.Errorf("regressions %v, want %v", got, tt.fails)
			}
		})
	}
}

func TestReadBaselineErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadBaseline(filepath.Join(dir, "none.json"), false); err == nil || !strings.Contains(err.Error(), "none.json: missing") {
		t.Errorf("missing baseline: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	WriteBaseline(bad, &Baseline{Version: 1, Paths: map[string]Tolerance{"latency.nope": {}}})
	if _, err := ReadBaseline(bad, false); err == nil || !strings.Contains(err.Error(), `"latency.nope" is not a numeric summary.json path`) {
		t.Errorf("bad path: %v", err)
	}
	// An entry without values would pass every regression of its scenario.
	empty := filepath.Join(dir, "empty.json")
	WriteBaseline(empty, &Baseline{Version: 1, Paths: DefaultTolerances(), Scenarios: map[string]BaselineEntry{
		"default": {Seed: 1, TraceHash: "x", Values: map[string]float64{"lost": 0}},
		"hazard":  {Seed: 1, TraceHash: "y"},
	}})
	want := empty + ": scenarios.hazard has no values, so nothing of it would be compared; record them with tasksim check --update"
	if _, err := ReadBaseline(empty, false); err == nil || err.Error() != want {
		t.Errorf("entry without values: %v", err)
	}
	if _, err := ReadBaseline(empty, true); err != nil {
		t.Errorf("--update reads an entry without values: %v", err)
	}
}

func TestNaturalWorse(t *testing.T) {
	for path, want := range map[string]string{"completed_ratio": "down", "completed": "down", "perf.events_per_second": "down",
		"timeouts.heartbeat": "up", "attempts": "up", "latency.end_to_end.p99": "up", "lost": "up"} {
		if got := NaturalWorse(path); got != want {
			t.Errorf("NaturalWorse(%s) = %s, want %s", path, got, want)
		}
	}
	// --update writes every direction out, so that the file says it.
	path := filepath.Join(t.TempDir(), "b.json")
	if err := WriteBaseline(path, &Baseline{Version: 1, Paths: map[string]Tolerance{"timeouts.heartbeat": {Abs: 5}, "completed": {}}}); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBaseline(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if b.Paths["timeouts.heartbeat"].Worse != "up" || b.Paths["completed"].Worse != "down" {
		t.Errorf("written directions: %+v", b.Paths)
	}
}

func TestApplySets(t *testing.T) {
	recorded := []string{"load[0].tasks=300"}
	tests := []struct {
		name   string
		base   []string
		given  []string
		update bool
		want   []string
		err    string
	}{
		{"none given: the baseline's apply", recorded, nil, false, recorded, ""},
		{"the same", recorded, recorded, false, recorded, ""},
		{"neither has any", nil, nil, false, nil, ""},
		{"others refused", recorded, []string{"load[0].tasks=400"}, false, nil,
			"the baseline was recorded with --set load[0].tasks=300, this check has --set load[0].tasks=400"},
		{"some where the baseline has none", nil, recorded, false, nil, "recorded with no --set, this check has --set load[0].tasks=300"},
		{"update records them", recorded, []string{"x=1"}, true, []string{"x=1"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &Baseline{Sets: tt.base}
			got, err := b.ApplySets(tt.given, tt.update)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one saying %q", err, tt.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
			if tt.update && !slices.Equal(b.Sets, tt.given) {
				t.Errorf("update recorded %q, want %q", b.Sets, tt.given)
			}
		})
	}
}

func TestTextShowsChangesWithinToleranceOnlyWhenVerbose(t *testing.T) {
	base := &Baseline{Version: 1, Paths: map[string]Tolerance{"attempts": {Rel: 0.1}, "lost": {}},
		Scenarios: map[string]BaselineEntry{"x": {Seed: 1, TraceHash: "h", Values: map[string]float64{"attempts": 100, "lost": 5}}}}
	s := sim.Summary{Scenario: "x", TraceHash: "h", Attempts: 104, Lost: 0}
	rep := Run([]string{"x"}, base, 1, false, func(string) (*sim.Summary, error) { return &s, nil })
	var quiet, verbose bytes.Buffer
	if err := WriteText(&quiet, rep, false); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&verbose, rep, true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(quiet.String(), "changed: attempts") || !strings.Contains(quiet.String(), "(1 changes within tolerance not shown; --verbose shows them)") {
		t.Errorf("without --verbose:\n%s", quiet.String())
	}
	if !strings.Contains(verbose.String(), "changed: attempts 100 -> 104") {
		t.Errorf("with --verbose:\n%s", verbose.String())
	}
	// An improvement beyond tolerance is news, not noise.
	for _, out := range []string{quiet.String(), verbose.String()} {
		if !strings.Contains(out, "improved: lost 5 -> 0") || !strings.HasSuffix(out, "PASS  check: 1 scenarios, 0 failed\n") {
			t.Errorf("output:\n%s", out)
		}
	}
}

func TestWriteJSON(t *testing.T) {
	base := &Baseline{Version: 1, Sets: []string{"a=1"}, Paths: map[string]Tolerance{"lost": {}},
		Scenarios: map[string]BaselineEntry{"x": {Seed: 3, TraceHash: "h", Values: map[string]float64{"lost": 0}}}}
	s := sim.Summary{Scenario: "x", Seed: 3, TraceHash: "h2", Lost: 2}
	rep := Run([]string{"x"}, base, 1, false, func(string) (*sim.Summary, error) { return &s, nil })
	rep.Sets = base.Sets
	var b bytes.Buffer
	if err := WriteJSON(&b, rep); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Pass      bool     `json:"pass"`
		Sets      []string `json:"sets"`
		Scenarios []struct {
			Scenario    string `json:"scenario"`
			Pass        bool   `json:"pass"`
			HashChanged bool   `json:"hash_changed"`
			Changes     []struct {
				Path       string  `json:"path"`
				Observed   float64 `json:"observed"`
				Worse      string  `json:"worse"`
				Regression bool    `json:"regression"`
			} `json:"changes"`
		} `json:"scenarios"`
	}
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, b.String())
	}
	if got.Pass || len(got.Scenarios) != 1 || got.Scenarios[0].Pass || !got.Scenarios[0].HashChanged || !slices.Equal(got.Sets, []string{"a=1"}) {
		t.Fatalf("check JSON: %s", b.String())
	}
	c := got.Scenarios[0].Changes
	if len(c) != 1 || c[0].Path != "lost" || c[0].Observed != 2 || c[0].Worse != "up" || !c[0].Regression {
		t.Errorf("changes: %+v", c)
	}
}
