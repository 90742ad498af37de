package model

import "time"

// orchWorker is a worker stream as the orchestrator sees it. A worker's pool is fixed at
// its first connection (a restarted worker is a new process with a new NodeID).
type orchWorker struct {
	node      NodeID
	pool      int32
	connected bool
	// ready: the stream takes an assignment now (no send of it waits for SendDone).
	ready  bool
	inRing bool // in its pool's ready ring
}

// orchPool is one pull queue: pending assignments and ready streams, both FIFO.
type orchPool struct {
	pending   ringFIFO[Message]
	ready     ringFIFO[int32] // worker slots, in turn order
	connected int
}

// pool returns pool p, growing the table as needed.
func (o *Orchestrator) pool(p int32) *orchPool {
	if p < 0 {
		p = 0
	}
	for int(p) >= len(o.pools) {
		o.pools = append(o.pools, orchPool{})
	}
	return &o.pools[p]
}

// QueueDepth reports the assignments waiting in pool's pull FIFO (always 0 with JetStream:
// the queue node holds them).
func (o *Orchestrator) QueueDepth(pool int32) int {
	if pool < 0 || int(pool) >= len(o.pools) {
		return 0
	}
	return o.pools[pool].pending.Len()
}

// ConnectedWorkers reports the workers of pool whose stream is open (with JetStream, the
// connections the queue forwarded).
func (o *Orchestrator) ConnectedWorkers(pool int32) int {
	if pool < 0 || int(pool) >= len(o.pools) {
		return 0
	}
	return o.pools[pool].connected
}

// dispatch makes the next attempt of a step: it tracks the task as Queued, arms the
// attempt's queue deadline and hands the assignment to the queue.
func (o *Orchestrator) dispatch(now time.Duration, slot int32, reason uint8, out *Effects) {
	s := &o.steps[slot]
	if o.cfg.PerAttemptIDs && s.attempt > 0 {
		s.task = o.newTaskID()
	}
	s.attempt++
	s.retryPending, s.retryJournaled = false, false
	s.taskSlot = o.addTask(s.task, slot, s.attempt, s.id, s.run, s.component)
	out.Events = append(out.Events, Event{Kind: EvDispatched, Reason: reason, Node: o.cfg.Node,
		Step: s.id, Run: s.run, Task: s.task, Attempt: s.attempt, CurrentAttempt: s.attempt,
		Component: s.component})
	o.armQueueDeadline(now, s.task, s.attempt, o.cfg.QueueTimeout, out)
	m := Message{Type: MsgAssignment, From: o.cfg.Node, Pool: o.component(s.component).Pool,
		Task: s.task, Run: s.run, Step: s.id, Attempt: s.attempt, Component: s.component,
		PayloadBytes: s.payload, HeartbeatSecs: uint32(o.cfg.HeartbeatInterval / time.Second)}
	if o.cfg.JetStream {
		m.To = o.cfg.Queue
		out.Send = append(out.Send, m)
		return
	}
	p := o.pool(m.Pool)
	p.pending.Push(m)
	o.pump(p, out)
}

// armQueueDeadline sets the queue deadline of one dispatch. It is never cancelled: when it
// fires it fails whatever attempt is Queued under that task id (the early-timeout hazard
// under reused ids).
func (o *Orchestrator) armQueueDeadline(now time.Duration, task TaskID, attempt uint32, after time.Duration, out *Effects) {
	var slot int32
	if n := len(o.freeDeadlines); n > 0 {
		slot = o.freeDeadlines[n-1]
		o.freeDeadlines = o.freeDeadlines[:n-1]
	} else {
		o.deadlines = append(o.deadlines, queueDeadline{})
		slot = int32(len(o.deadlines) - 1)
	}
	d := &o.deadlines[slot]
	*d = queueDeadline{task: task, attempt: attempt, gen: d.gen + 1, live: true}
	out.Timers = append(out.Timers, TimerOp{ID: orchTimerID(orchTimerQueue, d.gen, slot), At: now + after})
}

// onQueueDeadline fails the task still Queued under the deadline's task id, whatever its
// attempt; an Executing or forgotten task is left alone.
func (o *Orchestrator) onQueueDeadline(now time.Duration, gen uint32, slot int32, out *Effects) {
	if slot < 0 || int(slot) >= len(o.deadlines) {
		return
	}
	d := &o.deadlines[slot]
	if !d.live || d.gen&0xffffff != gen {
		return
	}
	task, attempt := d.task, d.attempt
	d.live = false
	o.freeDeadlines = append(o.freeDeadlines, slot)
	ts, ok := o.taskIndex.get(task)
	if !ok || o.tasks[ts].phase != phaseQueued {
		return
	}
	o.failTask(now, ts, TimeoutQueue, attempt, out)
}

