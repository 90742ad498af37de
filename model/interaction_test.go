package model

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
)

// The interaction tests wire one orchestrator and a few workers through a tiny
// deterministic router: one sorted list of pending deliveries, timers and component
// completions, a fixed one-way latency, no goroutines. Each test shows one hazard of
// PROTOCOL.md under the reference settings and its absence under the strict ones.

const (
	routerOrch  NodeID = 1
	routerQueue NodeID = 2
	workerA     NodeID = 10
	workerB     NodeID = 11
)

type itemKind uint8

const (
	itemMessage itemKind = iota + 1
	itemTimer
	itemComponentDone
	itemCall
)

// routerItem is one thing due at a virtual instant; seq keeps same-instant items in
// insertion order.
type routerItem struct {
	at    time.Duration
	seq   uint64
	kind  itemKind
	node  NodeID
	msg   Message
	timer TimerID
	exec  uint32
	call  func(now time.Duration, out *Effects)
}

// timedEvent is an event with the instant it was reported.
type timedEvent struct {
	At time.Duration
	Event
}

// window is a half-open interval of virtual time.
type window struct{ from, to time.Duration }

func (w window) has(t time.Duration) bool { return t >= w.from && t < w.to }

// router delivers messages after a fixed latency and carries out timers and component
// runs for one orchestrator and its workers.
type router struct {
	t       *testing.T
	now     time.Duration
	latency time.Duration
	seq     uint64
	items   []routerItem
	orch    *Orchestrator
	queue   *JetStreamQueue // nil with the pull queue
	source  NodeID          // where workers pull from
	workers map[NodeID]*Worker
	events  []timedEvent
	sent    []Message

	// Faults and the component model, set by each test.
	crashedAt map[NodeID]time.Duration // the node is gone from then on
	paused    map[NodeID]window        // the node's inputs in the window wait for its end
	drop      func(now time.Duration, m Message) bool
	duplicate func(now time.Duration, m Message) bool
	duration  func(worker NodeID, r RunOp) time.Duration

	// The transport of pull streams: each worker's pipe of assignments sent and not read
	// (pipeRoom of them at most before a send blocks), and its read loop.
	pipeRoom int
	pipes    map[NodeID]*routerPipe
}

type routerPipe struct {
	arrived []Message // arrived, not read, in order
	held    int       // sent and not read (in transit or arrived)
	reading bool
	blocked bool // the orchestrator's send waits for room
}

func (r *router) pipe(w NodeID) *routerPipe {
	p := r.pipes[w]
	if p == nil {
		p = &routerPipe{}
		r.pipes[w] = p
	}
	return p
}

// pipeSend puts an orchestrator's assignment on w's stream: it arrives one latency later;
// the send completes at once while the pipe has room, else when a read makes room.
func (r *router) pipeSend(m Message) {
	p := r.pipe(m.To)
	p.held++
	r.push(routerItem{at: r.now + r.latency, kind: itemCall, node: m.To, call: func(now time.Duration, out *Effects) {
		p.arrived = append(p.arrived, m)
		r.readPipe(now, m.To, out)
	}})
	if p.held < r.pipeRoom {
		r.sendDone(r.now, m.To)
	} else {
		p.blocked = true
	}
}

// pipeCopy adds a second copy of m to its worker's stream (the orchestrator waits for
// nothing).
func (r *router) pipeCopy(m Message) {
	p := r.pipe(m.To)
	p.held++
	r.push(routerItem{at: r.now + r.latency, kind: itemCall, node: m.To, call: func(now time.Duration, out *Effects) {
		p.arrived = append(p.arrived, m)
		r.readPipe(now, m.To, out)
	}})
}

func (r *router) sendDone(at time.Duration, w NodeID) {
	r.push(routerItem{at: at, kind: itemCall, node: routerOrch, call: func(now time.Duration, out *Effects) {
		r.orch.SendDone(now, w, out)
	}})
}

