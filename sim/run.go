package sim

import (
	"fmt"
	"io"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/sim/eventq"
	"github.com/tasksim/tasksim/sim/latency"
	"github.com/tasksim/tasksim/sim/trace"
)

// Options are the caller's hooks into a run. None of them changes what the run does.
type Options struct {
	// Trace, if set, receives trace.jsonl: one JSON object per event.
	Trace io.Writer
	// Progress, if set, is called every ProgressEvery events with the virtual time, the
	// steps settled and the steps submitted so far.
	Progress      func(virtual time.Duration, settled, submitted int64)
	ProgressEvery int64
	// Clock, if set, is a monotonic wall clock used only to time a sample of codec calls
	// for summary.perf. The simulation never reads it otherwise.
	Clock func() time.Duration
	// QueueLog, if set, records every operation on the event queue, for a benchmark that
	// replays them on a bare queue (ReplayQueue).
	QueueLog *eventq.Log
	// Record, if set, records the run's necessary work (queue operations, participant
	// inputs, random draws, wire coding) for the floor's replays (Floor). It takes a
	// fresh Recording, and the queue's log: QueueLog is left empty beside it.
	Record *Recording
}

// Result is everything a run produced: the summary and the data behind the plots.
type Result struct {
	Summary  Summary
	Timeline Timeline
	// Latencies for histograms and CDFs (virtual time).
	DetectionSinceLastHeartbeat *latency.Recorder
	DetectionSinceCrash         *latency.Recorder
	EndToEnd                    *latency.Recorder
	QueueWait                   *latency.Recorder
	Execution                   *latency.Recorder
	// Breakdown splits detections by cause and end-to-end latency by component and pool.
	Breakdown Breakdown
	// DoubleExecutionCauses splits summary.double_executions by what explains each.
	DoubleExecutionCauses [NumDoubleCauses]int64
	// Gauges and counters that metrics need beyond the summary.
	Metrics RunMetrics
}

// evKind is what an event in the kernel's queue does.
type evKind uint8

const (
	evDeliver evKind = iota + 1
	evTimer
	evExecDone
	evArrival
	evWorkerStart
	evFaultStart
	evFaultEnd
	evOrchestratorUp
	evStreamBroken // a worker learns its stream failed (a: the Code)
	evPipeArrive   // an assignment may have reached the head of a worker's pipe (a: pipe gen)
	evSendDone     // a send on a worker's stream completed (a: pipe gen)
	evTCPGiveUp    // TCP gives up on the connections a long blackhole holds (a: fault index)
	evStreamOpened // a worker's stream's response headers arrive (a: pipe gen)
)

// event is a value in the queue: small, so that a queue slot stays one cache line.
type event struct {
	kind evKind
	// raised marks a component execution that ends in an error: 1 + the
	// model.ComponentError it raised (0: it succeeds).
	raised uint8
	comp   int32 // component of an execution
	node   model.NodeID
	// a is the message slot, exec number, stream, fault or worker slot index; for a
	// timer, the incarnation of the process that armed it (timerTable). Sharing the
	// field keeps the event at 24 bytes, so a queue slot is one 64-byte cache line.
	a     uint32
	timer model.TimerID
}

// inflight is a message on the network: a slot of world.msgs, three cache lines. What a
// delivery reads first (epoch, the message) and the bytes of a short encoding (heartbeats,
// answers, PullTasks) lie together, so a delivery touches the slot's lines only, not a
// separate buffer as well; a longer encoding (assignments, completions) goes to the
// slot's buffer in world.msgWire.
type inflight struct {
	// epoch is the connection it was sent on (worker <-> orchestrator messages).
	epoch uint32
	// n is the length of its encoding (0: none).
	n uint32
	m model.Message
	// local: an outcome the worker's own gRPC library reports (a broken connection's
	// UNAVAILABLE); it never crossed the network, so no partition holds it.
	local bool
	short [inflightShort]byte
}

// inflightShort is the room for an encoding inside an inflight: what makes the slot 192
// bytes.
const inflightShort = 192 - 8 - 8*10 - 1

// wireOf returns the encoding of the message in slot.
func (w *world) wireOf(slot uint32) []byte {
	f := &w.msgs[slot]
	if f.n <= inflightShort {
		return f.short[:f.n]
	}
	return w.msgWire[slot][:f.n]
}

