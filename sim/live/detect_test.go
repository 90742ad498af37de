package live

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/tasksim/tasksim/model"
	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/sim"
)

// mockServer starts a Server for cfg on an in-memory connection with a mock clock, and a
// client connection to it. Both are closed when the test ends.
func mockServer(t *testing.T, cfg *sim.Config) (*Server, *clock.Mock, *grpc.ClientConn, *Observer) {
	t.Helper()
	return mockServerWith(t, ServerConfig{Scenario: cfg})
}

// mockServerWith is mockServer for a ServerConfig whose other fields (e.g. OwnWorkers)
// the test sets; the address, clock, listener, observer and lag meter are its own.
func mockServerWith(t *testing.T, sc ServerConfig) (*Server, *clock.Mock, *grpc.ClientConn, *Observer) {
	t.Helper()
	mock := clock.NewMock()
	lis := bufconn.Listen(1 << 20)
	obs := NewObserver(sc.Scenario)
	sc.Addr, sc.Clock, sc.Observer, sc.Lag, sc.NoLagProbe = "bufnet", mock, obs, NewLagMeter(), true
	sc.Listen = func(string) (net.Listener, error) { return lis, nil }
	srv, err := StartServer(sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("passthrough:///bufnet", grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return srv, mock, conn, obs
}

// advanceTo moves the mock clock to at (since start) and has the server fire what is due.
func advanceTo(srv *Server, mock *clock.Mock, at time.Duration) {
	mock.Set(srv.start.Add(at))
	srv.poke()
}

// A worker that stops heartbeating at t is failed by the deadline detector at exactly
// t+5s, and by the scan detector at the scan instant, through the whole gRPC path: a
// real PullTasks stream, real TaskHeartbeat calls, the orchestrator's timers on the
// driver's clock.
func TestDetectionInstantsOverGRPC(t *testing.T) {
	const lastBeat = 3 * time.Second
	for _, tc := range []struct {
		det      model.Detector
		failAt   time.Duration // when the orchestrator must fail the task
		sinceHB  float64       // detection.since_last_heartbeat, seconds
		scanNote string
	}{
		{model.DetectorDeadline, lastBeat + 5*time.Second, 5, "last heartbeat + timeout"},
		{model.DetectorScan, 10 * time.Second, 7, "the scan at 10s: the one at 5s saw heartbeats"},
	} {
		t.Run(string(tc.det), func(t *testing.T) {
			cfg := smallScenario(1, 1, model.FlavourPython, tc.det)
			srv, mock, conn, obs := mockServer(t, cfg)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tasks, orch := pbgrpc.NewTasksServiceClient(conn), pbgrpc.NewOrchestratorServiceClient(conn)
			const worker = "3f1c2a9e-0000-4000-9000-000000000001"
			stream, err := tasks.PullTasks(ctx, &pb.PullTasksRequest{QueueName: "default", WorkerId: worker})
			if err != nil {
				t.Fatal(err)
			}
			advanceTo(srv, mock, 0) // the step arrives at 0
			a, err := stream.Recv()
			if err != nil {
				t.Fatal(err)
			}
			if a.GetContext().GetOrchestratorServiceUrl() != srv.URL() || a.GetContext().GetRootRunId() == "" {
				t.Fatalf("assignment context %v", a.GetContext())
			}
			for at := time.Duration(0); at <= lastBeat; at += time.Second {
				advanceTo(srv, mock, at)
				r, err := orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: a.TaskId, WorkerId: worker})
				if err != nil || r.Status != pb.TaskStatus_TASK_STATUS_IN_PROGRESS {
					t.Fatalf("heartbeat at %v: %v %v", at, r, err)
				}
			}
			advanceTo(srv, mock, tc.failAt-time.Millisecond)
			if n := obs.Result(tc.failAt, nil).Summary.Timeouts.Heartbeat; n != 0 {
				t.Fatalf("failed before %v", tc.failAt)
			}
			advanceTo(srv, mock, tc.failAt)
			s := obs.Result(tc.failAt, nil).Summary
			d := s.Detection.SinceLastHeartbeat
			if s.Timeouts.Heartbeat != 1 || d.Min != tc.sinceHB || d.Max != tc.sinceHB {
				t.Fatalf("at %v (%s): %d heartbeat timeouts, since last heartbeat %+v; want 1 at %vs",
					tc.failAt, tc.scanNote, s.Timeouts.Heartbeat, d, tc.sinceHB)
			}
		})
	}
}

// Bad requests get PROTOCOL.md's status codes, never a crash; SubmitRun is
// UNIMPLEMENTED; health answers SERVING; a stream that goes away costs only its pipe.
func TestBadRequestsAndHealth(t *testing.T) {
	cfg := smallScenario(1, 1, model.FlavourPython, model.DetectorDeadline)
	srv, _, conn, _ := mockServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tasks, orch := pbgrpc.NewTasksServiceClient(conn), pbgrpc.NewOrchestratorServiceClient(conn)
	check := func(what string, err error, want codes.Code) {
		t.Helper()
		if status.Code(err) != want {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
	}
	_, err := orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: "x"})
	check("heartbeat without worker_id", err, codes.InvalidArgument)
	_, err = orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: "not-a-task", WorkerId: "w"})
	check("heartbeat for an unknown task", err, codes.NotFound)
	_, err = orch.CompleteTask(ctx, &pb.CompleteTaskRequest{TaskId: "x"})
	check("completion without a result", err, codes.InvalidArgument)
	_, err = orch.CompleteTask(ctx, &pb.CompleteTaskRequest{TaskId: "x", Result: &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{}}})
	check("completion of an unknown task", err, codes.NotFound)
	s, err := tasks.PullTasks(ctx, &pb.PullTasksRequest{QueueName: "nobody-serves-this"})
	if err == nil {
		_, err = s.Recv()
	}
	check("PullTasks on an unknown queue", err, codes.NotFound)
	_, err = tasks.GetOrchestratorForRun(ctx, &pb.GetOrchestratorForRunRequest{RunId: "run-of-someone-else"})
	check("GetOrchestratorForRun of an unknown run", err, codes.NotFound)
	err = conn.Invoke(ctx, "/stepflow.v1.OrchestratorService/SubmitRun", &emptypb.Empty{}, &emptypb.Empty{})
	check("SubmitRun", err, codes.Unimplemented)
	err = conn.Invoke(ctx, "/stepflow.v1.OrchestratorService/GetRun", &emptypb.Empty{}, &emptypb.Empty{})
	check("GetRun", err, codes.Unimplemented)

	// A client that opens a stream and vanishes: the server goes on serving.
	gone, cancelGone := context.WithCancel(ctx)
	if _, err := tasks.PullTasks(gone, &pb.PullTasksRequest{QueueName: "default", WorkerId: "gone"}); err != nil {
		t.Fatal(err)
	}
	cancelGone()
	for _, svc := range []string{"", "stepflow.v1.TasksService", "stepflow.v1.OrchestratorService"} {
		r, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil || r.Status != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health of %q: %v %v", svc, r, err)
		}
	}
	_ = srv
}
