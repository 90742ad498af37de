package sim

import (
	"hash/maphash"
	"math/rand/v2"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/eventq"
	"github.com/tasksim/tasksim/sim/rng"
)

// Recording is everything of a run's necessary work that a replay needs to do that work
// again without the kernel (Options.Record): the queue operations, every input each
// participant received, every random draw, and every message the wire coded. Each entry
// keeps its place in the queue's operation stream, so one replay can interleave them all
// as the run did (Floor.Replay of FloorNecessary). Recording costs time and memory (about
// 300 bytes per event); a run without it pays a nil check per hook.
type Recording struct {
	// Digests: also record a digest of every input's effects, of every stream's draws
	// and of every encoding, for the test that checks a replay does the run's exact work.
	Digests bool

	Queue eventq.Log

	cfg *Config

	inputs []input
	msgs   []model.Message
	specs  []model.StepSpec
	// effects is, by input, the digest of the effects it produced (Digests only).
	effects []uint64
	pending bool // the last input's effects are not digested yet
	seed    maphash.Seed

	draws    []draw
	samplers []Sampler
	// pcgs are the run's streams, by streamID: their state once the run is over is what a
	// replay of the draws must reach. drawSums digest the values drawn (Digests only).
	pcgs     [numStreams]*rand.PCG
	drawSums [numStreams]uint64

	codec []codecOp
	// wire holds the bytes of every decoded message, back to back.
	wire []byte
	// encoded digests the bytes of every encode (Digests only).
	encoded uint64
}

// inputKind is which participant method the kernel called.
type inputKind uint8

const (
	inCreate       inputKind = iota + 1 // a worker process is built (a: pool)
	inStart                             // Start
	inReceive                           // Receive (a: message)
	inFire                              // Fire (timer)
	inDone                              // Worker.ComponentDone (a: exec, b: output bytes)
	inRaised                            // Worker.ComponentRaised (a: exec, b: error kind)
	inSubmit                            // Orchestrator.Submit (a: spec)
	inSendDone                          // Orchestrator.SendDone (b: worker)
	inDisconnect                        // AssignmentSource.Disconnect (b: worker)
	inStreamOpened                      // Worker.StreamOpened
	inStreamBroken                      // Worker.StreamBroken (a: code)
	inTerminate                         // Worker.Terminate
	inCrash                             // Restarter.Crash
	inRestart                           // Restarter.Restart
)

// input is one call of a participant, at the instant the kernel made it.
type input struct {
	q     uint32 // queue operations done before it
	kind  inputKind
	node  model.NodeID
	a     uint32
	b     int32
	at    time.Duration
	timer model.TimerID
}

// streamID names the kernel's random streams.
type streamID uint8

const (
	streamArrivals streamID = iota
	streamService
	streamNetwork
	streamFaults
	streamStart
	streamHeaders
	numStreams
)

var streamNames = [numStreams]string{"arrivals", "service", "network", "faults", "start", "headers"}

// drawOp is what a draw was.
type drawOp uint8

const (
	drawSample  drawOp = iota + 1 // Sampler.Sample (arg: index in samplers)
	drawFloat64                   // Float64
	drawIntN                      // IntN (arg: n)
)

type draw struct {
	q      uint32
	arg    uint32
	stream streamID
	op     drawOp
}

// codecOp is one encode (at a send) or decode (the wire check at a delivery).
type codecOp struct {
	q      uint32
	decode bool
	msg    uint32 // index in msgs: the message encoded, or the one the bytes were encoded from
	off    uint32 // decode: its bytes in wire
	n      uint32
}

// stream is one of the kernel's seeded random streams: every draw goes through it, so
// that a recording sees each one.
type stream struct {
	r   *rand.Rand
	rec *Recording
	id  streamID
}

func newStream(seed uint64, id streamID, rec *Recording) *stream {
	pcg := rand.NewPCG(rng.Seeds(seed, streamNames[id]))
	if rec != nil {
		rec.pcgs[id] = pcg
	}
	return &stream{r: rand.New(pcg), rec: rec, id: id}
}

func (s *stream) Float64() float64 {
	if s.rec != nil {
		return s.recordFloat64()
	}
	return s.r.Float64()
}

func (s *stream) IntN(n int) int {
	if s.rec != nil {
		return s.recordIntN(n)
	}
	return s.r.IntN(n)
}

// sample draws one duration from d.
func (s *stream) sample(d Sampler) time.Duration {
	if s.rec != nil {
		return s.recordSample(d)
	}
	return d.Sample(s.r)
}

//go:noinline
func (s *stream) recordFloat64() float64 {
	v := s.r.Float64()
	s.rec.draw(s.id, drawFloat64, 0, uint64(v*(1<<53)))
	return v
}

//go:noinline
func (s *stream) recordIntN(n int) int {
	v := s.r.IntN(n)
	s.rec.draw(s.id, drawIntN, uint32(n), uint64(v))
	return v
}

//go:noinline
func (s *stream) recordSample(d Sampler) time.Duration {
	v := d.Sample(s.r)
	s.rec.draw(s.id, drawSample, s.rec.samplerIndex(d), uint64(v))
	return v
}

func (r *Recording) q() uint32 { return uint32(len(r.Queue.Ops)) }