// world is one run's whole state. It is single-threaded and deterministic.
type world struct {
	cfg  *Config
	opts Options
	now  time.Duration
	q    *eventq.Queue[event]

	// nodes is the node table, indexed by NodeID: node 0 the orchestrator, node 1 the
	// JetStream queue when there is one, then every worker process in start order.
	// Delivering a message or firing a timer goes through it, whoever the node is.
	nodes []nodeEntry
	// orch is node orchNode's participant, for what only it does (submissions, SendDone).
	orch     *model.Orchestrator
	orchNode model.NodeID
	// source is where workers' assignment streams come from: the orchestrator, or the
	// JetStream queue (then queue is set and sourceNode is the queue's node).
	source     model.AssignmentSource
	sourceNode model.NodeID
	queue      *model.JetStreamQueue
	// queueDownUntil is when a queue_restart fault brings the queue's server back.
	queueDownUntil time.Duration

	slots [][]*slot // per pool, per worker slot
	// procBlocks holds every worker process ever started, by NodeID - workerBase, in
	// blocks that never move (slots and fault targets point into them). A delivery, a
	// timer or an execution's end finds all the kernel keeps for its worker there, in one
	// record, without going through nodes.
	procBlocks [][]proc
	nprocs     int
	workerBase model.NodeID
	// partitionedSlots counts the slots a partition cuts off now; pausing says a pause
	// fault has started; hbLossOn and dupOn that such a fault has. Without them (most
	// runs) the hot paths skip reading the slot at all.
	partitionedSlots int
	pausing          bool
	hbLossOn, dupOn  bool

	msgs []inflight
	// msgWire[slot] holds the encoding of the message in msgs[slot] when it is longer than
	// an inflight's own room; its capacity is kept for the slot's next message.
	msgWire  [][]byte
	freeMsgs []uint32

	out model.Effects
	// wireOnly hands receivers only what a socket tells them (wireView; tests).
	wireOnly bool

	// random streams, one per purpose
	rArrivals, rService, rNetwork, rFaults, rStart *stream
	// rHeaders times the response headers of opened streams: a stream of its own, so
	// that modelling them moved no other sample.
	rHeaders     *stream
	latency      Sampler
	serviceTimes []Sampler
	// outputBytes is each component's result size: its load's payload size.
	outputBytes []int32

	streams []streamState

	bridge *wireBridge
	codec  *wire.Codec
	hash   *trace.Hasher
	tw     *trace.Writer

	// lastPush is the handle of the latest push, for re-pointing deferred events.
	lastPush eventq.Handle
	// rec records the necessary work (Options.Record); nil almost always.
	rec *Recording
	// ledger is the kernel's book of the load; oracle watches the run for its summary.
	ledger    ledger
	oracle    *oracle
	events    int64
	faultHits faultTargets
	// faultGaveUp[i]: blackhole fault i outlasted TCPGiveUp and now breaks connections.
	faultGaveUp []bool
}

// handleOf is one live timer or execution of a worker and its place in the queue. A
// worker has a handful at a time, so a slice searched linearly beats a shared map.
type handleOf struct {
	id uint64
	h  eventq.Handle
}

func findHandle(hs []handleOf, id uint64) int {
	for i := range hs {
		if hs[i].id == id {
			return i
		}
	}
	return -1
}

func dropHandle(hs []handleOf, i int) []handleOf {
	hs[i] = hs[len(hs)-1]
	return hs[:len(hs)-1]
}

// nodeEntry is one entry of the kernel's node table: the participant running there and what
// the kernel keeps for it.
type nodeEntry struct {
	part model.Participant
	// timers are the live timers of the process's current incarnation. A worker process
	// lives once; the orchestrator gets a fresh table with each restart.
	timers *timerTable
	// down: the process crashed; it takes no input until it restarts (never, for a
	// worker: a restarted worker is a new process on a new node).
	down bool
	// refuses: while down, a request to it is refused (UNAVAILABLE) rather than lost, as
	// a server restarting on its address refuses connections.
	refuses bool
	// proc is the worker process at this node; nil for the orchestrator and the queue.
	proc *proc
}