// readPipe answers w's outstanding read with the next arrived assignment.
func (r *router) readPipe(now time.Duration, w NodeID, out *Effects) {
	p := r.pipe(w)
	if !p.reading || len(p.arrived) == 0 {
		return
	}
	m := p.arrived[0]
	p.arrived = p.arrived[1:]
	p.held--
	p.reading = false
	if p.blocked && p.held < r.pipeRoom {
		p.blocked = false
		r.sendDone(now+r.latency, w)
	}
	Deliver(r.workers[w], now, m, out)
}

func newRouter(t *testing.T, oc OrchestratorConfig) *router {
	oc.Node = routerOrch
	r := &router{t: t, latency: time.Millisecond, orch: NewOrchestrator(oc), source: routerOrch,
		workers: map[NodeID]*Worker{}, crashedAt: map[NodeID]time.Duration{}, paused: map[NodeID]window{},
		pipeRoom: 1 << 20, pipes: map[NodeID]*routerPipe{}}
	if oc.JetStream {
		r.queue, r.source = NewJetStreamQueue(routerQueue, 30*time.Second), routerQueue
	}
	var out Effects
	r.orch.Start(0, &out)
	r.apply(routerOrch, &out)
	return r
}

// addWorker starts a worker of flavour f at time 0 (call before run).
func (r *router) addWorker(node NodeID, f Flavour) *Worker {
	return r.addWorkerAt(0, node, WorkerConfig{Flavour: f})
}

// addWorkerAt starts a worker configured by cfg (node and peers filled in) at time start.
func (r *router) addWorkerAt(start time.Duration, node NodeID, cfg WorkerConfig) *Worker {
	cfg.Node, cfg.Orchestrator, cfg.Source, cfg.JetStream = node, routerOrch, r.source, r.queue != nil
	w := NewWorker(cfg)
	r.workers[node] = w
	r.push(routerItem{at: start, kind: itemCall, node: node, call: func(now time.Duration, out *Effects) {
		w.Start(now, out)
	}})
	return w
}

// submit hands the orchestrator a step at time at.
func (r *router) submit(at time.Duration, s StepSpec) {
	r.push(routerItem{at: at, kind: itemCall, node: routerOrch, call: func(now time.Duration, out *Effects) {
		r.orch.Submit(now, s, out)
	}})
}

func (r *router) push(it routerItem) {
	r.seq++
	it.seq = r.seq
	i := sort.Search(len(r.items), func(i int) bool {
		x := r.items[i]
		return x.at > it.at || (x.at == it.at && x.seq > it.seq)
	})
	r.items = append(r.items, routerItem{})
	copy(r.items[i+1:], r.items[i:])
	r.items[i] = it
}

// remove takes out the pending item that matches, if any.
func (r *router) remove(match func(it *routerItem) bool) {
	for i := range r.items {
		if match(&r.items[i]) {
			r.items = append(r.items[:i], r.items[i+1:]...)
			return
		}
	}
}

// apply carries out what node asked for.
func (r *router) apply(node NodeID, out *Effects) {
	for _, e := range out.Events {
		r.events = append(r.events, timedEvent{At: r.now, Event: e})
	}
	for _, op := range out.Timers {
		r.remove(func(it *routerItem) bool { return it.kind == itemTimer && it.node == node && it.timer == op.ID })
		if !op.Cancel {
			r.push(routerItem{at: op.At, kind: itemTimer, node: node, timer: op.ID})
		}
	}
	for _, run := range out.Runs {
		if run.Stop {
			r.remove(func(it *routerItem) bool {
				return it.kind == itemComponentDone && it.node == node && it.exec == run.Exec
			})
			continue
		}
		r.push(routerItem{at: r.now + r.duration(node, run), kind: itemComponentDone, node: node, exec: run.Exec})
	}
	for _, m := range out.Send {
		r.sent = append(r.sent, m)
		if m.Type == MsgAssignment && r.queue == nil && m.From == routerOrch {
			r.pipeSend(m)
			if r.duplicate != nil && r.duplicate(r.now, m) {
				r.pipeCopy(m)
			}
			continue
		}
		if r.drop != nil && r.drop(r.now, m) {
			continue
		}
		r.push(routerItem{at: r.now + r.latency, kind: itemMessage, node: m.To, msg: m})
		if r.duplicate != nil && r.duplicate(r.now, m) {
			r.push(routerItem{at: r.now + r.latency, kind: itemMessage, node: m.To, msg: m})
		}
	}
	if out.Recv {
		if r.queue != nil {
			r.push(routerItem{at: r.now + r.latency, kind: itemMessage, node: routerQueue,
				msg: Message{Type: MsgFetch, From: node, To: routerQueue, Worker: node}})
		} else {
			r.pipe(node).reading = true
			r.push(routerItem{at: r.now, kind: itemCall, node: node, call: func(now time.Duration, out *Effects) {
				r.readPipe(now, node, out)
			}})
		}
	}
	out.Reset()
}