// onConnect handles PullTasks: a worker opened its stream. A new stream replaces the old
// one and is ready at once (its send channel is empty). Every connect enqueues one
// list_components task on the queue's FIFO, for whichever worker takes it.
func (o *Orchestrator) onConnect(now time.Duration, m *Message, out *Effects) {
	if o.cfg.JetStream {
		return // NATS workers open no stream to the orchestrator and trigger no discovery
	}
	ws, ok := o.workerIndex.get(m.From)
	if !ok {
		o.workers = append(o.workers, orchWorker{node: m.From, pool: m.Pool})
		ws = int32(len(o.workers) - 1)
		o.workerIndex.set(m.From, ws)
	}
	w := &o.workers[ws]
	if !w.connected {
		w.connected = true
		o.pool(w.pool).connected++
	}
	w.ready = true
	if o.cfg.Discovery {
		o.dispatchDiscovery(now, w.pool, out)
	}
	o.offer(ws)
	o.pump(o.pool(w.pool), out)
}

// SendDone is the driver's word that the last assignment sent on worker's stream has
// left (stream.Send returned: the pipe had room), so the stream takes the next one.
// A stream that broke or was replaced since is the driver's to filter out.
func (o *Orchestrator) SendDone(_ time.Duration, worker NodeID, out *Effects) {
	if !o.up {
		return
	}
	ws, ok := o.workerIndex.get(worker)
	if !ok {
		return
	}
	w := &o.workers[ws]
	if !w.connected || w.ready {
		return
	}
	w.ready = true
	o.offer(ws)
	o.pump(o.pool(w.pool), out)
}

// Disconnect tells the orchestrator that a worker's stream broke (reset, the process
// gone): nothing more is sent on it. What was sent on it and not read is lost with it;
// those tasks stay Queued until their queue deadline, and the detector finds the
// executing ones.
func (o *Orchestrator) Disconnect(_ time.Duration, worker NodeID, _ *Effects) {
	ws, ok := o.workerIndex.get(worker)
	if !ok {
		return
	}
	w := &o.workers[ws]
	if !w.connected {
		return
	}
	w.connected, w.ready = false, false
	o.pool(w.pool).connected--
}

// dispatchDiscovery enqueues a list_components task on pool's FIFO. It settles nothing.
func (o *Orchestrator) dispatchDiscovery(now time.Duration, pool int32, out *Effects) {
	id := o.newTaskID()
	o.addTask(id, noSlot, 1, 0, 0, -1)
	out.Events = append(out.Events, Event{Kind: EvDispatched, Reason: DispatchFirst, Node: o.cfg.Node,
		Task: id, Attempt: 1, CurrentAttempt: 1, Component: -1, Discovery: true})
	o.armQueueDeadline(now, id, 1, o.cfg.DiscoveryQueueTimeout, out)
	o.pool(pool).pending.Push(Message{Type: MsgAssignment, From: o.cfg.Node, Pool: pool, Task: id,
		Attempt: 1, Component: -1, Discovery: true})
}

// offer puts a ready stream at the back of its pool's ready ring.
func (o *Orchestrator) offer(ws int32) {
	w := &o.workers[ws]
	if w.inRing || !w.connected || !w.ready {
		return
	}
	w.inRing = true
	o.pool(w.pool).ready.Push(ws)
}

// pump hands pending assignments to ready streams in turn, one each: like the competing
// sender tasks of the reference, every ready stream races for the next pop, and the ring
// makes the race fair and deterministic.
func (o *Orchestrator) pump(p *orchPool, out *Effects) {
	for p.pending.Len() > 0 && p.ready.Len() > 0 {
		ws := p.ready.Pop()
		w := &o.workers[ws]
		w.inRing = false
		if !w.connected || !w.ready {
			continue
		}
		o.deliver(ws, p.pending.Pop(), out)
	}
}

// deliver sends an assignment on a worker's stream; the stream is busy until SendDone.
func (o *Orchestrator) deliver(ws int32, m Message, out *Effects) {
	w := &o.workers[ws]
	w.ready = false
	m.To = w.node
	out.Send = append(out.Send, m)
	out.Events = append(out.Events, Event{Kind: EvDelivered, Reason: DeliveryFirst, Node: o.cfg.Node,
		Worker: w.node, Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt,
		Component: m.Component, Discovery: m.Discovery})
}

// ringFIFO is a growable ring buffer used as a FIFO queue; it allocates only to grow.
type ringFIFO[T any] struct {
	buf  []T
	head int
	n    int
}

// Len reports the number of queued items.
func (r *ringFIFO[T]) Len() int { return r.n }

func (r *ringFIFO[T]) grow() {
	size := 2 * len(r.buf)
	if size == 0 {
		size = 16
	}
	buf := make([]T, size)
	for i := 0; i < r.n; i++ {
		buf[i] = r.buf[(r.head+i)&(len(r.buf)-1)]
	}
	r.buf, r.head = buf, 0
}

// Push appends v at the back.
func (r *ringFIFO[T]) Push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

// PushFront puts v at the front (next to pop).
func (r *ringFIFO[T]) PushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1) & (len(r.buf) - 1)
	r.buf[r.head] = v
	r.n++
}

// Pop removes and returns the front item; the ring must not be empty.
func (r *ringFIFO[T]) Pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}
