package conform

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// situation is one scripted protocol situation, run on a fresh task.
type situation struct {
	id    string
	title string
	// long: needs --component, running at least minDuration (heartbeat situations).
	long bool
	// exclusive: acts on the stream or the process, so it runs alone.
	exclusive bool
	// fresh: runs on a freshly started worker (no reconnect history).
	fresh bool
	run   func(ctx context.Context, r *runner) outcome
}

// outcome is what a situation observed and what each flavour would have done.
type outcome struct {
	observed []fact
	did      string
	notRun   string
	// expect returns a flavour's expected facts; nil when the model does not specify
	// that flavour's behaviour here.
	expect func(b behaviour) []fact
}

func failed(err error) outcome { return outcome{notRun: err.Error()} }

// minDuration is the shortest component run the heartbeat situations can use: the
// answer under test goes to heartbeat 2 (about 1s after the claim) and what the worker
// does next must be seen before its component ends.
const minDuration = 3500 * time.Millisecond

// situations in the order they run: discovery and the heartbeat period first (the
// period situation measures the component's run time the others need), then the task
// situations (concurrently up to Config.Parallel), then the stream and process ones.
var situations = []situation{
	{id: "discovery", title: "list_components task on connect", exclusive: true, run: discovery},
	{id: "heartbeat_period", title: "heartbeat period, every answer IN_PROGRESS", long: true, exclusive: true, run: heartbeatPeriod},
	{id: "claim_already_claimed", title: "claim answered ALREADY_CLAIMED (should_abort)", run: claimAlreadyClaimed},
	{id: "abort_on_claim", title: "claim answered IN_PROGRESS with should_abort", run: abortOnClaim},
	{id: "claim_unavailable", title: "claim answered UNAVAILABLE twice, then IN_PROGRESS", run: claimUnavailable},
	{id: "abort_on_heartbeat", title: "heartbeat 2 answered should_abort", long: true, run: loopAnswer(loopAbort)},
	{id: "heartbeat_unavailable", title: "heartbeat 2 answered UNAVAILABLE", long: true, run: loopAnswer(loopUnavailable)},
	{id: "heartbeat_not_found", title: "heartbeat 2 answered NOT_FOUND", long: true, run: loopAnswer(loopNotFound)},
	{id: "heartbeat_no_answer", title: "heartbeat 2 never answered", long: true, run: heartbeatNoAnswer},
	{id: "complete_unavailable", title: "CompleteTask answered UNAVAILABLE every time", run: completeUnavailable},
	{id: "complete_not_found", title: "CompleteTask answered NOT_FOUND", run: completeNotFound},
	{id: "unknown_component", title: "assignment of a component the worker lacks", run: unknownComponent},
	{id: "second_copy", title: "a second copy of a task it already runs", long: true, run: secondCopy},
	{id: "stream_break", title: "PullTasks stream broken (UNAVAILABLE), reconnect served", exclusive: true, run: streamBreak},
	{id: "stream_give_up", title: "stream broken, every reconnect refused UNAVAILABLE", exclusive: true, fresh: true, run: streamGiveUp},
	{id: "sigterm", title: "SIGTERM with a task running", exclusive: true, run: sigterm},
	{id: "sigkill", title: "SIGKILL with a task running", exclusive: true, run: sigkill},
}

func discovery(ctx context.Context, r *runner) outcome {
	task := newTaskID()
	r.srv.setScript(task, defaultScript())
	at := r.srv.now()
	err := r.srv.dispatch(ctx, &pb.TaskAssignment{TaskId: task,
		Task:    &pb.TaskAssignment_ListComponents{ListComponents: &pb.ListComponentsRequest{}},
		Context: &pb.TaskContext{OrchestratorServiceUrl: r.srv.addr, RootRunId: "conform"}})
	if err != nil {
		return failed(err)
	}
	answered := r.waitComplete(ctx, task, 1, at+claimWait)
	t := r.task(task)
	claimed := len(t.beats) > 0 && (!answered || t.beats[0].At < t.completes[0].At)
	did := "no answer within " + fmtDur(claimWait)
	if answered {
		c := t.completes[0]
		r.components = c.Components
		did = fmt.Sprintf("answered %s after %s with %d component(s) %v, %s", c.Result, fmtDur(c.At-at),
			len(c.Components), c.Components, map[bool]string{true: "after a claim", false: "without a claim"}[claimed])
	}
	return outcome{
		observed: []fact{{"answered", answered}, {"claimed", claimed}},
		did:      did,
		expect: func(b behaviour) []fact {
			return []fact{{"answered", true}, {"claimed", b.discoveryClaimed}}
		},
	}
}

