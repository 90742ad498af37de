package sim

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/model/wiremap"
	"github.com/tasksim/tasksim/sim/eventq"
	"github.com/tasksim/tasksim/sim/rng"
)

// The floor: the work a run cannot do without, replayed from a Recording (Options.Record)
// on fresh state, so that BenchmarkFloor measures it beside the whole run rather than
// assuming it. Its parts:
//
//   - queue: the run's exact pushes, pops, resets and cancels on a bare event queue;
//   - model: every input each participant received, in order and at its instant, given to
//     participants built fresh by the kernel's own constructors (they are pure state
//     machines, so they do the run's exact work: VerifyFloor checks their effects);
//   - sampling: every random draw (its stream, distribution and order) on fresh streams;
//   - codec: with network.wire on, every encode at a send and every decode at a delivery,
//     through the kernel's own wire bridge (the same payload-bytes reuse).
//
// What the floor leaves out is the kernel's glue: routing events to nodes and messages
// through the network model (pipes, connections, partitions), the timer tables, carrying
// effects out, the oracle, the trace hash and the wire check's compare. That is the
// overhead the ratio tasksim/necessary measures. A replay does one thing the run does
// not: it reads its recording (about 285 bytes per event of scale, in order), so the
// floor it measures is if anything a little high.

// FloorPart selects parts of the floor to replay.
type FloorPart uint8

const (
	FloorQueue FloorPart = 1 << iota
	FloorModel
	FloorSampling
	FloorCodec
	// FloorNecessary is all of it, interleaved as the run did it.
	FloorNecessary = FloorQueue | FloorModel | FloorSampling | FloorCodec
)

// FloorCounts is how much work a replay did (or a recording holds).
type FloorCounts struct {
	Pops, Inputs, Draws, Encodes, Decodes int
}

// Counts is the work the recorded run did.
func (r *Recording) Counts() FloorCounts {
	var c FloorCounts
	for _, op := range r.Queue.Ops {
		if op.Kind == eventq.OpPop {
			c.Pops++
		}
	}
	c.Inputs, c.Draws = len(r.inputs), len(r.draws)
	for _, op := range r.codec {
		if op.decode {
			c.Decodes++
		} else {
			c.Encodes++
		}
	}
	return c
}

// ReplayQueue replays a run's recorded queue operations (Options.QueueLog) on a bare
// queue of the kernel's own event type, and returns how many events it popped: the
// floor of the kernel's queue work, which BenchmarkFloor measures beside the whole run.
// handles is scratch space with room for every push of the log.
func ReplayQueue(ops []eventq.Op, handles []eventq.Handle) int {
	return eventq.Replay(eventq.New[event](1024), ops, handles)
}

// Floor replays a Recording. Each Replay starts from fresh state; the queue's handle
// table is kept between replays, so that a benchmark's loop allocates only what a run
// would.
type Floor struct {
	rec     *Recording
	handles []eventq.Handle
	// check: compare each step with the run's as it goes (VerifyFloor).
	check bool
	err   error

	q        *eventq.Queue[event]
	parts    []model.Participant
	workers  []*model.Worker
	orch     *model.Orchestrator
	source   model.AssignmentSource
	orchNode model.NodeID
	srcNode  model.NodeID
	out      model.Effects

	streams  [numStreams]*rand.Rand
	pcgs     [numStreams]*rand.PCG
	drawSums [numStreams]uint64
	// sink keeps the samples and coded bytes live.
	sink int64

	bridge  *wireBridge
	encoded uint64

	counts FloorCounts
}

// NewFloor prepares replays of rec, a finished run's recording.
func NewFloor(rec *Recording) *Floor {
	return &Floor{rec: rec, handles: make([]eventq.Handle, rec.Queue.Pushes())}
}

