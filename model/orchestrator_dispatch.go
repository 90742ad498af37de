package model

import "time"

// orchWorker is a worker stream as the orchestrator sees it. A worker's pool is fixed at
// its first connection (a restarted worker is a new process with a new NodeID).
type orchWorker struct {
	node      NodeID
	pool      int32
	credit    int32 // assignments the worker will read now
	connected bool
	inRing    bool // in its pool's ready ring
	// discovery holds a list_components assignment waiting for this worker's credit.
	discovery        Message
	discoveryPending bool
}

// orchPool is one pull queue: pending assignments and workers with credit, both FIFO.
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
	s.retryPending = false
	s.taskSlot = o.addTask(s.task, slot, s.attempt, false, s.id, s.run, s.component)
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
	ts, ok := o.taskIndex[task]
	if !ok || o.tasks[ts].phase != phaseQueued {
		return
	}
	o.failTask(now, ts, TimeoutQueue, attempt, out)
}

// onConnect handles PullTasks: a worker opened its stream (pull), or the jetstream queue
// forwarded a worker's connection (so that discovery can target it).
func (o *Orchestrator) onConnect(now time.Duration, m *Message, out *Effects) {
	node := m.From
	if o.cfg.JetStream {
		node = m.Worker
	}
	ws, ok := o.workerIndex[node]
	if !ok {
		o.workers = append(o.workers, orchWorker{node: node, pool: m.Pool})
		ws = int32(len(o.workers) - 1)
		o.workerIndex[node] = ws
	}
	w := &o.workers[ws]
	fresh := !w.connected
	if fresh {
		w.connected = true
		o.pool(w.pool).connected++
	}
	if !o.cfg.JetStream {
		// A new stream replaces the old one: its credit is what the worker reads now.
		w.credit = m.Credit
	}
	if fresh && o.cfg.Discovery {
		o.dispatchDiscovery(now, ws, out)
	}
	if !o.cfg.JetStream {
		o.offer(ws)
		o.pump(o.pool(w.pool), out)
	}
}

// onCredit adds stream credit for a pull worker.
func (o *Orchestrator) onCredit(_ time.Duration, m *Message, out *Effects) {
	ws, ok := o.workerIndex[m.From]
	if !ok || o.cfg.JetStream {
		return
	}
	w := &o.workers[ws]
	if !w.connected {
		return
	}
	w.credit += m.Credit
	if w.discoveryPending && w.credit > 0 {
		w.discoveryPending = false
		o.deliver(ws, w.discovery, out)
	}
	o.offer(ws)
	o.pump(o.pool(w.pool), out)
}

// Disconnect tells the orchestrator that a worker's stream broke (the worker crashed):
// its credit is gone and nothing more is delivered to it. Its tasks are untouched; the
// detector finds them. Optional for the driver: without it, assignments keep flowing to
// the dead stream until its credit runs out, and then wait for their queue deadline.
func (o *Orchestrator) Disconnect(_ time.Duration, worker NodeID, _ *Effects) {
	ws, ok := o.workerIndex[worker]
	if !ok {
		return
	}
	w := &o.workers[ws]
	if !w.connected {
		return
	}
	w.connected, w.credit, w.discoveryPending = false, 0, false
	o.pool(w.pool).connected--
}

// dispatchDiscovery sends a list_components task to the worker that just connected,
// targeted at it and consuming one of its credits. It settles nothing.
func (o *Orchestrator) dispatchDiscovery(now time.Duration, ws int32, out *Effects) {
	w := &o.workers[ws]
	id := o.newTaskID()
	o.addTask(id, noSlot, 1, true, 0, 0, -1)
	out.Events = append(out.Events, Event{Kind: EvDispatched, Reason: DispatchFirst, Node: o.cfg.Node,
		Worker: w.node, Task: id, Attempt: 1, CurrentAttempt: 1, Component: -1, Discovery: true})
	o.armQueueDeadline(now, id, 1, o.cfg.DiscoveryQueueTimeout, out)
	m := Message{Type: MsgAssignment, From: o.cfg.Node, Worker: w.node, Pool: w.pool, Task: id,
		Attempt: 1, Component: -1, Discovery: true}
	switch {
	case o.cfg.JetStream:
		m.To = o.cfg.Queue
		out.Send = append(out.Send, m)
	case w.credit > 0:
		o.deliver(ws, m, out)
	default:
		w.discovery, w.discoveryPending = m, true
	}
}

// offer puts a worker with credit at the back of its pool's ready ring.
func (o *Orchestrator) offer(ws int32) {
	w := &o.workers[ws]
	if w.inRing || !w.connected || w.credit <= 0 {
		return
	}
	w.inRing = true
	o.pool(w.pool).ready.Push(ws)
}

// pump hands pending assignments to ready workers in order, one credit each; a worker
// with credit left goes to the back of the ring (round robin, like competing stream
// readers of one channel).
func (o *Orchestrator) pump(p *orchPool, out *Effects) {
	for p.pending.Len() > 0 && p.ready.Len() > 0 {
		ws := p.ready.Pop()
		w := &o.workers[ws]
		w.inRing = false
		if !w.connected || w.credit <= 0 {
			continue
		}
		o.deliver(ws, p.pending.Pop(), out)
		o.offer(ws)
	}
}

// deliver sends an assignment to a worker, spending one credit.
func (o *Orchestrator) deliver(ws int32, m Message, out *Effects) {
	w := &o.workers[ws]
	w.credit--
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
