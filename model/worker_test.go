package model

import (
	"testing"
	"time"
)

// The read loop of each flavour: it opens the stream and reads; it reads again at once
// after each assignment while the flavour would (python: until one waits for a slot,
// so slots+1 held; rust and strict: while a slot is free), and again when a slot frees.
func TestWorkerReadLoop(t *testing.T) {
	tests := []struct {
		name        string
		flavour     Flavour
		concurrency int
		jetstream   bool
		held        int // assignments held when it stops reading
	}{
		{"python default 4 slots reads 5", FlavourPython, 0, false, 5},
		{"rust default 10", FlavourRust, 0, false, 10},
		{"strict default 4", FlavourStrict, 0, false, 4},
		{"python 2 slots reads 3", FlavourPython, 2, false, 3},
		{"rust 3", FlavourRust, 3, false, 3},
		{"python on jetstream takes a slot before it fetches", FlavourPython, 2, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, tt.flavour, func(c *WorkerConfig) {
				c.Concurrency = tt.concurrency
				c.Pool = 2
				c.JetStream = tt.jetstream
			})
			expectEffects(t, "start", r.start(0), Effects{Send: []Message{{Type: MsgPullTasks,
				From: selfNode, To: orchNode, Worker: selfNode, Pool: 2}}, Recv: true})
			for n := 1; n <= tt.held; n++ {
				m := assignment(TaskID(100+n), StepID(n), 1)
				if !r.w.Reading() {
					t.Fatalf("not reading before assignment %d", n)
				}
				got := r.recv(0, m)
				if got.Recv != (n < tt.held) {
					t.Fatalf("assignment %d: Recv %v, want %v", n, got.Recv, n < tt.held)
				}
			}
			if r.w.Held() != tt.held || r.w.Reading() {
				t.Fatalf("held %d reading %v, want %d and not reading", r.w.Held(), r.w.Reading(), tt.held)
			}
			// The first claim is refused: its slot frees, and the loop reads again.
			got := r.recv(ms(5), alreadyClaimed(1))
			if !got.Recv || !r.w.Reading() {
				t.Fatalf("no read after a slot freed: %+v", got)
			}
		})
	}
}

// The reference loops sleep, send, and wait for the answer with no deadline: heartbeat
// n+1 leaves one interval after the answer to heartbeat n arrived.
func TestWorkerReferenceLoopSleepsThenSends(t *testing.T) {
	for _, f := range []Flavour{FlavourPython, FlavourRust} {
		t.Run(f.String(), func(t *testing.T) {
			r := claimed(t, f, ms(10), nil)
			expectEffects(t, "beat 1", r.fire(ms(1010), workerTimerID(1, timerBeat)), Effects{
				Send: []Message{r.heartbeatMsg(2, 100, 5, 1)},
			})
			expectEffects(t, "answer 1 after 490ms", r.recv(ms(1500), inProgress(2)), Effects{
				Timers: []TimerOp{setTimer(1, timerBeat, ms(2500))},
				Events: []Event{replyEvent(1, 100, 5, 1, inProgress(2))},
			})
			expectEffects(t, "beat 2", r.fire(ms(2500), workerTimerID(1, timerBeat)), Effects{
				Send: []Message{r.heartbeatMsg(3, 100, 5, 1)},
			})
			expectEffects(t, "answer 2 after 15s", r.recv(ms(17500), inProgress(3)), Effects{
				Timers: []TimerOp{setTimer(1, timerBeat, ms(18500))},
				Events: []Event{replyEvent(1, 100, 5, 1, inProgress(3))},
			})
		})
	}
}

// A reference loop heartbeat whose answer never comes blocks that task's loop: no
// heartbeat leaves for as long, and no DEADLINE_EXCEEDED ends the wait, but the component
// runs on and completes on its own call (hazard 8). When the connection fails the call
// answers UNAVAILABLE and the loop goes on one interval later.
func TestWorkerReferenceBeatWithoutAnswerBlocksTheLoop(t *testing.T) {
	for _, f := range []Flavour{FlavourPython, FlavourRust} {
		t.Run(f.String()+"/completes", func(t *testing.T) {
			r := claimed(t, f, ms(10), nil)
			expectEffects(t, "beat 1, never answered", r.fire(ms(1010), workerTimerID(1, timerBeat)), Effects{
				Send: []Message{r.heartbeatMsg(2, 100, 5, 1)},
			})
			expectEffects(t, "no deadline fires", r.fire(ms(11010), workerTimerID(1, timerRPC)), Effects{})
			if r.w.Running() != 1 {
				t.Fatalf("running %d at 11.01s, want 1", r.w.Running())
			}
			expectEffects(t, "component returns at 30s", r.done(sec(30), 1, false, 7), Effects{
				Send:   []Message{r.completeMsg(3, 100, 5, 1, 7)},
				Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
			})
			expectEffects(t, "completed", r.recv(ms(30005), completeAnswer(3, CodeOK)), Effects{
				Events: []Event{replyEvent(1, 100, 5, 1, completeAnswer(3, CodeOK))},
			})
			if len(r.w.execs) != 0 {
				t.Fatalf("%d executions after the completion", len(r.w.execs))
			}
		})
		t.Run(f.String()+"/connection fails", func(t *testing.T) {
			r := claimed(t, f, ms(10), nil)
			r.fire(ms(1010), workerTimerID(1, timerBeat))
			broken := heartbeatAnswer(2, CodeUnavailable, 0, false)
			expectEffects(t, "UNAVAILABLE at 20s", r.recv(sec(20), broken), Effects{
				Timers: []TimerOp{setTimer(1, timerBeat, sec(21))},
				Events: []Event{replyEvent(1, 100, 5, 1, broken)},
			})
			expectEffects(t, "beat 2", r.fire(sec(21), workerTimerID(1, timerBeat)), Effects{
				Send: []Message{r.heartbeatMsg(3, 100, 5, 1)},
			})
		})
	}
}

