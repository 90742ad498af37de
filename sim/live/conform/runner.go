package conform

import (
	"context"
	"crypto/rand"
	"fmt"
	"sort"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// probeComponent names no component of any worker: the unknown-component situation sends
// it, and the claim situations use it when no --component was given.
const probeComponent = "conform/no-such-component"

// runner carries one conform run's state into the situations.
type runner struct {
	cfg  Config
	srv  *server
	proc *process
	// input is the parsed --input (nil without --component).
	input *structpb.Value
	// duration is the component's run time, measured by the heartbeat-period situation
	// (0 before it ran or without --component).
	duration time.Duration
	// components are what discovery listed.
	components []string
}

// newTaskID returns a fresh random UUID (v4), the shape of the reference's task ids.
func newTaskID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// execute builds an execute assignment of component with input, pointing heartbeats and
// completions at conform's own address, suggesting a 1s heartbeat as the reference does.
func (r *runner) execute(task, component string, input *structpb.Value) *pb.TaskAssignment {
	return &pb.TaskAssignment{
		TaskId: task,
		Task: &pb.TaskAssignment_Execute{Execute: &pb.ComponentExecuteRequest{
			ComponentId: component, Input: input, Attempt: 1}},
		Context:               &pb.TaskContext{OrchestratorServiceUrl: r.srv.addr, RootRunId: "conform"},
		HeartbeatIntervalSecs: 1,
	}
}

// component is the component (and input) the claim situations dispatch: the user's, or
// the probe when there is none.
func (r *runner) component() (string, *structpb.Value) {
	if r.cfg.Component != "" {
		return r.cfg.Component, r.input
	}
	return probeComponent, structpb.NewNullValue()
}

// start dispatches a fresh task of the claim component with script sc and returns its id
// and the instant it was sent.
func (r *runner) start(ctx context.Context, sc *script) (string, time.Duration, error) {
	task := newTaskID()
	comp, in := r.component()
	r.srv.setScript(task, sc)
	at := r.srv.now()
	return task, at, r.srv.dispatch(ctx, r.execute(task, comp, in))
}

// taskEvents are the heartbeats and completions of one task.
type taskEvents struct {
	beats, completes []event
}

func eventsOf(evs []event, task string) taskEvents {
	var t taskEvents
	for _, e := range evs {
		if e.Task != task {
			continue
		}
		switch e.Kind {
		case evBeat:
			t.beats = append(t.beats, e)
		case evComplete:
			t.completes = append(t.completes, e)
		}
	}
	return t
}

// beatsAfter counts the heartbeats that arrived after instant at.
func (t taskEvents) beatsAfter(at time.Duration) int {
	n := 0
	for _, b := range t.beats {
		if b.At > at {
			n++
		}
	}
	return n
}

// task returns the events of task so far.
func (r *runner) task(task string) taskEvents { return eventsOf(r.srv.snapshot(), task) }

// waitBeats waits until task has n heartbeats, until deadline.
func (r *runner) waitBeats(ctx context.Context, task string, n int, deadline time.Duration) bool {
	return r.srv.waitUntil(ctx, deadline, func(evs []event) bool { return len(eventsOf(evs, task).beats) >= n })
}

// waitComplete waits until task has n CompleteTask calls, until deadline.
func (r *runner) waitComplete(ctx context.Context, task string, n int, deadline time.Duration) bool {
	return r.srv.waitUntil(ctx, deadline, func(evs []event) bool { return len(eventsOf(evs, task).completes) >= n })
}

// claimWait is how long a situation waits for a claim (or, for a worker that does not
// claim, a completion) of a task it dispatched.
const claimWait = 5 * time.Second

// settle is the slack after a component's expected end before a situation stops looking.
const settle = 3 * time.Second

// runEnd is when a component claimed at claim is over, plus settle.
func (r *runner) runEnd(claim time.Duration) time.Duration { return claim + r.duration + settle }

// median of a set of durations (0 for none).
func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// connected waits until a PullTasks stream is open, at most wait.
func (r *runner) connected(ctx context.Context, wait time.Duration) bool {
	r.proc.mu.Lock()
	since := r.proc.since
	r.proc.mu.Unlock()
	// A copy that exited is reported at once, not waited for.
	open := false
	r.srv.waitUntil(ctx, r.srv.now()+wait, func(events []event) bool {
		open = len(r.srv.streams) > 0
		return open || r.proc.exitedSince(events, since) != ""
	})
	return open
}

// noConnect says why the current copy of the worker did not connect: it exited (how, and
// its last line of output) or it opened no stream in time.
func (r *runner) noConnect() string {
	r.proc.mu.Lock()
	since := r.proc.since
	r.proc.mu.Unlock()
	if exit := r.proc.exitedSince(r.srv.snapshot(), since); exit != "" {
		msg := fmt.Sprintf("the worker exited (%s) before it opened a PullTasks stream on %s", exit, r.srv.addr)
		if last := r.proc.log.lastLine(); last != "" {
			msg += "; its last output: " + last
		}
		return msg
	}
	return fmt.Sprintf("the worker opened no PullTasks stream on %s within %s", r.srv.addr, connectWait)
}

// restart kills the worker (if it runs) and starts a fresh copy, waiting for its stream.
func (r *runner) restart(ctx context.Context) error {
	r.proc.kill()
	r.srv.breakStreams()
	if err := r.proc.start(); err != nil {
		return err
	}
	if !r.connected(ctx, connectWait) {
		return fmt.Errorf("restarted: %s", r.noConnect())
	}
	return nil
}
