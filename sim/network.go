package sim

import (
	"fmt"
	"time"

	"github.com/tasksim/tasksim/model"
)

// send puts a message on the simulated network: it is encoded (wire on), counted, hashed,
// and then dropped, duplicated or delivered after a sampled one-way latency.
func (w *world) send(m *model.Message) error {
	var data []byte
	if w.cfg.Network.Wire && m.Type.OnWire() && m.Code == model.CodeOK {
		b, err := w.bridge.encode(m)
		if err != nil {
			return fmt.Errorf("encode %v: %w", m.Type, err)
		}
		w.noteEncode(m, b)
		data = b
	}
	if m.Type.OnWire() && m.Code == model.CodeOK {
		w.oracle.message(m.Type, len(data))
	}
	w.hash.Event(int64(w.now), hashSend, int32(m.From), uint64(m.Task), m.TrueAttempt(), uint8(m.Type), data)
	w.traceSend(m, len(data))

	workerEnd := w.workerEnd(m)
	w.callSent(m)
	if w.queue != nil && w.now < w.queueDownUntil && (m.To == w.sourceNode || m.From == w.sourceNode) {
		// The queue's server is restarting. An ack sent now is lost (the message comes
		// back after its ack wait); a publish or a pull request is retried by its client
		// and arrives once the server is up; what the queue would send waits as well.
		if m.Type == model.MsgAck {
			w.traceDrop(m, "queue restarting")
			return nil
		}
		w.deliverLater(m, data, w.queueDownUntil-w.now+w.rNetwork.sample(w.latency))
		return nil
	}
	if m.Type == model.MsgAssignment && w.queue == nil {
		// A pull stream: the assignment goes into the worker's pipe.
		w.pipeSend(m, data, workerEnd, true)
		if w.dupOn && workerEnd != nil && workerEnd.slot.dupRate > 0 && w.rFaults.Float64() < workerEnd.slot.dupRate {
			w.duplicateAssignment(m, data, workerEnd)
		}
		return nil
	}
	if workerEnd == nil {
		// Orchestrator <-> jetstream queue: one process's view of a local broker; reliable.
		w.deliverLater(m, data, w.rNetwork.sample(w.latency))
		return nil
	}
	retransmit := w.cfg.Network.LossModel != LossDrop
	if w.cutByReset(workerEnd) && (m.To == w.orchNode || m.From == w.orchNode) {
		// The connection is broken and cannot be made again until the heal.
		w.traceDrop(m, "reset")
		if m.From == workerEnd.node {
			w.refusedByReset(workerEnd, m)
		}
		return nil
	}
	if w.partitionedSlots > 0 && workerEnd.slot.partitioned > 0 {
		if retransmit {
			// A blackhole: TCP holds the message and delivers it after the heal.
			w.deliverLater(m, data, workerEnd.slot.healAt-w.now+w.linkDelay(workerEnd.slot))
			return nil
		}
		w.traceDrop(m, "partition")
		w.callGone(m)
		return nil
	}
	// heartbeat_loss is an application-level fault (a proxy or a bug that drops
	// TaskHeartbeat requests): they never arrive, whatever the loss model.
	if m.Type == model.MsgHeartbeat && w.hbLossOn && workerEnd.slot.hbLoss > 0 && w.rNetwork.Float64() < workerEnd.slot.hbLoss {
		w.traceDrop(m, "heartbeat_loss")
		w.callGone(m)
		return nil
	}
	if !retransmit && isRPC(m.Type) && w.cfg.Network.Loss > 0 && w.rNetwork.Float64() < w.cfg.Network.Loss {
		w.traceDrop(m, "loss")
		w.callGone(m)
		return nil
	}
	w.deliverLater(m, data, w.linkDelay(workerEnd.slot))
	if isRPC(m.Type) && w.cfg.Network.Duplicate > 0 && w.rNetwork.Float64() < w.cfg.Network.Duplicate {
		w.deliverLater(m, data, w.linkDelay(workerEnd.slot))
	}
	if m.Type == model.MsgAssignment && w.dupOn && workerEnd.slot.dupRate > 0 && w.rFaults.Float64() < workerEnd.slot.dupRate {
		w.duplicateAssignment(m, data, workerEnd)
	}
	return nil
}

