package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
	"github.com/tasksim/tasksim/model/wiremap"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/latency"
	"github.com/tasksim/tasksim/sim/rng"
)

// WorkersConfig configures the scenario's worker pools as gRPC clients.
type WorkersConfig struct {
	Scenario *sim.Config
	// Target is the orchestrator's tasks address (HOST:PORT, or a URL such as
	// http://HOST:PORT). Heartbeats and completions go to the same connection.
	Target string
	// Dial, if set, replaces the TCP dialer (tests pass a bufconn's).
	Dial func(ctx context.Context, addr string) (net.Conn, error)
	// Clock and Start as in ServerConfig; a run --live shares both with the server.
	Clock clock.Clock
	Start time.Time
	// Salt makes this process's worker ids its own (see wiremap.UUIDs).
	Salt uint32
	// OwnOrchestrator: the orchestrator is this process's (run --live) with this Salt, so
	// task ids are parsed, not interned; otherwise they are a foreign orchestrator's.
	OwnOrchestrator bool
	// Observer receives the workers' lifecycle events and the faults' ground truth.
	Observer *Observer
	// Lag receives the harness lag of the workers' timers.
	Lag *LagMeter
	// NATS is the JetStream queue the workers fetch from (queue.kind jetstream).
	NATS NATSConfig
}

// Workers runs every worker pool of a scenario against one orchestrator: each worker
// process is a model.Worker on its own goroutine with its own gRPC connection, running
// the scenario's components with their sampled durations and errors, and suffering the
// scenario's worker-side faults for real.
type Workers struct {
	cfg    WorkersConfig
	clk    clock.Clock
	start  time.Time
	target string
	values *valueCache

	ctl      *process // faults and the end of the run
	rFaults  *rand.Rand
	rStart   *rand.Rand
	samplers []sim.Sampler
	outBytes []int32

	mu       sync.Mutex
	slots    [][]*workerSlot
	nextNode model.NodeID
	started  int
	live     int
	stopped  bool
	// terminating: Terminate was called; no process starts any more.
	terminating bool
	done        chan struct{}
	doneOnce    sync.Once
	procs       int
	exited      int64
	crashed     int64
	// hits remembers which slots a windowed fault hit, to undo it at its end.
	hits map[int][]*workerSlot
	// orphaned holds, by wire task id, when a crash this driver caused left a task
	// behind; redispatch records how long until some worker got it again (the workers'
	// own measure of detection when the orchestrator is foreign).
	orphaned   map[string]time.Duration
	redispatch *latency.Recorder
}

// workerSlot is one worker position in a pool; a crashed worker restarts in its slot as a
// new process with a new worker id. Faults target slots.
type workerSlot struct {
	pool    int32
	index   int
	current *workerProc
	// Link faults of the slot, read on the process goroutine under Workers.mu.
	partitioned int
	blackhole   bool
	hbLoss      float64
}