// addNode appends a node to the table and returns its id.
func (w *world) addNode(n nodeEntry) model.NodeID {
	w.nodes = append(w.nodes, n)
	return model.NodeID(len(w.nodes) - 1)
}

// proc is one worker process: everything the kernel keeps for it, in one record of five
// whole cache lines (the blocks of world.procBlocks are page-aligned), laid out by what an
// event reads: the first line has what every event of the process reads (alive, its
// connection's epoch, the counts below); the second its timers; the third its pending
// calls; the fourth its running executions; the fifth its pull stream. A heartbeat's
// timer, its send and its answer's delivery touch the first three lines, not the record's
// every line. Calls, executions and timers live in the record's own arrays (a worker has
// at most a few of each at a time) and spill to the heap only beyond them. A proc never
// moves (see world.procBlocks): slots and fault targets point at it.
type proc struct {
	w     *model.Worker
	slot  *slot
	drift float64
	// epoch names its current connection to the orchestrator; it moves on when that
	// connection breaks, so a message sent on an older one is lost with it.
	epoch uint32
	node  model.NodeID
	pool  int32
	alive bool
	// ncalls and nexecs count the entries of callBuf and execBuf; spilled: the entries
	// are in spill instead.
	ncalls, nexecs uint8
	spill          *procSpill
	// timers are the process's live timers (it lives once: one incarnation).
	timers timerTable
	// callBuf holds its RPCs to the orchestrator that have no answer yet: a connection
	// that breaks fails each of them with UNAVAILABLE.
	callBuf [2]pendingCall
	// execBuf holds (by exec number) the worker's running components' queue entries.
	execBuf [4]handleOf
	// pipe is its PullTasks stream (pull queue only).
	pipe pipe
}

// spilled in proc.ncalls or proc.nexecs: that list has outgrown the record's array and is
// in proc.spill.
const spilled = 0xff

// procSpill holds a process's calls or executions beyond the room in its record.
type procSpill struct {
	calls []pendingCall
	execs []handleOf
}

func (p *proc) spillRecord() *procSpill {
	if p.spill == nil {
		p.spill = &procSpill{}
	}
	return p.spill
}

// callList is p's pending calls; the slice is valid until the next change of them.
func (p *proc) callList() []pendingCall {
	if p.ncalls == spilled {
		return p.spill.calls
	}
	return p.callBuf[:p.ncalls]
}

func (p *proc) addCall(c pendingCall) {
	if p.ncalls < uint8(len(p.callBuf)) {
		p.callBuf[p.ncalls] = c
		p.ncalls++
		return
	}
	spillAdd(p.callBuf[:], &p.ncalls, &p.spillRecord().calls, c)
}

// setCalls makes cs, a prefix of callList(), p's pending calls; a spilled list that fits
// the record again moves back into it.
func (p *proc) setCalls(cs []pendingCall) {
	if p.ncalls != spilled {
		p.ncalls = uint8(len(cs))
		return
	}
	spillSet(p.callBuf[:], &p.ncalls, &p.spill.calls, cs)
}

// spillAdd appends v to a list of a record that its array buf (n entries, or spilled)
// cannot hold: the list moves to spill first if it is still in buf.
func spillAdd[T any](buf []T, n *uint8, spill *[]T, v T) {
	if *n != spilled {
		*spill = append((*spill)[:0], buf...)
		*n = spilled
	}
	*spill = append(*spill, v)
}

// spillSet makes list, a prefix of the spilled list in spill, the list; one that fits
// the record's array buf again moves back into it.
func spillSet[T any](buf []T, n *uint8, spill *[]T, list []T) {
	if len(list) <= len(buf) {
		copy(buf, list)
		*n = uint8(len(list))
		*spill = list[:0]
		return
	}
	*spill = list
}

// execList is p's running executions; the slice is valid until the next change of them.
func (p *proc) execList() []handleOf {
	if p.nexecs == spilled {
		return p.spill.execs
	}
	return p.execBuf[:p.nexecs]
}

func (p *proc) addExec(h handleOf) {
	if p.nexecs < uint8(len(p.execBuf)) {
		p.execBuf[p.nexecs] = h
		p.nexecs++
		return
	}
	spillAdd(p.execBuf[:], &p.nexecs, &p.spillRecord().execs, h)
}