// run processes everything due up to and including until.
func (r *router) run(until time.Duration) {
	var out Effects
	for len(r.items) > 0 && r.items[0].at <= until {
		it := r.items[0]
		r.items = r.items[1:]
		if at, ok := r.crashedAt[it.node]; ok && it.at >= at {
			continue
		}
		if p, ok := r.paused[it.node]; ok && p.has(it.at) {
			it.at = p.to
			r.push(it)
			continue
		}
		r.now = it.at
		switch it.kind {
		case itemCall:
			it.call(r.now, &out)
		case itemMessage:
			switch it.node {
			case routerOrch:
				Deliver(r.orch, r.now, it.msg, &out)
			case routerQueue:
				Deliver(r.queue, r.now, it.msg, &out)
			default:
				Deliver(r.workers[it.node], r.now, it.msg, &out)
			}
		case itemTimer:
			switch it.node {
			case routerOrch:
				r.orch.Fire(r.now, it.timer, &out)
			case routerQueue:
				r.queue.Fire(r.now, it.timer, &out)
			default:
				r.workers[it.node].Fire(r.now, it.timer, &out)
			}
		case itemComponentDone:
			r.workers[it.node].ComponentDone(r.now, it.exec, false, 16, &out)
		}
		r.apply(it.node, &out)
	}
	r.now = until
}

// find returns the events of the given kinds, in order.
func (r *router) find(kinds ...EventKind) []timedEvent {
	var got []timedEvent
	for _, e := range r.events {
		for _, k := range kinds {
			if e.Kind == k {
				got = append(got, e)
			}
		}
	}
	return got
}

// findStep returns the events of the given kinds about step, in order.
func (r *router) findStep(step StepID, kinds ...EventKind) []timedEvent {
	var got []timedEvent
	for _, e := range r.find(kinds...) {
		if e.Step == step {
			got = append(got, e)
		}
	}
	return got
}

// brief is the part of an event the tests assert on.
type brief struct {
	At      time.Duration
	Kind    EventKind
	Reason  uint8
	Worker  NodeID
	Attempt uint32
	Current uint32 // CurrentAttempt (EvCompleted) or DeadlineAttempt (EvTimedOut)
}

func (b brief) String() string {
	return fmt.Sprintf("{%v kind=%d reason=%d worker=%d attempt=%d cur/deadline=%d}",
		b.At, b.Kind, b.Reason, b.Worker, b.Attempt, b.Current)
}

func briefs(evs []timedEvent) []brief {
	out := make([]brief, len(evs))
	for i, e := range evs {
		b := brief{At: e.At, Kind: e.Kind, Reason: e.Reason, Worker: e.Worker, Attempt: e.Attempt}
		switch e.Kind {
		case EvCompleted:
			b.Current = e.CurrentAttempt
		case EvTimedOut:
			b.Current = e.DeadlineAttempt
		}
		out[i] = b
	}
	return out
}

func expectBriefs(t *testing.T, what string, got []timedEvent, want []brief) {
	t.Helper()
	g := briefs(got)
	same := len(g) == len(want)
	for i := 0; same && i < len(g); i++ {
		same = g[i] == want[i]
	}
	if !same {
		var b strings.Builder
		for _, x := range g {
			fmt.Fprintf(&b, "\n   got  %v", x)
		}
		for _, x := range want {
			fmt.Fprintf(&b, "\n   want %v", x)
		}
		t.Fatalf("%s:%s", what, b.String())
	}
}

