package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
)

// errorLines runs Load and returns each reported problem as printed.
func errorLines(t *testing.T, file, src string, sets ...string) []string {
	t.Helper()
	cfg, err := Load(file, []byte(src), sets)
	if err == nil {
		t.Fatalf("Load succeeded; want errors. Config: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Load returned a Config with errors")
	}
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error is %T, not *Errors: %v", err, err)
	}
	lines := make([]string, len(errs.List))
	for i, e := range errs.List {
		lines[i] = e.Error()
	}
	if got := strings.Join(lines, "\n"); got != err.Error() {
		t.Errorf("Errors.Error() = %q; want the lines joined: %q", err.Error(), got)
	}
	return lines
}

// ok is the smallest valid head of a file; cases add to it, so lines start at 3.
const ok = "name: t\nload: [{tasks: 1}]\n"

// two is a valid head with two pools and one component each.
const two = `name: t
workers: [{pool: a, count: 3}, {pool: b, count: 2}]
components: [{path: /a, pool: a}, {path: /b, pool: b}]
load: [{component: /a, tasks: 1}]
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		{"yaml syntax", "name: t\nload: [\n", []string{
			"f.yaml:2:7: invalid YAML: did not find expected node content"}},
		{"yaml syntax column", "name: t\nseed: a: b\n", []string{
			"f.yaml:2:8: invalid YAML: mapping values are not allowed in this context"}},
		{"yaml bad character", "name: t\nload: @x\n", []string{
			"f.yaml:2:7: invalid YAML: found character that cannot start any token"}},
		{"yaml unclosed quote", "name: 'abc\n", []string{
			"f.yaml:2:1: invalid YAML: found unexpected end of stream"}},
		{"root not a mapping", "- a\n- b\n", []string{
			"f.yaml:1:1: got a list; a scenario is a mapping with keys name, description, seed, duration, orchestrator, network, queue, workers, components, load, faults, expect"}},
		{"two documents", ok + "---\nname: u\n", []string{
			"f.yaml:3:1: a scenario file holds one YAML document; found a second (---)"}},
		{"empty file", "", []string{
			"f.yaml:1:1: name: required (a word matching [a-z0-9-]+)",
			"f.yaml:1:1: load: required (a list of streams of steps, e.g. [{component: /python/embed, tasks: 1000}])"}},
		{"unknown key", ok + "sede: 3\n", []string{
			"f.yaml:3:1: sede: unknown key (did you mean seed?); allowed: name, description, seed, duration, orchestrator, network, queue, workers, components, load, faults, expect"}},
		{"unknown nested key", ok + "queue: {kind: pull, ackwait: 3s}\n", []string{
			"f.yaml:3:21: queue.ackwait: unknown key (did you mean ack_wait?); allowed: kind, ack_wait, pipe_bytes"}},
		{"duplicate key", ok + "seed: 1\nseed: 2\n", []string{
			"f.yaml:4:1: seed: duplicate key (first at line 3)"}},
		{"name pattern", "name: Crash_Storm\nload: [{tasks: 1}]\n", []string{
			`f.yaml:1:1: name: "Crash_Storm" must match [a-z0-9-]+`}},
		{"quoted number", "name: t\nload: [{tasks: '100'}]\n", []string{
			`f.yaml:2:9: load[0].tasks: '100' is quoted, so YAML reads it as text; write the number without quotes`}},
		{"quoted fraction and bool", ok + "network: {loss: \"0.1\", wire: 'true'}\nseed: '7'\n", []string{
			`f.yaml:3:11: network.loss: "0.1" is quoted, so YAML reads it as text; write the number without quotes`,
			`f.yaml:3:24: network.wire: 'true' is quoted, so YAML reads it as text; write true or false without quotes`,
			`f.yaml:4:1: seed: '7' is quoted, so YAML reads it as text; write the number without quotes`}},
		{"seed", ok + "seed: -1\n", []string{
			`f.yaml:3:1: seed: "-1" is not a whole number >= 0`}},
		{"duration syntax", ok + "duration: 10\n", []string{
			`f.yaml:3:1: duration: "10" is not a duration (Go syntax: 250ms, 5s, 1m30s)`}},
		{"duration zero", ok + "duration: 0s\n", []string{
			`f.yaml:3:1: duration: 0s is not > 0`}},
		{"negative duration", ok + "orchestrator:\n  execution_timeout: -1s\n", []string{
			`f.yaml:4:3: orchestrator.execution_timeout: -1s is negative; want a duration >= 0`}},
		{"enum", ok + "orchestrator:\n  detector: sacn\n", []string{
			`f.yaml:4:3: orchestrator.detector: "sacn" is not one of scan, deadline (did you mean scan?)`}},
		{"heartbeat interval whole seconds", ok + "orchestrator:\n  heartbeat_interval: 1500ms\n", []string{
			`f.yaml:4:3: orchestrator.heartbeat_interval: 1500ms is not a whole number of seconds (TaskAssignment.heartbeat_interval_secs is an integer)`}},
		{"int range", ok + "orchestrator:\n  unhealthy_after: 0\n", []string{
			`f.yaml:4:3: orchestrator.unhealthy_after: 0 is not in [1, 1000000]`}},
		{"not a whole number", ok + "orchestrator:\n  max_transport_retries: 2.5\n", []string{
			`f.yaml:4:3: orchestrator.max_transport_retries: "2.5" is not a whole number`}},
		{"bool", ok + "network: {wire: yes}\n", []string{
			`f.yaml:3:11: network.wire: "yes" is not true or false`}},
		{"fraction", ok + "network:\n  loss: 1.4\n", []string{
			`f.yaml:4:3: network.loss: 1.4 is not in [0, 1]`}},
		{"percentage", ok + "network:\n  duplicate: 140%\n", []string{
			`f.yaml:4:3: network.duplicate: 140% is not in [0, 1]`}},
		{"fraction syntax", ok + "network:\n  loss: lots\n", []string{
			`f.yaml:4:3: network.loss: "lots" is not a fraction (0.1 or 10%)`}},
		{"mapping expected", ok + "network: fast\n", []string{
			`f.yaml:3:1: network: got "fast"; want a mapping with keys latency, loss, duplicate, wire, rpc_timeout, loss_model, retransmit_after`}},
		{"list expected", "name: t\nload: {tasks: 1}\n", []string{
			`f.yaml:2:1: load: got a mapping; want a list of load streams`}},
		{"scalar expected", ok + "seed: [1]\n", []string{
			`f.yaml:3:1: seed: got a list; want a single value`}},
		{"backoff factor on fibonacci", ok + "orchestrator:\n  backoff: {kind: fibonacci, factor: 3}\n", []string{
			`f.yaml:4:30: orchestrator.backoff.factor: only kind exponential takes a factor; kind is fibonacci`}},
		{"backoff min above max", ok + "orchestrator:\n  backoff: {kind: constant, min: 20s}\n", []string{
			`f.yaml:4:29: orchestrator.backoff.min: 20s is more than max 10s`}},
		{"backoff factor range", ok + "orchestrator:\n  backoff: {kind: exponential, factor: 0.5}\n", []string{
			`f.yaml:4:32: orchestrator.backoff.factor: "0.5" is not a number in [1, 1000]`}},
		{"dist missing kind", ok + "network:\n  latency: {median: 1ms}\n", []string{
			`f.yaml:4:3: network.latency.dist: required (one of constant, uniform, exponential, lognormal, pareto)`}},
		{"dist unknown kind", ok + "network:\n  latency: {dist: normal}\n", []string{
			`f.yaml:4:13: network.latency.dist: "normal" is not one of constant, uniform, exponential, lognormal, pareto`}},
		{"dist wrong and missing params", ok + "network:\n  latency: {dist: lognormal, median: 1ms, max: 5ms}\n", []string{
			`f.yaml:4:3: network.latency.p99: required for lognormal (it takes median and p99)`,
			`f.yaml:4:43: network.latency.max: lognormal takes median and p99, not max`}},
		{"lognormal p99", ok + "network:\n  latency: {dist: lognormal, median: 10ms, p99: 5ms}\n", []string{
			`f.yaml:4:44: network.latency.p99: 5ms is not more than median 10ms (a lognormal's p99 lies above its median)`}},
		{"uniform min above max", ok + "workers:\n  - start: {dist: uniform, min: 5s, max: 1s}\n", []string{
			`f.yaml:4:37: workers[0].start.max: 1s is less than min 5s`}},
		{"pareto alpha", ok + "network:\n  latency: {dist: pareto, min: 1ms, alpha: 0}\n", []string{
			`f.yaml:4:37: network.latency.alpha: "0" is not a number in (0, 1000]`}},
		{"bare duration dist", ok + "network:\n  latency: fast\n", []string{
			`f.yaml:4:3: network.latency: "fast" is not a duration (Go syntax: 250ms, 5s, 1m30s), or a distribution such as {dist: lognormal, median: 2s, p99: 20s}`}},
		{"empty workers", ok + "workers: []\n", []string{
			`f.yaml:3:1: workers: empty; list at least one pool, or omit workers for one pool "default" of 10 python workers`}},
		{"empty load", "name: t\nload: []\n", []string{
			`f.yaml:2:1: load: empty; list at least one stream of steps`}},
		{"pool count", ok + "workers:\n  - count: -1\n", []string{
			`f.yaml:4:5: workers[0].count: -1 is not in [0, 1000000]`}},
		{"concurrency zero", ok + "workers:\n  - concurrency: 0\n", []string{
			`f.yaml:4:5: workers[0].concurrency: 0 is not in [1, 100000]`}},
		{"duplicate pool", ok + "workers:\n  - pool: a\n  - pool: a\n", []string{
			`f.yaml:5:5: workers[1].pool: pool "a" is already defined at workers[0]; pool names must be unique`}},
		{"component unknown pool", ok + "components:\n  - path: /x\n    pool: pythn\n", []string{
			`f.yaml:5:5: components[0].pool: no pool "pythn"; pools: default`}},
		{"component pool ambiguous", "name: t\nworkers: [{pool: a}, {pool: b}]\nload: [{component: /c}]\ncomponents:\n  - path: /c\n", []string{
			`f.yaml:5:5: components[0].pool: required when there are several pools (a, b)`}},
		{"component path", ok + "components:\n  - path: embed\n", []string{
			`f.yaml:4:5: components[0].path: "embed" is not a component path (starts with /, no spaces, e.g. /python/embed)`}},
		{"duplicate component", ok + "components:\n  - path: /x\n  - path: /x\n", []string{
			`f.yaml:5:5: components[1].path: component /x is already defined at components[0]`}},
		{"implicit component ambiguous", "name: t\nworkers: [{pool: a}, {pool: b}]\nload:\n  - component: /x\n", []string{
			`f.yaml:4:5: load[0].component: /x has no entry in components and there are several pools (a, b); add a components entry naming its pool`}},
		{"load component ambiguous", two[:len(two)-len("load: [{component: /a, tasks: 1}]\n")] + "load:\n  - tasks: 5\n", []string{
			`f.yaml:5:5: load[0].component: required when there are several components (/a, /b)`}},
		{"tasks", "name: t\nload:\n  - tasks: 0\n", []string{
			`f.yaml:3:5: load[0].tasks: 0 is not in [1, 1000000000]`}},
		{"size", "name: t\nload:\n  - payload: 5KB\n", []string{
			`f.yaml:3:5: load[0].payload: "5KB" is not a size (512, 512B, 16KiB, 1MiB)`}},
		{"rate syntax", "name: t\nload:\n  - arrival: {process: poisson, rate: 200}\n", []string{
			`f.yaml:3:33: load[0].arrival.rate: "200" is not a rate (200/s, 12000/m, 100/h)`}},
		{"rate zero", "name: t\nload:\n  - arrival: {process: constant, rate: 0/s}\n", []string{
			`f.yaml:3:34: load[0].arrival.rate: 0/s is not > 0`}},
		{"burst rate", "name: t\nload:\n  - arrival: {process: burst, rate: 5/s}\n", []string{
			"f.yaml:3:31: load[0].arrival.rate: a burst has no rate (all its tasks arrive at `at`); remove it or use process poisson or constant"}},
		{"fault without kind", ok + "faults:\n  - at: 1s\n", []string{
			`f.yaml:4:5: faults[0]: no fault kind; want exactly one of crash, heartbeat_loss, partition, pause, duplicate_delivery, orchestrator_restart, queue_restart, terminate`}},
		{"fault with two kinds", ok + "faults:\n  - at: 1s\n    for: 1s\n    pause: {}\n    partition: {}\n", []string{
			`f.yaml:4:5: faults[0]: has partition and pause; one fault entry has exactly one kind (split it into several entries)`}},
		{"partition mode", ok + "faults:\n  - at: 1s\n    for: 2s\n    partition: {mode: rst}\n", []string{
			`f.yaml:6:17: faults[0].partition.mode: "rst" is not one of blackhole, reset (did you mean reset?)`}},
		{"mode on another kind", ok + "faults:\n  - at: 1s\n    for: 2s\n    pause: {mode: reset}\n", []string{
			`f.yaml:6:13: faults[0].pause.mode: unknown key; allowed: pool, fraction, count, workers`}},
		{"fault without at", ok + "faults:\n  - crash: {}\n", []string{
			`f.yaml:4:5: faults[0].at: required (when the fault fires, e.g. at: 60s)`}},
		{"windowed fault without for", ok + "faults:\n  - at: 1s\n    partition: {}\n", []string{
			`f.yaml:4:5: faults[0].for: required for partition (how long it lasts, e.g. for: 30s)`}},
		{"for on an instant fault", ok + "faults:\n  - at: 1s\n    for: 2s\n    crash: {}\n", []string{
			`f.yaml:5:5: faults[0].for: crash happens at an instant; only heartbeat_loss, partition, pause, duplicate_delivery take for`}},
		{"restart_after on another kind", ok + "faults:\n  - at: 1s\n    for: 2s\n    pause: {}\n    restart_after: 3s\n", []string{
			`f.yaml:7:5: faults[0].restart_after: only crash takes restart_after; this is pause`}},
		{"restart_after zero", ok + "faults:\n  - at: 1s\n    crash: {}\n    restart_after: 0s\n", []string{
			`f.yaml:6:5: faults[0].restart_after: 0s is not > 0 (omit restart_after to keep the workers down)`}},
		{"target with two selectors", ok + "faults:\n  - at: 1s\n    crash: {fraction: 10%, count: 2}\n", []string{
			`f.yaml:5:28: faults[0].crash.count: a target has at most one of fraction, count, workers; this one has fraction and count`}},
		{"target fraction zero", ok + "faults:\n  - at: 1s\n    crash: {fraction: 0}\n", []string{
			`f.yaml:5:13: faults[0].crash.fraction: 0 selects no workers; want a fraction in (0, 1] (omit it for the whole pool)`}},
		{"target fraction range", ok + "faults:\n  - at: 1s\n    crash: {fraction: 1.4}\n", []string{
			`f.yaml:5:13: faults[0].crash.fraction: 1.4 is not in [0, 1]`}},
		{"target count above pool", ok + "faults:\n  - at: 1s\n    crash: {count: 11}\n", []string{
			`f.yaml:5:13: faults[0].crash.count: 11 is more than pool default has (10 workers)`}},
		{"target worker names", ok + "faults:\n  - at: 1s\n    crash: {workers: [default-3, default-10, python-1, default-3, default-03]}\n", []string{
			`f.yaml:5:34: faults[0].crash.workers[1]: default-10: N=10 is not in [0, 9] (pool default has 10 workers)`,
			`f.yaml:5:46: faults[0].crash.workers[2]: "python-1" is not a worker of pool default; want default-N with N in [0, 9]`,
			`f.yaml:5:56: faults[0].crash.workers[3]: default-3 is listed twice`,
			`f.yaml:5:67: faults[0].crash.workers[4]: "default-03" is not a worker of pool default; want default-N with N in [0, 9]`}},
		{"target pool ambiguous", two + "faults:\n  - at: 1s\n    crash: {count: 1}\n", []string{
			`f.yaml:7:5: faults[0].crash.pool: required when there are several pools (a, b)`}},
		{"target pool unknown", two + "faults:\n  - at: 1s\n    crash: {pool: c}\n", []string{
			`f.yaml:7:13: faults[0].crash.pool: no pool "c"; pools: a, b`}},
		{"target unknown key", ok + "faults:\n  - at: 1s\n    crash: {rate: 5%}\n", []string{
			`f.yaml:5:13: faults[0].crash.rate: unknown key; allowed: pool, fraction, count, workers`}},
		{"expect syntax", ok + "expect:\n  - lost = 0\n", []string{
			`f.yaml:4:5: expect[0]: "lost = 0" is not PATH OP VALUE with OP one of == != < <= > >= (e.g. lost == 0)`}},
		{"expect unknown path", ok + "expect:\n  - detection.since_crash.p999 <= 10s\n", []string{
			`f.yaml:4:5: expect[0]: detection.since_crash.p999 is not a path in summary.json (did you mean detection.since_crash.p99?)`}},
		{"expect object path", ok + "expect:\n  - retries > 0\n", []string{
			`f.yaml:4:5: expect[0]: retries is not a number in summary.json; pick one of retries.component, retries.recovery, retries.transport`}},
		{"expect value", ok + "expect:\n  - lost == none\n", []string{
			`f.yaml:4:5: expect[0]: "none" is not a number, a duration (10s) or a percentage (99.5%)`}},
		{"expect not a line", ok + "expect:\n  - {lost: 0}\n", []string{
			`f.yaml:4:5: expect[0]: want a line PATH OP VALUE, e.g. lost == 0`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorLines(t, "f.yaml", tt.src)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// The example of SCENARIOS.md, at the position it gives.
func TestErrorExample(t *testing.T) {
	src := ok + strings.Repeat("\n", 33) + "faults:\n  - {at: 1s, crash: {}}\n  - {at: 1s, crash: {}}\n  - at: 1s\n    crash:\n      fraction: 1.4\n"
	got := errorLines(t, "crash-storm.yaml", src)
	want := []string{"crash-storm.yaml:41:7: faults[2].crash.fraction: 1.4 is not in [0, 1]"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q; want %q", got, want)
	}
}

func TestManyErrorsAtOnce(t *testing.T) {
	src := `name: Bad Name
seed: x
orchestrator:
  detector: sacn
  heartbeat_timeout: 0s
network:
  loss: 2
workers:
  - pool: python
    flavour: go
load:
  - component: /x
    tasks: -3
faults:
  - at: 1s
    crash: {pool: rust}
expect:
  - nothing == 0
`
	got := errorLines(t, "many.yaml", src)
	want := []string{
		`many.yaml:1:1: name: "Bad Name" must match [a-z0-9-]+`,
		`many.yaml:2:1: seed: "x" is not a whole number >= 0`,
		`many.yaml:4:3: orchestrator.detector: "sacn" is not one of scan, deadline (did you mean scan?)`,
		`many.yaml:5:3: orchestrator.heartbeat_timeout: 0s is not > 0`,
		`many.yaml:7:3: network.loss: 2 is not in [0, 1]`,
		`many.yaml:10:5: workers[0].flavour: "go" is not one of python, rust, strict`,
		`many.yaml:13:5: load[0].tasks: -3 is not in [1, 1000000000]`,
		`many.yaml:16:13: faults[0].crash.pool: no pool "rust"; pools: python`,
		`many.yaml:18:5: expect[0]: nothing is not a path in summary.json (did you mean not_found?)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSetErrors(t *testing.T) {
	src := ok + "faults:\n  - at: 1s\n    crash: {fraction: 10%}\n"
	tests := []struct {
		set  string
		want string
	}{
		{"faults[0].crash.fraction=1.4", "--set faults[0].crash.fraction=1.4: faults[0].crash.fraction: 1.4 is not in [0, 1]"},
		{"load[0].steps_per_run=0", "--set load[0].steps_per_run=0: load[0].steps_per_run: 0 is not in [1, 1000000000]"},
		{"orchestrator.max_tasks_per_run=-1", "--set orchestrator.max_tasks_per_run=-1: orchestrator.max_tasks_per_run: -1 is not in [0, 1000000]"},
		{"orchestrator.detecter=deadline", "--set orchestrator.detecter=deadline: orchestrator.detecter: unknown key (did you mean detector?); allowed: detector, heartbeat_timeout, heartbeat_interval, queue_timeout, execution_timeout, max_transport_retries, max_component_retries, backoff, task_ids, discovery, unhealthy_after, max_tasks_per_run, scan_duration, recovery_time"},
		{"orchestrator.detector=fast", `--set orchestrator.detector=fast: orchestrator.detector: "fast" is not one of scan, deadline`},
		{"workers[0].count=x", `--set workers[0].count=x: workers[0].count: "x" is not a whole number`},
		{"faults[3].at=1s", "--set faults[3].at=1s: faults[3]: index 3 is out of range: faults has 1 entries (use [1] to add one)"},
		{"faults[1].at=5s", "--set faults[1].at=5s: faults[1]: no fault kind; want exactly one of crash, heartbeat_loss, partition, pause, duplicate_delivery, orchestrator_restart, queue_restart, terminate"},
		{"name.first=x", `--set name.first=x: name: is "t", not a mapping; cannot set first in it`},
		{"seed", "--set seed: want path=value (e.g. --set workers[0].count=500)"},
		{"workers[x].count=1", `--set workers[x].count=1: "x" is not a list index in "workers[x].count"`},
		{".seed=1", `--set .seed=1: ".seed" is not a key path (e.g. workers[0].count)`},
		{"network.latency={dist: lognormal, median: 5ms}", "--set network.latency={dist: lognormal, median: 5ms}: network.latency.p99: required for lognormal (it takes median and p99)"},
		{"name=null", "--set name=null: name: required (a word matching [a-z0-9-]+)"},
		{"workers[0].count=", "--set workers[0].count=: workers[0].count: no value after =; give one, or null to restore the default"},
		{"workers[0]count=1", `--set workers[0]count=1: "workers[0]count": a key after an index needs a dot (workers[0].count)`},
		{"faults[0]crash.count=1", `--set faults[0]crash.count=1: "faults[0]crash.count": a key after an index needs a dot (faults[0].crash.count)`},
	}
	for _, tt := range tests {
		t.Run(tt.set, func(t *testing.T) {
			got := errorLines(t, "f.yaml", src, tt.set)
			if len(got) != 1 || got[0] != tt.want {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
	// File problems come first, then those of the flags, and all are reported.
	got := errorLines(t, "f.yaml", ok+"seed: x\n", "seed=1", "network.loss=3", "duration=forever")
	want := []string{
		"--set network.loss=3: network.loss: 3 is not in [0, 1]",
		`--set duration=forever: duration: "forever" is not a duration (Go syntax: 250ms, 5s, 1m30s)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSetOverrides(t *testing.T) {
	src := `name: t
orchestrator:
workers:
  - pool: python
    count: 5
  - pool: rust
    flavour: rust
components:
  - {path: /p, pool: python}
load:
  - component: /p
    tasks: 10
faults:
  - at: 1s
    crash: {pool: python, count: 1}
`
	cfg, err := Load("f.yaml", []byte(src), []string{
		"orchestrator.detector=deadline",
		"workers[0].count=500",
		"workers[1].flavour=python", // concurrency follows the flavour's default
		"faults[0].crash={pool: python, fraction: 20%}",
		"faults[1].at=2m",
		"faults[1].orchestrator_restart.downtime=4s",
		"network.latency=3ms",
		"seed=42",
		"seed=null", // a later --set wins; null restores the default
		"expect[0]=lost == 0",
		"load[0].arrival.rate=12000/m",
		"workers[0].start={dist: constant, value: 1s}",
	})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"detector", cfg.Orchestrator.Detector, model.DetectorDeadline},
		{"count", cfg.Workers[0].Count, 500},
		{"flavour", cfg.Workers[1].Flavour, model.FlavourPython},
		{"concurrency", cfg.Workers[1].Concurrency, 4},
		{"target", cfg.Faults[0].Target, sim.Target{Pool: "python", Fraction: 0.2}},
		{"restart", cfg.Faults[1], sim.FaultConfig{Kind: sim.FaultOrchestratorRestart, At: 2 * time.Minute, Downtime: 4 * time.Second}},
		{"latency", cfg.Network.Latency, sim.Dist{Kind: sim.DistConstant, Value: 3 * time.Millisecond}},
		{"seed", cfg.Seed, uint64(1)},
		{"expect", cfg.Expect, []sim.Expectation{{Expr: "lost == 0", Path: "lost", Op: "==", Value: 0}}},
		{"rate", cfg.Load[0].RatePerSec, 200.0},
		{"start", cfg.Workers[0].Start, sim.Dist{Kind: sim.DistConstant, Value: time.Second}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v; want %+v", c.name, c.got, c.want)
		}
	}
}

// An alias's target is copied, not edited, so that other users of the anchor keep it.
func TestSetThroughAlias(t *testing.T) {
	src := `name: t
workers:
  - &p {pool: a, count: 2}
  - *p
components: [{path: /x, pool: a}]
load: [{tasks: 1}]
`
	_, err := Load("f.yaml", []byte(src), nil)
	if err == nil || !strings.Contains(err.Error(), `pool "a" is already defined`) {
		t.Fatalf("want a duplicate pool error; got %v", err)
	}
	cfg, err := Load("f.yaml", []byte(src), []string{"workers[1].pool=b", "workers[1].count=7"})
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{cfg.Workers[0].Count, cfg.Workers[1].Count}; got[0] != 2 || got[1] != 7 {
		t.Errorf("counts = %v; want [2 7]", got)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Load("min.yaml", []byte("name: min\nload:\n  - tasks: 100\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &sim.Config{
		Name:     "min",
		Seed:     1,
		Duration: time.Hour,
		Orchestrator: sim.OrchestratorConfig{
			Detector:            model.DetectorScan,
			HeartbeatTimeout:    5 * time.Second,
			HeartbeatInterval:   time.Second,
			QueueTimeout:        30 * time.Second,
			MaxTransportRetries: 3,
			MaxComponentRetries: 3,
			Backoff:             model.Backoff{Kind: model.BackoffFibonacci, Min: time.Second, Max: 10 * time.Second},
			TaskIDs:             sim.TaskIDsReuse,
			Discovery:           true,
			UnhealthyAfter:      5,
			MaxTasksPerRun:      10,
			RecoveryTime:        time.Second,
		},
		Network: sim.NetworkConfig{
			Latency:         sim.Dist{Kind: sim.DistLognormal, Median: time.Millisecond, P99: 10 * time.Millisecond},
			Wire:            true,
			RPCTimeout:      10 * time.Second,
			LossModel:       sim.LossRetransmit,
			RetransmitAfter: sim.DefaultRetransmitAfter,
		},
		Queue: sim.QueueConfig{Kind: sim.QueuePull, AckWait: 30 * time.Second, PipeBytes: sim.DefaultPipeBytes},
		Workers: []sim.PoolConfig{{
			Pool: "default", Count: 10, Flavour: model.FlavourPython, Concurrency: 4, Ack: sim.AckOnReceipt,
			Start: sim.Dist{Kind: sim.DistUniform, Max: 5 * time.Second},
		}},
		Components: []sim.ComponentConfig{{
			Path: "/default", ComponentID: "/default", Pool: "default", Retriable: true,
			Duration: sim.Dist{Kind: sim.DistLognormal, Median: 2 * time.Second, P99: 20 * time.Second},
			Errors:   [model.NumComponentErrors]float64{model.ErrorValue: 1},
		}},
		Load: []sim.LoadConfig{{Component: "/default", Tasks: 100, Arrival: sim.ArrivalPoisson, RatePerSec: 100, PayloadBytes: 512, StepsPerRun: 1}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", cfg, want)
	}
}

func TestDefaultsByContext(t *testing.T) {
	src := `name: t
orchestrator:
  backoff: {kind: exponential}
workers:
  - {pool: r, flavour: rust}
components:
  - path: /r
load:
  - component: /r
  - component: /implicit
    arrival: {process: burst}
faults:
  - {at: 1s, crash: {}}
  - {at: 1s, for: 2s, heartbeat_loss: {count: 2}}
  - {at: 1s, orchestrator_restart: {}}
`
	cfg, err := Load("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"factor", cfg.Orchestrator.Backoff.Factor, 2.0},
		{"rust concurrency", cfg.Workers[0].Concurrency, 10},
		{"component pool", cfg.Components[0].Pool, "r"},
		{"implicit component", cfg.Components[1].Path + " " + cfg.Components[1].Pool, "/implicit r"},
		{"burst rate", cfg.Load[1].RatePerSec, 0.0},
		{"crash target", cfg.Faults[0].Target, sim.Target{Pool: "r"}},
		{"loss rate", cfg.Faults[1].Rate, 1.0},
		{"downtime", cfg.Faults[2].Downtime, time.Second},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v; want %+v", c.name, c.got, c.want)
		}
	}
}

func TestValues(t *testing.T) {
	src := `name: t
duration: 1m30s
network:
  loss: 10%
  duplicate: 0.05
workers:
  - {pool: p, clock_drift: 1_0%}
load:
  - tasks: 1_000
    payload: 16KiB
    arrival: {process: constant, rate: 360/h}
  - payload: 1MiB
  - payload: "512"
expect:
  - latency.end_to_end.p99 <= 1m30s
  - completed_ratio >= 99.5%
  - lost==0
  - attempts > 1e3
`
	if _, err := Load("f.yaml", []byte(src), nil); err == nil {
		t.Fatal("clock_drift 1_0% should not parse")
	}
	src = strings.Replace(src, "1_0%", "10%", 1)
	cfg, err := Load("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"duration", cfg.Duration, 90 * time.Second},
		{"loss", cfg.Network.Loss, 0.1},
		{"duplicate", cfg.Network.Duplicate, 0.05},
		{"drift", cfg.Workers[0].ClockDrift, 0.1},
		{"tasks", cfg.Load[0].Tasks, 1000},
		{"payload", []int{cfg.Load[0].PayloadBytes, cfg.Load[1].PayloadBytes, cfg.Load[2].PayloadBytes}, []int{16384, 1 << 20, 512}},
		{"rate", cfg.Load[0].RatePerSec, 0.1},
		{"expect", cfg.Expect, []sim.Expectation{
			{Expr: "latency.end_to_end.p99 <= 1m30s", Path: "latency.end_to_end.p99", Op: "<=", Value: 90},
			{Expr: "completed_ratio >= 99.5%", Path: "completed_ratio", Op: ">=", Value: 0.995},
			{Expr: "lost==0", Path: "lost", Op: "==", Value: 0},
			{Expr: "attempts > 1e3", Path: "attempts", Op: ">", Value: 1000},
		}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v; want %+v", c.name, c.got, c.want)
		}
	}
}

func TestMergeKeys(t *testing.T) {
	src := `name: t
workers:
  - &base {pool: a, count: 3, flavour: rust}
  - <<: *base
    pool: b
load: [{component: /x, tasks: 1}]
components: [{path: /x, pool: b}]
`
	cfg, err := Load("f.yaml", []byte(src), nil)
	if err != nil {
		t.Fatal(err)
	}
	if w := cfg.Workers[1]; w.Pool != "b" || w.Count != 3 || w.Flavour != model.FlavourRust {
		t.Errorf("merged pool = %+v; want b with a's count and flavour", w)
	}
}

func TestShowFormats(t *testing.T) {
	cfg, err := Load("f.yaml", []byte(`name: t
description: "multi\nline"
load:
  - payload: 1000
    arrival: {process: poisson, rate: 100/h}
  - payload: 2KiB
    arrival: {process: burst}
faults:
  - {at: 90s, crash: {workers: [default-1, default-2]}, restart_after: 2h}
  - {at: 1h30m, for: 1s, duplicate_delivery: {fraction: 25%, rate: 0.5}}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	out := string(Show(cfg))
	for _, want := range []string{
		"description: |-\n  multi\n  line\n",
		"payload: 1000B\n",
		"payload: 2KiB\n",
		"arrival: {process: burst}\n",
		"rate: 0.027777777777777776/s}",
		"  - at: 1m30s\n    crash: {pool: default, workers: [default-1, default-2]}\n    restart_after: 2h\n",
		"  - at: 1h30m\n    for: 1s\n    duplicate_delivery: {pool: default, fraction: 0.25, rate: 0.5}\n",
		"expect: []\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Show output lacks %q:\n%s", want, out)
		}
	}
	again, err := Load("show.yaml", []byte(out), nil)
	if err != nil || !reflect.DeepEqual(again, cfg) {
		t.Errorf("round trip: %v\n got %+v\nwant %+v", err, again, cfg)
	}
}

// Hostile input ends in errors, quickly, and the report stays bounded.
func TestHostileInput(t *testing.T) {
	laughs := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for i := range 9 {
		n := string(rune('b' + i))
		laughs += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	tests := []struct {
		name, src, last string
	}{
		{"billion laughs", laughs + "name: x\nload: *" + prev + "\nexpect: *" + prev + "\n", ""},
		{"deep nesting", strings.Repeat("[", 5000) + strings.Repeat("]", 5000), ""},
		{"cyclic alias", "name: x\nload: &l [*l]\n", ""},
		{"huge numbers", "name: x\nload: [{tasks: 99999999999999999999999, payload: 9223372036854775807GiB}]\n", ""},
		{"tiny rate", "name: x\nload: [{arrival: {rate: 1e-320/s}}]\n", ""},
		{"huge rate", "name: x\nload: [{arrival: {rate: 1e308/s}}]\n", ""},
		{"many errors", "name: x\nload: [{tasks: 1}]\nworkers:\n" + strings.Repeat("  - {pool: p, zz: 1, yy: 2}\n", 500),
			"f.yaml: too many errors; stopped after 200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := errorLines(t, "f.yaml", tt.src)
			if tt.last != "" && lines[len(lines)-1] != tt.last {
				t.Errorf("last error = %q; want %q", lines[len(lines)-1], tt.last)
			}
		})
	}
}
