package conform

import (
	"context"
	"fmt"
	"net"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	pb "github.com/tasksim/tasksim/model/stepflowpb"

	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
)

// eventKind is what the scripted orchestrator saw.
type eventKind uint8

const (
	evPull     eventKind = iota + 1 // a PullTasks stream opened
	evPullEnd                       // a PullTasks stream ended (worker gone, or broken by the script)
	evBeat                          // a TaskHeartbeat arrived
	evBeatEnd                       // a held TaskHeartbeat ended because the client gave up on it
	evComplete                      // a CompleteTask arrived
	evExit                          // the worker process exited
	evDispatch                      // an assignment was written to a stream
)

// event is one observation, timed from the server's start.
type event struct {
	At     time.Duration
	Kind   eventKind
	Task   string
	Worker string
	// Deadline is how long the client allowed the RPC (its grpc-timeout), 0 for none.
	Deadline time.Duration
	// Result describes a CompleteTask's result: "response", "error COMPONENT_FAILED",
	// "list_components" (with Components).
	Result     string
	Components []string
	// Code is the gRPC code conform answered with (or the stream ended with).
	Code codes.Code
	// Exit describes how the process ended.
	Exit string
}

// answer is how the script answers one heartbeat.
type answer struct {
	code   codes.Code
	status pb.TaskStatus
	abort  bool
	// hold, when set: do not answer until it is closed; the call ends earlier only if
	// the client gives up on it (a deadline or a cancel).
	hold <-chan struct{}
}

// script says how conform answers the RPCs of one task. n counts from 1 (the claim is
// heartbeat 1).
type script struct {
	beat     func(n int) answer
	complete func(n int) codes.Code
}

func inProgress(int) answer {
	return answer{code: codes.OK, status: pb.TaskStatus_TASK_STATUS_IN_PROGRESS}
}
func completeOK(int) codes.Code                       { return codes.OK }
func defaultScript() *script                          { return &script{beat: inProgress, complete: completeOK} }
func (s *script) withBeat(f func(int) answer) *script { s.beat = f; return s }
func (s *script) withComplete(f func(int) codes.Code) *script {
	s.complete = f
	return s
}

// pullMode is how PullTasks calls are treated.
type pullMode uint8

const (
	pullServe  pullMode = iota // serve assignments
	pullRefuse                 // answer UNAVAILABLE at once (the orchestrator is not there)
)

// server is the scripted orchestrator: both services on one loopback listener. Every call
// is logged with its time; answers come from per-task scripts.
type server struct {
	pbgrpc.UnimplementedTasksServiceServer
	pbgrpc.UnimplementedOrchestratorServiceServer

	start time.Time
	addr  string
	gs    *grpc.Server
	lag   *lagProbe

	mu      sync.Mutex
	changed *sync.Cond
	events  []event
	scripts map[string]*script
	beats   map[string]int // heartbeats per task
	dones   map[string]int // CompleteTask calls per task
	mode    pullMode
	// streams are the open PullTasks streams, newest last.
	streams []*stream
	release chan struct{} // closed to end every held heartbeat
	// conns counts the worker's open connections; lastClose is when the last one of
	// them closed (see note).
	conns     int
	lastClose time.Duration
}

// connTracker counts the server's connections (grpc stats: ConnBegin, ConnEnd).
type connTracker struct{ s *server }

func (c connTracker) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (c connTracker) HandleRPC(context.Context, stats.RPCStats)                         {}
func (c connTracker) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (c connTracker) HandleConn(_ context.Context, st stats.ConnStats) {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	switch st.(type) {
	case *stats.ConnBegin:
		c.s.conns++
	case *stats.ConnEnd:
		c.s.conns--
		if c.s.conns == 0 {
			c.s.lastClose = c.s.now()
		}
	}
}

// stream is one open PullTasks call.
type stream struct {
	out    chan *pb.TaskAssignment
	broken chan struct{}
	worker string
}

// listen starts the server on 127.0.0.1 (port 0: a free one).
func listen(port int) (*server, error) {
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return nil, fmt.Errorf("conform: listen on loopback: %w", err)
	}
	s := &server{
		start: time.Now(), addr: ln.Addr().String(),
		scripts: map[string]*script{}, beats: map[string]int{}, dones: map[string]int{},
		release: make(chan struct{}),
	}
	s.gs = grpc.NewServer(grpc.StatsHandler(connTracker{s}))
	s.changed = sync.NewCond(&s.mu)
	pbgrpc.RegisterTasksServiceServer(s.gs, s)
	pbgrpc.RegisterOrchestratorServiceServer(s.gs, s)
	s.lag = startLagProbe(s.now)
	go func() { _ = s.gs.Serve(ln) }()
	return s, nil
}

