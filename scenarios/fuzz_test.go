package scenarios

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// FuzzLoad: no input panics; every failure is a non-empty *Errors; every success is a
// Config that satisfies the contract and that Show prints back to an equal Config.
func FuzzLoad(f *testing.F) {
	for _, name := range Names() {
		data, _ := Builtin(name)
		if cfg, err := Load(name, data, nil); err == nil {
			f.Add(Show(cfg), "") // every key spelled out, for the mutator to work on
		}
		f.Add(data, "")
		f.Add(data, "orchestrator.detector=deadline\nworkers[0].count=3")
	}
	for _, broken := range []string{
		"", "name: x", "name: x\nload: [{}]", "- a", "name: [x", "a: &a [*a]\nname: x\nload: *a",
		"name: x\nload: [{tasks: 1}]\nfaults: [{at: 1s, crash: {workers: [default-1, default-x]}}]",
		"name: x\nload: [{tasks: 1}]\nworkers: [{pool: a}, {pool: a}]",
		"name: x\nload: [{arrival: {process: burst, rate: 1/s}}]\nexpect: [lost == 0, lsot > 1]",
		"name: x\nload: [{tasks: 1}]\norchestrator: {backoff: {kind: exponential, factor: 1e400}}",
		"name: x\nload: [{tasks: 1}]\nnetwork: {latency: {dist: lognormal, median: 1ms, p99: 1ms}}",
		"<<: {name: x}\nload: [{tasks: 1}]",
		"name: x\nload: [{tasks: 1}]\n---\nname: y",
	} {
		f.Add([]byte(broken), "")
		f.Add([]byte(broken), "load[0].tasks=5\nfaults[0]={at: 1s, pause: {}}")
	}
	f.Fuzz(func(t *testing.T, data []byte, sets string) {
		var flags []string
		if sets != "" {
			flags = strings.Split(sets, "\n")
		}
		checkLoad(t, data, flags)
	})
}

// TestMutatedBuiltins runs FuzzLoad's checks on every built-in with each line removed and
// with each value replaced by an odd one: a cheap, deterministic sweep of near-valid input.
func TestMutatedBuiltins(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of loads")
	}
	odd := []string{"0", "-1", "1.5", "~", "[]", "{}", "x", "100%", "1h", "*a", "&a 3"}
	for _, name := range Names() {
		data, _ := Builtin(name)
		lines := strings.Split(string(data), "\n")
		for i, line := range lines {
			removed := slices.Concat(lines[:i], lines[i+1:])
			checkLoad(t, []byte(strings.Join(removed, "\n")), nil)
			key, _, ok := strings.Cut(line, ": ")
			if !ok {
				continue
			}
			for _, v := range odd {
				changed := slices.Clone(lines)
				changed[i] = key + ": " + v
				checkLoad(t, []byte(strings.Join(changed, "\n")), nil)
			}
		}
	}
}

// checkLoad asserts what FuzzLoad promises about one input.
func checkLoad(t *testing.T, data []byte, flags []string) {
	t.Helper()
	cfg, err := Load("fuzz.yaml", data, flags)
	if err != nil {
		var errs *Errors
		if !errors.As(err, &errs) || len(errs.List) == 0 || cfg != nil {
			t.Fatalf("bad failure: cfg=%v err=%T %v", cfg, err, err)
		}
		for _, e := range errs.List {
			if e.Msg == "" || strings.HasPrefix(e.Msg, "internal error") {
				t.Fatalf("bad error %q", e.Error())
			}
		}
		return
	}
	if problems := checkConfig(cfg); len(problems) > 0 {
		t.Fatalf("Load accepted an invalid config:\n%s\n%+v", strings.Join(problems, "\n"), cfg)
	}
	shown := Show(cfg)
	again, err := Load("show.yaml", shown, nil)
	if err != nil {
		t.Fatalf("Show's output does not load: %v\n%s", err, shown)
	}
	if !reflect.DeepEqual(cfg, again) {
		t.Fatalf("Show round trip differs:\n got %+v\nwant %+v\n%s", again, cfg, shown)
	}
}