// A reference claim or CompleteTask whose answer never comes waits for ever: the task
// keeps its slot until the connection fails and the call answers UNAVAILABLE, which
// python's claim tries again 1s later and rust's drops.
func TestWorkerReferenceCallWithoutAnswerWaits(t *testing.T) {
	unavailable := heartbeatAnswer(1, CodeUnavailable, 0, false)
	t.Run("python claim", func(t *testing.T) {
		r := newRig(t, FlavourPython, func(c *WorkerConfig) { c.Concurrency = 1 })
		r.start(0)
		r.recv(0, assignment(100, 5, 1))
		expectEffects(t, "no deadline fires", r.fire(sec(10), workerTimerID(1, timerRPC)), Effects{})
		expectEffects(t, "UNAVAILABLE at 60s", r.recv(sec(60), unavailable), Effects{
			Timers: []TimerOp{setTimer(1, timerRetry, sec(61))},
			Events: []Event{replyEvent(1, 100, 5, 1, unavailable)},
		})
		expectEffects(t, "tried again", r.fire(sec(61), workerTimerID(1, timerRetry)), Effects{
			Send: []Message{r.heartbeatMsg(2, 100, 5, 1)},
		})
	})
	t.Run("rust claim", func(t *testing.T) {
		r := newRig(t, FlavourRust, func(c *WorkerConfig) { c.Concurrency = 1 })
		r.start(0)
		r.recv(0, assignment(100, 5, 1))
		if r.w.Reading() || r.w.free != 0 {
			t.Fatalf("reading %v, free %d while the claim waits; want no read, no free slot", r.w.Reading(), r.w.free)
		}
		expectEffects(t, "UNAVAILABLE at 60s", r.recv(sec(60), unavailable), Effects{
			Events: []Event{replyEvent(1, 100, 5, 1, unavailable),
				droppedEvent(1, 100, 5, 1, DropClaimFailed, CodeUnavailable, 0)},
			Recv: true,
		})
	})
	t.Run("python complete", func(t *testing.T) {
		r := claimed(t, FlavourPython, ms(10), func(c *WorkerConfig) { c.HeartbeatInterval = time.Hour })
		r.done(sec(2), 1, false, 0)
		expectEffects(t, "no deadline fires", r.fire(sec(12), workerTimerID(1, timerRPC)), Effects{})
		broken := completeAnswer(2, CodeUnavailable)
		expectEffects(t, "UNAVAILABLE at 60s", r.recv(sec(60), broken), Effects{
			Timers: []TimerOp{setTimer(1, timerRetry, sec(64))},
			Events: []Event{replyEvent(1, 100, 5, 1, broken)},
		})
	})
}

func TestWorkerHeartbeatIntervalChoice(t *testing.T) {
	tests := []struct {
		name      string
		suggested uint32
		override  time.Duration
		want      time.Duration
	}{
		{"suggested 1s", 1, 0, sec(1)},
		{"suggested 0 floors at 1s", 0, 0, sec(1)},
		{"suggested 3s", 3, 0, sec(3)},
		{"override wins", 3, ms(500), ms(500)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, FlavourRust, func(c *WorkerConfig) { c.HeartbeatInterval = tt.override })
			a := assignment(100, 5, 1)
			a.HeartbeatSecs = tt.suggested
			r.recv(0, a)
			got := r.recv(ms(10), inProgress(1))
			if want := setTimer(1, timerBeat, ms(10)+tt.want); len(got.Timers) != 1 || got.Timers[0] != want {
				t.Fatalf("timers %+v, want only %+v", got.Timers, want)
			}
		})
	}
}

// The strict loop sends on a fixed period and never waits for an answer.
func TestWorkerStrictFixedPeriod(t *testing.T) {
	r := claimed(t, FlavourStrict, ms(10), nil)
	expectEffects(t, "beat 1", r.fire(ms(1010), workerTimerID(1, timerBeat)), Effects{
		Send:   []Message{r.heartbeatMsg(2, 100, 5, 1)},
		Timers: []TimerOp{setTimer(1, timerBeat, ms(2010))},
	})
	expectEffects(t, "slow answer 1", r.recv(ms(1900), inProgress(2)), Effects{
		Events: []Event{replyEvent(1, 100, 5, 1, inProgress(2))},
	})
	expectEffects(t, "beat 2 with answer outstanding", r.fire(ms(2010), workerTimerID(1, timerBeat)), Effects{
		Send:   []Message{r.heartbeatMsg(3, 100, 5, 1)},
		Timers: []TimerOp{setTimer(1, timerBeat, ms(3010))},
	})
	expectEffects(t, "beat 3", r.fire(ms(3010), workerTimerID(1, timerBeat)), Effects{
		Send:   []Message{r.heartbeatMsg(4, 100, 5, 1)},
		Timers: []TimerOp{setTimer(1, timerBeat, ms(4010))},
	})
	// Heartbeat 3 is answered in time, heartbeat 2 only after its RPC deadline: ignored.
	expectEffects(t, "answer 3", r.recv(ms(3100), inProgress(4)), Effects{
		Events: []Event{replyEvent(1, 100, 5, 1, inProgress(4))},
	})
	expectEffects(t, "answer 2 after 10s", r.recv(ms(12010), alreadyClaimed(3)), Effects{})
	if r.w.Running() != 1 {
		t.Fatalf("running %d after a timed-out abort answer, want 1", r.w.Running())
	}
}