// dropExec forgets the i-th of execList().
func (p *proc) dropExec(i int) {
	hs := dropHandle(p.execList(), i)
	if p.nexecs != spilled {
		p.nexecs = uint8(len(hs))
		return
	}
	spillSet(p.execBuf[:], &p.nexecs, &p.spill.execs, hs)
}

// clearExecs forgets every execution.
func (p *proc) clearExecs() {
	p.nexecs = 0
	if p.spill != nil {
		p.spill.execs = nil
	}
}

// procBlockBits sizes the blocks of world.procBlocks.
const procBlockBits = 10

// newProc returns a fresh record for the worker process at the next node.
func (w *world) newProc() *proc {
	i := w.nprocs
	if i>>procBlockBits == len(w.procBlocks) {
		w.procBlocks = append(w.procBlocks, make([]proc, 1<<procBlockBits))
	}
	w.nprocs++
	return &w.procBlocks[i>>procBlockBits][i&(1<<procBlockBits-1)]
}

// slot is one worker position in a pool; a crashed worker restarts in its slot as a new
// process. Faults target slots.
type slot struct {
	pool        int32
	index       int
	current     *proc
	partitioned int
	// resets counts the partitions cutting it that break connections (mode reset, or a
	// blackhole TCP has given up on); with none, a partition is a blackhole.
	resets int
	// healAt is when the slot's partitions end (the latest window's end).
	healAt      time.Duration
	pausedUntil time.Duration
	hbLoss      float64
	dupRate     float64
}

type streamState struct {
	cfg       *LoadConfig
	component int32
	sent      int
	run       model.RunID // the run the stream's current steps join
	interval  Sampler
}

