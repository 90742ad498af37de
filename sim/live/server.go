package live

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model"
	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wiremap"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/rng"
)

// DefaultAddr is where `tasksim serve` listens unless told otherwise.
const DefaultAddr = "127.0.0.1:7837"

// orchestratorNode is the orchestrator's NodeID in both drivers.
const orchestratorNode model.NodeID = 0

// ServerConfig configures a Server.
type ServerConfig struct {
	Scenario *sim.Config
	// Addr is the listen address (DefaultAddr if empty; port 0 picks a free one). A
	// restarted orchestrator listens on the address the first one got.
	Addr string
	// Listen opens the listener (net.Listen on tcp if nil); tests pass a bufconn.
	Listen func(addr string) (net.Listener, error)
	// Clock is the driver's clock (clock.New() if nil); Start is its zero (Clock.Now()
	// if zero), shared with the workers of the same run.
	Clock clock.Clock
	Start time.Time
	// Salt makes this process's task ids its own (see wiremap.UUIDs).
	Salt uint32
	// OwnWorkers: every worker is this process's (run --live), so worker ids are parsed
	// back to the workers' NodeIDs and the observer can match the two sides; otherwise
	// worker ids are foreign strings, interned.
	OwnWorkers bool
	// Observer receives the orchestrator's lifecycle events (required).
	Observer *Observer
	// Lag receives the harness lag of the orchestrator's timers (required).
	Lag *LagMeter
	// NoLagProbe turns off the probe timer that samples the lag every 10ms. Tests on a
	// mock clock set it: the mock sleeps a millisecond of real time per timer it fires.
	NoLagProbe bool
	// NATS is the JetStream queue the orchestrator publishes to (queue.kind jetstream).
	NATS NATSConfig
	// QueueServer is the NATS server a queue_restart fault stops and starts again on its
	// store: the embedded one (a server tasksim does not run cannot be restarted by it).
	QueueServer Restartable
}

// Server is the reference orchestrator on real sockets: TasksService and
// OrchestratorService on one gRPC listener, with health and reflection, submitting the
// scenario's load in real time. It survives orchestrator_restart faults by stopping
// the gRPC server and starting a new one on the same address.
type Server struct {
	cfg   ServerConfig
	clk   clock.Clock
	start time.Time
	url   string
	addr  string

	o  *model.Orchestrator
	mp *wiremap.Mapper
	js *jsPublisher // queue.kind jetstream

	// ledger runs the load (arrivals, the end of the run) and the orchestrator faults.
	ledger   *process
	arrivals []arrivalStream
	rArrive  *rand.Rand
	// nextStep is the next step's id (runs are numbered like steps): the ledger's own
	// count, written by the ledger goroutine and read by handlers, never the oracle's.
	nextStep atomic.Uint32

	mu      sync.Mutex
	inc     *incarnation // nil while down
	held    []model.StepSpec
	stopped bool
	failErr error
	done    chan struct{}
	endOnce sync.Once
	ended   time.Duration
}

// arrivalStream is one load entry's arrivals.
type arrivalStream struct {
	cfg       *sim.LoadConfig
	component int32
	sent      int
	run       model.RunID // the run the stream's current steps join (steps_per_run)
	interval  sim.Sampler
}

// incarnation is one life of the orchestrator process: its goroutine, its gRPC server,
// its streams and its pending calls. A restart ends it and starts the next.
type incarnation struct {
	s    *Server
	p    *process
	gs   *grpc.Server
	lis  net.Listener
	out  model.Effects
	down bool

	streams  map[model.NodeID]*serverStream
	calls    map[uint32]chan rpcReply
	nextCall uint32
	anon     int
}

// serverStream is one PullTasks stream: the orchestrator hands it one assignment at a
// time (the model waits for SendDone), which its handler goroutine sends.
type serverStream struct {
	node model.NodeID
	out  chan *pb.TaskAssignment
	end  chan struct{}
}