// Each flavour's reaction to the answer of the first heartbeat (the claim), sent at 0 and
// answered at 20ms; DEADLINE_EXCEEDED is the strict RPC timer firing at 10s instead (the
// reference flavours set none: TestWorkerReferenceCallWithoutAnswerWaits).
func TestWorkerClaimAnswers(t *testing.T) {
	type outcome uint8
	const (
		start outcome = iota
		drop
		retry
	)
	unavailable := heartbeatAnswer(1, CodeUnavailable, StatusUnspecified, false)
	notFound := heartbeatAnswer(1, CodeNotFound, StatusUnspecified, false)
	abortInProgress := heartbeatAnswer(1, CodeOK, StatusInProgress, true)
	timeout := Message{Code: CodeDeadlineExceeded}
	tests := []struct {
		flavour Flavour
		answer  Message
		want    outcome
		retryAt time.Duration
	}{
		{FlavourPython, inProgress(1), start, 0},
		{FlavourPython, alreadyClaimed(1), drop, 0},
		{FlavourPython, abortInProgress, drop, 0},
		{FlavourPython, notFound, drop, 0},
		{FlavourPython, unavailable, retry, ms(1020)},
		{FlavourRust, inProgress(1), start, 0},
		{FlavourRust, alreadyClaimed(1), drop, 0},
		{FlavourRust, notFound, drop, 0},
		{FlavourRust, unavailable, drop, 0},
		{FlavourStrict, inProgress(1), start, 0},
		{FlavourStrict, alreadyClaimed(1), drop, 0},
		{FlavourStrict, abortInProgress, drop, 0},
		{FlavourStrict, notFound, drop, 0},
		{FlavourStrict, unavailable, retry, ms(1020)},
		{FlavourStrict, timeout, retry, sec(11)},
	}
	for _, tt := range tests {
		name := tt.flavour.String() + "/" + tt.answer.Code.String()
		if tt.answer.Code == CodeOK {
			name += "/abort=" + map[bool]string{false: "no", true: "yes"}[tt.answer.ShouldAbort] +
				"/status=" + map[TaskStatus]string{StatusInProgress: "in_progress", StatusAlreadyClaimed: "already_claimed"}[tt.answer.Status]
		}
		t.Run(name, func(t *testing.T) {
			r := newRig(t, tt.flavour, nil)
			r.start(0)
			r.recv(0, assignment(100, 5, 1))
			var got Effects
			var events []Event
			now := ms(20)
			if tt.answer.Code == CodeDeadlineExceeded {
				now = sec(10)
				got = r.fire(now, workerTimerID(1, timerRPC))
			} else {
				got = r.recv(now, tt.answer)
				events = append(events, replyEvent(1, 100, 5, 1, tt.answer))
			}
			var cancels []TimerOp
			if tt.answer.Code != CodeDeadlineExceeded {
				cancels = undeadline(tt.flavour, 1)
			}
			var want Effects
			switch tt.want {
			case start:
				want = Effects{
					Timers: append(cancels, setTimer(1, timerBeat, now+time.Second)),
					Runs:   []RunOp{startRun(1, 100, 5, 1)},
					Events: append(events, execEvent(EvExecStarted, 1, 100, 5, 1)),
				}
			case drop:
				want = Effects{
					Timers: cancels,
					Events: append(events, droppedEvent(1, 100, 5, 1, DropClaimFailed, tt.answer.Code, tt.answer.Status)),
				}
			case retry:
				want = Effects{Timers: append(cancels, setTimer(1, timerRetry, tt.retryAt)), Events: events}
			}
			expectEffects(t, "answer", got, want)
			if tt.want == retry {
				expectEffects(t, "retry", r.fire(tt.retryAt, workerTimerID(1, timerRetry)), Effects{
					Send:   []Message{r.heartbeatMsg(2, 100, 5, 1)},
					Timers: deadline(tt.flavour, 1, tt.retryAt),
				})
			}
		})
	}
}

// Python tries the claim 5 times, 1s after each UNAVAILABLE answer, then drops the task;
// strict backs off 1, 2, 4, 8, 10s and gives up after 6 tries.
func TestWorkerClaimRetrySchedule(t *testing.T) {
	tests := []struct {
		flavour Flavour
		sends   []time.Duration // when each try leaves; the answer comes 5ms later
	}{
		{FlavourPython, []time.Duration{0, ms(1005), ms(2010), ms(3015), ms(4020)}},
		{FlavourStrict, []time.Duration{0, ms(1005), ms(3010), ms(7015), ms(15020), ms(25025)}},
	}
	for _, tt := range tests {
		t.Run(tt.flavour.String(), func(t *testing.T) {
			r := newRig(t, tt.flavour, nil)
			r.start(0)
			r.recv(0, assignment(100, 5, 1))
			for n, at := range tt.sends {
				call := uint32(n + 1)
				if n > 0 {
					expectEffects(t, "retry", r.fire(at, workerTimerID(1, timerRetry)), Effects{
						Send:   []Message{r.heartbeatMsg(call, 100, 5, 1)},
						Timers: deadline(tt.flavour, 1, at),
					})
				}
				answer := heartbeatAnswer(call, CodeUnavailable, StatusUnspecified, false)
				got := r.recv(at+ms(5), answer)
				want := Effects{Timers: undeadline(tt.flavour, 1),
					Events: []Event{replyEvent(1, 100, 5, 1, answer)}}
				if n+1 < len(tt.sends) {
					want.Timers = append(want.Timers, setTimer(1, timerRetry, tt.sends[n+1]))
				} else {
					want.Events = append(want.Events, droppedEvent(1, 100, 5, 1, DropClaimFailed, CodeUnavailable, StatusUnspecified))
				}
				expectEffects(t, "answer", got, want)
			}
			if r.w.Held() != 0 || len(r.w.execs) != 0 {
				t.Fatalf("held %d, executions %d after the drop", r.w.Held(), len(r.w.execs))
			}
		})
	}
}