//go:noinline
func (r *Recording) draw(id streamID, op drawOp, arg uint32, v uint64) {
	r.draws = append(r.draws, draw{q: r.q(), arg: arg, stream: id, op: op})
	if r.Digests {
		r.drawSums[id] = mix(r.drawSums[id], v)
	}
}

func (r *Recording) samplerIndex(d Sampler) uint32 {
	for i, s := range r.samplers {
		if s == d {
			return uint32(i)
		}
	}
	r.samplers = append(r.samplers, d)
	return uint32(len(r.samplers) - 1)
}

// mix folds v into a running digest (order-sensitive).
func mix(h, v uint64) uint64 { return (h^v)*0x100000001b3 + 0x9e3779b97f4a7c15 }

// start begins recording a run of cfg.
func (r *Recording) start(cfg *Config, q *eventq.Queue[event]) {
	r.cfg = cfg
	r.seed = maphash.MakeSeed()
	q.Record(&r.Queue)
}

// in records an input the kernel is about to give node at now. Every input but a crash
// is followed by the kernel's apply of its effects, which digests them (applied).
//
//go:noinline
func (r *Recording) in(now time.Duration, kind inputKind, node model.NodeID, a uint32, b int32, timer model.TimerID) {
	r.inputs = append(r.inputs, input{q: r.q(), kind: kind, node: node, a: a, b: b, at: now, timer: timer})
	if r.Digests {
		if r.pending {
			r.effects = append(r.effects, 0) // the previous input asked for nothing to be applied
		}
		r.pending = kind != inCrash && kind != inCreate
		if !r.pending {
			r.effects = append(r.effects, 0)
		}
	}
}

//go:noinline
func (r *Recording) receive(now time.Duration, node model.NodeID, m *model.Message) {
	r.in(now, inReceive, node, r.message(m), 0, 0)
}

// message keeps m and returns its index; a message delivered right after its wire check
// is kept once.
func (r *Recording) message(m *model.Message) uint32 {
	if n := len(r.msgs); n > 0 && r.msgs[n-1] == *m {
		return uint32(n - 1)
	}
	r.msgs = append(r.msgs, *m)
	return uint32(len(r.msgs) - 1)
}

//go:noinline
func (r *Recording) submit(now time.Duration, node model.NodeID, s model.StepSpec) {
	r.specs = append(r.specs, s)
	r.in(now, inSubmit, node, uint32(len(r.specs)-1), 0, 0)
}

// applied digests the effects of the last input, when the kernel applies them.
//
//go:noinline
func (r *Recording) applied(out *model.Effects) {
	if r.Digests && r.pending {
		r.effects = append(r.effects, effectsDigest(r.seed, out))
		r.pending = false
	}
}

// encode records the encoding of m into data.
//
//go:noinline
func (r *Recording) encode(m *model.Message, data []byte) {
	r.codec = append(r.codec, codecOp{q: r.q(), msg: r.message(m)})
	if r.Digests {
		r.encoded = mix(r.encoded, maphash.Bytes(r.seed, data))
	}
}

// decode records the wire check's decoding of data, encoded from m.
//
//go:noinline
func (r *Recording) decode(m *model.Message, data []byte) {
	r.codec = append(r.codec, codecOp{q: r.q(), decode: true, msg: r.message(m),
		off: uint32(len(r.wire)), n: uint32(len(data))})
	r.wire = append(r.wire, data...)
}

// effectsDigest digests everything a participant asked for in out.
func effectsDigest(seed maphash.Seed, out *model.Effects) uint64 {
	h := uint64(len(out.Send))<<48 | uint64(len(out.Timers))<<32 | uint64(len(out.Runs))<<16 | uint64(len(out.Events))
	if out.Recv {
		h ^= 1 << 62
	}
	if out.CloseStream {
		h ^= 1 << 63
	}
	for i := range out.Send {
		h = mix(h, maphash.Comparable(seed, out.Send[i]))
	}
	for i := range out.Timers {
		h = mix(h, maphash.Comparable(seed, out.Timers[i]))
	}
	for i := range out.Runs {
		h = mix(h, maphash.Comparable(seed, out.Runs[i]))
	}
	for i := range out.Events {
		h = mix(h, maphash.Comparable(seed, out.Events[i]))
	}
	return h
}

// The kernel's hooks: each inlines to a nil check unless the run records (the Recording
// methods they call are kept out of line for that). Every call the kernel makes of a
// participant goes through note (or noteReceive, noteSubmit) just before it, and every
// random draw through a stream: a call or draw without one makes the replayed
// participants or streams part from the run's, which TestFloorReplaysTheRunsWork reports.

func (w *world) note(kind inputKind, node model.NodeID, a uint32, b int32, t model.TimerID) {
	if w.rec != nil {
		w.rec.in(w.now, kind, node, a, b, t)
	}
}

func (w *world) noteReceive(node model.NodeID, m *model.Message) {
	if w.rec != nil {
		w.rec.receive(w.now, node, m)
	}
}

func (w *world) noteSubmit(s model.StepSpec) {
	if w.rec != nil {
		w.rec.submit(w.now, w.orchNode, s)
	}
}

func (w *world) noteApplied() {
	if w.rec != nil {
		w.rec.applied(&w.out)
	}
}

func (w *world) noteEncode(m *model.Message, data []byte) {
	if w.rec != nil {
		w.rec.encode(m, data)
	}
}

func (w *world) noteDecode(m *model.Message, data []byte) {
	if w.rec != nil {
		w.rec.decode(m, data)
	}
}
