// Package conform puts a real worker process through scripted situations of the Stepflow
// v1 task protocol and compares what it does with each worker flavour of tasksim's model.
//
// A scripted orchestrator serves TasksService and OrchestratorService on one loopback
// port; the worker is started with STEPFLOW_TASKS_URL and STEPFLOW_QUEUE_NAME pointing at
// it (the Python SDK's variables), and every situation runs on a fresh task, answering
// that task's heartbeats and completions as the situation says. What the worker does is
// measured on the wall clock; what each flavour would do comes from one table
// (policy.go). This is live-mode code: it uses goroutines, sockets and real time.
package conform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// connectWait is how long conform waits for the worker's first PullTasks.
const connectWait = 10 * time.Second

// Config is one conform run.
type Config struct {
	// Command is the worker command and its arguments ({tasks_url} and {queue} replaced).
	Command []string
	// Queue is STEPFLOW_QUEUE_NAME (default "conform").
	Queue string
	// Component and Input name a component of the worker that runs for a few seconds;
	// without them the heartbeat situations cannot run.
	Component string
	Input     string
	// Parallel is how many task situations run at once on the one worker (default 1).
	Parallel int
	// Full waits out the real retry schedules (CompleteTask, reconnect) instead of
	// comparing their first pauses; several minutes.
	Full bool
	// Port to listen on, 127.0.0.1 only; 0 picks a free one.
	Port int
	// Only, when set, runs just these situations (by id) after discovery and the
	// heartbeat period.
	Only []string
	// Log receives the worker's stdout and stderr (nil: discarded).
	Log io.Writer
	// Progress, when set, gets one line per finished situation.
	Progress io.Writer
}

// ErrBadInput marks a configuration error (exit 2).
var ErrBadInput = errors.New("bad input")

// ErrNoConnect is returned (with a report) when the worker never opened PullTasks.
var ErrNoConnect = errors.New("the worker never connected")

// SituationIDs lists every situation in the order they run.
func SituationIDs() []string {
	ids := make([]string, len(situations))
	for i, s := range situations {
		ids[i] = s.id
	}
	return ids
}

func (c *Config) validate() (*structpb.Value, error) {
	if len(c.Command) == 0 {
		return nil, fmt.Errorf("%w: no worker command (give it after --)", ErrBadInput)
	}
	if (c.Component == "") != (c.Input == "") {
		return nil, fmt.Errorf("%w: --component and --input go together", ErrBadInput)
	}
	if c.Parallel < 0 || c.Parallel > 16 {
		return nil, fmt.Errorf("%w: --parallel %d: allowed 1..16", ErrBadInput, c.Parallel)
	}
	if c.Port < 0 || c.Port > 65535 {
		return nil, fmt.Errorf("%w: --port %d: allowed 0..65535", ErrBadInput, c.Port)
	}
	known := map[string]bool{}
	for _, id := range SituationIDs() {
		known[id] = true
	}
	for _, id := range c.Only {
		if !known[id] {
			return nil, fmt.Errorf("%w: --only %q: allowed %v", ErrBadInput, id, SituationIDs())
		}
	}
	if c.Input == "" {
		return nil, nil
	}
	var v structpb.Value
	if err := protojson.Unmarshal([]byte(c.Input), &v); err != nil {
		return nil, fmt.Errorf("%w: --input is not JSON: %v", ErrBadInput, err)
	}
	return &v, nil
}