func heartbeatPeriod(ctx context.Context, r *runner) outcome {
	const want, rounds = 10, 4
	parallel := max(3, r.cfg.Parallel)
	var intervals, durations []time.Duration
	tasks := 0
	for round := 0; round < rounds && len(intervals) < want; round++ {
		ids := make([]string, parallel)
		for i := range ids {
			task, _, err := r.start(ctx, defaultScript())
			if err != nil {
				return failed(err)
			}
			ids[i] = task
			tasks++
		}
		for _, id := range ids {
			r.waitComplete(ctx, id, 1, r.srv.now()+2*time.Minute)
			t := r.task(id)
			for i := 1; i < len(t.beats); i++ {
				intervals = append(intervals, t.beats[i].At-t.beats[i-1].At)
			}
			if len(t.beats) > 0 && len(t.completes) > 0 {
				durations = append(durations, t.completes[0].At-t.beats[0].At)
			}
		}
	}
	r.duration = median(durations)
	if len(intervals) < want {
		return outcome{notRun: fmt.Sprintf("only %d heartbeat intervals in %d tasks (the component must run for at least %s)",
			len(intervals), tasks, fmtDur(minDuration))}
	}
	period := median(intervals)
	lo, hi := intervals[0], intervals[0]
	for _, d := range intervals {
		lo, hi = min(lo, d), max(hi, d)
	}
	return outcome{
		observed: []fact{{"period", period}},
		did: fmt.Sprintf("median period %s over %d intervals of %d tasks (min %s, max %s); component ran %s",
			fmtDur(period), len(intervals), tasks, fmtDur(lo), fmtDur(hi), fmtDur(r.duration)),
		expect: func(b behaviour) []fact {
			return []fact{{"period", max(b.heartbeatFloor, time.Second)}}
		},
	}
}

// claimSituation dispatches a task whose claim is answered by beat, watches it until its
// component would be over, and reports whether it ran on (heartbeats after the claim)
// and whether it completed.
func claimSituation(ctx context.Context, r *runner, beat func(int) answer) (taskEvents, time.Duration, error) {
	task, at, err := r.start(ctx, defaultScript().withBeat(beat))
	if err != nil {
		return taskEvents{}, 0, err
	}
	if !r.waitBeats(ctx, task, 1, at+claimWait) {
		return taskEvents{}, 0, fmt.Errorf("no claim within %s", fmtDur(claimWait))
	}
	claim := r.task(task).beats[0].At
	r.waitComplete(ctx, task, 1, r.runEnd(claim))
	return r.task(task), claim, nil
}

// ranText says whether a task ran on and completed, with times from the claim.
func ranText(t taskEvents, claim time.Duration) string {
	var parts []string
	if n := t.beatsAfter(claim); n > 0 {
		parts = append(parts, fmt.Sprintf("%d more heartbeat(s)", n))
	} else {
		parts = append(parts, "no more heartbeats")
	}
	if len(t.completes) > 0 {
		parts = append(parts, fmt.Sprintf("completed (%s) %s after the claim", t.completes[0].Result, fmtDur(t.completes[0].At-claim)))
	} else {
		parts = append(parts, "no CompleteTask")
	}
	return strings.Join(parts, ", ")
}

func claimAlreadyClaimed(ctx context.Context, r *runner) outcome {
	t, claim, err := claimSituation(ctx, r, func(n int) answer {
		if n == 1 {
			return answer{code: codes.OK, status: pb.TaskStatus_TASK_STATUS_ALREADY_CLAIMED, abort: true}
		}
		return inProgress(n)
	})
	if err != nil {
		return failed(err)
	}
	completed := len(t.completes) > 0
	return outcome{
		observed: []fact{{"ran", t.beatsAfter(claim) > 0 || completed}, {"completed", completed}},
		did:      ranText(t, claim),
		// Every flavour drops a task whose claim another worker holds.
		expect: func(behaviour) []fact { return []fact{{"ran", false}, {"completed", false}} },
	}
}

