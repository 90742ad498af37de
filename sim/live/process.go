package live

import (
	"sync"
	"time"

	"github.com/benbjohnson/clock"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/eventq"
	"github.com/tasksim/tasksim/sim/latency"
)

// process is the goroutine that owns one participant, as raft's node.run owns a RawNode:
// every input (an RPC that arrived, a reply, a timer, a component that finished) is a
// function posted to its mailbox and run on that goroutine, one at a time, so the
// participant stays single-threaded and sees nothing but its inputs. Posting never
// blocks, so no gRPC handler or timer callback can deadlock on a busy participant.
//
// Timers are the participant's absolute times since the driver's start. They wait in a
// heap; one clock timer wakes the process for the earliest, and a wake fires every timer
// that is due by the clock then, in order, each recording how late it ran against when
// it was due (the harness lag).
type process struct {
	clk   clock.Clock
	start time.Time
	lag   *LagMeter
	// onTimer runs the participant's timer on the process goroutine.
	onTimer func(now time.Duration, id model.TimerID)

	mu     sync.Mutex
	inbox  []func()
	closed bool
	wake   chan struct{}
	done   chan struct{}

	// Owned by the process goroutine.
	timers      *eventq.Queue[model.TimerID]
	handles     map[model.TimerID]eventq.Handle
	alarm       *clock.Timer
	alarmAt     time.Duration
	pausedUntil time.Duration
	quit        chan struct{}
}

func newProcess(clk clock.Clock, start time.Time, lag *LagMeter) *process {
	p := &process{clk: clk, start: start, lag: lag, wake: make(chan struct{}, 1), done: make(chan struct{}),
		quit: make(chan struct{}), timers: eventq.New[model.TimerID](16), handles: map[model.TimerID]eventq.Handle{}}
	go p.loop()
	return p
}

// host makes part the participant p runs, as the simulator's node table holds it: p's
// timers go to part.Fire, and apply carries out the effects each input leaves in out.
func (p *process) host(part model.Participant, out *model.Effects, apply func(now time.Duration)) {
	p.onTimer = func(now time.Duration, id model.TimerID) {
		out.Reset()
		part.Fire(now, id, out)
		apply(now)
	}
}

// now is the driver's time: time since its start.
func (p *process) now() time.Duration { return p.clk.Since(p.start) }

// post queues f for the process goroutine; it reports false once the process stopped.
func (p *process) post(f func()) bool {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return false
	}
	p.inbox = append(p.inbox, f)
	p.mu.Unlock()
	select {
	case p.wake <- struct{}{}:
	default:
	}
	return true
}

// call runs f on the process goroutine and waits for it; false if the process stopped.
func (p *process) call(f func()) bool {
	done := make(chan struct{})
	if !p.post(func() { f(); close(done) }) {
		return false
	}
	select {
	case <-done:
		return true
	case <-p.done:
		return false
	}
}

// stop ends the process: nothing posted later runs, its timers die with it. It returns
// once the goroutine has ended.
func (p *process) stop() {
	p.mu.Lock()
	if !p.closed {
		p.closed = true
		close(p.quit)
	}
	p.mu.Unlock()
	<-p.done
}

func (p *process) loop() {
	defer func() {
		if p.alarm != nil {
			p.alarm.Stop()
		}
		close(p.done)
	}()
	var batch []func()
	for {
		select {
		case <-p.wake:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		batch, p.inbox = p.inbox, batch[:0]
		p.mu.Unlock()
		for i, f := range batch {
			if !p.waitPause() {
				return
			}
			f()
			batch[i] = nil
		}
	}
}

// waitPause stalls the goroutine while the process is paused (a pause fault): what
// arrives meanwhile waits in the mailbox and is handled afterwards, on stale state.
func (p *process) waitPause() bool {
	for {
		select {
		case <-p.quit:
			return false
		default:
		}
		d := p.pausedUntil - p.now()
		if d <= 0 {
			return true
		}
		t := p.clk.Timer(d)
		select {
		case <-t.C:
		case <-p.quit:
			t.Stop()
			return false
		}
	}
}

// pause stalls the process until until (driver time); call it on the process goroutine.
func (p *process) pause(until time.Duration) {
	if until > p.pausedUntil {
		p.pausedUntil = until
	}
}

// setTimer carries out one TimerOp; call it on the process goroutine.
func (p *process) setTimer(op model.TimerOp) {
	h, ok := p.handles[op.ID]
	if op.Cancel {
		if ok {
			p.timers.Cancel(h)
			delete(p.handles, op.ID)
		}
		return
	}
	if ok && p.timers.Reset(h, int64(op.At)) {
		return
	}
	p.handles[op.ID] = p.timers.Push(int64(op.At), op.ID)
}

// arm makes sure the clock wakes the process for its earliest timer; call it on the
// process goroutine after the participant's effects are carried out.
func (p *process) arm() {
	at, _, ok := p.timers.Peek()
	if !ok || (p.alarm != nil && time.Duration(at) >= p.alarmAt) {
		return
	}
	if p.alarm != nil {
		p.alarm.Stop()
	}
	p.alarmAt = time.Duration(at)
	p.alarm = p.clk.AfterFunc(max(0, p.alarmAt-p.now()), func() { p.post(p.fireDue) })
}

// fireDue fires every timer due by now, earliest first. A stale wake (its timer was moved
// later or cancelled) fires nothing and re-arms.
func (p *process) fireDue() {
	p.alarm = nil
	for {
		now := p.now()
		at, id, ok := p.timers.Peek()
		if !ok || time.Duration(at) > now {
			break
		}
		p.timers.Pop()
		delete(p.handles, id)
		p.lag.record(now - time.Duration(at))
		p.onTimer(now, id)
	}
	p.arm()
}

// poke fires whatever is due by the clock and returns once done: a test that moved a
// mock clock calls it so that it need not wait for the clock's callbacks.
func (p *process) poke() bool { return p.call(p.fireDue) }

// LagMeter records how late timers fire against when they were due (the harness lag),
// across every participant of a run. It is safe for concurrent use.
type LagMeter struct {
	mu  sync.Mutex
	rec *latency.Recorder
}

// NewLagMeter returns an empty LagMeter.
func NewLagMeter() *LagMeter { return &LagMeter{rec: latency.New()} }

func (l *LagMeter) record(d time.Duration) {
	l.mu.Lock()
	l.rec.Record(d)
	l.mu.Unlock()
}

// Reset forgets the lags recorded so far, so that a measurement can leave out its
// warm-up (a benchmark's set-up burst is not the load it measures).
func (l *LagMeter) Reset() {
	l.mu.Lock()
	l.rec = latency.New()
	l.mu.Unlock()
}

// Snapshot returns a copy of the lags recorded so far.
func (l *LagMeter) Snapshot() *latency.Recorder {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := latency.New()
	r.Merge(l.rec)
	return r
}
