package conform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// builds caches the binaries the tests build, one `go build` each per test process.
var builds sync.Map // package path -> *built

type built struct {
	once sync.Once
	bin  string
	err  error
}

// buildOnce builds the main package pkg into a directory removed after the test run.
func buildOnce(t *testing.T, pkg string) string {
	t.Helper()
	v, _ := builds.LoadOrStore(pkg, &built{})
	b := v.(*built)
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "conform-test-")
		if err != nil {
			b.err = err
			return
		}
		b.bin = filepath.Join(dir, filepath.Base(pkg))
		if out, err := exec.Command("go", "build", "-o", b.bin, pkg).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.bin
}

// TestMain removes the built binaries after the run.
func TestMain(m *testing.M) {
	code := m.Run()
	builds.Range(func(_, v any) bool {
		if b := v.(*built); b.bin != "" {
			_ = os.RemoveAll(filepath.Dir(b.bin))
		}
		return true
	})
	os.Exit(code)
}

// buildDeviant builds the deliberately deviating worker.
func buildDeviant(t *testing.T) string {
	return buildOnce(t, "github.com/tasksim/tasksim/sim/live/conform/internal/deviantworker")
}

// testLog collects a worker's output and shows it when the test fails.
func testLog(t *testing.T) *bytes.Buffer {
	var mu sync.Mutex
	buf := &bytes.Buffer{}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if t.Failed() {
			t.Logf("worker output:\n%s", buf.String())
		}
	})
	return buf
}

// lagOf is the slack conform judged situation's timings with: its harness lag, capped.
func lagOf(t *testing.T, rep *Report, situation string) time.Duration {
	t.Helper()
	row, ok := rep.Row(situation)
	if !ok {
		t.Fatalf("no row %s", situation)
	}
	return min(time.Duration(row.HarnessLag*float64(time.Second)), maxLagSlack)
}

func observedValue(t *testing.T, rep *Report, situation, name string) any {
	t.Helper()
	row, ok := rep.Row(situation)
	if !ok || !row.Ran {
		t.Fatalf("%s did not run: %s", situation, row.NotRun)
	}
	v, ok := row.observed(name)
	if !ok {
		t.Fatalf("%s has no observed %s: %v", situation, name, row.Observed)
	}
	return v
}

