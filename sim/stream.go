package sim

import (
	"fmt"
	"time"

	"github.com/tasksim/tasksim/model"
)

// pipe is one worker's PullTasks stream as the simulator models HTTP/2 flow control
// (PROTOCOL.md, "Dispatch and flow control"): the encoded assignments the orchestrator
// sent and the worker has not read yet, in order. While it holds less than
// queue.pipe_bytes the orchestrator's send completes at once (SendDone); otherwise it
// completes when the worker's reads make room (a WINDOW_UPDATE that travels back). A
// stream that breaks drops every assignment in it.
type pipe struct {
	// gen names the current stream; it moves on when the stream opens or breaks, so
	// events of an older stream are recognised and ignored.
	gen     uint32
	open    bool
	entries []pipeEntry
	head    int
	bytes   int
	// blocked: the orchestrator's last send waits for room.
	blocked bool
	// reading: the worker's read loop waits in Recv.
	reading bool
	// lastArrival keeps the stream in order: nothing arrives before what was sent earlier.
	lastArrival time.Duration
}

// pipeEntry is one assignment on its way through a pipe.
type pipeEntry struct {
	msg  uint32 // slot in world.msgs
	at   time.Duration
	size int32
}

func (p *pipe) len() int { return len(p.entries) - p.head }

// pipeSize is the bytes an assignment occupies in a pipe: its encoding, or an estimate
// of it when the wire is off.
func pipeSize(m *model.Message, data []byte) int32 {
	if len(data) > 0 {
		return int32(len(data))
	}
	return m.PayloadBytes + 96
}

// openPipe starts a new stream for worker p when its PullTasks reaches the orchestrator.
// A read the worker asked for before the stream opened carries over.
func (w *world) openPipe(p *proc) {
	w.dropPipe(p)
	p.pipe.open = true
	p.pipe.gen++
}

// pipeSend puts an assignment on p's stream. ownSend: the orchestrator sent it and waits
// for SendDone (a duplicate the fault injector adds waits for nothing).
func (w *world) pipeSend(m *model.Message, data []byte, p *proc, ownSend bool) {
	if p == nil || !p.alive || !p.pipe.open {
		// The stream broke before the send: the assignment is gone with it.
		w.oracle.droppedInPipe++
		return
	}
	slot := w.stash(m, data)
	at := max(w.now+w.linkDelay(p.slot), p.pipe.lastArrival)
	p.pipe.lastArrival = at
	size := pipeSize(m, data)
	p.pipe.entries = append(p.pipe.entries, pipeEntry{msg: slot, at: at, size: size})
	p.pipe.bytes += int(size)
	w.push(at, event{kind: evPipeArrive, node: p.node, a: p.pipe.gen})
	if !ownSend {
		return
	}
	if p.pipe.bytes < w.cfg.Queue.PipeBytes {
		w.push(w.now, event{kind: evSendDone, node: p.node, a: p.pipe.gen})
	} else {
		p.pipe.blocked = true
	}
}

// wantRead carries out a worker's Effects.Recv: with a pull stream it waits in the pipe;
// with jetstream it is a pull request to the queue.
func (w *world) wantRead(p *proc) error {
	if w.queue != nil {
		return w.send(&model.Message{Type: model.MsgFetch, From: p.node, To: w.sourceNode,
			Worker: p.node, Pool: p.pool})
	}
	p.pipe.reading = true
	w.push(w.now, event{kind: evPipeArrive, node: p.node, a: p.pipe.gen})
	return nil
}

// pipeArrive hands the head of p's pipe to the worker if it has arrived and the worker
// is reading.
func (w *world) pipeArrive(node model.NodeID, gen uint32) error {
	p := w.proc(node)
	if p == nil || !p.alive || gen != p.pipe.gen || !p.pipe.reading || p.pipe.len() == 0 {
		return nil
	}
	e := p.pipe.entries[p.pipe.head]
	if e.at > w.now || (w.partitionedSlots > 0 && p.slot.partitioned > 0) {
		return nil // a later arrival, or the heal of the partition, tries again
	}
	if w.procPaused(p, event{kind: evPipeArrive, node: node, a: gen}) {
		return nil
	}
	p.pipe.entries[p.pipe.head] = pipeEntry{}
	p.pipe.head++
	if p.pipe.head == len(p.pipe.entries) {
		p.pipe.entries, p.pipe.head = p.pipe.entries[:0], 0
	}
	p.pipe.bytes -= int(e.size)
	p.pipe.reading = false
	if p.pipe.blocked && p.pipe.bytes < w.cfg.Queue.PipeBytes {
		// The read opened the window; the update reaches the server one trip later.
		p.pipe.blocked = false
		w.push(w.now+w.linkDelay(p.slot), event{kind: evSendDone, node: node, a: gen})
	}
	f := &w.msgs[e.msg]
	m := &f.m // valid to the hand-over: nothing before it stashes a message
	if f.n > 0 {
		data := w.wireOf(e.msg)
		w.noteDecode(m, data)
		if err := w.bridge.check(m, data); err != nil {
			return fmt.Errorf("deliver %v to node %d: %w", m.Type, node, err)
		}
	}
	w.hash.Event(int64(w.now), hashDeliver, int32(node), uint64(m.Task), m.TrueAttempt(), uint8(m.Type), nil)
	w.traceDeliver(m, int(f.n))
	w.freeMsgs = append(w.freeMsgs, e.msg)
	w.out.Reset()
	w.noteReceive(node, m)
	model.Deliver(p.w, w.now, w.handed(*m), &w.out)
	return w.apply(node)
}