// Each flavour's reaction to the answer of a loop heartbeat (sent at 1.01s, answered at
// 1.02s).
func TestWorkerLoopAnswers(t *testing.T) {
	type outcome uint8
	const (
		goOn outcome = iota
		stopBeating
		abandon
		ignore
	)
	tests := []struct {
		flavour Flavour
		answer  Message
		want    outcome
	}{
		{FlavourPython, inProgress(2), goOn},
		{FlavourPython, heartbeatAnswer(2, CodeUnavailable, 0, false), goOn},
		{FlavourPython, alreadyClaimed(2), stopBeating},
		{FlavourPython, heartbeatAnswer(2, CodeNotFound, 0, false), stopBeating},
		{FlavourRust, inProgress(2), goOn},
		{FlavourRust, heartbeatAnswer(2, CodeUnavailable, 0, false), goOn},
		{FlavourRust, alreadyClaimed(2), goOn},
		{FlavourRust, heartbeatAnswer(2, CodeNotFound, 0, false), goOn},
		{FlavourStrict, inProgress(2), ignore},
		{FlavourStrict, heartbeatAnswer(2, CodeUnavailable, 0, false), ignore},
		{FlavourStrict, alreadyClaimed(2), abandon},
		{FlavourStrict, heartbeatAnswer(2, CodeNotFound, 0, false), abandon},
	}
	for _, tt := range tests {
		t.Run(tt.flavour.String()+"/"+tt.answer.Code.String()+"/"+map[bool]string{false: "-", true: "abort"}[tt.answer.ShouldAbort], func(t *testing.T) {
			r := claimed(t, tt.flavour, ms(10), nil)
			r.fire(ms(1010), workerTimerID(1, timerBeat))
			now := ms(1020)
			got := r.recv(now, tt.answer)
			want := Effects{Events: []Event{replyEvent(1, 100, 5, 1, tt.answer)}}
			switch tt.want {
			case goOn:
				want.Timers = append(want.Timers, setTimer(1, timerBeat, now+time.Second))
			case stopBeating:
			case abandon:
				want.Runs = []RunOp{stopRun(1, 100, 5, 1)}
				want.Events = append(want.Events, endedEvent(1, 100, 5, 1, ExecAbandoned))
				want.Timers = []TimerOp{cancelTimer(1, timerBeat)}
			}
			expectEffects(t, "answer", got, want)
			// After stopping, python still completes (hazard 5); an abandoned strict
			// execution is gone and a late ComponentDone is ignored.
			got = r.done(sec(20), 1, false, 64)
			switch tt.want {
			case abandon:
				expectEffects(t, "done after abandon", got, Effects{})
			case stopBeating:
				expectEffects(t, "done after abort", got, Effects{
					Send:   []Message{r.completeMsg(3, 100, 5, 1, 64)},
					Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
				})
			}
		})
	}
}

// When the component returns, rust cancels the loop (an answer to a heartbeat in flight
// is then ignored) and sends CompleteTask; python and strict keep beating until
// CompleteTask is over.
func TestWorkerComponentDone(t *testing.T) {
	t.Run("python keeps beating, heartbeat in flight", func(t *testing.T) {
		r := claimed(t, FlavourPython, ms(10), nil)
		r.fire(ms(1010), workerTimerID(1, timerBeat))
		expectEffects(t, "done", r.done(ms(1015), 1, true, 0), Effects{
			Send: []Message{{Type: MsgComplete, From: selfNode, To: orchNode, Call: 3, Task: 100, Run: 1,
				Result: ResultError, ErrorCode: ErrComponentFailed, Truth: Truth{Step: 5, Attempt: 1}}},
			Events: []Event{func() Event {
				e := endedEvent(1, 100, 5, 1, ExecFinished)
				e.ErrorCode = ErrComponentFailed
				return e
			}()},
		})
		expectEffects(t, "heartbeat answer, loop goes on", r.recv(ms(1020), inProgress(2)), Effects{
			Timers: []TimerOp{setTimer(1, timerBeat, ms(2020))},
			Events: []Event{replyEvent(1, 100, 5, 1, inProgress(2))},
		})
		expectEffects(t, "completed: the loop ends", r.recv(ms(1025), completeAnswer(3, CodeOK)), Effects{
			Timers: []TimerOp{cancelTimer(1, timerBeat)},
			Events: []Event{replyEvent(1, 100, 5, 1, completeAnswer(3, CodeOK))},
		})
	})
	t.Run("rust with heartbeat in flight", func(t *testing.T) {
		r := claimed(t, FlavourRust, ms(10), nil)
		r.fire(ms(1010), workerTimerID(1, timerBeat))
		expectEffects(t, "done", r.done(ms(1015), 1, false, 9), Effects{
			Send:   []Message{r.completeMsg(3, 100, 5, 1, 9)},
			Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
		})
		expectEffects(t, "late heartbeat answer", r.recv(ms(1020), inProgress(2)), Effects{})
		expectEffects(t, "completed", r.recv(ms(1025), completeAnswer(3, CodeOK)), Effects{
			Events: []Event{replyEvent(1, 100, 5, 1, completeAnswer(3, CodeOK))},
		})
	})
	t.Run("rust sleeping", func(t *testing.T) {
		r := claimed(t, FlavourRust, ms(10), nil)
		expectEffects(t, "done", r.done(ms(500), 1, false, 9), Effects{
			Send:   []Message{r.completeMsg(2, 100, 5, 1, 9)},
			Timers: []TimerOp{cancelTimer(1, timerBeat)},
			Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
		})
		expectEffects(t, "no heartbeat after the component returned", r.fire(ms(1010), workerTimerID(1, timerBeat)), Effects{})
	})
	t.Run("strict keeps beating", func(t *testing.T) {
		r := claimed(t, FlavourStrict, ms(10), nil)
		expectEffects(t, "done", r.done(ms(500), 1, false, 9), Effects{
			Send:   []Message{r.completeMsg(2, 100, 5, 1, 9)},
			Timers: []TimerOp{setTimer(1, timerRPC, ms(10500))},
			Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
		})
		expectEffects(t, "beat while completing", r.fire(ms(1010), workerTimerID(1, timerBeat)), Effects{
			Send:   []Message{r.heartbeatMsg(3, 100, 5, 1)},
			Timers: []TimerOp{setTimer(1, timerBeat, ms(2010))},
		})
		expectEffects(t, "completed", r.recv(ms(1020), completeAnswer(2, CodeOK)), Effects{
			Timers: []TimerOp{cancelTimer(1, timerRPC), cancelTimer(1, timerBeat)},
			Events: []Event{replyEvent(1, 100, 5, 1, completeAnswer(2, CodeOK))},
		})
		expectEffects(t, "answer to the last beat", r.recv(ms(1030), inProgress(3)), Effects{})
	})
}