// referenceOrchestrator is PROTOCOL.md's orchestrator: scan detector, 5s timeout, 30s
// queue timeout, fibonacci backoff from 1s capped at 10s, reused task ids.
func referenceOrchestrator(perAttempt bool) OrchestratorConfig {
	return OrchestratorConfig{
		Detector:            DetectorScan,
		MaxTransportRetries: 3,
		MaxComponentRetries: 3,
		Backoff:             Backoff{Kind: BackoffFibonacci, Min: time.Second, Max: 10 * time.Second},
		PerAttemptIDs:       perAttempt,
		Components:          []ComponentSpec{{Pool: 0, Retriable: true}},
	}
}

// instant is s seconds and msec milliseconds into the run.
func instant(s, msec int) time.Duration { return sec(s) + ms(msec) }

// Hazard 3: with reused task ids, the queue deadline of attempt n (never cancelled) fails
// attempt n+1 while it waits in the queue, long before its own deadline. Worker A claims
// attempt 1 at 0.102s and crashes at 2.5s; the scan fails attempt 1 at 10s; every retry is
// then delivered to the dead worker and waits for a queue deadline.
func TestHazardOldQueueDeadlineFailsRetry(t *testing.T) {
	tests := []struct {
		name       string
		perAttempt bool
		timeouts   []brief
		settled    time.Duration
	}{
		{"reuse", false, []brief{
			{At: sec(10), Kind: EvTimedOut, Reason: TimeoutHeartbeat, Worker: workerA, Attempt: 1, Current: 1},
			{At: instant(30, 100), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 2, Current: 1},
			{At: sec(41), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 3, Current: 2},
			{At: instant(61, 100), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 4, Current: 3},
		}, instant(61, 100)},
		{"per_attempt", true, []brief{
			{At: sec(10), Kind: EvTimedOut, Reason: TimeoutHeartbeat, Worker: workerA, Attempt: 1, Current: 1},
			{At: sec(41), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 2, Current: 2},
			{At: sec(72), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 3, Current: 3},
			{At: sec(104), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 4, Current: 4},
		}, sec(104)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRouter(t, referenceOrchestrator(tt.perAttempt))
			r.duration = func(NodeID, RunOp) time.Duration { return time.Minute }
			r.addWorker(workerA, FlavourPython)
			r.crashedAt[workerA] = instant(2, 500)
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.run(sec(200))
			expectBriefs(t, "timeouts", r.find(EvTimedOut), tt.timeouts)
			settled := r.find(EvStepSettled)
			if len(settled) != 1 || settled[0].At != tt.settled || settled[0].Reason != SettledFailed {
				t.Fatalf("settled %v, want failed at %v", briefs(settled), tt.settled)
			}
			early := 0
			for _, e := range r.find(EvTimedOut) {
				if e.DeadlineAttempt < e.Attempt {
					early++
				}
			}
			if want := map[bool]int{false: 3, true: 0}[tt.perAttempt]; early != want {
				t.Fatalf("%d early timeouts, want %d", early, want)
			}
		})
	}
}