func abortOnClaim(ctx context.Context, r *runner) outcome {
	t, claim, err := claimSituation(ctx, r, func(n int) answer {
		return answer{code: codes.OK, status: pb.TaskStatus_TASK_STATUS_IN_PROGRESS, abort: n == 1}
	})
	if err != nil {
		return failed(err)
	}
	completed := len(t.completes) > 0
	return outcome{
		observed: []fact{{"ran", t.beatsAfter(claim) > 0 || completed}, {"completed", completed}},
		did:      ranText(t, claim),
		expect: func(b behaviour) []fact {
			return []fact{{"ran", !b.claimDropsOnAbort}, {"completed", !b.claimDropsOnAbort}}
		},
	}
}

func claimUnavailable(ctx context.Context, r *runner) outcome {
	const refusals = 2
	task, at, err := r.start(ctx, defaultScript().withBeat(func(n int) answer {
		if n <= refusals {
			return answer{code: codes.Unavailable}
		}
		return inProgress(n)
	}))
	if err != nil {
		return failed(err)
	}
	if !r.waitBeats(ctx, task, 1, at+claimWait) {
		return failed(fmt.Errorf("no claim within %s", fmtDur(claimWait)))
	}
	first := r.task(task).beats[0].At
	// Long enough for two strict pauses (1s, 2s) plus slack; then the component's run.
	claimed := r.waitBeats(ctx, task, refusals+1, first+6*time.Second)
	t := r.task(task)
	end := first + 6*time.Second
	if claimed {
		end = r.runEnd(t.beats[refusals].At) + settle
	}
	r.waitComplete(ctx, task, 1, end)
	t = r.task(task)
	var tries []time.Duration
	for i := 0; i < len(t.beats) && i <= refusals; i++ {
		tries = append(tries, t.beats[i].At)
	}
	retries := gaps(tries)
	completed := len(t.completes) > 0
	return outcome{
		observed: []fact{{"claim_retries", retries}, {"completed", completed}},
		did:      fmt.Sprintf("claim tries %d apart %s; %s", len(tries), fmtValue(retries), ranText(t, tries[len(tries)-1])),
		expect: func(b behaviour) []fact {
			want := sched(b.claimRetries)
			if len(want) > refusals {
				want = want[:refusals]
			}
			return []fact{{"claim_retries", want}, {"completed", len(b.claimRetries) >= refusals}}
		},
	}
}

// loopCase is which answer heartbeat 2 gets.
type loopCase uint8

const (
	loopAbort loopCase = iota + 1
	loopUnavailable
	loopNotFound
)

// loopAnswer returns the situation that answers heartbeat 2 of a running task as lc says
// and every other IN_PROGRESS.
func loopAnswer(lc loopCase) func(ctx context.Context, r *runner) outcome {
	return func(ctx context.Context, r *runner) outcome {
		t, claim, err := claimSituation(ctx, r, func(n int) answer {
			a := inProgress(n)
			if n == 2 {
				switch lc {
				case loopAbort:
					a.abort = true
				case loopUnavailable:
					a = answer{code: codes.Unavailable}
				case loopNotFound:
					a = answer{code: codes.NotFound}
				}
			}
			return a
		})
		if err != nil {
			return failed(err)
		}
		if len(t.beats) < 2 {
			return outcome{notRun: "the component ended before its second heartbeat"}
		}
		at := t.beats[1].At
		keeps := t.beatsAfter(at) > 0
		completed := len(t.completes) > 0
		return outcome{
			observed: []fact{{"keeps_heartbeating", keeps}, {"completed", completed}},
			did:      fmt.Sprintf("heartbeat 2 at %s after the claim; then %s", fmtDur(at-claim), ranText(t, at)),
			expect: func(b behaviour) []fact {
				react := b.onAbort
				switch lc {
				case loopUnavailable:
					react = b.onUnavail
				case loopNotFound:
					react = b.onNotFound
				}
				return []fact{{"keeps_heartbeating", react == loopIgnores}, {"completed", react != loopAbandons}}
			},
		}
	}
}