// Python heartbeats on while CompleteTask is tried and tried again after 4, 8, 16, 30 and
// 30s of UNAVAILABLE, and stops only when the last try gives up. With a 10s interval
// (claimed at 10ms, each answer 5ms after its call), the beats and the tries interleave:
func TestWorkerPythonBeatsUntilCompleteIsOver(t *testing.T) {
	r := claimed(t, FlavourPython, ms(10), func(c *WorkerConfig) { c.HeartbeatInterval = sec(10) })
	unavailable := func(call uint32) Message { return completeAnswer(call, CodeUnavailable) }
	beat := func(at time.Duration, call uint32) {
		t.Helper()
		expectEffects(t, "beat", r.fire(at, workerTimerID(1, timerBeat)), Effects{
			Send: []Message{r.heartbeatMsg(call, 100, 5, 1)}})
		expectEffects(t, "beat answer", r.recv(at+ms(5), inProgress(call)), Effects{
			Timers: []TimerOp{setTimer(1, timerBeat, at+ms(5)+sec(10))},
			Events: []Event{replyEvent(1, 100, 5, 1, inProgress(call))}})
	}
	try := func(at time.Duration, call uint32, next time.Duration) {
		t.Helper()
		expectEffects(t, "complete retry", r.fire(at, workerTimerID(1, timerRetry)), Effects{
			Send: []Message{r.completeMsg(call, 100, 5, 1, 1)}})
		want := Effects{Events: []Event{replyEvent(1, 100, 5, 1, unavailable(call))}}
		if next > 0 {
			want.Timers = []TimerOp{setTimer(1, timerRetry, next)}
		} else {
			want.Timers = []TimerOp{cancelTimer(1, timerBeat)}
			want.Events = append(want.Events, droppedEvent(1, 100, 5, 1, DropCompleteFailed, CodeUnavailable, 0))
		}
		expectEffects(t, "complete answer", r.recv(at+ms(5), unavailable(call)), want)
	}
	expectEffects(t, "done at 0.5s: the beat timer stays", r.done(ms(500), 1, false, 1), Effects{
		Send:   []Message{r.completeMsg(2, 100, 5, 1, 1)},
		Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)}})
	expectEffects(t, "UNAVAILABLE", r.recv(ms(505), unavailable(2)), Effects{
		Timers: []TimerOp{setTimer(1, timerRetry, ms(4505))},
		Events: []Event{replyEvent(1, 100, 5, 1, unavailable(2))}})
	try(ms(4505), 3, ms(12510))
	beat(ms(10010), 4)
	try(ms(12510), 5, ms(28515))
	beat(ms(20015), 6)
	try(ms(28515), 7, ms(58520))
	beat(ms(30020), 8)
	beat(ms(40025), 9)
	beat(ms(50030), 10)
	try(ms(58520), 11, ms(88525))
	beat(ms(60035), 12)
	beat(ms(70040), 13)
	beat(ms(80045), 14)
	try(ms(88525), 15, 0)
	expectEffects(t, "no beat after the result was dropped", r.fire(ms(90050), workerTimerID(1, timerBeat)), Effects{})
	if len(r.w.execs) != 0 {
		t.Fatalf("%d executions at the end", len(r.w.execs))
	}
}

// CompleteTask answers per flavour: python retries UNAVAILABLE after 4, 8, 16, 30, 30s and
// counts NOT_FOUND as delivered; rust tries once; strict retries UNAVAILABLE and lost
// answers (its 10s deadline) with 1, 2, 4, 8, 10s pauses.
func TestWorkerCompleteRetrySchedule(t *testing.T) {
	tests := []struct {
		name    string
		flavour Flavour
		answers []Code          // one per try; DEADLINE_EXCEEDED = the RPC timer fires
		sends   []time.Duration // when each try leaves
		gaveUp  bool
	}{
		{"python unavailable 6 times", FlavourPython,
			[]Code{CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable},
			[]time.Duration{sec(2), ms(6005), ms(14010), ms(30015), ms(60020), ms(90025)}, true},
		{"python not_found is delivered", FlavourPython, []Code{CodeUnavailable, CodeNotFound},
			[]time.Duration{sec(2), ms(6005)}, false},
		{"python invalid argument gives up", FlavourPython, []Code{CodeInvalidArgument},
			[]time.Duration{sec(2)}, true},
		{"rust ok", FlavourRust, []Code{CodeOK}, []time.Duration{sec(2)}, false},
		{"rust unavailable once", FlavourRust, []Code{CodeUnavailable}, []time.Duration{sec(2)}, true},
		{"rust not_found", FlavourRust, []Code{CodeNotFound}, []time.Duration{sec(2)}, true},
		{"strict lost answers then ok", FlavourStrict,
			[]Code{CodeDeadlineExceeded, CodeUnavailable, CodeOK},
			[]time.Duration{sec(2), sec(13), ms(15005)}, false},
		{"strict gives up after 6", FlavourStrict,
			[]Code{CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable, CodeUnavailable},
			[]time.Duration{sec(2), ms(3005), ms(5010), ms(9015), ms(17020), ms(27025)}, true},
		{"strict not_found is delivered", FlavourStrict, []Code{CodeNotFound}, []time.Duration{sec(2)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A 1h interval keeps the strict loop out of the way.
			r := claimed(t, tt.flavour, ms(10), func(c *WorkerConfig) { c.HeartbeatInterval = time.Hour })
			for n, at := range tt.sends {
				call := uint32(n + 2)
				want := Effects{Send: []Message{r.completeMsg(call, 100, 5, 1, 8)},
					Timers: deadline(tt.flavour, 1, at)}
				if n == 0 {
					want.Events = []Event{endedEvent(1, 100, 5, 1, ExecFinished)}
					if tt.flavour == FlavourRust {
						want.Timers = append([]TimerOp{cancelTimer(1, timerBeat)}, want.Timers...)
					}
					expectEffects(t, "done", r.done(at, 1, false, 8), want)
				} else {
					expectEffects(t, "retry", r.fire(at, workerTimerID(1, timerRetry)), want)
				}
				code := tt.answers[n]
				var got Effects
				var now time.Duration
				want = Effects{}
				if code == CodeDeadlineExceeded {
					now = at + sec(10)
					got = r.fire(now, workerTimerID(1, timerRPC))
				} else {
					now = at + ms(5)
					got = r.recv(now, completeAnswer(call, code))
					want.Timers = undeadline(tt.flavour, 1)
					want.Events = []Event{replyEvent(1, 100, 5, 1, completeAnswer(call, code))}
				}
				last := n+1 == len(tt.sends)
				switch {
				case !last:
					want.Timers = append(want.Timers, setTimer(1, timerRetry, tt.sends[n+1]))
				case tt.gaveUp:
					want.Events = append(want.Events, droppedEvent(1, 100, 5, 1, DropCompleteFailed, code, 0))
					fallthrough
				default:
					// Python's and strict's loops end with CompleteTask; rust's ended before.
					if tt.flavour != FlavourRust {
						want.Timers = append(want.Timers, cancelTimer(1, timerBeat))
					}
				}
				expectEffects(t, "answer "+code.String(), got, want)
			}
			if len(r.w.execs) != 0 || r.w.Held() != 0 {
				t.Fatalf("executions %d, held %d at the end", len(r.w.execs), r.w.Held())
			}
		})
	}
}