// Run simulates cfg and returns its result. It is deterministic: the same Config gives the
// same Summary (perf aside) and trace hash, on any machine.
func Run(cfg *Config, opts Options) (*Result, error) {
	w, err := newWorld(cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := w.loop(); err != nil {
		return nil, err
	}
	return w.finish()
}

func newWorld(cfg *Config, opts Options) (*world, error) {
	if len(cfg.Workers) == 0 {
		return nil, fmt.Errorf("scenario %s has no worker pools", cfg.Name)
	}
	if cfg.Queue.PipeBytes <= 0 || cfg.Network.LossModel == "" || cfg.Network.RetransmitAfter <= 0 {
		// A Config built by hand (tests, tools) gets the reference pipe and loss model.
		c := *cfg
		if c.Queue.PipeBytes <= 0 {
			c.Queue.PipeBytes = DefaultPipeBytes
		}
		if c.Network.LossModel == "" {
			c.Network.LossModel = LossRetransmit
		}
		if c.Network.RetransmitAfter <= 0 {
			c.Network.RetransmitAfter = DefaultRetransmitAfter
		}
		cfg = &c
	}
	w := &world{
		cfg:   cfg,
		opts:  opts,
		q:     eventq.New[event](1024),
		codec: wire.NewCodec(),
		hash:  trace.NewHasher(),
	}
	if opts.Clock != nil {
		w.codec.SetClock(opts.Clock, CodecTimedEvery)
	}
	if opts.QueueLog != nil {
		w.q.Record(opts.QueueLog)
	}
	if opts.Record != nil {
		w.rec = opts.Record
		w.rec.start(cfg, w.q)
	}
	w.bridge = newWireBridge(cfg, w.codec)
	if opts.Trace != nil {
		w.tw = trace.NewWriter(opts.Trace)
	}
	seed := cfg.Seed
	w.rArrivals = newStream(seed, streamArrivals, w.rec)
	w.rService = newStream(seed, streamService, w.rec)
	w.rNetwork = newStream(seed, streamNetwork, w.rec)
	w.rFaults = newStream(seed, streamFaults, w.rec)
	w.rStart = newStream(seed, streamStart, w.rec)
	w.rHeaders = newStream(seed, streamHeaders, w.rec)
	w.latency = NewSampler(cfg.Network.Latency)
	for _, c := range cfg.Components {
		w.serviceTimes = append(w.serviceTimes, NewSampler(c.Duration))
		out := int32(0)
		for _, l := range cfg.Load {
			if l.Component == c.Path {
				out = int32(l.PayloadBytes)
				break
			}
		}
		w.outputBytes = append(w.outputBytes, out)
	}
	w.oracle = newOracle(cfg)

	// Node 0 is the orchestrator; node 1 the jetstream queue when there is one; workers after.
	w.orchNode = w.addNode(nodeEntry{timers: newTimerTable(0, true), refuses: true})
	w.sourceNode = w.orchNode
	if cfg.Queue.Kind == QueueJetStream {
		w.sourceNode = 1
		w.queue = model.NewJetStreamQueue(w.sourceNode, cfg.Queue.AckWait)
		w.source = w.queue
		w.addNode(nodeEntry{part: w.queue, timers: newTimerTable(0, true)})
	}
	w.orch = model.NewOrchestrator(orchestratorConfig(cfg, w.orchNode, w.sourceNode))
	w.nodes[w.orchNode].part = w.orch
	if w.source == nil {
		w.source = w.orch
	}
	for id := range w.nodes {
		w.out.Reset()
		w.note(inStart, model.NodeID(id), 0, 0, 0)
		w.nodes[id].part.Start(0, &w.out)
		if err := w.apply(model.NodeID(id)); err != nil {
			return nil, err
		}
	}

	w.workerBase = model.NodeID(len(w.nodes))
	for pi, p := range cfg.Workers {
		var slots []*slot
		start := NewSampler(p.Start)
		for i := 0; i < p.Count; i++ {
			s := &slot{pool: int32(pi), index: i}
			slots = append(slots, s)
			w.push(w.rStart.sample(start), event{kind: evWorkerStart, a: uint32(len(w.slots)<<20 | i)})
		}
		w.slots = append(w.slots, slots)
	}
	for i := range cfg.Load {
		l := &cfg.Load[i]
		st := streamState{cfg: l, component: componentIndex(cfg, l.Component)}
		if l.RatePerSec > 0 {
			mean := time.Duration(float64(time.Second) / l.RatePerSec)
			switch l.Arrival {
			case ArrivalPoisson:
				st.interval = NewSampler(Dist{Kind: DistExponential, Mean: mean})
			default:
				st.interval = NewSampler(Dist{Kind: DistConstant, Value: mean})
			}
		}
		w.streams = append(w.streams, st)
		if l.Tasks > 0 {
			w.push(l.At, event{kind: evArrival, a: uint32(i)})
		}
	}
	for i, f := range cfg.Faults {
		w.push(f.At, event{kind: evFaultStart, a: uint32(i)})
	}
	return w, nil
}

func componentIndex(cfg *Config, path string) int32 {
	for i, c := range cfg.Components {
		if c.Path == path {
			return int32(i)
		}
	}
	return -1
}

func orchestratorConfig(cfg *Config, node, queue model.NodeID) model.OrchestratorConfig {
	o := cfg.Orchestrator
	mc := model.OrchestratorConfig{
		Node: node, Queue: queue, JetStream: cfg.Queue.Kind == QueueJetStream,
		HeartbeatTimeout: o.HeartbeatTimeout, HeartbeatInterval: o.HeartbeatInterval,
		QueueTimeout: o.QueueTimeout, DiscoveryQueueTimeout: 5 * time.Second,
		ExecutionTimeout:    o.ExecutionTimeout,
		MaxTransportRetries: o.MaxTransportRetries, MaxComponentRetries: o.MaxComponentRetries,
		Detector:       o.Detector,
		Backoff:        o.Backoff,
		PerAttemptIDs:  o.TaskIDs == TaskIDsPerAttempt,
		Discovery:      o.Discovery,
		UnhealthyAfter: o.UnhealthyAfter,
		MaxTasksPerRun: o.MaxTasksPerRun,
		RecoveryTime:   o.RecoveryTime,
		ScanDuration:   o.ScanDuration,
	}
	pools := map[string]int32{}
	for i, p := range cfg.Workers {
		pools[p.Pool] = int32(i)
	}
	for _, c := range cfg.Components {
		mc.Components = append(mc.Components, model.ComponentSpec{Pool: pools[c.Pool], Retriable: c.Retriable})
	}
	return mc
}

func (w *world) push(at time.Duration, e event) eventq.Handle {
	if at == w.now {
		// Due at once (a read, a send's completion): pushes at the present come in time
		// order, so the queue's lane for delay 0 keeps them out of the heap, same order.
		w.lastPush = w.q.PushAfter(int64(at), 0, e)
		return w.lastPush
	}
	w.lastPush = w.q.Push(int64(at), e)
	return w.lastPush
}

// loop runs events until none is left, every step has settled, or the duration cap.
func (w *world) loop() error {
	limit := int64(w.cfg.Duration)
	every := w.opts.ProgressEvery
	if every <= 0 {
		every = 1 << 16
	}
	for {
		at, e, ok := w.q.Pop()
		if !ok || at > limit {
			if ok {
				w.now = time.Duration(limit)
			}
			return nil
		}
		w.now = time.Duration(at)
		w.oracle.advance(w.now)
		if w.tw != nil {
			w.traceBegin(at, e)
		}
		if err := w.dispatch(e); err != nil {
			return fmt.Errorf("at %v: %w", w.now, err)
		}
		w.events++
		if w.tw != nil {
			w.tw.End()
		}
		if w.opts.Progress != nil && w.events%every == 0 {
			w.opts.Progress(w.now, w.oracle.settled, w.oracle.submitted)
		}
		if w.ledger.over(w.oracle) {
			return nil
		}
	}
}

func (w *world) dispatch(e event) error {
	switch e.kind {
	case evDeliver:
		return w.deliver(e.a)
	case evTimer:
		return w.fire(e)
	case evExecDone:
		return w.execDone(e)
	case evArrival:
		return w.arrival(e.a)
	case evWorkerStart:
		return w.startWorker(int32(e.a>>20), int(e.a&(1<<20-1)))
	case evFaultStart:
		return w.faultStart(int(e.a))
	case evFaultEnd:
		return w.faultEnd(int(e.a))
	case evOrchestratorUp:
		return w.orchestratorUp()
	case evStreamBroken:
		return w.streamBroken(e.node, model.Code(e.a))
	case evPipeArrive:
		return w.pipeArrive(e.node, e.a)
	case evSendDone:
		return w.sendDone(e.node, e.a)
	case evTCPGiveUp:
		return w.tcpGiveUp(int(e.a))
	case evStreamOpened:
		return w.streamOpened(e.node, e.a)
	}
	return fmt.Errorf("unknown event kind %d", e.kind)
}

// procPaused defers an event of worker process p (nil: not a worker) to the end of its
// pause: the process stalls, so its timers fire late and what arrives is read late, then
// it acts on stale state.
func (w *world) procPaused(p *proc, e event) bool {
	if !w.pausing || p == nil || p.slot.pausedUntil <= w.now {
		return false
	}
	w.push(p.slot.pausedUntil, e)
	return true
}

// proc returns the worker process at node; nil for another node.
func (w *world) proc(node model.NodeID) *proc {
	if i := uint(node - w.workerBase); i < uint(w.nprocs) {
		return &w.procBlocks[i>>procBlockBits][i&(1<<procBlockBits-1)]
	}
	return nil
}

func (w *world) arrival(stream uint32) error {
	st := &w.streams[stream]
	n := 1
	if st.cfg.Arrival == ArrivalBurst || st.interval == (Sampler{}) {
		n = st.cfg.Tasks
	}
	for i := 0; i < n && st.sent < st.cfg.Tasks; i++ {
		spec := w.ledger.newStep(st.component, int32(st.cfg.PayloadBytes))
		// A run is named after its first step: steps_per_run consecutive steps of the stream.
		if st.sent%max(st.cfg.StepsPerRun, 1) == 0 {
			st.run = model.RunID(spec.Step)
		}
		spec.Run = st.run
		w.oracle.submit(w.now, spec)
		w.hash.Event(int64(w.now), uint8(evArrival), int32(w.orchNode), uint64(spec.Step), 0, 0, nil)
		st.sent++
		if w.nodes[w.orchNode].down {
			// A step submitted while the orchestrator is down waits in its journal.
			w.ledger.hold(spec)
			continue
		}
		w.out.Reset()
		w.noteSubmit(spec)
		w.orch.Submit(w.now, spec, &w.out)
		if err := w.apply(w.orchNode); err != nil {
			return err
		}
	}
	if st.sent < st.cfg.Tasks {
		w.push(w.now+w.rArrivals.sample(st.interval), event{kind: evArrival, a: stream})
	}
	return nil
}

func (w *world) startWorker(pool int32, index int) error {
	s := w.slots[pool][index]
	pc := w.cfg.Workers[pool]
	node := model.NodeID(len(w.nodes))
	p := w.newProc()
	p.node, p.pool, p.slot, p.alive, p.drift = node, pool, s, true, pc.ClockDrift
	w.note(inCreate, node, uint32(pool), 0, 0)
	p.w = model.NewWorker(WorkerModelConfig(w.cfg, pool, node, w.orchNode, w.sourceNode))
	w.addNode(nodeEntry{part: p.w, timers: &p.timers, proc: p})
	w.oracle.started(node, slotRef{pool, index})
	if w.tw != nil {
		w.tw.Node(w.traceNode(node))
		if s.current != nil {
			w.traceProcess("restart", node) // a new process in the slot of a crashed one
		} else {
			w.traceProcess("start", node)
		}
	}
	s.current = p
	w.hash.Event(int64(w.now), uint8(evWorkerStart), int32(node), 0, 0, 0, nil)
	w.out.Reset()
	w.note(inStart, node, 0, 0, 0)
	p.w.Start(w.now, &w.out)
	return w.apply(node)
}

// fire runs a participant's timer.
func (w *world) fire(e event) error {
	// A worker's timers are in its proc; a worker is down exactly when it is not alive.
	var tt *timerTable
	var part model.Participant
	p := w.proc(e.node)
	if p != nil {
		if !p.alive {
			return nil
		}
		tt, part = &p.timers, p.w
	} else {
		n := &w.nodes[e.node]
		if n.down {
			return nil
		}
		tt, part = n.timers, n.part
	}
	if e.a != tt.incarnation {
		return nil // this timer was armed by a previous life
	}
	if w.procPaused(p, e) {
		// The deferred copy is a new entry; point the timer at it so that a later
		// reset or cancel still finds it.
		if _, ok := tt.get(e.timer); ok {
			tt.put(e.timer, w.lastPush)
		}
		return nil
	}
	tt.drop(e.timer)
	w.hash.Event(int64(w.now), uint8(evTimer), int32(e.node), uint64(e.timer), 0, 0, nil)
	w.out.Reset()
	w.note(inFire, e.node, 0, 0, e.timer)
	part.Fire(w.now, e.timer, &w.out)
	return w.apply(e.node)
}

func (w *world) execDone(e event) error {
	p := w.proc(e.node)
	if p == nil || !p.alive {
		return nil
	}
	i := findHandle(p.execList(), uint64(e.a))
	if w.procPaused(p, e) {
		if i >= 0 {
			p.execList()[i].h = w.lastPush
		}
		return nil
	}
	if i >= 0 {
		p.dropExec(i)
	}
	w.hash.Event(int64(w.now), uint8(evExecDone), int32(e.node), uint64(e.a), 0, 0, nil)
	w.out.Reset()
	if e.raised > 0 {
		w.note(inRaised, e.node, e.a, int32(e.raised-1), 0)
		p.w.ComponentRaised(w.now, e.a, model.ComponentError(e.raised-1), &w.out)
	} else {
		w.note(inDone, e.node, e.a, w.outputBytes[e.comp], 0)
		p.w.ComponentDone(w.now, e.a, false, w.outputBytes[e.comp], &w.out)
	}
	return w.apply(e.node)
}

// apply carries out the effects a participant at node asked for.
func (w *world) apply(node model.NodeID) error {
	out := &w.out
	w.noteApplied()
	terminated := false
	for i := range out.Events {
		e := &out.Events[i]
		w.oracle.observe(w.now, e)
		w.traceLifecycle(e)
		terminated = terminated || (e.Kind == model.EvWorkerExited && e.Reason == model.ExitTerminated)
	}
	for _, t := range out.Timers {
		w.timer(node, t)
	}
	for _, r := range out.Runs {
		w.run(node, r)
	}
	for i := range out.Send {
		if err := w.send(&out.Send[i]); err != nil {
			return err
		}
	}
	if out.Recv {
		if p := w.proc(node); p != nil {
			if err := w.wantRead(p); err != nil {
				return err
			}
		}
	}
	// These reuse w.out, so they come after everything else the effects asked for.
	if out.CloseStream || terminated {
		if p := w.proc(node); p != nil {
			return w.closeStream(p, terminated)
		}
	}
	return nil
}

func (w *world) timer(node model.NodeID, t model.TimerOp) {
	var tt *timerTable
	p := w.proc(node)
	if p != nil {
		if !p.alive {
			return // a process that is not running arms nothing
		}
		tt = &p.timers
	} else {
		n := &w.nodes[node]
		if n.down {
			return
		}
		tt = n.timers
	}
	h, exists := tt.get(t.ID)
	if t.Cancel {
		if exists {
			w.q.Cancel(h)
			tt.drop(t.ID)
		}
		return
	}
	at := t.At
	if p != nil && p.drift != 0 && at > w.now {
		// A slow clock stretches every delay it measures.
		at = w.now + time.Duration(float64(at-w.now)*(1+p.drift))
	}
	if exists && w.q.Reset(h, int64(at)) {
		return
	}
	// Timers are armed a fixed delay ahead (queue deadlines, RPC timeouts, heartbeat
	// ticks), so they go to the queue's lane for their delay: same order, no heap work.
	w.lastPush = w.q.PushAfter(int64(at), int64(at-w.now), event{kind: evTimer, node: node, a: tt.incarnation, timer: t.ID})
	tt.put(t.ID, w.lastPush)
}

// run starts or stops a component execution on a worker.
func (w *world) run(node model.NodeID, r model.RunOp) {
	p := w.proc(node)
	if r.Stop {
		if i := findHandle(p.execList(), uint64(r.Exec)); i >= 0 {
			w.q.Cancel(p.execList()[i].h)
			p.dropExec(i)
		}
		return
	}
	c := w.cfg.Components[r.Component]
	d := w.rService.sample(w.serviceTimes[r.Component])
	var raised uint8
	if c.ErrorRate > 0 && w.rService.Float64() < c.ErrorRate {
		raised = 1 + uint8(c.RaisedKind(w.rService.Float64))
	}
	h := w.push(w.now+d, event{kind: evExecDone, node: node, a: r.Exec, raised: raised, comp: r.Component})
	p.addExec(handleOf{uint64(r.Exec), h})
}

// finish closes the trace and computes the summary.
func (w *world) finish() (*Result, error) {
	if w.tw != nil {
		if err := w.tw.Flush(); err != nil {
			return nil, fmt.Errorf("write trace: %w", err)
		}
	}
	res := w.oracle.result(w.now, w.poolStats())
	res.Summary.TraceHash = w.hash.Sum()
	res.Summary.Perf.Events = w.events
	st := w.codec.Stats()
	res.Summary.Perf.CodecNsPerMessage = st.NsPerMessage()
	res.Summary.Perf.CodecEncodeNsPerMsg = st.EncodeNsPerMessage()
	res.Summary.Perf.CodecDecodeNsPerMsg = st.DecodeNsPerMessage()
	res.Summary.Perf.CodecMBPerSecond = st.MBPerSecond()
	res.Summary.Perf.CodecReusedValues = st.ReusedEncodes + st.ReusedDecodes
	if st.TimedEncodes+st.TimedDecodes > 0 {
		res.Summary.Perf.CodecTimedEvery = CodecTimedEvery
	}
	return res, nil
}

// poolStats reads each pool's queue gauges from the assignment source, while it is up.
func (w *world) poolStats() []PoolStats {
	ps := make([]PoolStats, len(w.cfg.Workers))
	for i, p := range w.cfg.Workers {
		ps[i].Pool = p.Pool
		if w.source != nil && !w.nodes[w.sourceNode].down {
			ps[i].QueueDepth = int64(w.source.QueueDepth(int32(i)))
			ps[i].ConnectedWorkers = int64(w.source.ConnectedWorkers(int32(i)))
		}
	}
	return ps
}
