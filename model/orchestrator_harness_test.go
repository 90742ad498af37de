package model

import (
	"testing"
	"time"
)

// Test harness for the orchestrator and the jetstream queue: a minimal driver that keeps
// their timers (moves and cancels included), fires them in time order (same instant:
// scheduling order), and records every effect with the virtual time it was produced at.

const (
	otOrch   NodeID = 1
	otQueue  NodeID = 2
	otWorker NodeID = 100 // first test worker; others are otWorker+1, +2, ...
)

type otTimer struct {
	at  time.Duration
	seq uint64
}

type otEvent struct {
	When time.Duration
	Event
}

type otSent struct {
	When time.Duration
	Message
}

type otFired struct {
	When time.Duration
	ID   TimerID
}

// otDriver drives one participant (anything with Fire) and records what it did.
type otDriver struct {
	t      *testing.T
	fire   func(now time.Duration, id TimerID, out *Effects)
	now    time.Duration
	timers map[TimerID]otTimer
	seq    uint64
	out    Effects
	events []otEvent
	sent   []otSent
	ops    []TimerOp
	fired  []otFired
	calls  uint32
	// after, if set, runs at the end of every apply (the harness's transport).
	after func(at time.Duration)
}

func newOTDriver(t *testing.T, fire func(time.Duration, TimerID, *Effects)) *otDriver {
	return &otDriver{t: t, fire: fire, timers: map[TimerID]otTimer{}}
}

// apply records and carries out the effects of one input made at time at.
func (d *otDriver) apply(at time.Duration) {
	for _, op := range d.out.Timers {
		d.ops = append(d.ops, op)
		if op.Cancel {
			delete(d.timers, op.ID)
			continue
		}
		if op.At < at {
			d.t.Fatalf("at %v: timer %x set in the past (%v)", at, op.ID, op.At)
		}
		d.seq++
		d.timers[op.ID] = otTimer{at: op.At, seq: d.seq}
	}
	for _, e := range d.out.Events {
		d.events = append(d.events, otEvent{When: at, Event: e})
	}
	for _, m := range d.out.Send {
		d.sent = append(d.sent, otSent{When: at, Message: m})
	}
	d.out.Reset()
	if d.after != nil {
		d.after(at)
	}
}

// do runs one input at time at, after firing every timer due before or at it.
func (d *otDriver) do(at time.Duration, input func(now time.Duration, out *Effects)) {
	d.advance(at)
	input(at, &d.out)
	d.apply(at)
}

// advance fires every timer due at or before to, in order.
func (d *otDriver) advance(to time.Duration) {
	if to < d.now {
		d.t.Fatalf("time goes back: %v after %v", to, d.now)
	}
	for {
		var (
			best  TimerID
			bt    otTimer
			found bool
		)
		for id, tm := range d.timers {
			if tm.at <= to && (!found || tm.at < bt.at || tm.at == bt.at && tm.seq < bt.seq) {
				best, bt, found = id, tm, true
			}
		}
		if !found {
			break
		}
		delete(d.timers, best)
		d.now = bt.at
		d.fired = append(d.fired, otFired{When: bt.at, ID: best})
		d.fire(bt.at, best, &d.out)
		d.apply(bt.at)
	}
	d.now = to
}

// eventsOf returns the recorded events of one kind.
func (d *otDriver) eventsOf(kind EventKind) []otEvent {
	var r []otEvent
	for _, e := range d.events {
		if e.Kind == kind {
			r = append(r, e)
		}
	}
	return r
}

// sentOf returns the recorded messages of one type.
func (d *otDriver) sentOf(typ MsgType) []otSent {
	var r []otSent
	for _, m := range d.sent {
		if m.Type == typ {
			r = append(r, m)
		}
	}
	return r
}

// otHarness is an orchestrator under test. Its transport gives each worker's stream a
// pipe of a number of assignments (connect's room): it reports SendDone after a send
// while the pipe has room left, and credit adds room, as a worker's reads would.
type otHarness struct {
	*otDriver
	o        *Orchestrator
	pipes    map[NodeID]*otPipe
	order    []NodeID // pipes in connect order, so SendDone goes out in a fixed order
	seenSent int
	settling bool
}

type otPipe struct {
	room    int
	blocked bool
}

// settle plays the transport: every assignment sent takes one unit of its pipe's room;
// a blocked stream with room left gets its SendDone.
func (h *otHarness) settle(at time.Duration) {
	if h.settling {
		return
	}
	h.settling = true
	defer func() { h.settling = false }()
	for {
		for ; h.seenSent < len(h.sent); h.seenSent++ {
			m := h.sent[h.seenSent]
			if p := h.pipes[m.To]; p != nil && m.Type == MsgAssignment {
				p.room--
				p.blocked = true
			}
		}
		progressed := false
		for _, w := range h.order {
			if p := h.pipes[w]; p.blocked && p.room > 0 {
				p.blocked = false
				progressed = true
				h.o.SendDone(at, w, &h.out)
				h.apply(at)
			}
		}
		if !progressed {
			return
		}
	}
}

