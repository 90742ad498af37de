package live

import (
	"context"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/sim"
)

// benchTasks is how many tasks heartbeat concurrently in the benchmarks.
const benchTasks = 10000

// BenchmarkHeartbeats measures how many TaskHeartbeat calls per second `tasksim serve`
// answers on loopback TCP, with benchTasks claimed tasks heartbeating round robin from
// several connections, and reports the harness lag of the orchestrator's timers. Compare
// with BenchmarkBareHeartbeats, a grpc-go server that answers the same message at once:
//
//	go test -run '^$' -bench Heartbeats -benchtime 5s ./sim/live/
func BenchmarkHeartbeats(b *testing.B) {
	cfg := smallScenario(1, benchTasks, sim.FlavourPython, sim.DetectorDeadline)
	cfg.Duration = time.Hour
	cfg.Orchestrator.QueueTimeout = time.Hour
	// Deadlines still move on every heartbeat; none fires while the load is set up.
	cfg.Orchestrator.HeartbeatTimeout = time.Hour
	lag := NewLagMeter()
	srv, err := StartServer(ServerConfig{Scenario: cfg, Addr: "127.0.0.1:0", Observer: NewObserver(cfg), Lag: lag})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Stop()
	conns := dialN(b, srv.Addr(), 8)
	ctx := context.Background()
	const worker = "3f1c2a9e-0000-4000-9000-0000000000aa"
	stream, err := pb.NewTasksServiceClient(conns[0]).PullTasks(ctx, &pb.PullTasksRequest{QueueName: "default", WorkerId: worker})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, 0, benchTasks)
	orch := pb.NewOrchestratorServiceClient(conns[0])
	for len(ids) < benchTasks {
		a, err := stream.Recv()
		if err != nil {
			b.Fatal(err)
		}
		if a.GetExecute() == nil {
			continue
		}
		if _, err := orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: a.TaskId, WorkerId: worker}); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, a.TaskId)
	}
	before := lag.Snapshot().Count()
	heartbeatLoad(b, conns, func(i int64) *pb.TaskHeartbeatRequest {
		return &pb.TaskHeartbeatRequest{TaskId: ids[i%benchTasks], WorkerId: worker}
	})
	l := lag.Snapshot()
	b.ReportMetric(float64(l.Quantile(0.99))/float64(time.Millisecond), "lag-p99-ms")
	b.ReportMetric(float64(l.Count()-before), "timers")
}

// bareServer answers every heartbeat IN_PROGRESS at once: the floor for this machine.
type bareServer struct {
	pb.UnimplementedOrchestratorServiceServer
}

func (bareServer) TaskHeartbeat(context.Context, *pb.TaskHeartbeatRequest) (*pb.TaskHeartbeatResponse, error) {
	return &pb.TaskHeartbeatResponse{Status: pb.TaskStatus_TASK_STATUS_IN_PROGRESS}, nil
}

// BenchmarkBareHeartbeats is BenchmarkHeartbeats against a bare grpc-go unary server.
func BenchmarkBareHeartbeats(b *testing.B) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	gs := grpc.NewServer()
	pb.RegisterOrchestratorServiceServer(gs, bareServer{})
	go func() { _ = gs.Serve(lis) }()
	defer gs.Stop()
	conns := dialN(b, lis.Addr().String(), 8)
	heartbeatLoad(b, conns, func(i int64) *pb.TaskHeartbeatRequest {
		return &pb.TaskHeartbeatRequest{TaskId: "00000000-0000-4000-8000-000000000001", WorkerId: "w"}
	})
}

func dialN(b *testing.B, addr string, n int) []*grpc.ClientConn {
	var conns []*grpc.ClientConn
	for i := 0; i < n; i++ {
		c, err := grpc.NewClient("passthrough:///"+addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	return conns
}

// heartbeatLoad sends b.N heartbeats from 64 concurrent callers over conns and reports
// the rate.
func heartbeatLoad(b *testing.B, conns []*grpc.ClientConn, req func(i int64) *pb.TaskHeartbeatRequest) {
	var next, conn atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(p *testing.PB) {
		c := pb.NewOrchestratorServiceClient(conns[conn.Add(1)%int64(len(conns))])
		ctx := context.Background()
		for p.Next() {
			if _, err := c.TaskHeartbeat(ctx, req(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "heartbeats/s")
}