// Hazard 3: with reused task ids a late CompleteTask of attempt 1 is accepted as the
// result of attempt 2. Worker A's heartbeats are lost from 2s to 12s; the scan fails
// attempt 1 at 10s; B claims attempt 2 at 11.002s; A's component (13s) still finishes at
// 13.103s and A sends its result; B's (10s) finishes at 21.003s.
func TestHazardLateResultLandsOnRetry(t *testing.T) {
	tests := []struct {
		name       string
		perAttempt bool
		completed  []brief
	}{
		{"reuse", false, []brief{
			{At: instant(13, 104), Kind: EvCompleted, Worker: workerA, Attempt: 1, Current: 2},
		}},
		{"per_attempt", true, []brief{
			{At: instant(21, 4), Kind: EvCompleted, Worker: workerB, Attempt: 2, Current: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRouter(t, referenceOrchestrator(tt.perAttempt))
			r.duration = func(w NodeID, _ RunOp) time.Duration {
				return map[NodeID]time.Duration{workerA: 13 * time.Second, workerB: 10 * time.Second}[w]
			}
			r.addWorker(workerA, FlavourPython)
			r.addWorker(workerB, FlavourPython)
			r.drop = func(now time.Duration, m Message) bool {
				return m.Type == MsgHeartbeat && m.From == workerA && window{sec(2), sec(12)}.has(now)
			}
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.run(sec(60))
			expectBriefs(t, "claims", r.find(EvClaimed), []brief{
				{At: ms(102), Kind: EvClaimed, Worker: workerA, Attempt: 1},
				{At: instant(11, 2), Kind: EvClaimed, Worker: workerB, Attempt: 2},
			})
			expectBriefs(t, "timeouts", r.find(EvTimedOut), []brief{
				{At: sec(10), Kind: EvTimedOut, Reason: TimeoutHeartbeat, Worker: workerA, Attempt: 1, Current: 1},
			})
			expectBriefs(t, "completions", r.find(EvCompleted), tt.completed)
			settled := r.find(EvStepSettled)
			if len(settled) != 1 || settled[0].At != tt.completed[0].At || settled[0].Reason != SettledCompleted {
				t.Fatalf("settled %v, want completed at %v", briefs(settled), tt.completed[0].At)
			}
		})
	}
}

// Hazard 4: a python worker that gets two copies of one assignment (the network
// duplicated it) claims both, gets IN_PROGRESS for both (same worker id) and runs the
// step twice; the strict worker gives the copy up.
func TestHazardOneWorkerRunsTwoCopies(t *testing.T) {
	tests := []struct {
		flavour Flavour
		execs   []brief
		dropped int
	}{
		{FlavourPython, []brief{
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: instant(5, 103), Kind: EvExecEnded, Reason: ExecFinished, Worker: workerA, Attempt: 1},
			{At: instant(5, 103), Kind: EvExecEnded, Reason: ExecFinished, Worker: workerA, Attempt: 1},
		}, 0},
		{FlavourStrict, []brief{
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: instant(5, 103), Kind: EvExecEnded, Reason: ExecFinished, Worker: workerA, Attempt: 1},
		}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.flavour.String(), func(t *testing.T) {
			r := newRouter(t, referenceOrchestrator(false))
			r.duration = func(NodeID, RunOp) time.Duration { return 5 * time.Second }
			r.addWorker(workerA, tt.flavour)
			r.duplicate = func(_ time.Duration, m Message) bool { return m.Type == MsgAssignment }
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.run(sec(30))
			expectBriefs(t, "executions", r.find(EvExecStarted, EvExecEnded), tt.execs)
			dropped := r.find(EvTaskDropped)
			if len(dropped) != tt.dropped || (tt.dropped > 0 && dropped[0].Reason != DropDuplicate) {
				t.Fatalf("dropped %v, want %d duplicate(s)", briefs(dropped), tt.dropped)
			}
			expectBriefs(t, "completions", r.find(EvCompleted), []brief{
				{At: instant(5, 104), Kind: EvCompleted, Worker: workerA, Attempt: 1, Current: 1},
			})
		})
	}
}

