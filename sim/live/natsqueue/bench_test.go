package natsqueue

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"

	pb "github.com/tasksim/tasksim/model/stepflowpb"

	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	"github.com/tasksim/tasksim/model/wire"
)

// The two dispatch paths side by side, each with one orchestrator and one worker on
// loopback and a 512 B input (a ~700 B TaskAssignment):
//
//	go test -run '^$' -bench Dispatch -benchtime 5000x ./sim/live/natsqueue/
//
// jetstream: the orchestrator publishes each assignment and awaits the stream's ack (as
// Stepflow's does); the worker fetches one message at a time and acks it on receipt (no
// read-ahead, as Stepflow's NATS workers do). grpc-pull: the orchestrator sends on the
// worker's PullTasks stream, which HTTP/2 flow control alone paces.
func BenchmarkDispatch(b *testing.B) {
	assignment, err := proto.Marshal(wire.SampleMessages(512).TaskAssignment)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("jetstream-embedded", func(b *testing.B) { benchJetStream(b, assignment) })
	b.Run("grpc-pull-stream", func(b *testing.B) { benchPullStream(b, assignment) })
}

func benchJetStream(b *testing.B, assignment []byte) {
	s, err := StartServer(ServerConfig{Name: "bench", StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Stop()
	ctx := context.Background()
	pnc, pjs, err := Connect(s.URL(), "orchestrator")
	if err != nil {
		b.Fatal(err)
	}
	defer pnc.Close()
	cnc, cjs, err := Connect(s.URL(), "worker")
	if err != nil {
		b.Fatal(err)
	}
	defer cnc.Close()
	l := Layout{Stream: "BENCH_TASKS"}
	p, err := NewPublisher(ctx, pjs, l)
	if err != nil {
		b.Fatal(err)
	}
	c, err := NewConsumer(ctx, cjs, l)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(assignment)))
	b.ResetTimer()
	start := time.Now()
	published := make(chan error, 1)
	go func() {
		for range b.N {
			if _, err := p.Publish(ctx, assignment); err != nil {
				published <- err
				return
			}
		}
		published <- nil
	}()
	for got := 0; got < b.N; {
		d, err := c.Fetch(ctx, 5*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		if d == nil {
			b.Fatalf("nothing to fetch after %d of %d", got, b.N)
		}
		if err := d.Ack(ctx); err != nil {
			b.Fatal(err)
		}
		got++
	}
	if err := <-published; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "assignments/s")
}

// pullServer sends n copies of one assignment on every PullTasks stream.
type pullServer struct {
	pbgrpc.UnimplementedTasksServiceServer
	assignment *pb.TaskAssignment
	n          int
}

func (s *pullServer) PullTasks(_ *pb.PullTasksRequest, stream grpc.ServerStreamingServer[pb.TaskAssignment]) error {
	for range s.n {
		if err := stream.Send(s.assignment); err != nil {
			return err
		}
	}
	return nil
}

func benchPullStream(b *testing.B, assignment []byte) {
	var msg pb.TaskAssignment
	if err := proto.Unmarshal(assignment, &msg); err != nil {
		b.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := grpc.NewServer()
	pbgrpc.RegisterTasksServiceServer(srv, &pullServer{assignment: &msg, n: b.N})
	go func() { _ = srv.Serve(lis) }()
	defer srv.Stop()
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.SetBytes(int64(len(assignment)))
	b.ResetTimer()
	start := time.Now()
	stream, err := pbgrpc.NewTasksServiceClient(conn).PullTasks(context.Background(), &pb.PullTasksRequest{QueueName: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	for got := 0; ; got++ {
		if _, err := stream.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				b.Fatal(err)
			}
			if got != b.N {
				b.Fatalf("stream ended after %d of %d", got, b.N)
			}
			break
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "assignments/s")
}