// Run starts the server and the worker, runs the situations and returns the report.
// The worker is always killed before Run returns. With ErrNoConnect the report says so.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	input, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if cfg.Queue == "" {
		cfg.Queue = "conform"
	}
	cfg.Parallel = max(cfg.Parallel, 1)
	log := cfg.Log
	if log == nil {
		log = io.Discard
	}
	srv, err := listen(cfg.Port)
	if err != nil {
		return nil, err
	}
	defer srv.stop()
	proc := &process{
		argv: expandArgs(cfg.Command, srv.addr, cfg.Queue),
		env:  []string{"STEPFLOW_TASKS_URL=" + srv.addr, "STEPFLOW_QUEUE_NAME=" + cfg.Queue},
		log:  &lockedWriter{w: log}, srv: srv,
	}
	defer proc.kill()
	r := &runner{cfg: cfg, srv: srv, proc: proc, input: input}
	rep := &Report{Command: proc.argv, TasksURL: srv.addr, Queue: cfg.Queue, Component: cfg.Component,
		Input: cfg.Input, Full: cfg.Full, Started: time.Now().UTC().Format(time.RFC3339)}
	if err := proc.start(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadInput, err)
	}
	if !r.connected(ctx, connectWait) {
		rep.Error = r.noConnect()
		return rep, ErrNoConnect
	}
	rows := make([]Row, len(situations))
	selected := func(s situation) bool {
		// Discovery and the heartbeat period (which measures the component's run time
		// the others wait by) always run.
		if len(cfg.Only) == 0 || s.id == "discovery" || s.id == "heartbeat_period" {
			return true
		}
		for _, id := range cfg.Only {
			if id == s.id {
				return true
			}
		}
		return false
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, cfg.Parallel)
	var progressMu sync.Mutex
	runOne := func(i int) {
		s := situations[i]
		began := srv.now()
		rows[i] = r.row(ctx, s)
		rows[i].Seconds = secs(srv.now() - began)
		if cfg.Progress != nil {
			progressMu.Lock()
			fmt.Fprintf(cfg.Progress, "conform: %s took %s\n", s.id, fmtDur(srv.now()-began))
			progressMu.Unlock()
		}
	}
	for i, s := range situations {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !selected(s) {
			rows[i] = Row{Situation: s.id, Title: s.title, NotRun: "not selected (--only)"}
			continue
		}
		if s.exclusive {
			wg.Wait()
			if s.fresh || !proc.running() {
				if err := r.restart(ctx); err != nil {
					rows[i] = Row{Situation: s.id, Title: s.title, NotRun: err.Error()}
					continue
				}
			}
			runOne(i)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			runOne(i)
		}()
	}
	wg.Wait()
	rep.Components = r.components
	rep.ComponentDuration = secs(r.duration)
	rep.Rows = rows
	rep.summarise()
	return rep, nil
}

// row runs situation s, or says why it cannot, and compares it with every flavour.
func (r *runner) row(ctx context.Context, s situation) Row {
	row := Row{Situation: s.id, Title: s.title}
	if s.long && r.cfg.Component == "" {
		row.NotRun = "needs --component and --input (a component that runs for a few seconds)"
		return row
	}
	if s.long && s.id != "heartbeat_period" && r.duration < minDuration {
		row.NotRun = fmt.Sprintf("the component ran %s; these situations need at least %s", fmtDur(r.duration), fmtDur(minDuration))
		return row
	}
	began := r.srv.now()
	o := s.run(ctx, r)
	if o.notRun != "" {
		row.NotRun = o.notRun
		return row
	}
	row.Ran, row.Worker, row.Observed = true, o.did, o.observed
	// The worst harness lag while the situation ran widens its timings' tolerance: a
	// loaded machine delays the worker's timers and conform's own clock reads alike.
	lag := r.srv.lag.maxSince(began)
	row.HarnessLag = secs(lag)
	for _, b := range behaviours {
		row.Flavours = append(row.Flavours, verdict(b, o, min(lag, maxLagSlack)))
	}
	return row
}

// verdict compares an outcome with flavour b's expectation, each duration within its
// tolerance plus slack.
func verdict(b behaviour, o outcome, slack time.Duration) Verdict {
	v := Verdict{Flavour: b.flavour.String()}
	want := o.expect(b)
	if want == nil {
		v.Expected = "not specified by PROTOCOL.md or the model"
		return v
	}
	v.Expected = factsText(want)
	got := map[string]any{}
	for _, f := range o.observed {
		got[f.Name] = f.Value
	}
	match := true
	for _, w := range want {
		g, ok := got[w.Name]
		if !ok {
			match = false
			v.Differences = append(v.Differences, fmt.Sprintf("%s: not observed, %s expects %s", w.Name, v.Flavour, fmtValue(w.Value)))
			continue
		}
		if !matchesWithin(g, w.Value, slack) {
			match = false
			v.Differences = append(v.Differences, fmt.Sprintf("%s: observed %s, %s expects %s", w.Name, fmtValue(g), v.Flavour, fmtValue(w.Value)))
		}
	}
	v.Match = &match
	return v
}

func factsText(fs []fact) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += " "
		}
		s += f.String()
	}
	return s
}

// JSON is the report as conform.json holds it.
func (rep *Report) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("conform: encode report: %w", err)
	}
	return append(b, '\n'), nil
}

// lockedWriter serialises writes from the worker's stdout and stderr copiers.
type lockedWriter struct {
	mu   sync.Mutex
	w    io.Writer
	tail []byte // the latest output, at most tailBytes
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, p...)
	if n := len(l.tail) - tailBytes; n > 0 {
		l.tail = append(l.tail[:0], l.tail[n:]...)
	}
	return l.w.Write(p)
}

// tailBytes is how much of the worker's latest output is kept to explain a failed start.
const tailBytes = 4096

// lastLine is the worker's last non-empty line of output (a traceback's exception, a
// "command not found"), cut to 200 bytes; "" when it printed nothing.
func (l *lockedWriter) lastLine() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(l.tail)), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if len(last) > 200 {
		last = last[:200] + "..."
	}
	return last
}