// Hazard 5: worker A pauses from 2.5s to 11.5s; the scan fails attempt 1 at 10s and B
// claims attempt 2 at 11.002s. When A resumes, its heartbeat gets ALREADY_CLAIMED with
// should_abort. The python worker stops heartbeating but runs on and its result (13.103s)
// is accepted as attempt 2's; the strict worker abandons the task and B's result counts.
// With per_attempt ids the python worker hears NOT_FOUND instead, still runs on, and its
// result is refused (NOT_FOUND, which it takes as delivered).
func TestHazardAbortedWorkerResultAccepted(t *testing.T) {
	tests := []struct {
		name       string
		flavour    Flavour
		perAttempt bool
		aAnswer    Message // A's answer after it resumes: code and status
		aExecs     []brief
		completed  []brief
	}{
		{"python/reuse", FlavourPython, false, alreadyClaimed(0), []brief{
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: instant(13, 103), Kind: EvExecEnded, Reason: ExecFinished, Worker: workerA, Attempt: 1},
		}, []brief{
			{At: instant(13, 104), Kind: EvCompleted, Worker: workerA, Attempt: 1, Current: 2},
		}},
		{"python/per_attempt", FlavourPython, true, heartbeatAnswer(0, CodeNotFound, 0, false), []brief{
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: instant(13, 103), Kind: EvExecEnded, Reason: ExecFinished, Worker: workerA, Attempt: 1},
		}, []brief{
			{At: instant(21, 4), Kind: EvCompleted, Worker: workerB, Attempt: 2, Current: 2},
		}},
		{"strict/reuse", FlavourStrict, false, alreadyClaimed(0), []brief{
			{At: ms(103), Kind: EvExecStarted, Worker: workerA, Attempt: 1},
			{At: instant(11, 502), Kind: EvExecEnded, Reason: ExecAbandoned, Worker: workerA, Attempt: 1},
		}, []brief{
			{At: instant(21, 4), Kind: EvCompleted, Worker: workerB, Attempt: 2, Current: 2},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRouter(t, referenceOrchestrator(tt.perAttempt))
			r.duration = func(w NodeID, _ RunOp) time.Duration {
				return map[NodeID]time.Duration{workerA: 13 * time.Second, workerB: 10 * time.Second}[w]
			}
			r.addWorker(workerA, tt.flavour)
			r.addWorker(workerB, tt.flavour)
			r.paused[workerA] = window{instant(2, 500), instant(11, 500)}
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.run(sec(60))
			expectBriefs(t, "timeouts", r.find(EvTimedOut), []brief{
				{At: sec(10), Kind: EvTimedOut, Reason: TimeoutHeartbeat, Worker: workerA, Attempt: 1, Current: 1},
			})
			var refused []timedEvent
			for _, e := range r.find(EvReply) {
				if e.Worker == workerA && (e.Code != CodeOK || e.Status != StatusInProgress) {
					refused = append(refused, e)
				}
			}
			if len(refused) == 0 || refused[0].At != instant(11, 502) || refused[0].Code != tt.aAnswer.Code ||
				refused[0].Status != tt.aAnswer.Status {
				t.Fatalf("A's first refused answer %+v, want code %v status %v at 11.502s",
					refused, tt.aAnswer.Code, tt.aAnswer.Status)
			}
			var aExecs []timedEvent
			for _, e := range r.find(EvExecStarted, EvExecEnded) {
				if e.Worker == workerA {
					aExecs = append(aExecs, e)
				}
			}
			expectBriefs(t, "A's execution", aExecs, tt.aExecs)
			expectBriefs(t, "completions", r.find(EvCompleted), tt.completed)
		})
	}
}