// Python reads one assignment more than it has slots; the extra one waits unclaimed and
// is claimed when a slot frees. Rust and strict read only as many as they have slots.
func TestWorkerReadAhead(t *testing.T) {
	t.Run("python holds concurrency+1", func(t *testing.T) {
		r := newRig(t, FlavourPython, func(c *WorkerConfig) { c.Concurrency = 2 })
		r.start(0)
		r.recv(0, assignment(100, 1, 1))
		r.recv(0, assignment(101, 2, 1))
		expectEffects(t, "third waits, no read", r.recv(ms(1), assignment(102, 3, 1)), Effects{})
		if r.w.Held() != 3 || r.w.Waiting() != 1 || r.w.Reading() {
			t.Fatalf("held %d waiting %d reading %v, want 3, 1, false", r.w.Held(), r.w.Waiting(), r.w.Reading())
		}
		// The first claim is refused: its slot goes to the waiting one, and the loop reads.
		expectEffects(t, "refused", r.recv(ms(20), alreadyClaimed(1)), Effects{
			Send: []Message{r.heartbeatMsg(3, 102, 3, 1)},
			Events: []Event{replyEvent(1, 100, 1, 1, alreadyClaimed(1)),
				droppedEvent(1, 100, 1, 1, DropClaimFailed, CodeOK, StatusAlreadyClaimed)},
			Recv: true,
		})
		if r.w.Held() != 2 || r.w.Waiting() != 0 {
			t.Fatalf("held %d waiting %d, want 2 and 0", r.w.Held(), r.w.Waiting())
		}
	})
	t.Run("rust reads only with a free slot", func(t *testing.T) {
		r := newRig(t, FlavourRust, func(c *WorkerConfig) { c.Concurrency = 2 })
		expectEffects(t, "start", r.start(0), Effects{Send: []Message{{Type: MsgPullTasks,
			From: selfNode, To: orchNode, Worker: selfNode}}, Recv: true})
		expectEffects(t, "first, reads on", r.recv(0, assignment(100, 1, 1)), Effects{
			Send: []Message{r.heartbeatMsg(1, 100, 1, 1)}, Recv: true})
		expectEffects(t, "second fills the slots", r.recv(0, assignment(101, 2, 1)), Effects{
			Send: []Message{r.heartbeatMsg(2, 101, 2, 1)}})
		r.recv(ms(10), inProgress(1))
		expectEffects(t, "finish 1", r.done(sec(1), 1, false, 0), Effects{
			Send:   []Message{r.completeMsg(3, 100, 1, 1, 0)},
			Timers: []TimerOp{cancelTimer(1, timerBeat)},
			Events: []Event{endedEvent(1, 100, 1, 1, ExecFinished)},
		})
		expectEffects(t, "slot free after the completion: read", r.recv(ms(1010), completeAnswer(3, CodeOK)), Effects{
			Events: []Event{replyEvent(1, 100, 1, 1, completeAnswer(3, CodeOK))},
			Recv:   true,
		})
	})
	t.Run("a duplicated delivery waits for a slot", func(t *testing.T) {
		r := newRig(t, FlavourRust, func(c *WorkerConfig) { c.Concurrency = 1 })
		r.start(0)
		r.recv(0, assignment(100, 1, 1))
		expectEffects(t, "duplicate waits", r.recv(0, assignment(100, 1, 1)), Effects{})
		// Claim refused: the slot goes to the copy; no read while it runs.
		got := r.recv(ms(10), heartbeatAnswer(1, CodeNotFound, 0, false))
		if len(got.Send) != 1 || got.Send[0].Type != MsgHeartbeat || got.Recv {
			t.Fatalf("effects %+v, want only the copy's claim", got)
		}
		got = r.recv(ms(20), heartbeatAnswer(2, CodeNotFound, 0, false))
		if len(got.Send) != 0 || !got.Recv {
			t.Fatalf("effects %+v, want one read", got)
		}
	})
}