// hash kinds beside the event kinds.
const (
	hashSend    = 100
	hashDeliver = 101
)

// isRPC reports whether a message is a unary RPC request or answer: the messages that
// independent loss applies to. Stream messages (assignments, credit, acks, PullTasks)
// ride a connection that loses them only when it breaks, which partitions model.
func isRPC(t model.MsgType) bool {
	switch t {
	case model.MsgHeartbeat, model.MsgHeartbeatReply, model.MsgComplete, model.MsgCompleteReply:
		return true
	}
	return false
}

// workerEnd returns the worker process at either end of m, if any.
func (w *world) workerEnd(m *model.Message) *proc {
	if p := w.proc(m.From); p != nil {
		return p
	}
	return w.proc(m.To)
}

// duplicateAssignment models the queue handing one assignment to a second worker of the
// same pool (a duplicate_delivery fault).
func (w *world) duplicateAssignment(m *model.Message, data []byte, first *proc) {
	slots := w.slots[first.pool]
	var live []*proc
	for _, s := range slots {
		if p := s.current; p != nil && p.alive && p != first {
			live = append(live, p)
		}
	}
	if len(live) == 0 {
		return
	}
	other := live[w.rFaults.IntN(len(live))]
	dup := *m
	dup.To = other.node
	w.oracle.duplicated(m.Step)
	if w.queue == nil {
		w.pipeSend(&dup, data, other, false)
		return
	}
	w.deliverLater(&dup, data, w.rNetwork.sample(w.latency))
}

func (w *world) deliverLater(m *model.Message, data []byte, delay time.Duration) {
	slot := w.stash(m, data)
	w.q.Push(int64(w.now+delay), event{kind: evDeliver, node: m.To, a: slot})
}

// stash keeps a message and its bytes in a reused slot until it is delivered.
func (w *world) stash(m *model.Message, data []byte) uint32 {
	var slot uint32
	if n := len(w.freeMsgs); n > 0 {
		slot = w.freeMsgs[n-1]
		w.freeMsgs = w.freeMsgs[:n-1]
	} else {
		w.msgs = append(w.msgs, inflight{})
		w.msgWire = append(w.msgWire, nil)
		slot = uint32(len(w.msgs) - 1)
	}
	f := &w.msgs[slot]
	f.m = *m
	f.n = uint32(len(data))
	if len(data) <= inflightShort {
		copy(f.short[:], data)
	} else {
		w.msgWire[slot] = append(w.msgWire[slot][:0], data...)
	}
	f.epoch, f.local = 0, false
	if p := w.workerEnd(m); p != nil {
		f.epoch = p.epoch
	}
	return slot
}

// linkDelay is the one-way delay of a message on a worker's link. Under the retransmit
// loss model each loss of it costs a retransmission timeout, doubling per further loss
// (TCP's backoff), so a lost message arrives late, never not at all.
func (w *world) linkDelay(_ *slot) time.Duration {
	d := w.rNetwork.sample(w.latency)
	nw := &w.cfg.Network
	if nw.LossModel == LossDrop || nw.Loss <= 0 {
		return d
	}
	rto := nw.RetransmitAfter
	for i := 0; i < 16 && w.rNetwork.Float64() < nw.Loss; i++ {
		d += rto
		rto *= 2
	}
	return d
}