// The deviating worker is rust but for three things: a fixed 2s heartbeat period,
// CompleteTask retried every second forever, and should_abort honoured. conform must
// name rust as its best match and report exactly those differences: should_abort shows
// on the claim and on a later heartbeat, the others in one situation each.
func TestDeviantWorkerIsRustWithExactlyItsThreeDeviations(t *testing.T) {
	t.Parallel()
	bin := buildDeviant(t)
	var report bytes.Buffer
	rep, err := Run(context.Background(), Config{Command: []string{bin}, Component: "sleep",
		Input: `{"seconds": 4.5}`, Parallel: 5, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	rep.Print(&report)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("report:\n%s", report.String())
		}
	})
	if len(rep.NotRun) != 0 {
		t.Errorf("situations not run: %v", rep.NotRun)
	}
	if rep.Best == nil || rep.Best.Flavour != "rust" {
		t.Fatalf("best match %+v, want rust", rep.Best)
	}
	want := []string{"heartbeat_period", "abort_on_claim", "abort_on_heartbeat", "complete_unavailable"}
	if got := rep.Differing("rust"); !slices.Equal(got, want) {
		t.Errorf("differences from rust in %v, want exactly %v", got, want)
	}
	// The measured times are checked as conform checks them: within the tolerance plus
	// the harness lag of their situation (a loaded machine runs the worker's timers late,
	// never early).
	ms := time.Millisecond
	if p, lag := observedValue(t, rep, "heartbeat_period", "period").(time.Duration), lagOf(t, rep, "heartbeat_period"); p < 1900*ms || p > 2400*ms+lag {
		t.Errorf("measured period %v, want about 2s (harness lag %v)", p, lag)
	}
	retries := observedValue(t, rep, "complete_unavailable", "complete_retries").(sched)
	if len(retries) < 4 {
		t.Errorf("CompleteTask retried %d times in the window, want one a second", len(retries))
	}
	lag := lagOf(t, rep, "complete_unavailable")
	for _, d := range retries {
		if d < 900*ms || d > 1600*ms+lag {
			t.Errorf("CompleteTask retry pause %v, want about 1s (harness lag %v)", d, lag)
		}
	}
	// The rust-like parts are measured too: it reconnects at once after a stream that
	// had opened, then after 4s.
	pauses := observedValue(t, rep, "stream_give_up", "reconnect_pauses").(sched)
	if lag := lagOf(t, rep, "stream_give_up"); len(pauses) != 2 || !closeWithin(pauses[0], atOnce, lag) || !closeWithin(pauses[1], 4*time.Second, lag) {
		t.Errorf("reconnect pauses %v, want [0s 4s] (harness lag %v)", pauses, lag)
	}
	for _, h := range []string{"hazard 4", "hazard 8", "no RPC deadline"} {
		if !slices.ContainsFunc(rep.Hazards, func(s string) bool { return strings.Contains(s, h) }) {
			t.Errorf("hazards %v lack %q", rep.Hazards, h)
		}
	}
	if slices.ContainsFunc(rep.Hazards, func(s string) bool { return strings.Contains(s, "hazard 5") }) {
		t.Errorf("hazards %v name hazard 5, but it honours should_abort", rep.Hazards)
	}
	b, err := rep.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		Rows []struct {
			Situation string `json:"situation"`
			Flavours  []struct {
				Flavour string `json:"flavour"`
				Match   *bool  `json:"match"`
			} `json:"flavours"`
		} `json:"rows"`
		Best struct {
			Flavour string `json:"flavour"`
		} `json:"best_match"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Best.Flavour != "rust" || len(back.Rows) != len(situations) {
		t.Errorf("conform.json: best %q, %d rows; want rust, %d", back.Best.Flavour, len(back.Rows), len(situations))
	}
}

// Without --component the situations that need a running component say so, and the
// others still run (the claim ones on a component id the worker does not have).
func TestWithoutComponentSaysWhatCouldNotRun(t *testing.T) {
	t.Parallel()
	bin := buildDeviant(t)
	rep, err := Run(context.Background(), Config{Command: []string{bin},
		Only: []string{"claim_already_claimed", "abort_on_heartbeat", "unknown_component"}, Log: testLog(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got := observedValue(t, rep, "discovery", "claimed"); got != true {
		t.Errorf("discovery claimed = %v, want true", got)
	}
	if got := observedValue(t, rep, "unknown_component", "result"); got != "error COMPONENT_FAILED" {
		t.Errorf("unknown component result %v, want error COMPONENT_FAILED", got)
	}
	if got := observedValue(t, rep, "claim_already_claimed", "ran"); got != false {
		t.Errorf("claim_already_claimed ran = %v, want false", got)
	}
	for _, id := range []string{"heartbeat_period", "abort_on_heartbeat"} {
		row, _ := rep.Row(id)
		if row.Ran || !strings.Contains(row.NotRun, "needs --component") {
			t.Errorf("%s: ran %v, not run %q; want not run for lack of --component", id, row.Ran, row.NotRun)
		}
	}
	if !slices.ContainsFunc(rep.NotRun, func(s string) bool { return strings.HasPrefix(s, "heartbeat_period: needs --component") }) {
		t.Errorf("not-run list %v lacks heartbeat_period", rep.NotRun)
	}
}

// A worker that never opens PullTasks is reported after connectWait, not waited for.
func TestWorkerThatNeverConnectsIsReported(t *testing.T) {
	t.Parallel()
	began := time.Now()
	rep, err := Run(context.Background(), Config{Command: []string{"sleep", "120"}})
	if !errors.Is(err, ErrNoConnect) {
		t.Fatalf("err = %v, want ErrNoConnect", err)
	}
	if !strings.Contains(rep.Error, "no PullTasks stream") || !strings.Contains(rep.Error, "within 10s") {
		t.Errorf("report error %q", rep.Error)
	}
	// Generous: connectWait is 10s; the bound only shows it was not waited for forever.
	if d := time.Since(began); d > 30*time.Second {
		t.Errorf("took %v to report a worker that never connects", d)
	}
}

// A worker that exits before it connects (a missing module, a bad flag) is reported as
// soon as it exits, with its exit status and last line of output, not after connectWait.
func TestWorkerThatExitsBeforeConnectingIsReportedAtOnce(t *testing.T) {
	t.Parallel()
	began := time.Now()
	rep, err := Run(context.Background(), Config{Command: []string{"sh", "-c",
		"echo 'Traceback (most recent call last):' >&2; echo \"ModuleNotFoundError: No module named 'msgspec'\" >&2; exit 3"}})
	if !errors.Is(err, ErrNoConnect) {
		t.Fatalf("err = %v, want ErrNoConnect", err)
	}
	want := "the worker exited (exit 3) before it opened a PullTasks stream on " + rep.TasksURL +
		"; its last output: ModuleNotFoundError: No module named 'msgspec'"
	if rep.Error != want {
		t.Errorf("report error\n%q, want\n%q", rep.Error, want)
	}
	// connectWait is 10s: reported well before it, even on a loaded machine.
	if d := time.Since(began); d >= connectWait {
		t.Errorf("took %v to report a worker that exited at once", d)
	}
}

func TestBadInput(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"no command", Config{}, "no worker command"},
		{"component alone", Config{Command: []string{"x"}, Component: "c"}, "--component and --input go together"},
		{"input not JSON", Config{Command: []string{"x"}, Component: "c", Input: "{"}, "--input is not JSON"},
		{"unknown situation", Config{Command: []string{"x"}, Only: []string{"nope"}}, `--only "nope"`},
		{"parallel", Config{Command: []string{"x"}, Parallel: 99}, "--parallel 99"},
		{"missing binary", Config{Command: []string{"/nonexistent/worker"}}, "start worker"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Run(context.Background(), c.cfg)
			if !errors.Is(err, ErrBadInput) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want bad input mentioning %q", err, c.want)
			}
		})
	}
}

func TestExpandArgs(t *testing.T) {
	got := expandArgs([]string{"w", "--connect", "{tasks_url}", "--queue={queue}"}, "127.0.0.1:9", "q1")
	want := []string{"w", "--connect", "127.0.0.1:9", "--queue=q1"}
	if !slices.Equal(got, want) {
		t.Errorf("expandArgs = %v, want %v", got, want)
	}
}

func TestWithinTruncatesSchedulesToTheWindow(t *testing.T) {
	s := time.Second
	pythonCompleteRetries := []time.Duration{4 * s, 8 * s, 16 * s, 30 * s, 30 * s}
	strictRetries := func() []time.Duration { return []time.Duration{s, 2 * s, 4 * s, 8 * s, 10 * s} }
	repeat := func(d time.Duration, n int) []time.Duration { return slices.Repeat([]time.Duration{d}, n) }
	for _, c := range []struct {
		name      string
		full      []time.Duration
		window    time.Duration
		want      sched
		ambiguous bool
	}{
		{"python in 6s", pythonCompleteRetries, 6 * s, sched{4 * s}, false},
		{"strict in 6s", strictRetries(), 6 * s, sched{s, 2 * s}, false},
		{"rust", nil, 6 * s, sched{}, false},
		{"strict at 15s is too close to call", strictRetries(), 14500 * time.Millisecond, sched{s, 2 * s, 4 * s}, true},
		{"python reconnects in 7s", repeat(2*s, 15), 7 * s, sched{2 * s, 2 * s, 2 * s}, false},
		{"python whole", pythonCompleteRetries, 150 * s, sched(pythonCompleteRetries), false},
	} {
		got, amb := within(c.full, c.window)
		if !slices.Equal(got, c.want) || amb != c.ambiguous {
			t.Errorf("%s: within = %v (ambiguous %v), want %v (%v)", c.name, got, amb, c.want, c.ambiguous)
		}
	}
}

func TestMatchesWithTolerance(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		got, want any
		ok        bool
	}{
		{1003 * ms, time.Second, true},
		{1400 * ms, time.Second, false},
		{10900 * ms, 10 * time.Second, true}, // 10% of 10s
		{11500 * ms, 10 * time.Second, false},
		{4300 * ms, 5500 * ms, false},
		{time.Duration(0), 10 * time.Second, false},
		{time.Duration(0), time.Duration(0), true},
		{sched{4010 * ms}, sched{4 * time.Second}, true},
		{sched{4010 * ms, 8 * time.Second}, sched{4 * time.Second}, false},
		{true, true, true},
		{2, 1, false},
		{"error COMPONENT_FAILED", "error COMPONENT_FAILED", true},
	} {
		if got := matches(c.got, c.want); got != c.ok {
			t.Errorf("matches(%v, %v) = %v, want %v", c.got, c.want, got, c.ok)
		}
	}
}

// The harness lag widens every duration's tolerance by exactly the slack, and no further
// than maxLagSlack, which still tells python's 2s reconnect from rust's at once and
// python's SIGTERM exit at the probe (5.5s) from rust's at its task's end (3.5s).
func TestLagWidensTheToleranceUpToItsCap(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct {
		got, want any
		slack     time.Duration
		ok        bool
	}{
		{1400 * ms, time.Second, 0, false},
		{1400 * ms, time.Second, 50 * ms, true}, // 350ms + 50ms
		{1401 * ms, time.Second, 50 * ms, false},
		{500 * ms, atOnce, 149 * ms, false},
		{500 * ms, atOnce, 150 * ms, true},
		{sched{1300 * ms, 1600 * ms}, sched{time.Second, time.Second}, 249 * ms, false},
		{sched{1300 * ms, 1600 * ms}, sched{time.Second, time.Second}, 250 * ms, true},
		{time.Duration(0), 2 * time.Second, maxLagSlack, false},
		{ms, 2 * time.Second, maxLagSlack, false},
		{2 * time.Second, atOnce, maxLagSlack, false},
		{3500 * ms, 5500 * ms, maxLagSlack, false},
		{5500 * ms, 3500 * ms, maxLagSlack, false},
	} {
		if got := matchesWithin(c.got, c.want, c.slack); got != c.ok {
			t.Errorf("matchesWithin(%v, %v, %v) = %v, want %v", c.got, c.want, c.slack, got, c.ok)
		}
	}
}

// The probe's worst lag counts only the wakes since a situation began; a report whose
// situation saw more lag than the tolerance absorbs says so, naming it.
func TestLagProbeWindowAndWarning(t *testing.T) {
	ms := time.Millisecond
	p := &lagProbe{late: []lagSample{{at: 100 * ms, late: 900 * ms}, {at: 2000 * ms, late: 40 * ms}, {at: 2500 * ms, late: 70 * ms}}}
	for _, c := range []struct{ from, want time.Duration }{
		{0, 900 * ms}, {100 * ms, 900 * ms}, {101 * ms, 70 * ms}, {2400 * ms, 70 * ms}, {2501 * ms, 0},
	} {
		if got := p.maxSince(c.from); got != c.want {
			t.Errorf("maxSince(%v) = %v, want %v", c.from, got, c.want)
		}
	}
	rep := &Report{Rows: []Row{{Situation: "sigterm", Ran: true, HarnessLag: 1.2}, {Situation: "sigkill", Ran: true, HarnessLag: 1}}}
	rep.summarise()
	if want := "the machine was too loaded: conform's timers ran over 1.000s late in sigterm (1.200s), so those timings may differ because of the load, not the worker"; rep.Warning != want {
		t.Errorf("warning %q, want %q", rep.Warning, want)
	}
	// A real probe measures from its start and stops: the goroutine has ended.
	start := time.Now()
	live := startLagProbe(func() time.Duration { return time.Since(start) })
	time.Sleep(3 * lagTick)
	live.stop()
	select {
	case <-live.done:
	default:
		t.Error("the probe's goroutine outlived stop")
	}
}

// Each flavour's row of the table predicts what PROTOCOL.md says it does, situation by
// situation, from one outcome: the expectations differ exactly where the flavours do.
func TestFlavourExpectationsFollowTheTable(t *testing.T) {
	o := outcome{observed: []fact{{"keeps_heartbeating", false}, {"completed", true}}}
	o.expect = func(b behaviour) []fact {
		return []fact{{"keeps_heartbeating", b.onAbort == loopIgnores}, {"completed", b.onAbort != loopAbandons}}
	}
	got := map[string]bool{}
	for _, b := range behaviours {
		v := verdict(b, o, 0)
		got[v.Flavour] = *v.Match
	}
	// Python stops heartbeating but completes (hazard 5); rust ignores; strict abandons.
	if !got["python"] || got["rust"] || got["strict"] {
		t.Errorf("abort on a later heartbeat matched %v, want python only", got)
	}
}

func TestReportBestMatchAndHazards(t *testing.T) {
	yes, no := true, false
	rep := &Report{Rows: []Row{
		{Situation: "abort_on_heartbeat", Ran: true, Observed: []fact{{"keeps_heartbeating", false}, {"completed", true}},
			Flavours: []Verdict{{Flavour: "python", Match: &yes}, {Flavour: "rust", Match: &no}, {Flavour: "strict", Match: &no}}},
		{Situation: "second_copy", Ran: true, Observed: []fact{{"completions", 2}},
			Flavours: []Verdict{{Flavour: "python", Match: &yes}, {Flavour: "rust", Match: &yes}, {Flavour: "strict", Match: &no}}},
		{Situation: "stream_break", Ran: true, Observed: []fact{{"reconnect_after", 2 * time.Second}},
			Flavours: []Verdict{{Flavour: "python", Match: &yes}, {Flavour: "rust", Match: &yes}, {Flavour: "strict"}}},
		{Situation: "sigkill", NotRun: "the restarted worker did not open PullTasks"},
	}}
	rep.summarise()
	if rep.Best == nil || rep.Best.Flavour != "python" || rep.Best.Matched != 3 || rep.Best.Compared != 3 {
		t.Errorf("best %+v, want python 3 of 3", rep.Best)
	}
	if !rep.Matches("python") || rep.Matches("rust") || rep.Matches("strict") {
		t.Errorf("Matches: python %v rust %v strict %v", rep.Matches("python"), rep.Matches("rust"), rep.Matches("strict"))
	}
	if got := rep.Differing("strict"); !slices.Equal(got, []string{"abort_on_heartbeat", "second_copy"}) {
		t.Errorf("strict differs in %v", got)
	}
	if len(rep.Hazards) != 2 || !strings.Contains(rep.Hazards[0], "hazard 5") || !strings.Contains(rep.Hazards[1], "hazard 4") {
		t.Errorf("hazards %v, want hazard 5 then hazard 4", rep.Hazards)
	}
	if len(rep.NotRun) != 1 || !strings.HasPrefix(rep.NotRun[0], "sigkill: ") {
		t.Errorf("not run %v", rep.NotRun)
	}
}

// The real schedules, waited out (about ten minutes): set TASKSIM_CONFORM_FULL=1. The
// deviating worker still retries CompleteTask when the window ends, and gives up
// reconnecting after rust's ten tries.
func TestFullSchedulesOfTheDeviantWorker(t *testing.T) {
	if os.Getenv("TASKSIM_CONFORM_FULL") == "" {
		t.Skip("set TASKSIM_CONFORM_FULL=1 to wait out the real retry schedules (about 10 minutes)")
	}
	t.Parallel()
	bin := buildDeviant(t)
	rep, err := Run(context.Background(), Config{Command: []string{bin}, Component: "sleep",
		Input: `{"seconds": 4.5}`, Parallel: 5, Full: true, Log: testLog(t),
		Only: []string{"complete_unavailable", "stream_give_up"}})
	if err != nil {
		t.Fatal(err)
	}
	var report bytes.Buffer
	rep.Print(&report)
	t.Log(report.String())
	if got := observedValue(t, rep, "complete_unavailable", "gave_up"); got != false {
		t.Errorf("gave_up = %v, want false (it retries forever)", got)
	}
	if got := observedValue(t, rep, "stream_give_up", "exited"); got != true {
		t.Errorf("exited = %v, want true after ten reconnects", got)
	}
	// The heartbeat period always runs (it measures the component's run time).
	if got := rep.Differing("rust"); !slices.Equal(got, []string{"heartbeat_period", "complete_unavailable"}) {
		t.Errorf("differences from rust in %v, want heartbeat_period and complete_unavailable", got)
	}
}