// A broken stream voids the read; the worker reconnects after its flavour's pause
// (python every 2s; strict every 2s, its count reset by an assignment, as is rust's:
// see worker_reconnect_test.go for both reference flavours in full).
func TestWorkerStreamBrokenReconnects(t *testing.T) {
	r := newRig(t, FlavourStrict, nil)
	r.start(0)
	r.recv(0, assignment(100, 1, 1))
	now := sec(1)
	for range 3 {
		var out Effects
		r.w.StreamBroken(now, CodeUnavailable, &out)
		expectEffects(t, "broken", out, Effects{Timers: []TimerOp{{ID: reconnectTimer, At: now + sec(2)}}})
		if r.w.Reading() {
			t.Fatal("still reading on a broken stream")
		}
		now += sec(2)
		expectEffects(t, "reconnect", r.fire(now, reconnectTimer), Effects{
			Send: []Message{{Type: MsgPullTasks, From: selfNode, To: orchNode, Worker: selfNode}}, Recv: true})
		now += ms(5)
	}
	r.recv(now, assignment(101, 2, 1))
	var out Effects
	r.w.StreamBroken(now, CodeUnavailable, &out)
	expectEffects(t, "count reset", out, Effects{Timers: []TimerOp{{ID: reconnectTimer, At: now + sec(2)}}})
}

// Python answers list_components at once without a slot or a claim; rust and strict
// claim it and complete right after the claim.
func TestWorkerDiscovery(t *testing.T) {
	t.Run("python", func(t *testing.T) {
		r := newRig(t, FlavourPython, nil)
		r.start(0)
		expectEffects(t, "discovery", r.recv(ms(1), discoveryAssignment(9)), Effects{
			Send: []Message{discoveryComplete(1, 9)},
			Recv: true,
		})
		if r.w.Held() != 0 || r.w.free != 4 {
			t.Fatalf("held %d, free slots %d; want 0 and 4", r.w.Held(), r.w.free)
		}
		expectEffects(t, "answer", r.recv(ms(3), completeAnswer(1, CodeOK)), Effects{
			Events: []Event{func() Event {
				e := discoveryEvent(EvReply, 1, 9)
				e.Reason = uint8(MsgCompleteReply)
				return e
			}()},
		})
	})
	for _, f := range []Flavour{FlavourRust, FlavourStrict} {
		t.Run(f.String(), func(t *testing.T) {
			r := newRig(t, f, nil)
			r.start(0)
			claim := Message{Type: MsgHeartbeat, From: selfNode, To: orchNode, Call: 1, Worker: selfNode, Task: 9, Run: NoRun}
			expectEffects(t, "discovery", r.recv(ms(1), discoveryAssignment(9)), Effects{
				Send:   []Message{claim},
				Timers: deadline(f, 1, ms(1)),
				Recv:   true,
			})
			reply := discoveryEvent(EvReply, 1, 9)
			reply.Reason, reply.Status = uint8(MsgHeartbeatReply), StatusInProgress
			want := Effects{
				Send:   []Message{discoveryComplete(2, 9)},
				Events: []Event{reply},
			}
			if f == FlavourStrict {
				want.Timers = []TimerOp{cancelTimer(1, timerRPC), setTimer(1, timerBeat, ms(1003)), setTimer(1, timerRPC, ms(10003))}
			}
			expectEffects(t, "claimed", r.recv(ms(3), inProgress(1)), want)
		})
	}
}

// A jetstream worker acks on receipt, before the claim, or (on_complete) when it sends
// CompleteTask or gives the assignment up.
func TestWorkerJetStreamAck(t *testing.T) {
	js := func(onComplete bool) func(*WorkerConfig) {
		return func(c *WorkerConfig) { c.JetStream, c.Source, c.AckOnComplete = true, queueNode, onComplete }
	}
	ackMsg := func(task TaskID, delivery uint32) Message {
		return Message{Type: MsgAck, From: selfNode, To: queueNode, Worker: selfNode, Task: task, Delivery: delivery}
	}
	a := assignment(100, 5, 1)
	a.From, a.Delivery = queueNode, 41
	t.Run("on receipt", func(t *testing.T) {
		r := newRig(t, FlavourPython, js(false))
		expectEffects(t, "start", r.start(0), Effects{Send: []Message{{Type: MsgPullTasks,
			From: selfNode, To: queueNode, Worker: selfNode}}, Recv: true})
		expectEffects(t, "receipt", r.recv(0, a), Effects{
			Send: []Message{ackMsg(100, 41), r.heartbeatMsg(1, 100, 5, 1)},
			Recv: true,
		})
		r.recv(ms(10), inProgress(1))
		got := r.done(sec(3), 1, false, 0)
		if len(got.Send) != 1 || got.Send[0].Type != MsgComplete {
			t.Fatalf("sent %+v at completion, want only CompleteTask", got.Send)
		}
		var out Effects
		r.w.StreamBroken(sec(4), CodeUnavailable, &out)
		expectEffects(t, "a broken connection is the queue's business with jetstream", out, Effects{})
	})
	t.Run("on complete", func(t *testing.T) {
		r := newRig(t, FlavourRust, js(true))
		r.start(0)
		expectEffects(t, "receipt", r.recv(0, a), Effects{
			Send: []Message{r.heartbeatMsg(1, 100, 5, 1)},
			Recv: true,
		})
		r.recv(ms(10), inProgress(1))
		expectEffects(t, "complete", r.done(sec(3), 1, false, 0), Effects{
			Send:   []Message{r.completeMsg(2, 100, 5, 1, 0), ackMsg(100, 41)},
			Timers: []TimerOp{cancelTimer(1, timerBeat)},
			Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
		})
	})
	t.Run("on complete, dropped", func(t *testing.T) {
		r := newRig(t, FlavourRust, js(true))
		r.start(0)
		r.recv(0, a)
		got := r.recv(ms(10), alreadyClaimed(1))
		if len(got.Send) != 1 || got.Send[0] != ackMsg(100, 41) {
			t.Fatalf("sent %+v on a refused claim, want the ack", got.Send)
		}
	})
	t.Run("discovery from the orchestrator is not acked", func(t *testing.T) {
		r := newRig(t, FlavourPython, js(false))
		r.start(0)
		expectEffects(t, "discovery", r.recv(0, discoveryAssignment(9)), Effects{
			Send: []Message{discoveryComplete(1, 9)},
		})
	})
}