// otConfig is the reference configuration with one retriable component in pool 0.
func otConfig() OrchestratorConfig {
	return OrchestratorConfig{
		Node: otOrch, Queue: otOrch, Detector: DetectorScan,
		HeartbeatTimeout: 5 * time.Second, HeartbeatInterval: time.Second,
		QueueTimeout: 30 * time.Second, DiscoveryQueueTimeout: 5 * time.Second,
		MaxTransportRetries: 3, MaxComponentRetries: 3,
		Backoff:        Backoff{Kind: BackoffFibonacci, Min: time.Second, Max: 10 * time.Second},
		UnhealthyAfter: 5,
		Components:     []ComponentSpec{{Pool: 0, Retriable: true}, {Pool: 0, Retriable: false}},
	}
}

// newOTHarness starts an orchestrator at time 0.
func newOTHarness(t *testing.T, mutate func(*OrchestratorConfig)) *otHarness {
	cfg := otConfig()
	if mutate != nil {
		mutate(&cfg)
	}
	h := &otHarness{pipes: map[NodeID]*otPipe{}}
	h.o = NewOrchestrator(cfg)
	h.otDriver = newOTDriver(t, h.o.Fire)
	h.after = h.settle
	h.do(0, h.o.Start)
	return h
}

// connect opens w's stream with a pipe that holds room assignments (at least the one
// an open stream always takes).
func (h *otHarness) connect(at time.Duration, w NodeID, room int) {
	if h.pipes[w] == nil {
		h.order = append(h.order, w)
	}
	h.pipes[w] = &otPipe{room: room}
	h.do(at, func(now time.Duration, out *Effects) {
		h.o.Receive(now, Message{Type: MsgPullTasks, From: w, To: otOrch, Worker: w}, out)
	})
}

// credit makes room for n more assignments in w's pipe (the worker read some).
func (h *otHarness) credit(at time.Duration, w NodeID, n int) {
	h.pipes[w].room += n
	h.do(at, func(time.Duration, *Effects) {})
}

func (h *otHarness) submit(at time.Duration, step StepID, run RunID, component int32) {
	h.do(at, func(now time.Duration, out *Effects) {
		h.o.Submit(now, StepSpec{Step: step, Run: run, Component: component, PayloadBytes: 512}, out)
	})
}

// rpc sends one request and returns the orchestrator's reply to it.
func (h *otHarness) rpc(at time.Duration, m Message) Message {
	h.calls++
	m.Call, m.To = h.calls, otOrch
	if m.From == 0 {
		m.From = m.Worker
	}
	before := len(h.sent)
	h.do(at, func(now time.Duration, out *Effects) { Deliver(h.o, now, m, out) })
	for _, s := range h.sent[before:] {
		if s.Call == m.Call && s.To == m.From && (s.Type == MsgHeartbeatReply || s.Type == MsgCompleteReply) {
			return s.Message
		}
	}
	h.t.Fatalf("at %v: no reply to %v call %d", at, m.Type, m.Call)
	return Message{}
}

func (h *otHarness) heartbeat(at time.Duration, task TaskID, w NodeID, run RunID, attempt uint32) Message {
	return h.rpc(at, Message{Type: MsgHeartbeat, Worker: w, Task: task, Run: run, Truth: Truth{Attempt: attempt}})
}

func (h *otHarness) complete(at time.Duration, task TaskID, w NodeID, run RunID, attempt uint32, code ErrorCode) Message {
	m := Message{Type: MsgComplete, From: w, Task: task, Run: run, Result: ResultResponse, Truth: Truth{Attempt: attempt}}
	if code != ErrUnspecified {
		m.Result, m.ErrorCode = ResultError, code
	}
	return h.rpc(at, m)
}

// dispatched returns the EvDispatched events of step, in order.
func (h *otHarness) dispatched(step StepID) []otEvent {
	var r []otEvent
	for _, e := range h.eventsOf(EvDispatched) {
		if e.Step == step && !e.Discovery {
			r = append(r, e)
		}
	}
	return r
}

// lastTask returns the task id of step's latest dispatch.
func (h *otHarness) lastTask(step StepID) TaskID {
	d := h.dispatched(step)
	if len(d) == 0 {
		h.t.Fatalf("step %d was never dispatched", step)
	}
	return d[len(d)-1].Task
}

func otReplyIs(t *testing.T, got Message, code Code, status TaskStatus, abort bool) {
	t.Helper()
	if got.Code != code || got.Status != status || got.ShouldAbort != abort {
		t.Fatalf("reply = %v/status %d/abort %v, want %v/status %d/abort %v",
			got.Code, got.Status, got.ShouldAbort, code, status, abort)
	}
}

func otOnly(t *testing.T, evs []otEvent, what string) otEvent {
	t.Helper()
	if len(evs) != 1 {
		t.Fatalf("%s: got %d events, want 1: %+v", what, len(evs), evs)
	}
	return evs[0]
}