// rpcReply is the orchestrator's answer to a unary call, built on its goroutine.
type rpcReply struct {
	code     model.Code
	hb       *pb.TaskHeartbeatResponse
	complete *pb.CompleteTaskResponse
}

// StartServer starts the orchestrator and its listener, and begins submitting the load.
func StartServer(cfg ServerConfig) (*Server, error) {
	sc := cfg.Scenario
	if sc.Queue.Kind == sim.QueueJetStream && cfg.NATS.URL == "" {
		return nil, fmt.Errorf("queue.kind jetstream: the orchestrator needs a NATS server (an embedded one, or --nats URL)")
	}
	for i, f := range sc.Faults {
		if f.Kind == sim.FaultQueueRestart && cfg.QueueServer == nil {
			return nil, fmt.Errorf("faults[%d].queue_restart restarts the embedded NATS server; with --nats, restart your server yourself", i)
		}
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.Listen == nil {
		cfg.Listen = func(addr string) (net.Listener, error) { return net.Listen("tcp", addr) }
	}
	if cfg.Clock == nil {
		cfg.Clock = clock.New()
	}
	if cfg.Start.IsZero() {
		cfg.Start = cfg.Clock.Now()
	}
	s := &Server{cfg: cfg, clk: cfg.Clock, start: cfg.Start, done: make(chan struct{}),
		rArrive: rng.New(sc.Seed, "arrivals")}
	lis, err := cfg.Listen(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	s.addr = lis.Addr().String()
	s.url = "http://" + s.addr
	var pools, paths []string
	for _, p := range sc.Workers {
		pools = append(pools, p.Pool)
	}
	for _, c := range sc.Components {
		paths = append(paths, c.Path)
	}
	s.mp = wiremap.New(pools, sim.ComponentIDs(sc), cfg.Salt, s.url)
	s.mp.SetPaths(paths)
	s.mp.Inputs = sim.ComponentInputs(sc)
	s.mp.Owned = true
	if !cfg.OwnWorkers {
		// From 1: NodeID 0 is the orchestrator itself.
		s.mp.Workers = &wiremap.Interned{First: 1}
	}
	queue := orchestratorNode
	if sc.Queue.Kind == sim.QueueJetStream {
		queue = queueNode
		if s.js, err = startPublisher(cfg.NATS, sc); err != nil {
			lis.Close()
			return nil, err
		}
	}
	s.o = model.NewOrchestrator(sim.OrchestratorModelConfig(sc, orchestratorNode, queue))

	inc := s.newIncarnation(lis)
	s.inc = inc
	inc.p.call(func() {
		inc.out.Reset()
		s.o.Start(inc.p.now(), &inc.out)
		inc.startProbe(inc.p.now())
		inc.apply(inc.p.now())
	})
	go inc.serve()

	s.ledger = newProcess(s.clk, s.start, cfg.Lag)
	s.ledger.onTimer = s.ledgerTimer
	s.ledger.call(s.planLoad)
	return s, nil
}

// Now is the driver's time: time since the run's start.
func (s *Server) Now() time.Duration { return s.clk.Since(s.start) }

// Addr is the address the server listens on (HOST:PORT).
func (s *Server) Addr() string { return s.addr }

// URL is what assignments carry as orchestrator_service_url.
func (s *Server) URL() string { return s.url }

// Done is closed when the run is over: every step settled, or the scenario's duration.
func (s *Server) Done() <-chan struct{} { return s.done }

// Ledger timers: one per load stream (its next arrival), the end of the run, and each
// orchestrator fault's start and end.
const (
	timerEnd model.TimerID = 1 << 40
	// timerArrival + i is load stream i's next arrival.
	timerArrival model.TimerID = 1 << 41
	// timerFault + i starts fault i; timerFaultEnd + i ends it.
	timerFault    model.TimerID = 1 << 42
	timerFaultEnd model.TimerID = 1 << 43
)

func (s *Server) planLoad() {
	sc := s.cfg.Scenario
	for i := range sc.Load {
		l := &sc.Load[i]
		st := arrivalStream{cfg: l, component: sim.ComponentIndex(sc, l.Component)}
		if l.RatePerSec > 0 {
			mean := time.Duration(float64(time.Second) / l.RatePerSec)
			if l.Arrival == sim.ArrivalPoisson {
				st.interval = sim.NewSampler(sim.Dist{Kind: sim.DistExponential, Mean: mean})
			} else {
				st.interval = sim.NewSampler(sim.Dist{Kind: sim.DistConstant, Value: mean})
			}
		}
		s.arrivals = append(s.arrivals, st)
		if l.Tasks > 0 {
			s.ledger.setTimer(model.TimerOp{ID: timerArrival + model.TimerID(i), At: l.At})
		}
	}
	for i, f := range sc.Faults {
		if f.Kind == sim.FaultOrchestratorRestart || f.Kind == sim.FaultQueueRestart {
			s.ledger.setTimer(model.TimerOp{ID: timerFault + model.TimerID(i), At: f.At})
		}
	}
	s.ledger.setTimer(model.TimerOp{ID: timerEnd, At: sc.Duration})
	s.ledger.arm()
}

func (s *Server) ledgerTimer(now time.Duration, id model.TimerID) {
	switch {
	case id == timerEnd:
		s.end(now)
	case id >= timerFaultEnd:
		if s.cfg.Scenario.Faults[int(id-timerFaultEnd)].Kind == sim.FaultQueueRestart {
			// Started on the ledger's goroutine: the server is back before anything else
			// the ledger does, as a restarted process would be.
			if err := s.cfg.QueueServer.Start(); err != nil {
				s.fail(fmt.Errorf("queue_restart: %w", err))
			}
			return
		}
		s.orchestratorUp(now)
	case id >= timerFault:
		i := int(id - timerFault)
		s.cfg.Observer.FaultStarted(i, now)
		if s.cfg.Scenario.Faults[i].Kind == sim.FaultQueueRestart {
			s.cfg.QueueServer.Stop()
		} else {
			s.orchestratorDown()
		}
		s.ledger.setTimer(model.TimerOp{ID: timerFaultEnd + model.TimerID(i), At: now + s.cfg.Scenario.Faults[i].Downtime})
	case id >= timerArrival:
		s.arrive(now, int(id-timerArrival))
	}
}

// arrive submits the next step(s) of load stream i, as the simulator's arrival does.
func (s *Server) arrive(now time.Duration, i int) {
	st := &s.arrivals[i]
	n := 1
	if st.cfg.Arrival == sim.ArrivalBurst || st.interval == (sim.Sampler{}) {
		n = st.cfg.Tasks
	}
	for k := 0; k < n && st.sent < st.cfg.Tasks; k++ {
		step := model.StepID(s.nextStep.Add(1) - 1)
		if st.sent%max(st.cfg.StepsPerRun, 1) == 0 {
			st.run = model.RunID(step) // a run is named after its first step
		}
		spec := model.StepSpec{Step: step, Run: st.run, Component: st.component,
			PayloadBytes: int32(st.cfg.PayloadBytes)}
		st.sent++
		s.cfg.Observer.Submit(now, spec)
		s.submit(spec)
	}
	if st.sent < st.cfg.Tasks {
		s.ledger.setTimer(model.TimerOp{ID: timerArrival + model.TimerID(i), At: now + st.interval.Sample(s.rArrive)})
	}
}

// submit hands a step to the orchestrator, or holds it while the orchestrator is down.
func (s *Server) submit(spec model.StepSpec) {
	s.mu.Lock()
	inc := s.inc
	if inc == nil {
		s.held = append(s.held, spec)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	inc.p.post(func() {
		if inc.down {
			s.mu.Lock()
			s.held = append(s.held, spec)
			s.mu.Unlock()
			return
		}
		now := inc.p.now()
		inc.out.Reset()
		s.o.Submit(now, spec, &inc.out)
		inc.apply(now)
	})
}

// orchestratorDown crashes the orchestrator process: its server stops (every stream and
// call breaks), its timers and in-memory tables are gone.
func (s *Server) orchestratorDown() {
	s.mu.Lock()
	inc := s.inc
	s.inc = nil
	s.mu.Unlock()
	if inc == nil {
		return
	}
	inc.p.call(func() { inc.down = true })
	inc.gs.Stop()
	inc.p.stop()
	s.o.Crash()
}

// orchestratorUp starts a new orchestrator process on the same address; it recovers its
// runs from the journal and takes the steps submitted while it was down.
func (s *Server) orchestratorUp(now time.Duration) {
	s.mu.Lock()
	if s.inc != nil || s.stopped {
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	var lis net.Listener
	var err error
	// The old listener's port may linger a moment; try for a while, then give up loudly.
	for i := 0; i < 50; i++ {
		if lis, err = s.cfg.Listen(s.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.fail(fmt.Errorf("orchestrator restart: listen on %s: %w", s.addr, err))
		return
	}
	inc := s.newIncarnation(lis)
	s.mu.Lock()
	s.inc = inc
	held := s.held
	s.held = nil
	s.mu.Unlock()
	inc.p.call(func() {
		now := inc.p.now()
		inc.out.Reset()
		s.o.Restart(now, &inc.out)
		inc.startProbe(now)
		inc.apply(now)
		for _, spec := range held {
			inc.out.Reset()
			s.o.Submit(now, spec, &inc.out)
			inc.apply(now)
		}
	})
	go inc.serve()
}

func (s *Server) newIncarnation(lis net.Listener) *incarnation {
	inc := &incarnation{s: s, lis: lis, streams: map[model.NodeID]*serverStream{}, calls: map[uint32]chan rpcReply{}}
	inc.p = newProcess(s.clk, s.start, s.cfg.Lag)
	inc.p.host(s.o, &inc.out, inc.apply)
	fire := inc.p.onTimer
	inc.p.onTimer = func(now time.Duration, id model.TimerID) {
		if id == probeTimer {
			// The driver's own timer, for the harness lag: no participant's.
			inc.p.setTimer(model.TimerOp{ID: probeTimer, At: now + probeEvery})
			return
		}
		fire(now, id)
	}
	inc.gs = grpc.NewServer()
	h := &handlers{inc: inc}
	pbgrpc.RegisterTasksServiceServer(inc.gs, h)
	pbgrpc.RegisterOrchestratorServiceServer(inc.gs, h)
	hs := health.NewServer()
	for _, name := range []string{"", pbgrpc.TasksService_ServiceDesc.ServiceName, pbgrpc.OrchestratorService_ServiceDesc.ServiceName} {
		hs.SetServingStatus(name, healthpb.HealthCheckResponse_SERVING)
	}
	healthpb.RegisterHealthServer(inc.gs, hs)
	reflection.Register(inc.gs)
	return inc
}

// probeTimer is the driver's own timer on the orchestrator goroutine (no model timer id
// is all ones): it fires every probeEvery only so that the harness lag is sampled even
// while the model has no timer due, the way wrk2 measures its own lateness.
const (
	probeTimer model.TimerID = ^model.TimerID(0)
	probeEvery               = 10 * time.Millisecond
)

func (inc *incarnation) startProbe(now time.Duration) {
	if !inc.s.cfg.NoLagProbe {
		inc.p.setTimer(model.TimerOp{ID: probeTimer, At: now + probeEvery})
	}
}

func (inc *incarnation) serve() {
	// Serve returns when the server is stopped (a restart or the end of the run).
	_ = inc.gs.Serve(inc.lis)
}

// apply carries out the orchestrator's effects; it runs on the orchestrator goroutine.
func (inc *incarnation) apply(now time.Duration) {
	s := inc.s
	out := &inc.out
	for i := range out.Events {
		s.cfg.Observer.Observe(now, &out.Events[i])
	}
	for _, t := range out.Timers {
		inc.p.setTimer(t)
	}
	for i := range out.Send {
		m := &out.Send[i]
		switch m.Type {
		case model.MsgAssignment:
			a := s.mp.Assignment(m)
			s.cfg.Observer.Message(model.MsgAssignment, proto.Size(a))
			if m.To == queueNode {
				if s.js != nil {
					s.js.publish(m.Pool, a)
				}
				continue
			}
			if st := inc.streams[m.To]; st != nil {
				// The model sends one at a time per stream (it waits for SendDone), so
				// the channel has room; a full one would be a model bug, not a hang.
				select {
				case st.out <- a:
				default:
				}
			}
		case model.MsgHeartbeatReply, model.MsgCompleteReply:
			ch, ok := inc.calls[m.Call]
			if !ok {
				continue
			}
			delete(inc.calls, m.Call)
			r := rpcReply{code: m.Code}
			if m.Code == model.CodeOK {
				if m.Type == model.MsgHeartbeatReply {
					r.hb = s.mp.HeartbeatReply(m)
					s.cfg.Observer.Message(m.Type, proto.Size(r.hb))
				} else {
					r.complete = s.mp.CompleteReply(m)
					s.cfg.Observer.Message(m.Type, 0)
				}
			}
			ch <- r
		}
	}
	inc.p.arm()
	if s.cfg.Observer.AllSettled() {
		s.end(now)
	}
}

// end finishes the run: the server stops, Done closes.
func (s *Server) end(now time.Duration) {
	s.endOnce.Do(func() {
		s.mu.Lock()
		s.ended = now
		s.mu.Unlock()
		close(s.done)
	})
}

func (s *Server) fail(err error) {
	s.mu.Lock()
	if s.failErr == nil {
		s.failErr = err
	}
	s.mu.Unlock()
	s.end(s.ledger.now())
}

// Stop stops the server and the load; it is safe to call more than once.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	inc := s.inc
	s.inc = nil
	s.mu.Unlock()
	s.end(s.ledger.now())
	s.ledger.stop()
	if inc != nil {
		inc.gs.Stop()
		inc.p.stop()
	}
	if s.js != nil {
		s.js.stop()
	}
}

// JetStreamStats reads each pool's stream and consumer back from the NATS server
// (nil unless queue.kind is jetstream). Call it before Stop.
func (s *Server) JetStreamStats() []sim.JetStreamStats {
	if s.js == nil {
		return nil
	}
	return s.js.gauges()
}

// Err is the error that ended the run early, if any.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failErr
}

// EndedAt is the driver time at which the run ended (zero while it runs).
func (s *Server) EndedAt() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ended
}

// QueueStats are the pools' queue gauges now (zero while the orchestrator is down).
func (s *Server) QueueStats() []sim.PoolStats {
	ps := make([]sim.PoolStats, len(s.cfg.Scenario.Workers))
	for i, p := range s.cfg.Scenario.Workers {
		ps[i].Pool = p.Pool
	}
	s.mu.Lock()
	inc := s.inc
	s.mu.Unlock()
	if inc != nil {
		inc.p.call(func() {
			for i := range ps {
				ps[i].QueueDepth = int64(s.o.QueueDepth(int32(i)))
				ps[i].ConnectedWorkers = int64(s.o.ConnectedWorkers(int32(i)))
			}
		})
	}
	return ps
}

// poke fires the orchestrator's due timers now (tests with a mock clock).
func (s *Server) poke() {
	s.ledger.poke()
	s.mu.Lock()
	inc := s.inc
	s.mu.Unlock()
	if inc != nil {
		inc.p.poke()
	}
}

// truthHeader carries, between this process's own workers and orchestrator only, the
// ground truth a heartbeat or completion has beside the wire (the attempt the sender
// really runs, Message.Truth), so that the observer classifies stale results as a
// simulation does. The driver attaches it to what the orchestrator reports; the
// orchestrator itself is handed the request without it. A foreign peer never sends it,
// and it is ignored unless OwnWorkers.
const truthHeader = "x-tasksim-attempt"

func (s *Server) truthAttempt(ctx context.Context) uint32 {
	if !s.cfg.OwnWorkers {
		return 0
	}
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(truthHeader); len(v) == 1 {
		if n, err := strconv.ParseUint(v[0], 10, 32); err == nil {
			return uint32(n)
		}
	}
	return 0
}

// countRequest counts a request that arrived, unless this process's own workers, which
// count what they send, sent it.
func (s *Server) countRequest(t model.MsgType, req proto.Message) {
	if !s.cfg.OwnWorkers {
		s.cfg.Observer.Message(t, proto.Size(req))
	}
}

// handlers are the gRPC services of one incarnation.
type handlers struct {
	pbgrpc.UnimplementedTasksServiceServer
	pbgrpc.UnimplementedOrchestratorServiceServer
	inc *incarnation
}

var errDown = status.Error(codes.Unavailable, "orchestrator is restarting")

// grpcCodes pairs each model reply code that is an error with its gRPC status, for
// both directions (the server answers with it, a worker reads it back).
var grpcCodes = [...]struct {
	model model.Code
	grpc  codes.Code
}{
	{model.CodeNotFound, codes.NotFound},
	{model.CodeUnavailable, codes.Unavailable},
	{model.CodeInvalidArgument, codes.InvalidArgument},
	{model.CodeDeadlineExceeded, codes.DeadlineExceeded},
}

// grpcCode is the gRPC status of a model reply code.
func grpcCode(c model.Code) codes.Code {
	for _, p := range grpcCodes {
		if p.model == c {
			return p.grpc
		}
	}
	return codes.OK
}

// mapErr turns a wiremap rejection into the status PROTOCOL.md gives it.
func mapErr(err error) error {
	switch {
	case errors.Is(err, wiremap.ErrNotServed):
		return status.Error(codes.NotFound, err.Error())
	case errors.Is(err, wiremap.ErrInvalid):
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// unary runs one request on the orchestrator goroutine and waits for its reply.
func (h *handlers) unary(ctx context.Context, receive func(now time.Duration, call uint32) error) (rpcReply, error) {
	inc := h.inc
	ch := make(chan rpcReply, 1)
	var bad error
	ok := inc.p.call(func() {
		if inc.down {
			bad = errDown
			return
		}
		inc.nextCall++
		call := inc.nextCall
		inc.calls[call] = ch
		if err := receive(inc.p.now(), call); err != nil {
			delete(inc.calls, call)
			bad = err
		}
	})
	if !ok {
		return rpcReply{}, errDown
	}
	if bad != nil {
		return rpcReply{}, bad
	}
	select {
	case r := <-ch:
		if r.code != model.CodeOK {
			return r, status.Error(grpcCode(r.code), r.code.String())
		}
		return r, nil
	case <-ctx.Done():
		return rpcReply{}, status.FromContextError(ctx.Err()).Err()
	case <-inc.p.done:
		return rpcReply{}, errDown
	}
}

// deliver hands a request to the orchestrator and applies what it did, with the
// ground-truth attempt its sender attached for the observer (never for the
// orchestrator: model.Deliver keeps it away); the caller runs on the orchestrator's
// goroutine.
func (inc *incarnation) deliver(ctx context.Context, now time.Duration, m model.Message) {
	m.Truth.Attempt = inc.s.truthAttempt(ctx)
	inc.out.Reset()
	model.Deliver(inc.s.o, now, m, &inc.out)
	inc.apply(now)
}

func (h *handlers) TaskHeartbeat(ctx context.Context, req *pb.TaskHeartbeatRequest) (*pb.TaskHeartbeatResponse, error) {
	inc := h.inc
	r, err := h.unary(ctx, func(now time.Duration, call uint32) error {
		m, err := inc.s.mp.FromHeartbeat(req)
		if err != nil {
			return mapErr(err)
		}
		inc.s.countRequest(model.MsgHeartbeat, req)
		m.From, m.To, m.Call = m.Worker, orchestratorNode, call
		inc.deliver(ctx, now, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.hb, nil
}

func (h *handlers) CompleteTask(ctx context.Context, req *pb.CompleteTaskRequest) (*pb.CompleteTaskResponse, error) {
	inc := h.inc
	r, err := h.unary(ctx, func(now time.Duration, call uint32) error {
		m, err := inc.s.mp.FromComplete(req)
		if err != nil {
			return mapErr(err)
		}
		inc.s.countRequest(model.MsgComplete, req)
		// CompleteTask names no worker: the RPC is its only sender.
		m.From, m.To, m.Call = wiremap.ForeignWorker, orchestratorNode, call
		inc.deliver(ctx, now, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r.complete, nil
}

func (h *handlers) GetOrchestratorForRun(_ context.Context, req *pb.GetOrchestratorForRunRequest) (*pb.GetOrchestratorForRunResponse, error) {
	inc := h.inc
	var known bool
	if !inc.p.call(func() {
		run, ok := inc.s.mp.Runs.Parse(req.GetRunId())
		known = ok && run < uint64(inc.s.nextStep.Load())
	}) {
		return nil, errDown
	}
	if !known {
		return nil, status.Errorf(codes.NotFound, "run %q is not on this orchestrator", req.GetRunId())
	}
	return &pb.GetOrchestratorForRunResponse{OrchestratorServiceUrl: inc.s.url}, nil
}

func (h *handlers) PullTasks(req *pb.PullTasksRequest, stream grpc.ServerStreamingServer[pb.TaskAssignment]) error {
	inc := h.inc
	var st *serverStream
	var bad error
	ok := inc.p.call(func() {
		if inc.down {
			bad = errDown
			return
		}
		m, err := inc.s.mp.FromPullTasks(req)
		if err != nil {
			bad = mapErr(err)
			return
		}
		inc.s.countRequest(model.MsgPullTasks, req)
		node := m.Worker
		if node == -1 {
			// No worker_id: the stream is a worker of its own.
			inc.anon++
			node = inc.s.mp.WorkerID(fmt.Sprintf("\x00anonymous stream %d", inc.anon))
		}
		if old := inc.streams[node]; old != nil {
			close(old.end) // a new stream replaces the old one
		}
		st = &serverStream{node: node, out: make(chan *pb.TaskAssignment, 4), end: make(chan struct{})}
		inc.streams[node] = st
		m.From, m.To, m.Worker = node, orchestratorNode, node
		now := inc.p.now()
		inc.out.Reset()
		model.Deliver(inc.s.o, now, m, &inc.out)
		inc.apply(now)
	})
	if !ok {
		return errDown
	}
	if bad != nil {
		return bad
	}
	ctx := stream.Context()
	for {
		select {
		case a := <-st.out:
			if err := stream.Send(a); err != nil {
				h.disconnect(st)
				return err
			}
			inc.p.post(func() {
				if inc.streams[st.node] != st || inc.down {
					return
				}
				now := inc.p.now()
				inc.out.Reset()
				inc.s.o.SendDone(now, st.node, &inc.out)
				inc.apply(now)
			})
		case <-st.end:
			return nil
		case <-ctx.Done():
			h.disconnect(st)
			return status.FromContextError(ctx.Err()).Err()
		case <-inc.p.done:
			return errDown
		}
	}
}

// disconnect tells the orchestrator a stream broke; whatever was sent on it and not read
// is lost with it.
func (h *handlers) disconnect(st *serverStream) {
	inc := h.inc
	inc.p.post(func() {
		if inc.streams[st.node] != st || inc.down {
			return
		}
		delete(inc.streams, st.node)
		now := inc.p.now()
		inc.out.Reset()
		inc.s.o.Disconnect(now, st.node, &inc.out)
		inc.apply(now)
	})
}