// Hazard 6 (hoarding): the orchestrator sends into a stream as fast as its pipe admits,
// whatever the worker has read. Worker A (one slot) runs step 1 for 40s; step 2 goes into
// A's stream at once (python has read it and waits for a slot; rust leaves it in the
// pipe). B connects at 5s with a free slot and idles: step 2 ages in A's stream until its
// queue deadline fails it at 30.2s, and its retry at 31.2s goes into A's stream again
// (A's stream has waited longest for the next pop). A JetStream queue that
// delivers one message per fetch (a rust worker fetches only with a free slot) leaves
// step 2 in the queue, and B takes it as soon as it connects.
func TestHazardHeldAssignmentAges(t *testing.T) {
	tests := []struct {
		name      string
		flavour   Flavour
		jetstream bool
		waiting   int // A's assignments read and waiting for a slot at 1s
		claims    []brief
		timeouts  []brief
	}{
		{"python", FlavourPython, false, 1, nil, []brief{
			{At: instant(30, 200), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 1, Current: 1},
		}},
		{"rust", FlavourRust, false, 0, nil, []brief{
			{At: instant(30, 200), Kind: EvTimedOut, Reason: TimeoutQueue, Attempt: 1, Current: 1},
		}},
		{"rust on jetstream", FlavourRust, true, 0, []brief{
			{At: instant(5, 3), Kind: EvClaimed, Worker: workerB, Attempt: 1},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := referenceOrchestrator(false)
			if tt.jetstream {
				oc.JetStream, oc.Queue = true, routerQueue
			}
			r := newRouter(t, oc)
			r.duration = func(NodeID, RunOp) time.Duration { return 40 * time.Second }
			a := r.addWorkerAt(0, workerA, WorkerConfig{Flavour: tt.flavour, Concurrency: 1})
			r.addWorkerAt(sec(5), workerB, WorkerConfig{Flavour: tt.flavour, Concurrency: 1})
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.submit(ms(200), StepSpec{Step: 2, Run: 1})
			r.run(sec(1))
			if a.Waiting() != tt.waiting {
				t.Fatalf("A holds %d assignments waiting for a slot, want %d", a.Waiting(), tt.waiting)
			}
			r.run(sec(35))
			if !tt.jetstream {
				want := []brief{
					{At: ms(200), Kind: EvDelivered, Reason: DeliveryFirst, Worker: workerA, Attempt: 1},
					{At: instant(31, 200), Kind: EvDelivered, Reason: DeliveryFirst, Worker: workerA, Attempt: 2},
				}
				expectBriefs(t, "step 2 deliveries", r.findStep(2, EvDelivered), want)
			}
			expectBriefs(t, "step 2 claims", r.findStep(2, EvClaimed), tt.claims)
			expectBriefs(t, "step 2 timeouts", r.findStep(2, EvTimedOut), tt.timeouts)
		})
	}
}

// The jetstream warning: a worker that acks only on completion leaves a slow task (45s)
// unacknowledged past the 30s ack wait, and the queue hands it to a second worker, which
// the orchestrator refuses (ALREADY_CLAIMED) because the first one claimed it. Acking on
// receipt, as the protocol asks, avoids the redelivery.
func TestJetStreamAckPointRedelivery(t *testing.T) {
	tests := []struct {
		name         string
		onComplete   bool
		redeliveries []brief
		bDropped     []brief
	}{
		{"on_receipt", false, nil, nil},
		{"on_complete", true, []brief{
			{At: instant(30, 101), Kind: EvDelivered, Reason: DeliveryRedelivery, Worker: workerB, Attempt: 1},
		}, []brief{
			{At: instant(30, 104), Kind: EvTaskDropped, Reason: DropClaimFailed, Worker: workerB, Attempt: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oc := referenceOrchestrator(false)
			oc.JetStream, oc.Queue = true, routerQueue
			r := newRouter(t, oc)
			r.duration = func(NodeID, RunOp) time.Duration { return 45 * time.Second }
			r.addWorkerAt(0, workerA, WorkerConfig{Flavour: FlavourPython, AckOnComplete: tt.onComplete})
			r.addWorkerAt(0, workerB, WorkerConfig{Flavour: FlavourPython, AckOnComplete: tt.onComplete})
			r.submit(ms(100), StepSpec{Step: 1, Run: 1})
			r.run(sec(60))
			var redelivered []timedEvent
			for _, e := range r.find(EvDelivered) {
				if e.Reason == DeliveryRedelivery {
					redelivered = append(redelivered, e)
				}
			}
			expectBriefs(t, "redeliveries", redelivered, tt.redeliveries)
			expectBriefs(t, "B's drops", r.find(EvTaskDropped), tt.bDropped)
			expectBriefs(t, "completions", r.find(EvCompleted), []brief{
				{At: instant(45, 105), Kind: EvCompleted, Worker: workerA, Attempt: 1, Current: 1},
			})
			if r.queue.Unacked() != 0 {
				t.Fatalf("%d deliveries still unacknowledged", r.queue.Unacked())
			}
		})
	}
}