// Two copies of one assignment on one worker are two executions: both claim, both run
// (hazard 4).
func TestWorkerTwoCopiesOfOneTask(t *testing.T) {
	r := newRig(t, FlavourPython, nil)
	r.start(0)
	r.recv(0, assignment(100, 5, 1))
	r.recv(ms(1), assignment(100, 5, 1))
	r.recv(ms(10), inProgress(1))
	got := r.recv(ms(11), inProgress(2))
	if len(got.Runs) != 1 || got.Runs[0] != startRun(2, 100, 5, 1) {
		t.Fatalf("runs %+v, want execution 2 of task 100 started", got.Runs)
	}
	if r.w.Running() != 2 {
		t.Fatalf("running %d, want 2", r.w.Running())
	}
	expectEffects(t, "first copy done", r.done(sec(2), 1, false, 1), Effects{
		Send:   []Message{r.completeMsg(3, 100, 5, 1, 1)},
		Events: []Event{endedEvent(1, 100, 5, 1, ExecFinished)},
	})
	if r.w.Running() != 1 {
		t.Fatalf("running %d, want 1", r.w.Running())
	}
}

// The strict worker gives up a second copy of an attempt it already holds: no claim, the
// loop reads on, and with jetstream an ack so the queue does not deliver it again.
func TestWorkerStrictDropsDuplicate(t *testing.T) {
	r := newRig(t, FlavourStrict, func(c *WorkerConfig) { c.JetStream, c.Source = true, queueNode })
	r.start(0)
	a := assignment(100, 5, 1)
	a.From, a.Delivery = queueNode, 3
	r.recv(0, a)
	copyOfA := a
	copyOfA.Delivery = 4
	dropped := Event{Kind: EvTaskDropped, Reason: DropDuplicate, Node: selfNode, Worker: selfNode,
		Step: 5, Run: 1, Task: 100, Attempt: 1, Component: testComponent}
	expectEffects(t, "copy", r.recv(ms(1), copyOfA), Effects{
		Send: []Message{
			{Type: MsgAck, From: selfNode, To: queueNode, Worker: selfNode, Task: 100, Delivery: 4},
		},
		Events: []Event{dropped},
		Recv:   true,
	})
	// A later attempt of the same task is a new assignment, not a duplicate.
	next := a
	next.Attempt = 2
	got := r.recv(ms(2), next)
	if len(got.Send) != 2 || got.Send[1].Type != MsgHeartbeat || got.Send[1].Truth.Attempt != 2 {
		t.Fatalf("sent %+v for attempt 2, want an ack and its claim", got.Send)
	}
}

func TestWorkerIgnoresStrayInputs(t *testing.T) {
	r := claimed(t, FlavourPython, ms(10), nil)
	expectEffects(t, "unknown call", r.recv(ms(20), inProgress(99)), Effects{})
	expectEffects(t, "complete answer to a heartbeat call", r.recv(ms(20), completeAnswer(1, CodeOK)), Effects{})
	expectEffects(t, "unknown timer", r.fire(ms(20), workerTimerID(42, timerBeat)), Effects{})
	expectEffects(t, "unknown exec", r.done(ms(20), 42, false, 0), Effects{})
}

func TestStrictBackoff(t *testing.T) {
	want := []time.Duration{sec(1), sec(2), sec(4), sec(8), sec(10), sec(10)}
	for i, w := range want {
		if got := StrictBackoff(i + 1); got != w {
			t.Errorf("StrictBackoff(%d) = %v, want %v", i+1, got, w)
		}
	}
}

func TestParseFlavour(t *testing.T) {
	for _, f := range []Flavour{FlavourPython, FlavourRust, FlavourStrict} {
		if got, ok := ParseFlavour(f.String()); !ok || got != f {
			t.Errorf("ParseFlavour(%q) = %v, %v", f.String(), got, ok)
		}
	}
	if _, ok := ParseFlavour("go"); ok {
		t.Error("ParseFlavour(go) ok")
	}
}

// BenchmarkWorkerHeartbeat is the steady state: a loop heartbeat leaves when its timer
// fires and its answer re-arms the timer.
func BenchmarkWorkerHeartbeat(b *testing.B) {
	for _, f := range []Flavour{FlavourPython, FlavourRust, FlavourStrict} {
		b.Run(f.String(), func(b *testing.B) {
			w := NewWorker(WorkerConfig{Node: selfNode, Orchestrator: orchNode, Source: orchNode, Flavour: f})
			var out Effects
			w.Start(0, &out)
			for task := TaskID(1); task <= 4; task++ {
				w.Receive(0, assignment(task, StepID(task), 1), &out)
			}
			for call := uint32(1); call <= 4; call++ {
				w.Receive(ms(1), inProgress(call), &out)
			}
			now := ms(1)
			answer := inProgress(0)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				now += time.Second
				out.Reset()
				w.Fire(now, workerTimerID(1, timerBeat), &out)
				answer.Call = out.Send[0].Call
				out.Reset()
				w.Receive(now+ms(1), answer, &out)
			}
		})
	}
}

// run_id on heartbeats and CompleteTask: python (and strict) send the assignment's run,
// so the orchestrator's per-run recovery gate can answer them UNAVAILABLE; rust never
// sends one. A list_components task carries no run, so none is sent for it.
func TestWorkerSendsRunID(t *testing.T) {
	for _, tc := range []struct {
		f    Flavour
		want RunID
	}{{FlavourPython, 7}, {FlavourRust, NoRun}, {FlavourStrict, 7}} {
		r := newRig(t, tc.f, nil)
		r.start(0)
		a := assignment(100, 5, 1)
		a.Run = 7
		claim := r.recv(ms(1), a).Send
		r.recv(ms(2), inProgress(1))
		done := r.done(sec(1), 1, false, 8).Send
		var runs []RunID
		for _, m := range append(claim, done...) {
			if m.Type == MsgHeartbeat || m.Type == MsgComplete {
				runs = append(runs, m.Run)
			}
		}
		if len(runs) != 2 || runs[0] != tc.want || runs[1] != tc.want {
			t.Errorf("%s: claim and CompleteTask carry runs %v, want %v twice", tc.f, runs, tc.want)
		}
	}
}