// checkConfig restates the contract on a typed Config, independently of the decoder.
func checkConfig(c *sim.Config) []string {
	var p []string
	bad := func(cond bool, format string, args ...any) {
		if cond {
			p = append(p, fmt.Sprintf(format, args...))
		}
	}
	frac := func(f float64) bool { return f >= 0 && f <= 1 }
	checkDist := func(what string, d sim.Dist) {
		switch d.Kind {
		case sim.DistConstant:
			bad(d.Value < 0, "%s: negative", what)
		case sim.DistUniform:
			bad(d.Min < 0 || d.Max < d.Min, "%s: bad uniform", what)
		case sim.DistExponential:
			bad(d.Mean <= 0, "%s: bad exponential", what)
		case sim.DistLognormal:
			bad(d.Median <= 0 || d.P99 <= d.Median, "%s: bad lognormal", what)
		case sim.DistPareto:
			bad(d.Min <= 0 || !(d.Alpha > 0), "%s: bad pareto", what)
		default:
			bad(true, "%s: kind %q", what, d.Kind)
		}
	}
	bad(!namePattern.MatchString(c.Name), "name %q", c.Name)
	bad(c.Duration <= 0, "duration")
	o := c.Orchestrator
	bad(o.Detector != model.DetectorScan && o.Detector != model.DetectorDeadline, "detector")
	bad(o.HeartbeatTimeout <= 0 || o.QueueTimeout <= 0 || o.ExecutionTimeout < 0, "orchestrator timers")
	bad(o.HeartbeatInterval < 0 || o.HeartbeatInterval%time.Second != 0, "heartbeat_interval %v", o.HeartbeatInterval)
	bad(o.MaxTransportRetries < 0 || o.MaxComponentRetries < 0 || o.UnhealthyAfter < 1, "orchestrator counts")
	bad(o.Backoff.Min < 0 || o.Backoff.Min > o.Backoff.Max, "backoff range")
	bad((o.Backoff.Kind == model.BackoffExponential) != (o.Backoff.Factor >= 1), "backoff factor %v", o.Backoff.Factor)
	bad(o.TaskIDs != sim.TaskIDsReuse && o.TaskIDs != sim.TaskIDsPerAttempt, "task_ids")
	checkDist("latency", c.Network.Latency)
	bad(!frac(c.Network.Loss) || !frac(c.Network.Duplicate) || c.Network.RPCTimeout <= 0, "network")
	bad(c.Queue.Kind != sim.QueuePull && c.Queue.Kind != sim.QueueJetStream || c.Queue.AckWait <= 0, "queue")
	bad(len(c.Workers) == 0, "no pools")
	pools := map[string]int{}
	for _, w := range c.Workers {
		_, dup := pools[w.Pool]
		bad(dup || !poolPattern.MatchString(w.Pool), "pool name %q", w.Pool)
		pools[w.Pool] = w.Count
		bad(w.Count < 0 || w.Concurrency < 1 || w.HeartbeatInterval < 0 || !frac(w.ClockDrift), "pool %s numbers", w.Pool)
		bad(!slices.Contains([]model.Flavour{model.FlavourPython, model.FlavourRust, model.FlavourStrict}, w.Flavour), "flavour")
		bad(w.Ack != sim.AckOnReceipt && w.Ack != sim.AckOnComplete, "ack")
		checkDist("start", w.Start)
	}
	comps := map[string]bool{}
	for _, cc := range c.Components {
		_, ok := pools[cc.Pool]
		bad(comps[cc.Path] || !strings.HasPrefix(cc.Path, "/") || !ok, "component %q pool %q", cc.Path, cc.Pool)
		comps[cc.Path] = true
		bad(!frac(cc.ErrorRate), "error_rate")
		checkDist("duration", cc.Duration)
	}
	bad(len(c.Load) == 0, "no load")
	for _, l := range c.Load {
		bad(!comps[l.Component] || l.Tasks < 1 || l.At < 0 || l.PayloadBytes < 0, "load %+v", l)
		bad((l.Arrival == sim.ArrivalBurst) != (l.RatePerSec == 0) || l.RatePerSec < 0, "arrival %+v", l)
	}
	for _, f := range c.Faults {
		bad(f.At < 0 || windowed(f.Kind) != (f.For > 0), "fault timing %+v", f)
		bad(f.RestartAfter != 0 && f.Kind != sim.FaultCrash, "restart_after %+v", f)
		if f.Kind == sim.FaultOrchestratorRestart {
			bad(f.Downtime < 0 || !reflect.DeepEqual(f.Target, sim.Target{}), "restart %+v", f)
			continue
		}
		size, ok := pools[f.Target.Pool]
		bad(!ok, "fault pool %q", f.Target.Pool)
		n := 0
		if f.Target.Fraction != 0 {
			n++
			bad(!(f.Target.Fraction > 0 && f.Target.Fraction <= 1), "fraction")
		}
		if f.Target.Count != 0 {
			n++
			bad(f.Target.Count < 1 || f.Target.Count > size, "count")
		}
		if f.Target.Workers != nil {
			n++
		}
		bad(n > 1, "target %+v", f.Target)
		for _, w := range f.Target.Workers {
			var i int
			_, err := fmt.Sscanf(strings.TrimPrefix(w, f.Target.Pool+"-"), "%d", &i)
			bad(!strings.HasPrefix(w, f.Target.Pool+"-") || err != nil || i < 0 || i >= size, "worker %q", w)
		}
		bad(!frac(f.Rate), "rate")
	}
	for _, e := range c.Expect {
		bad(!sim.IsSummaryPath(e.Path), "expect path %q", e.Path)
	}
	return p
}