// StartWorkers starts the pools; each worker starts at its sampled start time.
func StartWorkers(cfg WorkersConfig) (*Workers, error) {
	sc := cfg.Scenario
	if sc.Queue.Kind == sim.QueueJetStream && cfg.NATS.URL == "" {
		return nil, fmt.Errorf("queue.kind jetstream: the workers need a NATS server (--nats URL or $STEPFLOW_NATS_URL)")
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	if cfg.Start.IsZero() {
		cfg.Start = cfg.Clock.Now()
	}
	ws := &Workers{cfg: cfg, clk: cfg.Clock, start: cfg.Start, target: dialTarget(cfg.Target),
		values: &valueCache{m: map[int32]*structpb.Value{}}, done: make(chan struct{}),
		orphaned: map[string]time.Duration{}, redispatch: latency.New(),
		rFaults: rng.New(sc.Seed, "faults"), rStart: rng.New(sc.Seed, "start"), nextNode: 1}
	for _, c := range sc.Components {
		ws.samplers = append(ws.samplers, sim.NewSampler(c.Duration))
		out := int32(0)
		for _, l := range sc.Load {
			if l.Component == c.Path {
				out = int32(l.PayloadBytes)
				break
			}
		}
		ws.outBytes = append(ws.outBytes, out)
	}
	ws.ctl = newProcess(ws.clk, ws.start, cfg.Lag)
	ws.ctl.onTimer = ws.control
	ws.ctl.call(func() {
		for pi, p := range sc.Workers {
			start := sim.NewSampler(p.Start)
			var slots []*workerSlot
			for i := 0; i < p.Count; i++ {
				slots = append(slots, &workerSlot{pool: int32(pi), index: i})
				ws.ctl.setTimer(model.TimerOp{ID: ctlStart + model.TimerID(ws.procs), At: start.Sample(ws.rStart)})
				ws.procs++
			}
			ws.slots = append(ws.slots, slots)
		}
		for i, f := range sc.Faults {
			if f.Kind != sim.FaultOrchestratorRestart && f.Kind != sim.FaultQueueRestart && f.Kind != sim.FaultDuplicateDelivery {
				ws.ctl.setTimer(model.TimerOp{ID: ctlFault + model.TimerID(i), At: f.At})
			}
		}
		ws.ctl.setTimer(model.TimerOp{ID: ctlEnd, At: sc.Duration})
		ws.ctl.arm()
	})
	return ws, nil
}

// dialTarget turns a tasks URL into a gRPC target.
func dialTarget(t string) string {
	for _, p := range []string{"http://", "grpc://"} {
		if len(t) > len(p) && t[:len(p)] == p {
			return "passthrough:///" + t[len(p):]
		}
	}
	return "passthrough:///" + t
}

// Control timers: worker starts (in slot order across pools), fault starts and ends,
// restarts, the end of the run.
const (
	ctlEnd model.TimerID = 1 << 40
	// ctlStart + i starts the i-th slot (pools in order, slots in order).
	ctlStart model.TimerID = 1 << 41
	// ctlFault + i starts fault i, ctlFaultEnd + i ends it.
	ctlFault    model.TimerID = 1 << 42
	ctlFaultEnd model.TimerID = 1 << 43
	// ctlRestart + i restarts the i-th slot after a crash.
	ctlRestart model.TimerID = 1 << 44
)

func (ws *Workers) slotAt(i int) *workerSlot {
	for _, slots := range ws.slots {
		if i < len(slots) {
			return slots[i]
		}
		i -= len(slots)
	}
	return nil
}

func (ws *Workers) slotIndex(s *workerSlot) int {
	n := 0
	for pi, slots := range ws.slots {
		if int32(pi) == s.pool {
			return n + s.index
		}
		n += len(slots)
	}
	return -1
}

func (ws *Workers) control(now time.Duration, id model.TimerID) {
	switch {
	case id == ctlEnd:
		ws.finish()
	case id >= ctlRestart:
		ws.startProc(now, ws.slotAt(int(id-ctlRestart)))
	case id >= ctlFaultEnd:
		ws.faultEnd(now, int(id-ctlFaultEnd))
	case id >= ctlFault:
		ws.faultStart(now, int(id-ctlFault))
	case id >= ctlStart:
		ws.startProc(now, ws.slotAt(int(id-ctlStart)))
	}
}

// Now is the driver's time: time since the run's start.
func (ws *Workers) Now() time.Duration { return ws.clk.Since(ws.start) }

// Done is closed when the workers are over: the scenario's duration passed, or every
// worker process exited (the orchestrator is gone for good), or Stop.
func (ws *Workers) Done() <-chan struct{} { return ws.done }

func (ws *Workers) finish() { ws.doneOnce.Do(func() { close(ws.done) }) }

// Stop ends every worker process and closes its connections.
func (ws *Workers) Stop() {
	ws.mu.Lock()
	if ws.stopped {
		ws.mu.Unlock()
		return
	}
	ws.stopped = true
	var procs []*workerProc
	for _, slots := range ws.slots {
		for _, s := range slots {
			if s.current != nil {
				procs = append(procs, s.current)
			}
		}
	}
	ws.mu.Unlock()
	ws.ctl.stop()
	for _, wp := range procs {
		wp.kill()
	}
	ws.finish()
}

// Terminate sends SIGTERM to every worker process: each shuts down as its flavour does
// (model.Worker.Terminate) and Done is closed once the last one has exited. A python
// worker notices it only when an assignment reaches it, so Terminate may wait long;
// Stop ends everything at once.
func (ws *Workers) Terminate() {
	ws.mu.Lock()
	var procs []*workerProc
	for _, slots := range ws.slots {
		for _, s := range slots {
			if s.current != nil && !s.current.dead.Load() {
				procs = append(procs, s.current)
			}
		}
	}
	ws.terminating = true
	none := ws.live == 0
	ws.mu.Unlock()
	for _, wp := range procs {
		wp.p.post(wp.terminate)
	}
	if none {
		ws.finish()
	}
}

// redispatched records a task that a crash orphaned reaching a worker again.
func (ws *Workers) redispatched(task string, now time.Duration) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if at, ok := ws.orphaned[task]; ok {
		delete(ws.orphaned, task)
		ws.redispatch.Record(now - at)
	}
}

