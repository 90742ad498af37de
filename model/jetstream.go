package model

import "time"

// defaultAckWait is JetStream's default ack wait.
const defaultAckWait = 30 * time.Second

// JetStreamQueue is a NATS JetStream work queue as a pure state machine: the orchestrator
// publishes assignments to it; it keeps a FIFO per pool, delivers one message per pull
// request (MsgFetch) of a worker, and redelivers a delivery that was not acknowledged
// within AckWait. It is a separate node, so it survives an orchestrator restart (old
// assignments stay queued). NATS workers trigger no discovery.
type JetStreamQueue struct {
	node    NodeID
	ackWait time.Duration

	msgs     []jsMessage
	freeMsgs []int32
	// deliveries maps a delivery number to its message, for acks and ack-wait timers.
	deliveries   idIndex[uint32, jsDelivery]
	nextDelivery uint32
	unacked      int

	workers     []jsWorker
	workerIndex idIndex[NodeID, int32]
	pools       []jsPool
}

// jsMessage is one assignment held by the queue until it is acknowledged.
type jsMessage struct {
	m           Message
	gen         uint32
	live        bool
	inFIFO      bool
	delivered   bool   // delivered at least once: the next delivery is a redelivery
	outstanding uint32 // delivery awaiting its ack; 0 if none
	// expired are earlier deliveries whose ack wait ended: a late ack of one still acks
	// the message. They are forgotten with the message.
	expired []uint32
}

type jsDelivery struct {
	slot int32
	gen  uint32
}

type jsWorker struct {
	node      NodeID
	pool      int32
	credit    int32 // pull requests not yet answered
	connected bool
	inRing    bool
}

type jsPool struct {
	pending   ringFIFO[int32] // message slots
	depth     int             // unacked messages in pending
	ready     ringFIFO[int32] // worker slots with credit, in turn order
	connected int
}

// NewJetStreamQueue returns a queue node with the given ack wait (0 = 30s).
func NewJetStreamQueue(node NodeID, ackWait time.Duration) *JetStreamQueue {
	if ackWait <= 0 {
		ackWait = defaultAckWait
	}
	return &JetStreamQueue{node: node, ackWait: ackWait}
}

// QueueDepth reports the assignments of pool waiting for delivery or redelivery.
func (q *JetStreamQueue) QueueDepth(pool int32) int {
	if pool < 0 || int(pool) >= len(q.pools) {
		return 0
	}
	return q.pools[pool].depth
}

// ConnectedWorkers reports the workers of pool connected to the queue.
func (q *JetStreamQueue) ConnectedWorkers(pool int32) int {
	if pool < 0 || int(pool) >= len(q.pools) {
		return 0
	}
	return q.pools[pool].connected
}

// Unacked reports the deliveries waiting for an acknowledgement.
func (q *JetStreamQueue) Unacked() int { return q.unacked }

// TrackedDeliveries reports the delivery numbers the queue still remembers: those of
// messages not yet acknowledged (waiting, expired or outstanding), never more.
func (q *JetStreamQueue) TrackedDeliveries() int { return q.deliveries.len() }

// HeldMessages reports the messages the queue holds: not yet acknowledged, or
// acknowledged while queued for redelivery and not yet passed by the pump.
func (q *JetStreamQueue) HeldMessages() int { return len(q.msgs) - len(q.freeMsgs) }

// Receive handles an assignment from the orchestrator, or a worker's PullTasks
// (subscribe), Fetch (a pull request for one message) or Ack.
func (q *JetStreamQueue) Receive(now time.Duration, m Message, out *Effects) {
	switch m.Type {
	case MsgAssignment:
		q.onPublish(now, m, out)
	case MsgPullTasks:
		q.onConnect(now, &m, out)
	case MsgFetch:
		q.onFetch(now, &m, out)
	case MsgAck:
		q.onAck(m.Delivery, out)
	}
}

// Fire handles an ack-wait timer (its id is the delivery number): an unacknowledged
// delivery's message goes back to the front of its pool's FIFO for redelivery.
func (q *JetStreamQueue) Fire(now time.Duration, id TimerID, out *Effects) {
	d := uint32(id)
	ref, ok := q.deliveries.get(d)
	if !ok {
		return
	}
	msg := &q.msgs[ref.slot]
	if !msg.live || msg.gen != ref.gen || msg.outstanding != d {
		return
	}
	// The entry stays in deliveries while the message lives: a late ack of this delivery
	// still acks the message.
	msg.expired = append(msg.expired, d)
	msg.outstanding = 0
	q.unacked--
	msg.inFIFO = true
	p := q.pool(msg.m.Pool)
	p.pending.PushFront(ref.slot)
	p.depth++
	q.pump(now, p, out)
}

// Disconnect tells the queue that a worker's connection broke: it gets nothing more.
// Its unacked deliveries are redelivered when their ack wait ends.
func (q *JetStreamQueue) Disconnect(_ time.Duration, worker NodeID, _ *Effects) {
	ws, ok := q.workerIndex.get(worker)
	if !ok || !q.workers[ws].connected {
		return
	}
	w := &q.workers[ws]
	w.connected, w.credit = false, 0
	q.pool(w.pool).connected--
}

func (q *JetStreamQueue) pool(p int32) *jsPool {
	if p < 0 {
		p = 0
	}
	for int(p) >= len(q.pools) {
		q.pools = append(q.pools, jsPool{})
	}
	return &q.pools[p]
}