func heartbeatNoAnswer(ctx context.Context, r *runner) outcome {
	hold := make(chan struct{})
	defer close(hold)
	t, claim, err := claimSituation(ctx, r, func(n int) answer {
		a := inProgress(n)
		if n == 2 {
			a.hold = hold
		}
		return a
	})
	if err != nil {
		return failed(err)
	}
	if len(t.beats) < 2 {
		return outcome{notRun: "the component ended before its second heartbeat"}
	}
	held := t.beats[1]
	keeps := t.beatsAfter(held.At) > 0
	completed := len(t.completes) > 0
	var ended string
	for _, e := range r.srv.snapshot() {
		if e.Kind == evBeatEnd && e.Task == held.Task {
			ended = fmt.Sprintf("; the client gave the held call up %s after sending it (%s)", fmtDur(e.At-held.At), e.Code)
			break
		}
	}
	deadline := "no deadline on it"
	if held.Deadline > 0 {
		deadline = "its deadline " + fmtDur(held.Deadline)
	}
	return outcome{
		observed: []fact{{"rpc_deadline", roundDeadline(held.Deadline)}, {"keeps_heartbeating", keeps}, {"completed", completed}},
		did:      fmt.Sprintf("held heartbeat 2 (%s, %s after the claim)%s; then %s", deadline, fmtDur(held.At-claim), ended, ranText(t, held.At)),
		expect: func(b behaviour) []fact {
			return []fact{{"rpc_deadline", b.rpcDeadline}, {"keeps_heartbeating", !b.waitsForBeat}, {"completed", true}}
		},
	}
}

// roundDeadline rounds a deadline seen by the server (what the client set, less transit)
// up to the next 10ms, so that 9.998s reads as the 10s the client asked for.
func roundDeadline(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return (d + 10*time.Millisecond - 1).Truncate(10 * time.Millisecond)
}

// completeWindow is how long complete_unavailable watches the tries after the first:
// long enough for python's first pause (4s) and strict's 1s and 2s, clear of the next
// ones (at 12s and 7s). With Config.Full it waits the schedules out.
func (r *runner) completeWindow() time.Duration {
	if r.cfg.Full {
		return 150 * time.Second
	}
	return 6 * time.Second
}

func completeUnavailable(ctx context.Context, r *runner) outcome {
	give := make(chan struct{})
	stop := func(int) codes.Code {
		select {
		case <-give:
			return codes.OK
		default:
			return codes.Unavailable
		}
	}
	task, at, err := r.start(ctx, defaultScript().withComplete(stop))
	if err != nil {
		return failed(err)
	}
	// After the window every try succeeds, so the worker lets the task go.
	defer close(give)
	if !r.waitComplete(ctx, task, 1, at+claimWait+r.duration+settle) {
		return failed(fmt.Errorf("no CompleteTask within %s", fmtDur(claimWait+r.duration+settle)))
	}
	first := r.task(task).completes[0].At
	window := r.completeWindow()
	gaveUp := false
	if r.cfg.Full {
		// Given up when 35s (more than any flavour's longest pause, 30s) pass with no new try.
		for {
			n := len(r.task(task).completes)
			last := r.task(task).completes[n-1].At
			if last-first >= window {
				break
			}
			if !r.waitComplete(ctx, task, n+1, min(last+35*time.Second, first+window)) {
				gaveUp = r.srv.now() >= last+35*time.Second
				break
			}
		}
	} else {
		r.srv.sleepUntil(ctx, first+window)
	}
	t := r.task(task)
	var tries []time.Duration
	for _, c := range t.completes {
		if c.At <= first+window {
			tries = append(tries, c.At)
		}
	}
	retries := gaps(tries)
	beating := t.beatsAfter(first+1500*time.Millisecond) > 0
	observedUntil := min(r.srv.now(), first+window) - first
	did := fmt.Sprintf("%d tries, pauses %s, watched %s after the first; %s",
		len(tries), fmtValue(retries), fmtDur(observedUntil), map[bool]string{true: "heartbeating meanwhile", false: "no heartbeats meanwhile"}[beating])
	observed := []fact{{"complete_retries", retries}, {"beats_while_retrying", beating}}
	if r.cfg.Full {
		observed = append(observed, fact{"gave_up", gaveUp})
	}
	return outcome{
		observed: observed,
		did:      did,
		expect: func(b behaviour) []fact {
			want, ambiguous := within(b.completeRetries, observedUntil)
			fs := []fact{{"beats_while_retrying", b.beatsWhileCompleting}}
			if !ambiguous {
				fs = append([]fact{{"complete_retries", want}}, fs...)
			}
			if r.cfg.Full {
				// Every flavour's schedule is finite: it drops the result in the end.
				fs = append(fs, fact{"gave_up", true})
			}
			return fs
		},
	}
}