// deliver hands an arrived message to its destination.
func (w *world) deliver(slot uint32) error {
	f := &w.msgs[slot]
	// m stays valid to the hand-over: nothing before it stashes a message (which could
	// reuse the slot freed below).
	m := &f.m
	to := m.To
	p := w.proc(to)
	if f.local {
		// The worker's own library reports it: no network in between.
		if p == nil || !p.alive {
			w.freeMsgs = append(w.freeMsgs, slot)
			return nil
		}
		if w.procPaused(p, event{kind: evDeliver, node: to, a: slot}) {
			return nil
		}
	} else if e := w.connEnd(m, p); e != nil && f.epoch != e.epoch {
		// Sent on a connection that broke since: lost with it (its call, if any,
		// failed UNAVAILABLE when it broke).
		w.freeMsgs = append(w.freeMsgs, slot)
		return nil
	} else if p != nil {
		cut := w.partitionedSlots > 0 && p.slot.partitioned > 0
		if p.alive && cut && w.cfg.Network.LossModel != LossDrop {
			// Caught by a blackhole on its way: delivered after the heal.
			w.q.Push(int64(p.slot.healAt+w.linkDelay(p.slot)), event{kind: evDeliver, node: to, a: slot})
			return nil
		}
		if !p.alive || cut {
			w.freeMsgs = append(w.freeMsgs, slot)
			if !p.alive {
				w.traceDrop(m, "receiver down")
			} else {
				w.traceDrop(m, "partition")
			}
			return nil
		}
		if w.procPaused(p, event{kind: evDeliver, node: to, a: slot}) {
			return nil
		}
	}
	if f.n > 0 {
		data := w.wireOf(slot)
		w.noteDecode(m, data)
		if err := w.bridge.check(m, data); err != nil {
			return fmt.Errorf("deliver %v to node %d: %w", m.Type, to, err)
		}
	}
	w.hash.Event(int64(w.now), hashDeliver, int32(to), uint64(m.Task), m.TrueAttempt(), uint8(m.Type), nil)
	w.traceDeliver(m, int(f.n))
	w.freeMsgs = append(w.freeMsgs, slot)
	var part model.Participant
	if p != nil {
		w.callGoneAt(p, m) // an answer reached its caller
		// A worker is down exactly when it is not alive, and refuses nothing.
		if !p.alive {
			return nil
		}
		part = p.w
	} else {
		if to < 0 || int(to) >= len(w.nodes) {
			return fmt.Errorf("message %v to unknown node %d", m.Type, to)
		}
		n := &w.nodes[to]
		if n.down {
			if n.refuses {
				return w.refuse(m)
			}
			return nil
		}
		part = n.part
	}
	if m.Type == model.MsgPullTasks && w.queue == nil {
		// A PullTasks reaching the orchestrator opens the asking worker's stream.
		p := w.proc(m.From)
		if p == nil || !p.alive {
			return nil // the process that asked is gone
		}
		w.openPipe(p)
		w.push(w.now+w.rHeaders.sample(w.latency), event{kind: evStreamOpened, node: p.node, a: p.pipe.gen})
	}
	w.out.Reset()
	w.noteReceive(to, m)
	model.Deliver(part, w.now, w.handed(*m), &w.out)
	return w.apply(to)
}

// connEnd is the worker end of m if m travels a worker's connection to the
// orchestrator (p: the worker m goes to, if any); nil otherwise.
func (w *world) connEnd(m *model.Message, to *proc) *proc {
	if m.From == w.orchNode {
		return to
	}
	if m.To == w.orchNode {
		return w.proc(m.From)
	}
	return nil
}

// refuse answers a request that reached a down server (the orchestrator restarting): the
// connection is refused, which gRPC reports as UNAVAILABLE.
func (w *world) refuse(m *model.Message) error {
	var reply model.MsgType
	switch m.Type {
	case model.MsgHeartbeat:
		reply = model.MsgHeartbeatReply
	case model.MsgComplete:
		reply = model.MsgCompleteReply
	case model.MsgPullTasks:
		w.push(w.now+w.linkDelay(nil), event{kind: evStreamBroken, node: m.From, a: uint32(model.CodeUnavailable)})
		return nil
	default:
		return nil
	}
	r := model.Message{Type: reply, From: m.To, To: m.From, Call: m.Call, Task: m.Task,
		Run: m.Run, Code: model.CodeUnavailable, Truth: m.Truth}
	w.out.Reset()
	w.out.Send = append(w.out.Send, r)
	return w.apply(m.To)
}