// Replay does the parts of the recorded work on fresh state and says how much it did.
func (f *Floor) Replay(parts FloorPart) (FloorCounts, error) {
	f.reset(parts)
	rec := f.rec
	ops := rec.Queue.Ops
	ins, draws, codec := rec.inputs, rec.draws, rec.codec
	if parts&FloorModel == 0 {
		ins = nil
	}
	if parts&FloorSampling == 0 {
		draws = nil
	}
	if parts&FloorCodec == 0 {
		codec = nil
	}
	switch parts {
	case FloorQueue:
		for j := range ops {
			f.queueOp(&ops[j])
		}
	case FloorModel:
		for i := range ins {
			f.input(i)
		}
	case FloorSampling:
		for i := range draws {
			f.draw(&draws[i])
		}
	case FloorCodec:
		for i := range codec {
			f.code(&codec[i])
		}
	default:
		// Interleaved as the run did it: before queue operation j, what the run did
		// after operation j-1.
		mi, di, ci := 0, 0, 0
		for j := 0; j <= len(ops); j++ {
			q := uint32(j)
			for ; mi < len(ins) && ins[mi].q == q; mi++ {
				f.input(mi)
			}
			for ; di < len(draws) && draws[di].q == q; di++ {
				f.draw(&draws[di])
			}
			for ; ci < len(codec) && codec[ci].q == q; ci++ {
				f.code(&codec[ci])
			}
			if j < len(ops) && parts&FloorQueue != 0 {
				f.queueOp(&ops[j])
			}
		}
	}
	return f.counts, f.err
}

func (f *Floor) reset(parts FloorPart) {
	cfg := f.rec.cfg
	f.err, f.counts, f.sink, f.encoded = nil, FloorCounts{}, 0, 0
	if parts&FloorQueue != 0 {
		f.q = eventq.New[event](1024)
	}
	if parts&FloorModel != 0 {
		// The kernel's node table: the orchestrator, the JetStream queue if any, then
		// the workers as they start.
		f.parts, f.workers = f.parts[:0], f.workers[:0]
		f.orchNode, f.srcNode = 0, 0
		var queue *model.JetStreamQueue
		if cfg.Queue.Kind == QueueJetStream {
			f.srcNode = 1
			queue = model.NewJetStreamQueue(f.srcNode, cfg.Queue.AckWait)
		}
		f.orch = model.NewOrchestrator(orchestratorConfig(cfg, f.orchNode, f.srcNode))
		f.parts = append(f.parts, f.orch)
		f.workers = append(f.workers, nil)
		f.source = f.orch
		if queue != nil {
			f.parts = append(f.parts, queue)
			f.workers = append(f.workers, nil)
			f.source = queue
		}
	}
	if parts&FloorSampling != 0 {
		for id := range f.streams {
			f.pcgs[id] = rand.NewPCG(rng.Seeds(cfg.Seed, streamNames[id]))
			f.streams[id] = rand.New(f.pcgs[id])
		}
		f.drawSums = [numStreams]uint64{}
	}
	if parts&FloorCodec != 0 {
		f.bridge = newWireBridge(cfg, wire.NewCodec())
	}
}

func (f *Floor) fail(format string, args ...any) {
	if f.err == nil {
		f.err = fmt.Errorf(format, args...)
	}
}

func (f *Floor) queueOp(op *eventq.Op) {
	switch op.Kind {
	case eventq.OpPush:
		f.handles[op.Push] = f.q.Push(op.At, event{})
	case eventq.OpPushAfter:
		f.handles[op.Push] = f.q.PushAfter(op.At, op.Delay, event{})
	case eventq.OpPop:
		at, _, ok := f.q.Pop()
		if f.check && (!ok || at != op.At) {
			f.fail("pop %d: the replay popped %d (ok %v), the run %d", f.counts.Pops, at, ok, op.At)
		}
		f.counts.Pops++
	case eventq.OpReset:
		f.q.Reset(f.handles[op.Push], op.At)
	case eventq.OpCancel:
		f.q.Cancel(f.handles[op.Push])
	}
}