// Redispatch returns, for tasks whose worker this driver crashed, the time from the
// crash to the task's next assignment to any worker: how a worker fleet sees a foreign
// orchestrator's detection (it includes the retry's backoff). Orphans never re-dispatched
// are counted by the second result.
func (ws *Workers) Redispatch() (*latency.Recorder, int) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	r := latency.New()
	r.Merge(ws.redispatch)
	return r, len(ws.orphaned)
}

// Counts returns how many worker processes ran, crashed (by a fault) and exited on their own.
func (ws *Workers) Counts() (started int, crashed, exited int64) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	return ws.started, ws.crashed, ws.exited
}

// valueCache shares the input/output Values across processes (they are read-only).
type valueCache struct {
	mu sync.Mutex
	m  map[int32]*structpb.Value
}

func (c *valueCache) get(n int32) *structpb.Value {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[n]
	if !ok {
		v = wire.SampleValue(int(n))
		c.m[n] = v
	}
	return v
}

// workerProc is one worker process.
type workerProc struct {
	ws   *Workers
	slot *workerSlot
	node model.NodeID
	p    *process
	w    *model.Worker
	out  model.Effects
	mp   *wiremap.Mapper
	rnd  *rand.Rand

	conn   *grpc.ClientConn
	tasks  pbgrpc.TasksServiceClient
	orch   pbgrpc.OrchestratorServiceClient
	ctx    context.Context
	cancel context.CancelFunc
	// link is cancelled by a partition in reset mode: every call and stream on it fails.
	link       context.Context
	linkCancel context.CancelFunc

	stream *clientStream
	js     *jsWorker // queue.kind jetstream: the NATS side
	execs  map[uint32]*clock.Timer
	// running holds the wire task id of each execution the component runs for
	// (guarded by Workers.mu: a crash reads it from the controller).
	running  map[uint32]string
	held     []func() // inputs from the network held by a black hole
	heldSend []func() // sends held by a black hole
	drift    float64
	// rpcDeadline is the gRPC deadline on each unary RPC, 0 for none: the strict flavour
	// sets network.rpc_timeout, the reference SDKs set none (PROTOCOL.md).
	rpcDeadline time.Duration
	// dead: crashed or exited; set by the controller or the process, read anywhere.
	dead atomic.Bool
}

// clientStream is one PullTasks stream; its goroutine reads one assignment per request.
type clientStream struct {
	reads chan struct{}
	// cancel ends the stream from the worker's side (Effects.CloseStream, SIGTERM).
	cancel context.CancelFunc
}

