package gate

import (
	"bytes"
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
		WriteText(&b, rep)
		t.Fatalf("check against a fresh baseline failed:\n%s", b.String())
	}

	// Slower components: latency regresses beyond tolerance.
	changed := append(append([]string(nil), reportstest.SmallSets...), "components[0].duration=20s")
	rep = Run(names, base, 2, false, checkRun(t, changed))
	if rep.Passed() {
		t.Fatal("check passed a scenario made 10x slower")
	}
	var text, junit, md bytes.Buffer
	if err := WriteText(&text, rep); err != nil {
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
		Paths: map[string]Tolerance{"lost": {Worse: "up"}, "completed_ratio": {Abs: 0.01, Worse: "down"}, "attempts": {Rel: 0.1}},
		Scenarios: map[string]BaselineEntry{"x": {Seed: 1, TraceHash: "h", Values: map[string]float64{
			"lost": 2, "completed_ratio": 0.9, "attempts": 100}}}}
	tests := []struct {
		name  string
		s     sim.Summary
		fails []string
	}{
		{"same", sim.Summary{Lost: 2, CompletedRatio: 0.9, Attempts: 100}, nil},
		{"better", sim.Summary{Lost: 0, CompletedRatio: 0.99, Attempts: 100}, nil},
		{"within", sim.Summary{Lost: 2, CompletedRatio: 0.895, Attempts: 109}, nil},
		{"worse", sim.Summary{Lost: 3, CompletedRatio: 0.85, Attempts: 111}, []string{"lost", "completed_ratio", "attempts"}},
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
