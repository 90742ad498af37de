package live

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/tasksim/tasksim/model"
	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/sim/latency"
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
	// Deadlines still move on every heartbeat; none fires while the load is set up.
	srv, lag, conns, ids := claimedTasks(b, time.Hour)
	defer srv.Stop()
	lag.Reset() // the claims' burst is set-up, not the load measured
	heartbeatLoad(b, conns, func(i int64) *pb.TaskHeartbeatRequest {
		return &pb.TaskHeartbeatRequest{TaskId: ids[i%benchTasks], WorkerId: benchWorker}
	})
	reportLag(b, lag)
}

// BenchmarkPacedHeartbeats asks whether `serve` sustains benchTasks tasks heartbeating
// once a second each, as that many running SDK tasks would, against the deadline
// detector with its real 5s timeout (a task whose beats stop for 5s is failed). Every
// task has its own loop on a fixed schedule, task i at i/benchTasks of each second; a
// loop that falls a whole period behind skips the beats it missed, as a ticker does. One
// op is one second of that load. Sustained means heartbeats/s near benchTasks with missed
// 0 and not-in-progress 0 (every answer IN_PROGRESS), late-p99-ms (each answer against
// the instant its beat was due, so a stalled server is not hidden by callers that wait
// for it, as in wrk2) well under the 1s period, and the orchestrator's lag-p99-ms under 20.
func BenchmarkPacedHeartbeats(b *testing.B) {
	srv, lag, conns, ids := claimedTasks(b, 5*time.Second)
	defer srv.Stop()
	lag.Reset() // the claims' burst is set-up, not the load measured
	b.ResetTimer()
	start := time.Now()
	end := start.Add(time.Duration(b.N) * time.Second)
	var sent, missed, bad atomic.Int64
	var mu sync.Mutex
	late := latency.New()
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := pbgrpc.NewOrchestratorServiceClient(conns[i%len(conns)])
			req := &pb.TaskHeartbeatRequest{TaskId: id, WorkerId: benchWorker}
			// A plain slice, merged at the end: a Recorder per loop would be 10,000 HDR
			// histograms of 300 KiB, 3 GB that the collector would scan all the time.
			mine := make([]time.Duration, 0, b.N)
			for due := start.Add(time.Duration(i) * time.Second / benchTasks); due.Before(end); due = due.Add(time.Second) {
				if behind := time.Since(due); behind >= time.Second {
					skip := behind / time.Second
					missed.Add(int64(skip))
					due = due.Add(skip * time.Second)
					if !due.Before(end) {
						break
					}
				}
				time.Sleep(time.Until(due))
				// A bound on the call keeps the benchmark finite when the server cannot keep up.
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				resp, err := c.TaskHeartbeat(ctx, req)
				cancel()
				mine = append(mine, time.Since(due))
				sent.Add(1)
				if err != nil || resp.GetStatus() != pb.TaskStatus_TASK_STATUS_IN_PROGRESS || resp.GetShouldAbort() {
					bad.Add(1)
				}
			}
			mu.Lock()
			for _, d := range mine {
				late.Record(d)
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(sent.Load())/time.Since(start).Seconds(), "heartbeats/s")
	b.ReportMetric(float64(late.Quantile(0.99))/float64(time.Millisecond), "late-p99-ms")
	b.ReportMetric(float64(missed.Load()), "missed")
	b.ReportMetric(float64(bad.Load()), "not-in-progress")
	reportLag(b, lag)
}

// benchWorker is the worker id that claims every task of the benchmarks.
const benchWorker = "3f1c2a9e-0000-4000-9000-0000000000aa"

// claimedTasks starts `serve` with benchTasks tasks and the deadline detector at timeout,
// and claims every task on benchWorker's behalf from 32 callers (quickly: with a 5s
// timeout the first claimed must beat again soon); it returns 8 connections to it.
func claimedTasks(b *testing.B, timeout time.Duration) (*Server, *LagMeter, []*grpc.ClientConn, []string) {
	cfg := smallScenario(1, benchTasks, model.FlavourPython, model.DetectorDeadline)
	cfg.Duration = time.Hour
	cfg.Orchestrator.QueueTimeout = time.Hour
	cfg.Orchestrator.HeartbeatTimeout = timeout
	lag := NewLagMeter()
	srv, err := StartServer(ServerConfig{Scenario: cfg, Addr: "127.0.0.1:0", Observer: NewObserver(cfg), Lag: lag})
	if err != nil {
		b.Fatal(err)
	}
	conns := dialN(b, srv.Addr(), 8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	stream, err := pbgrpc.NewTasksServiceClient(conns[0]).PullTasks(ctx, &pb.PullTasksRequest{QueueName: "default", WorkerId: benchWorker})
	if err != nil {
		srv.Stop()
		b.Fatal(err)
	}
	assigned := make(chan string, 64)
	var claimErr atomic.Value
	var mu sync.Mutex
	ids := make([]string, 0, benchTasks)
	var wg sync.WaitGroup
	for k := 0; k < 32; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			orch := pbgrpc.NewOrchestratorServiceClient(conns[k%len(conns)])
			for id := range assigned {
				if _, err := orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: id, WorkerId: benchWorker}); err != nil {
					claimErr.CompareAndSwap(nil, err)
					continue
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		}()
	}
	var recvErr error
	for n := 0; n < benchTasks; {
		a, err := stream.Recv()
		if err != nil {
			recvErr = err
			break
		}
		if a.GetExecute() != nil {
			assigned <- a.TaskId
			n++
		}
	}
	close(assigned)
	wg.Wait()
	if recvErr != nil || claimErr.Load() != nil || len(ids) != benchTasks {
		srv.Stop()
		b.Fatalf("claimed %d of %d tasks: stream %v, claim %v", len(ids), benchTasks, recvErr, claimErr.Load())
	}
	return srv, lag, conns, ids
}

// reportLag reports the orchestrator's harness lag over the timers fired since the
// meter's reset (its 10ms probe among them, so there are samples even when no model
// timer is due).
func reportLag(b *testing.B, lag *LagMeter) {
	l := lag.Snapshot()
	b.ReportMetric(float64(l.Quantile(0.99))/float64(time.Millisecond), "lag-p99-ms")
	b.ReportMetric(float64(l.Count()), "timers")
}

// bareServer answers every heartbeat IN_PROGRESS at once: the floor for this machine.
type bareServer struct {
	pbgrpc.UnimplementedOrchestratorServiceServer
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
	pbgrpc.RegisterOrchestratorServiceServer(gs, bareServer{})
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

// heartbeatLoad sends b.N heartbeats from 32 concurrent callers over conns and reports
// the rate and the callers' round-trip p99, so that every row can be judged alike.
func heartbeatLoad(b *testing.B, conns []*grpc.ClientConn, req func(i int64) *pb.TaskHeartbeatRequest) {
	var next, conn atomic.Int64
	var mu sync.Mutex
	rtt := latency.New()
	b.SetParallelism(32)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(p *testing.PB) {
		c := pbgrpc.NewOrchestratorServiceClient(conns[conn.Add(1)%int64(len(conns))])
		ctx := context.Background()
		mine := latency.New()
		defer func() {
			mu.Lock()
			rtt.Merge(mine)
			mu.Unlock()
		}()
		for p.Next() {
			sent := time.Now()
			if _, err := c.TaskHeartbeat(ctx, req(next.Add(1))); err != nil {
				b.Error(err)
				return
			}
			mine.Record(time.Since(sent))
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "heartbeats/s")
	b.ReportMetric(float64(rtt.Quantile(0.99))/float64(time.Millisecond), "rtt-p99-ms")
}