func completeNotFound(ctx context.Context, r *runner) outcome {
	task, at, err := r.start(ctx, defaultScript().withComplete(func(int) codes.Code { return codes.NotFound }))
	if err != nil {
		return failed(err)
	}
	if !r.waitComplete(ctx, task, 1, at+claimWait+r.duration+settle) {
		return failed(fmt.Errorf("no CompleteTask within %s", fmtDur(claimWait+r.duration+settle)))
	}
	first := r.task(task).completes[0].At
	// Past the first pause of every flavour's UNAVAILABLE schedule (4s at most).
	const watch = 5 * time.Second
	r.srv.sleepUntil(ctx, first+watch)
	n := len(r.task(task).completes)
	return outcome{
		observed: []fact{{"tries", n}},
		did:      fmt.Sprintf("%d CompleteTask call(s) in the %s after the first", n, fmtDur(watch)),
		// NOT_FOUND ends the tries in every flavour (python and strict count it as
		// delivered, rust tries once).
		expect: func(behaviour) []fact { return []fact{{"tries", 1}} },
	}
}

func unknownComponent(ctx context.Context, r *runner) outcome {
	task := newTaskID()
	r.srv.setScript(task, defaultScript())
	at := r.srv.now()
	if err := r.srv.dispatch(ctx, r.execute(task, probeComponent, structpb.NewNullValue())); err != nil {
		return failed(err)
	}
	r.waitComplete(ctx, task, 1, at+claimWait)
	t := r.task(task)
	result := "none"
	if len(t.completes) > 0 {
		result = t.completes[0].Result
	}
	claimed := len(t.beats) > 0 && (len(t.completes) == 0 || t.beats[0].At < t.completes[0].At)
	did := fmt.Sprintf("%s, result %s", map[bool]string{true: "claimed", false: "not claimed"}[claimed], result)
	if len(t.completes) > 0 {
		did += " after " + fmtDur(t.completes[0].At-at)
	}
	return outcome{
		observed: []fact{{"claimed", claimed}, {"result", result}},
		did:      did,
		expect: func(b behaviour) []fact {
			return []fact{{"claimed", true}, {"result", b.unknownResult}}
		},
	}
}

func secondCopy(ctx context.Context, r *runner) outcome {
	// The reference answers both copies IN_PROGRESS (same worker id) and forgets the task
	// at the first CompleteTask, so a second one gets NOT_FOUND.
	sc := defaultScript().withComplete(func(n int) codes.Code {
		if n == 1 {
			return codes.OK
		}
		return codes.NotFound
	})
	task, at, err := r.start(ctx, sc)
	if err != nil {
		return failed(err)
	}
	if !r.waitBeats(ctx, task, 1, at+claimWait) {
		return failed(fmt.Errorf("no claim within %s", fmtDur(claimWait)))
	}
	claim := r.task(task).beats[0].At
	comp, in := r.component()
	if err := r.srv.dispatch(ctx, r.execute(task, comp, in)); err != nil {
		return failed(err)
	}
	r.waitComplete(ctx, task, 2, r.runEnd(claim)+settle)
	t := r.task(task)
	return outcome{
		observed: []fact{{"completions", len(t.completes)}},
		did:      fmt.Sprintf("%d CompleteTask call(s), %d heartbeats in all", len(t.completes), len(t.beats)),
		expect: func(b behaviour) []fact {
			return []fact{{"completions", map[bool]int{true: 2, false: 1}[b.runsDuplicate]}}
		},
	}
}

// pullsAfter are the instants of PullTasks calls after at.
func pullsAfter(evs []event, at time.Duration) []time.Duration {
	var out []time.Duration
	for _, e := range evs {
		if e.Kind == evPull && e.At > at {
			out = append(out, e.At)
		}
	}
	return out
}

func exitAfter(evs []event, at time.Duration) (time.Duration, string, bool) {
	for _, e := range evs {
		if e.Kind == evExit && e.At > at {
			return e.At - at, e.Exit, true
		}
	}
	return 0, "", false
}

