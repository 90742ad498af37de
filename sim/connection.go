package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// A worker's gRPC connection to the orchestrator, as the simulator models its breaking
// (PROTOCOL.md, "Neither SDK sets a deadline"): a connection that breaks (the orchestrator
// process gone, a reset partition, a blackhole TCP gave up on) fails every call on it
// with UNAVAILABLE at once, loses every message still on it, and breaks the pull stream,
// which drops its pipe. Nothing of this is a message the real protocol has: the worker
// is told what its gRPC library would tell it, an UNAVAILABLE answer to its own call.

// pendingCall is an RPC a worker sent to the orchestrator and has no answer to yet.
type pendingCall struct {
	call  uint32
	reply model.MsgType
	task  model.TaskID
	run   model.RunID
	truth model.Truth // the request's, for its answer's observers
}

// replyType is the answer type of an RPC request, or 0 for other messages.
func replyType(t model.MsgType) model.MsgType {
	switch t {
	case model.MsgHeartbeat:
		return model.MsgHeartbeatReply
	case model.MsgComplete:
		return model.MsgCompleteReply
	}
	return 0
}

// callSent records a worker's RPC request to the orchestrator as awaiting its answer.
func (w *world) callSent(m *model.Message) {
	reply := replyType(m.Type)
	if reply == 0 || m.To != w.orchNode {
		return
	}
	if p := w.proc(m.From); p != nil {
		p.addCall(pendingCall{call: m.Call, reply: reply, task: m.Task, run: m.Run, truth: m.Truth})
	}
}

// callGone forgets the call a request or answer belongs to: the answer arrived, or one of
// them was lost for good (loss_model drop, heartbeat_loss), so no break can fail it.
func (w *world) callGone(m *model.Message) {
	switch {
	case replyType(m.Type) != 0 && m.To == w.orchNode:
		if p := w.proc(m.From); p != nil {
			forgetCall(p, m.Call)
		}
	case m.Type == model.MsgHeartbeatReply || m.Type == model.MsgCompleteReply:
		if p := w.proc(m.To); p != nil {
			forgetCall(p, m.Call)
		}
	}
}

// callGoneAt is callGone for a message that reached worker process p (m.To).
func (w *world) callGoneAt(p *proc, m *model.Message) {
	if m.Type == model.MsgHeartbeatReply || m.Type == model.MsgCompleteReply {
		forgetCall(p, m.Call)
	}
}

func forgetCall(p *proc, call uint32) {
	cs := p.callList()
	for i := range cs {
		if cs[i].call == call {
			cs[i] = cs[len(cs)-1]
			p.setCalls(cs[:len(cs)-1])
			return
		}
	}
}

// cutByReset reports whether p's slot is behind a partition that breaks connections.
func (w *world) cutByReset(p *proc) bool {
	return w.partitionedSlots > 0 && p.slot.partitioned > 0 && p.slot.resets > 0
}

// breakConnection breaks worker p's connection to the orchestrator: what is still on it
// is lost, each call waiting for an answer fails UNAVAILABLE, and (pull queue) the stream
// breaks. The worker learns of it after delay: at once when its own side broke (a reset
// partition), one trip later when the other end did (the orchestrator died).
func (w *world) breakConnection(p *proc, delay time.Duration) error {
	if p == nil || !p.alive {
		return nil
	}
	p.epoch++
	calls := p.callList()
	w.hash.Event(int64(w.now), hashConnBroken, int32(p.node), uint64(len(calls)), 0, 0, nil)
	w.traceConnectionBroken(p, len(calls))
	// In call order, so that the answers arrive in a reproducible order.
	sortCalls(calls)
	for _, c := range calls {
		w.failCall(p, c, delay)
	}
	p.setCalls(calls[:0])
	if w.queue == nil {
		return w.breakStream(p, delay)
	}
	return nil
}

// failCall answers one of p's calls UNAVAILABLE, locally, after delay.
func (w *world) failCall(p *proc, c pendingCall, delay time.Duration) {
	r := model.Message{Type: c.reply, From: w.orchNode, To: p.node, Call: c.call, Task: c.task,
		Run: c.run, Code: model.CodeUnavailable, Truth: c.truth}
	slot := w.stash(&r, nil)
	w.msgs[slot].local = true
	w.q.Push(int64(w.now+delay), event{kind: evDeliver, node: p.node, a: slot})
}

// sortCalls orders calls by call number (insertion sort: a worker has a handful).
func sortCalls(cs []pendingCall) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].call < cs[j-1].call; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}

// refusedByReset handles a worker's message to the orchestrator while a reset partition
// cuts it off: a call fails UNAVAILABLE at once (the connection attempt is refused), a
// PullTasks fails the stream at once; anything else is lost.
func (w *world) refusedByReset(p *proc, m *model.Message) {
	switch {
	case replyType(m.Type) != 0:
		w.callGone(m)
		w.failCall(p, pendingCall{call: m.Call, reply: replyType(m.Type), task: m.Task, run: m.Run,
			truth: m.Truth}, 0)
	case m.Type == model.MsgPullTasks:
		w.push(w.now, event{kind: evStreamBroken, node: p.node, a: uint32(model.CodeUnavailable)})
	}
}

// tcpGiveUp: a blackhole has held fault i's workers long enough for TCP to declare their
// connections dead (TCPGiveUp); from now to the heal the partition acts as a reset.
func (w *world) tcpGiveUp(i int) error {
	if w.faultGaveUp == nil {
		w.faultGaveUp = make([]bool, len(w.cfg.Faults))
	}
	w.faultGaveUp[i] = true
	w.hash.Event(int64(w.now), uint8(evTCPGiveUp), int32(i), 0, 0, 0, nil)
	for _, s := range w.faultHits[i] {
		s.resets++
		if err := w.breakConnection(s.current, 0); err != nil {
			return err
		}
	}
	return nil
}

const hashConnBroken = 103