// stop ends every call and closes the listener.
func (s *server) stop() {
	s.mu.Lock()
	select {
	case <-s.release:
	default:
		close(s.release)
	}
	s.mu.Unlock()
	s.gs.Stop()
	s.lag.stop()
}

func (s *server) now() time.Duration { return time.Since(s.start) }

// record appends an event and wakes every waiter. Callers hold s.mu.
func (s *server) record(e event) {
	e.At = s.now()
	s.events = append(s.events, e)
	s.changed.Broadcast()
}

// processStarting forgets when an earlier process's connections closed.
func (s *server) processStarting() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lastClose = 0
}

// note records an event from outside a call (process exit). A process that exits with
// none of its connections open was gone from the network when the last one closed, and
// that is its exit as the protocol sees it: a harness such as `tasksim workers` writes
// its report after its workers have ended, while an SDK process's sockets close as it
// exits, so for it the two are the same instant.
func (s *server) note(e event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.Kind == evExit && s.conns == 0 && s.lastClose > 0 {
		e.At = s.lastClose
		s.events = append(s.events, e)
		s.changed.Broadcast()
		return
	}
	s.record(e)
}

// setScript registers task id with its script; an unregistered task gets NOT_FOUND, as
// the reference orchestrator answers a task it does not track.
func (s *server) setScript(task string, sc *script) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scripts[task] = sc
}

func (s *server) setMode(m pullMode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// count is the number of events so far.
func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.events)
}

// snapshot returns a copy of the events so far.
func (s *server) snapshot() []event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]event(nil), s.events...)
}

// waitUntil blocks until cond holds on the events (from index from) or the deadline
// passes; it reports whether cond held.
func (s *server) waitUntil(ctx context.Context, deadline time.Duration, cond func([]event) bool) bool {
	timer := time.AfterFunc(max(0, deadline-s.now()), func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer timer.Stop()
	stopWake := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.changed.Broadcast()
		s.mu.Unlock()
	})
	defer stopWake()
	s.mu.Lock()
	defer s.mu.Unlock()
	for {
		if cond(s.events) {
			return true
		}
		if s.now() >= deadline || ctx.Err() != nil {
			return false
		}
		s.changed.Wait()
	}
}

// sleepUntil waits until the server's clock reaches at.
func (s *server) sleepUntil(ctx context.Context, at time.Duration) {
	s.waitUntil(ctx, at, func([]event) bool { return false })
}

// dispatch writes an assignment to the newest open stream, waiting up to 5s for one.
func (s *server) dispatch(ctx context.Context, a *pb.TaskAssignment) error {
	var st *stream
	ok := s.waitUntil(ctx, s.now()+5*time.Second, func([]event) bool {
		if len(s.streams) > 0 {
			st = s.streams[len(s.streams)-1]
			return true
		}
		return false
	})
	if !ok {
		return fmt.Errorf("no PullTasks stream open to send task %s to", a.GetTaskId())
	}
	select {
	case st.out <- a:
		return nil
	case <-st.broken:
		return fmt.Errorf("the stream broke before task %s was sent", a.GetTaskId())
	case <-ctx.Done():
		return ctx.Err()
	}
}

// breakStreams ends every open PullTasks stream with UNAVAILABLE, as a broken
// connection looks to the worker.
func (s *server) breakStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.streams {
		close(st.broken)
	}
	s.streams = nil
}