func (f *Floor) input(i int) {
	in := &f.rec.inputs[i]
	out := &f.out
	out.Reset()
	switch in.kind {
	case inCreate:
		wk := model.NewWorker(WorkerModelConfig(f.rec.cfg, int32(in.a), in.node, f.orchNode, f.srcNode))
		for int(in.node) >= len(f.parts) {
			f.parts = append(f.parts, nil)
			f.workers = append(f.workers, nil)
		}
		f.parts[in.node], f.workers[in.node] = wk, wk
	case inStart:
		f.parts[in.node].Start(in.at, out)
	case inReceive:
		model.Deliver(f.parts[in.node], in.at, f.rec.msgs[in.a], out)
	case inFire:
		f.parts[in.node].Fire(in.at, in.timer, out)
	case inDone:
		f.workers[in.node].ComponentDone(in.at, in.a, false, in.b, out)
	case inRaised:
		f.workers[in.node].ComponentRaised(in.at, in.a, model.ComponentError(in.b), out)
	case inSubmit:
		f.orch.Submit(in.at, f.rec.specs[in.a], out)
	case inSendDone:
		f.orch.SendDone(in.at, model.NodeID(in.b), out)
	case inDisconnect:
		f.source.Disconnect(in.at, model.NodeID(in.b), out)
	case inStreamOpened:
		f.workers[in.node].StreamOpened(in.at, out)
	case inStreamBroken:
		f.workers[in.node].StreamBroken(in.at, model.Code(in.a), out)
	case inTerminate:
		f.workers[in.node].Terminate(in.at, out)
	case inCrash:
		f.parts[in.node].(model.Restarter).Crash()
	case inRestart:
		f.parts[in.node].(model.Restarter).Restart(in.at, out)
	}
	f.counts.Inputs++
	if f.check {
		var got uint64
		if in.kind != inCrash && in.kind != inCreate {
			got = effectsDigest(f.rec.seed, out)
		}
		if want := f.rec.effects[i]; got != want {
			f.fail("input %d (kind %d, node %d, at %v): the replayed participant's effects differ from the run's (%d sends, %d timers, %d runs, %d events)",
				i, in.kind, in.node, in.at, len(out.Send), len(out.Timers), len(out.Runs), len(out.Events))
		}
	}
}

func (f *Floor) draw(d *draw) {
	s := f.streams[d.stream]
	var v uint64
	switch d.op {
	case drawSample:
		x := f.rec.samplers[d.arg].Sample(s)
		f.sink += int64(x)
		v = uint64(x)
	case drawFloat64:
		x := s.Float64()
		v = uint64(x * (1 << 53))
		f.sink += int64(v)
	case drawIntN:
		x := s.IntN(int(d.arg))
		f.sink += int64(x)
		v = uint64(x)
	}
	f.counts.Draws++
	if f.check {
		f.drawSums[d.stream] = mix(f.drawSums[d.stream], v)
	}
}

func (f *Floor) code(op *codecOp) {
	m := &f.rec.msgs[op.msg]
	if !op.decode {
		data, err := f.bridge.encode(m)
		if err != nil {
			f.fail("encode %v: %v", m.Type, err)
			return
		}
		f.sink += int64(len(data))
		f.counts.Encodes++
		if f.check {
			f.encoded = mix(f.encoded, maphash.Bytes(f.rec.seed, data))
		}
		return
	}
	got, err := f.bridge.decode(m.Type, f.rec.wire[op.off:op.off+op.n])
	if err != nil {
		f.fail("decode %v: %v", m.Type, err)
		return
	}
	f.sink += int64(got.Task)
	f.counts.Decodes++
	if f.check && wiremap.Wire(got) != wiremap.Wire(*m) {
		f.fail("decode %d of %v: the replay decoded %+v, the run delivered %+v", f.counts.Decodes, m.Type, wiremap.Wire(got), wiremap.Wire(*m))
	}
}

// VerifyFloor replays all of rec (recorded with Digests) with every check on, and
// reports the first way the replay's work differs from the run's: a popped instant, a
// participant's effects, a stream's draws or final state, an encoding or a decoding.
func VerifyFloor(rec *Recording) (FloorCounts, error) {
	if !rec.Digests {
		return FloorCounts{}, fmt.Errorf("the recording has no digests to compare")
	}
	for len(rec.effects) < len(rec.inputs) {
		rec.effects = append(rec.effects, 0) // an input whose effects the kernel never applied
	}
	f := NewFloor(rec)
	f.check = true
	got, err := f.Replay(FloorNecessary)
	if err != nil {
		return got, err
	}
	if want := rec.Counts(); got != want {
		return got, fmt.Errorf("the replay did %+v, the run %+v", got, want)
	}
	for id := range f.pcgs {
		if f.drawSums[id] != rec.drawSums[id] {
			return got, fmt.Errorf("stream %s: the replay drew other values than the run", streamNames[id])
		}
		if *f.pcgs[id] != *rec.pcgs[id] {
			return got, fmt.Errorf("stream %s: the replay left it elsewhere than the run did", streamNames[id])
		}
	}
	if f.encoded != rec.encoded {
		return got, fmt.Errorf("the replay's encodings differ from the run's")
	}
	return got, nil
}