// onPublish stores an assignment at the back of its pool's FIFO.
func (q *JetStreamQueue) onPublish(now time.Duration, m Message, out *Effects) {
	var slot int32
	if n := len(q.freeMsgs); n > 0 {
		slot = q.freeMsgs[n-1]
		q.freeMsgs = q.freeMsgs[:n-1]
	} else {
		q.msgs = append(q.msgs, jsMessage{})
		slot = int32(len(q.msgs) - 1)
	}
	msg := &q.msgs[slot]
	*msg = jsMessage{m: m, gen: msg.gen + 1, live: true, inFIFO: true}
	p := q.pool(m.Pool)
	p.pending.Push(slot)
	p.depth++
	q.pump(now, p, out)
}

func (q *JetStreamQueue) onConnect(now time.Duration, m *Message, out *Effects) {
	ws, ok := q.workerIndex.get(m.From)
	if !ok {
		q.workers = append(q.workers, jsWorker{node: m.From, pool: m.Pool})
		ws = int32(len(q.workers) - 1)
		q.workerIndex.set(m.From, ws)
	}
	w := &q.workers[ws]
	if !w.connected {
		w.connected, w.credit = true, 0
		q.pool(w.pool).connected++
	}
}

// onFetch is one pull request: the worker will take one more message.
func (q *JetStreamQueue) onFetch(now time.Duration, m *Message, out *Effects) {
	ws, ok := q.workerIndex.get(m.From)
	if !ok || !q.workers[ws].connected {
		return
	}
	q.workers[ws].credit++
	q.offer(ws)
	q.pump(now, q.pool(q.workers[ws].pool), out)
}

// onAck acknowledges the message of any of its deliveries: it is forgotten.
func (q *JetStreamQueue) onAck(d uint32, out *Effects) {
	ref, ok := q.deliveries.get(d)
	if !ok {
		return
	}
	q.deliveries.delete(d)
	msg := &q.msgs[ref.slot]
	if !msg.live || msg.gen != ref.gen {
		return
	}
	if msg.outstanding != 0 {
		out.Timers = append(out.Timers, TimerOp{ID: TimerID(msg.outstanding), Cancel: true})
		q.deliveries.delete(msg.outstanding)
		msg.outstanding = 0
		q.unacked--
	}
	msg.live = false
	// No delivery of an acknowledged message can matter any more: forget them all, or a
	// delivery whose ack never comes (its worker crashed, the ack was cut off) is kept
	// for the rest of the run.
	for _, x := range msg.expired {
		q.deliveries.delete(x)
	}
	msg.expired = msg.expired[:0]
	if msg.inFIFO {
		// Still queued for redelivery: the pump frees the slot when it reaches it.
		q.pool(msg.m.Pool).depth--
		return
	}
	q.freeMsgs = append(q.freeMsgs, ref.slot)
}

func (q *JetStreamQueue) offer(ws int32) {
	w := &q.workers[ws]
	if w.inRing || !w.connected || w.credit <= 0 {
		return
	}
	w.inRing = true
	q.pool(w.pool).ready.Push(ws)
}

// pump delivers queued messages to workers with credit, in FIFO order, one credit each,
// round robin over the workers.
func (q *JetStreamQueue) pump(now time.Duration, p *jsPool, out *Effects) {
	for p.pending.Len() > 0 && p.ready.Len() > 0 {
		ws := p.ready.Pop()
		w := &q.workers[ws]
		w.inRing = false
		if !w.connected || w.credit <= 0 {
			continue
		}
		slot, ok := q.popLive(p)
		if !ok {
			q.offer(ws)
			return
		}
		q.deliver(now, ws, slot, out)
		q.offer(ws)
	}
}

// popLive takes the first message of the FIFO that is not yet acknowledged, freeing the
// slots of acknowledged ones on the way.
func (q *JetStreamQueue) popLive(p *jsPool) (int32, bool) {
	for p.pending.Len() > 0 {
		slot := p.pending.Pop()
		msg := &q.msgs[slot]
		msg.inFIFO = false
		if msg.live {
			p.depth--
			return slot, true
		}
		q.freeMsgs = append(q.freeMsgs, slot)
	}
	return 0, false
}

// deliver hands a message to a worker as a new delivery and arms its ack wait.
func (q *JetStreamQueue) deliver(now time.Duration, ws int32, slot int32, out *Effects) {
	w := &q.workers[ws]
	msg := &q.msgs[slot]
	w.credit--
	q.nextDelivery++
	d := q.nextDelivery
	reason := DeliveryFirst
	if msg.delivered {
		reason = DeliveryRedelivery
	}
	msg.delivered = true
	msg.outstanding = d
	q.unacked++
	q.deliveries.set(d, jsDelivery{slot: slot, gen: msg.gen})
	m := msg.m
	m.From, m.To, m.Delivery = q.node, w.node, d
	out.Send = append(out.Send, m)
	out.Timers = append(out.Timers, TimerOp{ID: TimerID(d), At: now + q.ackWait})
	out.Events = append(out.Events, Event{Kind: EvDelivered, Reason: reason, Node: q.node, Worker: w.node,
		Step: m.Step, Run: m.Run, Task: m.Task, Attempt: m.Attempt, Component: m.Component})
}