// sendDone tells the orchestrator that a send on node's stream completed.
func (w *world) sendDone(node model.NodeID, gen uint32) error {
	p := w.proc(node)
	if p == nil || !p.alive || gen != p.pipe.gen || !p.pipe.open || w.nodes[w.orchNode].down {
		return nil
	}
	if w.partitionedSlots > 0 && p.slot.partitioned > 0 {
		// The window update is held up with everything else; the heal sends it again.
		p.pipe.blocked = true
		return nil
	}
	w.out.Reset()
	w.note(inSendDone, w.orchNode, 0, int32(node), 0)
	w.orch.SendDone(w.now, node, &w.out)
	return w.apply(w.orchNode)
}

// dropPipe empties p's pipe: the stream is gone and its assignments with it.
func (w *world) dropPipe(p *proc) {
	for i := p.pipe.head; i < len(p.pipe.entries); i++ {
		w.freeMsgs = append(w.freeMsgs, p.pipe.entries[i].msg)
		w.oracle.droppedInPipe++
	}
	p.pipe.entries, p.pipe.head, p.pipe.bytes = p.pipe.entries[:0], 0, 0
	p.pipe.blocked = false
	p.pipe.open = false
	p.pipe.gen++
}

// breakStream breaks worker p's stream from the driver's side (a reset, the
// orchestrator gone): the pipe is dropped, the orchestrator (if up) forgets the stream,
// and the worker learns of it after delay, as a stream error UNAVAILABLE.
func (w *world) breakStream(p *proc, delay time.Duration) error {
	if p == nil || !p.alive {
		return nil
	}
	w.dropPipe(p)
	p.pipe.reading = false
	if err := w.disconnect(p); err != nil {
		return err
	}
	w.push(w.now+delay, event{kind: evStreamBroken, node: p.node, a: uint32(model.CodeUnavailable)})
	return nil
}

// disconnect tells the assignment source, if it is up, that p's connection broke.
func (w *world) disconnect(p *proc) error {
	if w.nodes[w.sourceNode].down {
		return nil
	}
	w.out.Reset()
	w.note(inDisconnect, w.sourceNode, 0, int32(p.node), 0)
	w.source.Disconnect(w.now, p.node, &w.out)
	return w.apply(w.sourceNode)
}

// streamOpened tells a worker its stream gen opened (the server's response headers
// arrived), unless that stream broke meanwhile.
func (w *world) streamOpened(node model.NodeID, gen uint32) error {
	p := w.proc(node)
	if p == nil || !p.alive || gen != p.pipe.gen || !p.pipe.open {
		return nil
	}
	if w.partitionedSlots > 0 && p.slot.partitioned > 0 {
		// Held by a blackhole with everything else.
		w.push(p.slot.healAt+w.linkDelay(p.slot), event{kind: evStreamOpened, node: node, a: gen})
		return nil
	}
	if w.procPaused(p, event{kind: evStreamOpened, node: node, a: gen}) {
		return nil
	}
	w.out.Reset()
	w.note(inStreamOpened, node, 0, 0, 0)
	p.w.StreamOpened(w.now, &w.out)
	return w.apply(node)
}

// streamBroken tells a worker its stream failed.
func (w *world) streamBroken(node model.NodeID, code model.Code) error {
	p := w.proc(node)
	if p == nil || !p.alive {
		return nil
	}
	if w.procPaused(p, event{kind: evStreamBroken, node: node, a: uint32(code)}) {
		return nil
	}
	p.pipe.reading = false
	w.out.Reset()
	w.note(inStreamBroken, node, uint32(code), 0, 0)
	p.w.StreamBroken(w.now, code, &w.out)
	return w.apply(node)
}

// healPipe resumes p's stream after a blackhole partition: what was held up arrives.
func (w *world) healPipe(p *proc) {
	if p == nil || !p.alive || !p.pipe.open {
		return
	}
	d := w.linkDelay(p.slot)
	w.push(w.now+d, event{kind: evPipeArrive, node: p.node, a: p.pipe.gen})
	if p.pipe.blocked && p.pipe.bytes < w.cfg.Queue.PipeBytes {
		p.pipe.blocked = false
		w.push(w.now+d, event{kind: evSendDone, node: p.node, a: p.pipe.gen})
	}
}