func streamBreak(ctx context.Context, r *runner) outcome {
	if !r.connected(ctx, connectWait) {
		return failed(fmt.Errorf("no stream open to break"))
	}
	at := r.srv.now()
	r.srv.breakStreams()
	const wait = 20 * time.Second
	ok := r.srv.waitUntil(ctx, at+wait, func(evs []event) bool { return len(pullsAfter(evs, at)) > 0 })
	if !ok {
		return outcome{observed: []fact{{"reconnect_after", time.Duration(0)}},
			did: "did not reconnect within " + fmtDur(wait),
			expect: func(b behaviour) []fact {
				if b.reconnect == nil {
					return nil
				}
				return []fact{{"reconnect_after", b.reconnect(1)}}
			}}
	}
	d := pullsAfter(r.srv.snapshot(), at)[0] - at
	return outcome{
		observed: []fact{{"reconnect_after", d}},
		did:      "reconnected after " + fmtDur(d),
		expect: func(b behaviour) []fact {
			if b.reconnect == nil {
				return nil
			}
			return []fact{{"reconnect_after", b.reconnect(1)}}
		},
	}
}

// giveUpWindow: python's 2s pauses three times (the fourth would end at 8s), rust's
// reconnect at once and 4s (the next ends at 12s); with Config.Full, long enough for
// rust's ten failures (0+4+8+16+32+60*4 s).
func (r *runner) giveUpWindow() time.Duration {
	if r.cfg.Full {
		return 7 * time.Minute
	}
	return 7 * time.Second
}

func streamGiveUp(ctx context.Context, r *runner) outcome {
	if !r.connected(ctx, connectWait) {
		return failed(fmt.Errorf("no stream open to break"))
	}
	r.srv.setMode(pullRefuse)
	defer r.srv.setMode(pullServe)
	at := r.srv.now()
	r.srv.breakStreams()
	window := r.giveUpWindow()
	r.srv.waitUntil(ctx, at+window, func(evs []event) bool { _, _, ok := exitAfter(evs, at); return ok })
	evs := r.srv.snapshot()
	tries := append([]time.Duration{at}, pullsAfter(evs, at)...)
	exit, how, exited := exitAfter(evs, at)
	watched := min(r.srv.now(), at+window) - at
	did := fmt.Sprintf("%d reconnect attempt(s), pauses %s", len(tries)-1, fmtValue(gaps(tries)))
	if exited {
		did += fmt.Sprintf("; exited (%s) %s after the break", how, fmtDur(exit))
	} else {
		did += fmt.Sprintf("; still running after %s", fmtDur(watched))
	}
	return outcome{
		observed: []fact{{"reconnect_pauses", gaps(tries)}, {"exited", exited}},
		did:      did,
		expect: func(b behaviour) []fact {
			if b.reconnect == nil {
				return nil
			}
			full := make([]time.Duration, b.giveUp)
			var total time.Duration
			for i := range full {
				full[i] = b.reconnect(i + 1)
				total += full[i]
			}
			// A flavour that gives up inside the window shows its whole schedule and
			// exits; otherwise the window shows a prefix of it.
			if total < window-time.Second {
				return []fact{{"reconnect_pauses", sched(full)}, {"exited", true}}
			}
			fs := []fact{{"exited", false}}
			if want, ambiguous := within(full, window); !ambiguous {
				fs = append([]fact{{"reconnect_pauses", want}}, fs...)
			}
			return fs
		},
	}
}

// runningTask starts a fresh worker and a task of the user's component on it, and
// returns the task and its claim instant ("" without --component).
func (r *runner) runningTask(ctx context.Context) (string, time.Duration, error) {
	if err := r.restart(ctx); err != nil {
		return "", 0, err
	}
	if r.cfg.Component == "" {
		return "", 0, nil
	}
	task, at, err := r.start(ctx, defaultScript())
	if err != nil {
		return "", 0, err
	}
	if !r.waitBeats(ctx, task, 1, at+claimWait) {
		return "", 0, fmt.Errorf("no claim within %s", fmtDur(claimWait))
	}
	return task, r.task(task).beats[0].At, nil
}