// PullTasks serves the assignments conform dispatches, or refuses in pullRefuse mode.
func (s *server) PullTasks(req *pb.PullTasksRequest, srv grpc.ServerStreamingServer[pb.TaskAssignment]) error {
	st := &stream{out: make(chan *pb.TaskAssignment), broken: make(chan struct{}), worker: req.GetWorkerId()}
	s.mu.Lock()
	refuse := s.mode == pullRefuse
	if refuse {
		s.record(event{Kind: evPull, Worker: st.worker, Code: codes.Unavailable})
		s.mu.Unlock()
		return status.Error(codes.Unavailable, "conform: orchestrator unavailable (scripted)")
	}
	s.record(event{Kind: evPull, Worker: st.worker})
	s.streams = append(s.streams, st)
	s.mu.Unlock()
	end := func(code codes.Code) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.streams {
			if x == st {
				s.streams = append(s.streams[:i], s.streams[i+1:]...)
				break
			}
		}
		s.record(event{Kind: evPullEnd, Worker: st.worker, Code: code})
	}
	// Headers at once, as a server that accepts the stream sends them, so that a client
	// can tell an accepted stream from one still connecting.
	if err := srv.SendHeader(metadata.MD{}); err != nil {
		end(status.Code(err))
		return err
	}
	for {
		select {
		case a := <-st.out:
			if err := srv.Send(a); err != nil {
				end(status.Code(err))
				return err
			}
			s.mu.Lock()
			s.record(event{Kind: evDispatch, Task: a.GetTaskId(), Worker: st.worker})
			s.mu.Unlock()
		case <-st.broken:
			end(codes.Unavailable)
			return status.Error(codes.Unavailable, "conform: stream broken (scripted)")
		case <-srv.Context().Done():
			end(codes.Canceled)
			return srv.Context().Err()
		}
	}
}

// GetOrchestratorForRun points every run at this server.
func (s *server) GetOrchestratorForRun(context.Context, *pb.GetOrchestratorForRunRequest) (*pb.GetOrchestratorForRunResponse, error) {
	return &pb.GetOrchestratorForRunResponse{OrchestratorServiceUrl: s.addr}, nil
}

// deadlineOf is how long the client gave the call, 0 when it set no deadline.
func deadlineOf(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		return max(time.Until(d), time.Millisecond)
	}
	return 0
}

// TaskHeartbeat answers as the task's script says.
func (s *server) TaskHeartbeat(ctx context.Context, req *pb.TaskHeartbeatRequest) (*pb.TaskHeartbeatResponse, error) {
	task := req.GetTaskId()
	s.mu.Lock()
	sc, known := s.scripts[task]
	s.beats[task]++
	a := answer{code: codes.NotFound}
	if known {
		a = sc.beat(s.beats[task])
	}
	ev := event{Kind: evBeat, Task: task, Worker: req.GetWorkerId(), Deadline: deadlineOf(ctx), Code: a.code}
	s.record(ev)
	release := s.release
	s.mu.Unlock()
	if a.hold != nil {
		select {
		case <-ctx.Done():
			s.note(event{Kind: evBeatEnd, Task: task, Worker: req.GetWorkerId(), Code: status.FromContextError(ctx.Err()).Code()})
			return nil, ctx.Err()
		case <-a.hold:
			return nil, status.Error(codes.Unavailable, "conform: held heartbeat released")
		case <-release:
			return nil, status.Error(codes.Unavailable, "conform: held heartbeat released")
		}
	}
	if a.code != codes.OK {
		return nil, status.Error(a.code, "conform: scripted answer")
	}
	return &pb.TaskHeartbeatResponse{ShouldAbort: a.abort, Status: a.status}, nil
}

// CompleteTask answers as the task's script says.
func (s *server) CompleteTask(ctx context.Context, req *pb.CompleteTaskRequest) (*pb.CompleteTaskResponse, error) {
	task := req.GetTaskId()
	s.mu.Lock()
	defer s.mu.Unlock()
	sc, known := s.scripts[task]
	s.dones[task]++
	code := codes.NotFound
	if known {
		code = sc.complete(s.dones[task])
	}
	ev := event{Kind: evComplete, Task: task, Deadline: deadlineOf(ctx), Code: code}
	switch r := req.GetResult().(type) {
	case *pb.CompleteTaskRequest_Response:
		ev.Result = "response"
	case *pb.CompleteTaskRequest_Error:
		ev.Result = "error " + shortCode(r.Error.GetCode())
	case *pb.CompleteTaskRequest_ListComponents:
		ev.Result = "list_components"
		for _, c := range r.ListComponents.GetComponents() {
			ev.Components = append(ev.Components, c.GetComponentId())
		}
	default:
		ev.Result = "none"
	}
	s.record(ev)
	if code != codes.OK {
		return nil, status.Error(code, "conform: scripted answer")
	}
	return &pb.CompleteTaskResponse{}, nil
}

// shortCode is a TaskErrorCode without its TASK_ERROR_CODE_ prefix.
func shortCode(c pb.TaskErrorCode) string {
	const prefix = "TASK_ERROR_CODE_"
	n := c.String()
	if len(n) > len(prefix) && n[:len(prefix)] == prefix {
		return n[len(prefix):]
	}
	return n
}
