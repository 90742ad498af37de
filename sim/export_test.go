package sim

import (
	"time"

	"github.com/tasksim/tasksim/model"
)

// QueueStateAfter runs cfg and reports what its jetstream queue still tracks at the end:
// delivery numbers remembered and messages held (tests of the queue's memory).
func QueueStateAfter(cfg *Config) (deliveries, messages int, err error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return 0, 0, err
	}
	if err := w.loop(); err != nil {
		return 0, 0, err
	}
	return w.queue.TrackedDeliveries(), w.queue.HeldMessages(), nil
}

// OrchestratorInputs runs cfg with the orchestrator's node recording every message the
// kernel hands it, and returns them with the run's result (tests that receivers never
// see ground truth).
func OrchestratorInputs(cfg *Config) ([]model.Message, *Result, error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return nil, nil, err
	}
	rec := &recordingOrchestrator{Orchestrator: w.orch}
	w.nodes[w.orchNode].part = rec
	if err := w.loop(); err != nil {
		return nil, nil, err
	}
	res, err := w.finish()
	return rec.got, res, err
}

type recordingOrchestrator struct {
	*model.Orchestrator
	got []model.Message
}

func (r *recordingOrchestrator) Receive(now time.Duration, m model.Message, out *model.Effects) {
	r.got = append(r.got, m)
	r.Orchestrator.Receive(now, m, out)
}

var inputKindNames = map[inputKind]string{inCreate: "create", inStart: "start", inReceive: "receive",
	inFire: "fire", inDone: "done", inRaised: "raised", inSubmit: "submit", inSendDone: "send_done",
	inDisconnect: "disconnect", inStreamOpened: "stream_opened", inStreamBroken: "stream_broken",
	inTerminate: "terminate", inCrash: "crash", inRestart: "restart"}

// RecordedInputs counts a recording's participant inputs by kind.
func RecordedInputs(r *Recording) map[string]int {
	n := map[string]int{}
	for _, in := range r.inputs {
		n[inputKindNames[in.kind]]++
	}
	return n
}

// RecordedDraws counts a recording's draws by stream.
func RecordedDraws(r *Recording) map[string]int {
	n := map[string]int{}
	for _, d := range r.draws {
		n[streamNames[d.stream]]++
	}
	return n
}

// TamperAssignment changes the task of the k-th assignment a worker received, as if
// the run had delivered another one.
func TamperAssignment(r *Recording, k int) {
	for _, in := range r.inputs {
		if in.kind == inReceive && r.msgs[in.a].Type == model.MsgAssignment {
			if k == 0 {
				r.msgs[in.a].Task++
				return
			}
			k--
		}
	}
}

// TamperDraw makes the k-th draw of the recording a Float64 where the run drew otherwise,
// or the reverse.
func TamperDraw(r *Recording, k int) {
	if r.draws[k].op == drawFloat64 {
		r.draws[k].op, r.draws[k].arg = drawIntN, 7
		return
	}
	r.draws[k].op = drawFloat64
}

// TamperDecode flips a byte of the k-th decoded message's bytes.
func TamperDecode(r *Recording, k int) {
	for _, op := range r.codec {
		if op.decode {
			if k == 0 {
				r.wire[op.off+op.n-1] ^= 0x01
				return
			}
			k--
		}
	}
}

// RunWireOnly runs cfg handing every receiver only what a socket tells it (wireView).
func RunWireOnly(cfg *Config) (*Result, error) {
	w, err := newWorld(cfg, Options{})
	if err != nil {
		return nil, err
	}
	w.wireOnly = true
	if err := w.loop(); err != nil {
		return nil, err
	}
	return w.finish()
}