func sigterm(ctx context.Context, r *runner) outcome {
	task, claim, err := r.runningTask(ctx)
	if err != nil {
		return failed(err)
	}
	if task != "" {
		r.srv.sleepUntil(ctx, claim+time.Second)
	}
	at := r.srv.now()
	r.proc.signal(syscall.SIGTERM)
	// remaining: how long the task still runs. The probe (a fresh assignment) goes out
	// after it ends, plus 2s, when that is soon, so that a worker that acts on SIGTERM only
	// when an assignment arrives shows it by exiting at the probe, not at the task's end.
	var remaining time.Duration
	if task != "" {
		remaining = max(0, r.duration-(at-claim))
	}
	probeAt := 2 * time.Second
	if remaining <= 10*time.Second {
		probeAt += remaining
	}
	exitedBefore := r.srv.waitUntil(ctx, at+probeAt, func(evs []event) bool { _, _, ok := exitAfter(evs, at); return ok })
	probe := newTaskID()
	// The probe goes out when this goroutine gets to it, late on a loaded machine: a
	// worker that notices SIGTERM on an assignment is expected to act from that instant.
	sentAt := probeAt
	if !exitedBefore {
		sentAt = r.srv.now() - at
		r.srv.setScript(probe, defaultScript())
		comp, in := r.component()
		// A worker that has closed its stream takes no probe; that is fine.
		_ = r.srv.dispatch(ctx, r.execute(probe, comp, in))
	}
	const wait = 40 * time.Second
	r.srv.waitUntil(ctx, at+wait, func(evs []event) bool { _, _, ok := exitAfter(evs, at); return ok })
	evs := r.srv.snapshot()
	exit, how, exited := exitAfter(evs, at)
	completed := task != "" && len(eventsOf(evs, task).completes) > 0
	probeClaimed := len(eventsOf(evs, probe).beats) > 0
	r.proc.kill()
	did := fmt.Sprintf("probe assignment sent %s after SIGTERM, %s; ", fmtDur(sentAt), map[bool]string{true: "claimed", false: "not claimed"}[probeClaimed])
	if exitedBefore {
		did = "exited before the probe assignment was due; "
	}
	if task != "" {
		did += fmt.Sprintf("the running task (%s left) %s; ", fmtDur(remaining), map[bool]string{true: "completed", false: "got no CompleteTask"}[completed])
	}
	obs := []fact{{"probe_claimed", probeClaimed}, {"exited", exited}}
	if exited {
		did += fmt.Sprintf("exited (%s) %s after SIGTERM", how, fmtDur(exit))
		obs = append(obs, fact{"exit_after", exit})
	} else {
		did += "still running after " + fmtDur(wait)
	}
	if task != "" {
		obs = append(obs, fact{"completed", completed})
	}
	return outcome{
		observed: obs,
		did:      did,
		expect: func(b behaviour) []fact {
			if !b.sigtermSpecified {
				return nil
			}
			notice := time.Duration(0)
			if b.noticedOnAssignment {
				notice = sentAt
			}
			// The task finishes by itself if it ends within the grace after the notice.
			finishes := remaining <= notice+b.grace
			exitAt := max(notice, remaining)
			if !finishes {
				exitAt = notice + b.grace
			}
			fs := []fact{{"probe_claimed", false}, {"exited", exitAt < wait}}
			if exitAt < wait {
				fs = append(fs, fact{"exit_after", exitAt})
			}
			if task != "" {
				fs = append(fs, fact{"completed", finishes})
			}
			return fs
		},
	}
}

func sigkill(ctx context.Context, r *runner) outcome {
	task, claim, err := r.runningTask(ctx)
	if err != nil {
		return failed(err)
	}
	if task != "" {
		r.srv.sleepUntil(ctx, claim+time.Second)
	}
	at := r.srv.now()
	r.proc.signal(syscall.SIGKILL)
	// The stream closes at once; one more second shows that nothing else arrives.
	const wait = 5 * time.Second
	r.srv.waitUntil(ctx, at+wait, func(evs []event) bool {
		for _, e := range evs {
			if e.Kind == evPullEnd && e.At >= at {
				return true
			}
		}
		return false
	})
	r.srv.sleepUntil(ctx, r.srv.now()+time.Second)
	evs := r.srv.snapshot()
	var closed time.Duration
	for _, e := range evs {
		if e.Kind == evPullEnd && e.At >= at {
			closed = max(e.At-at, time.Millisecond)
			break
		}
	}
	obs := []fact{{"stream_closed_after", closed}}
	did := "stream did not close within " + fmtDur(wait)
	if closed > 0 {
		did = "stream closed " + fmtDur(closed) + " after SIGKILL"
	}
	if task != "" {
		done := len(eventsOf(evs, task).completes) > 0
		obs = append(obs, fact{"completed", done})
		did += map[bool]string{true: "; the task completed", false: "; no CompleteTask"}[done]
	}
	return outcome{
		observed: obs,
		did:      did,
		expect: func(behaviour) []fact {
			// Every flavour: the kernel closes the connection at once; nothing more is sent.
			fs := []fact{{"stream_closed_after", time.Millisecond}}
			if task != "" {
				fs = append(fs, fact{"completed", false})
			}
			return fs
		},
	}
}