func (ws *Workers) startProc(now time.Duration, s *workerSlot) {
	if s == nil {
		return
	}
	ws.mu.Lock()
	if ws.stopped || ws.terminating {
		ws.mu.Unlock()
		return
	}
	node := ws.nextNode
	ws.nextNode++
	ws.started++
	ws.live++
	ws.mu.Unlock()
	sc := ws.cfg.Scenario
	var pools, paths []string
	for _, p := range sc.Workers {
		pools = append(pools, p.Pool)
	}
	for _, c := range sc.Components {
		paths = append(paths, c.Path)
	}
	wp := &workerProc{ws: ws, slot: s, node: node, execs: map[uint32]*clock.Timer{}, running: map[uint32]string{},
		rnd:   rng.New(sc.Seed, fmt.Sprintf("service/%d", node)),
		drift: sc.Workers[s.pool].ClockDrift}
	wp.mp = wiremap.New(pools, sim.ComponentIDs(sc), ws.cfg.Salt, "")
	wp.mp.SetPaths(paths)
	wp.mp.Owned = true
	wp.mp.ValueSource = ws.values.get
	if !ws.cfg.OwnOrchestrator {
		wp.mp.Tasks, wp.mp.Runs, wp.mp.Steps = &wiremap.Interned{First: 1}, &wiremap.Interned{}, &wiremap.Interned{}
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if ws.cfg.Dial != nil {
		opts = append(opts, grpc.WithContextDialer(ws.cfg.Dial))
	}
	conn, err := grpc.NewClient(ws.target, opts...)
	if err != nil {
		// A target that does not parse fails every worker alike; nothing to run.
		ws.mu.Lock()
		ws.live--
		ws.mu.Unlock()
		return
	}
	wp.conn = conn
	wp.tasks, wp.orch = pbgrpc.NewTasksServiceClient(conn), pbgrpc.NewOrchestratorServiceClient(conn)
	wp.ctx, wp.cancel = context.WithCancel(context.Background())
	wp.link, wp.linkCancel = context.WithCancel(wp.ctx)
	source := orchestratorNode
	if sc.Queue.Kind == sim.QueueJetStream {
		source = queueNode
	}
	mc := sim.WorkerModelConfig(sc, s.pool, node, orchestratorNode, source)
	if mc.Flavour.Policy().RPCDeadline {
		wp.rpcDeadline = cmp.Or(mc.RPCTimeout, model.DefaultRPCTimeout)
	}
	wp.w = model.NewWorker(mc)
	wp.p = newProcess(ws.clk, ws.start, ws.cfg.Lag)
	wp.p.host(wp.w, &wp.out, wp.apply)
	if ob := ws.cfg.Observer; ob != nil {
		ob.WorkerStarted(node, s.pool, s.index)
	}
	ws.mu.Lock()
	s.current = wp
	ws.mu.Unlock()
	wp.p.post(func() {
		now := wp.p.now()
		wp.out.Reset()
		wp.w.Start(now, &wp.out)
		wp.apply(now)
	})
}

// kill ends the process at once: its calls and streams break, its connection closes.
func (wp *workerProc) kill() {
	wp.cancel()
	wp.p.stop()
	for _, t := range wp.execs {
		t.Stop()
	}
	_ = wp.conn.Close()
}

// linkState reads the slot's link faults.
func (wp *workerProc) linkState() (cut bool, blackhole bool, hbLoss float64) {
	wp.ws.mu.Lock()
	defer wp.ws.mu.Unlock()
	return wp.slot.partitioned > 0, wp.slot.blackhole, wp.slot.hbLoss
}

// fromNet runs an input that arrived from the network, unless a black hole holds it
// until the partition heals (TCP retransmits it then).
func (wp *workerProc) fromNet(f func()) {
	wp.p.post(func() {
		if wp.dead.Load() {
			return
		}
		if cut, bh, _ := wp.linkState(); cut && bh {
			wp.held = append(wp.held, f)
			return
		}
		f()
	})
}

// apply carries out the worker's effects; it runs on the worker goroutine.
func (wp *workerProc) apply(now time.Duration) {
	out := &wp.out
	ob := wp.ws.cfg.Observer
	for i := range out.Events {
		e := &out.Events[i]
		if ob != nil {
			ob.Observe(now, e)
		}
		switch e.Kind {
		case model.EvWorkerExited:
			wp.exited()
		case model.EvExecStarted:
			if !e.Discovery {
				var buf [36]byte
				task := strings.Clone(wp.mp.Tasks.Render(&buf, uint64(e.Task)))
				wp.ws.mu.Lock()
				wp.running[e.Exec] = task
				wp.ws.mu.Unlock()
			}
		case model.EvExecEnded:
			wp.ws.mu.Lock()
			delete(wp.running, e.Exec)
			wp.ws.mu.Unlock()
		}
	}
	for _, t := range out.Timers {
		if wp.drift != 0 && !t.Cancel && t.At > now {
			t.At = now + time.Duration(float64(t.At-now)*(1+wp.drift))
		}
		wp.p.setTimer(t)
	}
	for _, r := range out.Runs {
		wp.run(now, r)
	}
	for i := range out.Send {
		wp.send(out.Send[i])
	}
	if out.Recv && wp.js != nil {
		wp.js.read()
	}
	if out.Recv && wp.stream != nil {
		select {
		case wp.stream.reads <- struct{}{}:
		default:
		}
	}
	if out.CloseStream && wp.stream != nil {
		// The worker ends its PullTasks call; the server sees the stream cancelled. (A
		// JetStream worker just fetches nothing more: it still acks on its connection.)
		st := wp.stream
		wp.stream = nil
		st.cancel()
	}
	wp.p.arm()
}

// terminate delivers SIGTERM to the worker (on its goroutine).
func (wp *workerProc) terminate() {
	if wp.dead.Load() {
		return
	}
	now := wp.p.now()
	wp.out.Reset()
	wp.w.Terminate(now, &wp.out)
	wp.apply(now)
}

func (wp *workerProc) exited() {
	ws := wp.ws
	ws.mu.Lock()
	ws.exited++
	ws.live--
	last := ws.live == 0
	ws.mu.Unlock()
	wp.dead.Store(true)
	go wp.kill()
	if last {
		ws.finish()
	}
}

// run starts or stops a component execution, sampled as the simulator samples it.
func (wp *workerProc) run(_ time.Duration, r model.RunOp) {
	if r.Stop {
		if t := wp.execs[r.Exec]; t != nil {
			t.Stop()
			delete(wp.execs, r.Exec)
		}
		return
	}
	if r.Component < 0 || int(r.Component) >= len(wp.ws.samplers) {
		// An assignment of a component this scenario does not know: it was claimed;
		// it fails at once, as the SDKs complete it (COMPONENT_FAILED).
		wp.execs[r.Exec] = wp.ws.clk.AfterFunc(0, func() { wp.done(r.Exec, 1+uint8(model.ErrorUnknownComponent), 0) })
		return
	}
	c := &wp.ws.cfg.Scenario.Components[r.Component]
	d := wp.ws.samplers[r.Component].Sample(wp.rnd)
	var raised uint8
	if c.ErrorRate > 0 && wp.rnd.Float64() < c.ErrorRate {
		raised = 1 + uint8(c.RaisedKind(wp.rnd.Float64))
	}
	outBytes := wp.ws.outBytes[r.Component]
	if d > 0 && wp.drift != 0 {
		d = time.Duration(float64(d) * (1 + wp.drift))
	}
	wp.execs[r.Exec] = wp.ws.clk.AfterFunc(d, func() { wp.done(r.Exec, raised, outBytes) })
}

// done reports an execution's end: raised is 0 for success, else 1 + the
// model.ComponentError the component raised.
func (wp *workerProc) done(exec uint32, raised uint8, outBytes int32) {
	wp.p.post(func() {
		if _, ok := wp.execs[exec]; !ok || wp.dead.Load() {
			return
		}
		delete(wp.execs, exec)
		now := wp.p.now()
		wp.out.Reset()
		if raised > 0 {
			wp.w.ComponentRaised(now, exec, model.ComponentError(raised-1), &wp.out)
		} else {
			wp.w.ComponentDone(now, exec, false, outBytes, &wp.out)
		}
		wp.apply(now)
	})
}

// send carries out one message the worker sent.
func (wp *workerProc) send(m model.Message) {
	ob := wp.ws.cfg.Observer
	cut, bh, hbLoss := wp.linkState()
	switch m.Type {
	case model.MsgPullTasks:
		if m.To == queueNode {
			wp.subscribe(wp.ws.cfg.NATS)
			return
		}
		req := wp.mp.PullTasks(&m)
		if ob != nil {
			ob.Message(m.Type, proto.Size(req))
		}
		ctx, cancel := context.WithCancel(wp.link)
		st := &clientStream{reads: make(chan struct{}, 1), cancel: cancel}
		wp.stream = st
		if cut && !bh {
			cancel()
			wp.streamBroken(st, model.CodeUnavailable)
			return
		}
		wp.later(bh && cut, func() { go wp.readStream(ctx, st, req) })
	case model.MsgAck:
		if wp.js != nil {
			wp.js.ack(m, cut, bh)
		}
	case model.MsgHeartbeat:
		req := wp.mp.Heartbeat(&m)
		if ob != nil {
			ob.Message(m.Type, proto.Size(req))
		}
		if hbLoss > 0 && wp.rnd.Float64() < hbLoss {
			return // lost: no answer ever comes (the caller's loop blocks, as the SDKs' do)
		}
		wp.unary(m, cut, bh, func(ctx context.Context) (*pb.TaskHeartbeatResponse, error) {
			return wp.orch.TaskHeartbeat(ctx, req)
		})
	case model.MsgComplete:
		req := wp.mp.Complete(&m)
		if ob != nil {
			ob.Message(m.Type, proto.Size(req))
		}
		wp.unary(m, cut, bh, func(ctx context.Context) (*pb.TaskHeartbeatResponse, error) {
			_, err := wp.orch.CompleteTask(ctx, req)
			return nil, err
		})
	}
}

// callContext is the context of unary call m: the link, the worker's RPC deadline if it
// sets one, and the ground truth for its own orchestrator.
// unary makes one call to the orchestrator the way the link allows: a reset link fails
// it with UNAVAILABLE at once, a black hole holds it until the heal; the answer (or the
// call's error) goes back to the worker from its own goroutine.
func (wp *workerProc) unary(m model.Message, cut, blackhole bool, call func(context.Context) (*pb.TaskHeartbeatResponse, error)) {
	if cut && !blackhole {
		wp.reply(m, model.CodeUnavailable, nil)
		return
	}
	wp.later(blackhole && cut, func() {
		link, cancel := wp.callContext(m)
		go func() {
			resp, err := call(link)
			cancel()
			if wp.expired(err) {
				return
			}
			wp.fromNet(func() { wp.reply(m, codeOf(err), resp) })
		}()
	})
}

func (wp *workerProc) callContext(m model.Message) (context.Context, context.CancelFunc) {
	ctx, cancel := wp.link, context.CancelFunc(func() {})
	if wp.rpcDeadline > 0 {
		ctx, cancel = context.WithTimeout(ctx, wp.rpcDeadline)
	}
	return wp.truth(ctx, m), cancel
}

// expired reports a call that failed on the worker's own deadline. The model concludes
// DEADLINE_EXCEEDED itself, on its RPC timer at the same instant, so the gRPC outcome is
// not handed to it a second time.
func (wp *workerProc) expired(err error) bool {
	return wp.rpcDeadline > 0 && status.Code(err) == codes.DeadlineExceeded
}

// truth adds the call's ground truth for this process's own orchestrator (see
// truthHeader); a foreign orchestrator gets nothing beside the protocol.
func (wp *workerProc) truth(ctx context.Context, m model.Message) context.Context {
	if !wp.ws.cfg.OwnOrchestrator {
		return ctx
	}
	return metadata.AppendToOutgoingContext(ctx, truthHeader, strconv.FormatUint(uint64(m.Truth.Attempt), 10))
}

// later runs send now, or holds it until a black hole heals.
func (wp *workerProc) later(hold bool, send func()) {
	if hold {
		wp.heldSend = append(wp.heldSend, send)
		return
	}
	send()
}

// reply hands the worker the answer to its call m (on the worker goroutine).
func (wp *workerProc) reply(m model.Message, code model.Code, hb *pb.TaskHeartbeatResponse) {
	r := model.Message{From: orchestratorNode, To: wp.node, Call: m.Call, Worker: m.Worker,
		Task: m.Task, Run: m.Run, Discovery: m.Discovery, Code: code}
	if m.Type == model.MsgHeartbeat {
		r.Type = model.MsgHeartbeatReply
		if hb != nil && code == model.CodeOK {
			d := wp.mp.FromHeartbeatReply(hb)
			r.Status, r.ShouldAbort = d.Status, d.ShouldAbort
		}
	} else {
		r.Type = model.MsgCompleteReply
	}
	now := wp.p.now()
	wp.out.Reset()
	model.Deliver(wp.w, now, r, &wp.out)
	wp.apply(now)
}

// readStream opens a PullTasks stream and reads one assignment each time the worker
// asks (Effects.Recv); it reports a broken stream to the worker.
func (wp *workerProc) readStream(ctx context.Context, st *clientStream, req *pb.PullTasksRequest) {
	defer st.cancel()
	s, err := wp.tasks.PullTasks(ctx, req)
	if err != nil {
		wp.fromNet(func() { wp.streamBroken(st, codeOf(err)) })
		return
	}
	// The server's response headers say the stream opened (what a rust worker's
	// pull_tasks call waits for). None and no error: the server refused the stream in
	// its trailers, which the first Recv reports; an error surfaces there too.
	if md, err := s.Header(); err == nil && md != nil {
		wp.fromNet(func() { wp.streamOpened(st) })
	}
	for {
		select {
		case <-st.reads:
		case <-ctx.Done():
			wp.fromNet(func() { wp.streamBroken(st, model.CodeUnavailable) })
			return
		}
		a, err := s.Recv()
		if err != nil {
			code := codeOf(err)
			if errors.Is(err, context.Canceled) || status.Code(err) == codes.Canceled {
				code = model.CodeUnavailable
			}
			wp.fromNet(func() { wp.streamBroken(st, code) })
			return
		}
		wp.fromNet(func() {
			if wp.stream != st {
				return // a stream the worker replaced
			}
			wp.ws.redispatched(a.GetTaskId(), wp.p.now())
			m := wp.mp.FromAssignment(a)
			m.From, m.To = orchestratorNode, wp.node
			now := wp.p.now()
			wp.out.Reset()
			model.Deliver(wp.w, now, m, &wp.out)
			wp.apply(now)
		})
	}
}

// streamOpened tells the worker its current stream st opened (on the worker goroutine).
func (wp *workerProc) streamOpened(st *clientStream) {
	if wp.stream != st {
		return
	}
	now := wp.p.now()
	wp.out.Reset()
	wp.w.StreamOpened(now, &wp.out)
	wp.apply(now)
}

// streamBroken tells the worker its current stream st failed (on the worker goroutine).
func (wp *workerProc) streamBroken(st *clientStream, code model.Code) {
	if wp.stream != st {
		return
	}
	wp.stream = nil
	now := wp.p.now()
	wp.out.Reset()
	wp.w.StreamBroken(now, code, &wp.out)
	wp.apply(now)
}

// codeOf is the model's view of a call's outcome. A stream that the server ended
// cleanly is OK (io.EOF); a connection refused, reset or closed is UNAVAILABLE.
func codeOf(err error) model.Code {
	if err == nil || errors.Is(err, io.EOF) {
		return model.CodeOK
	}
	c := status.Code(err)
	if c == codes.OK {
		return model.CodeOK
	}
	for _, p := range grpcCodes {
		if p.grpc == c {
			return p.model
		}
	}
	return model.CodeUnavailable
}
