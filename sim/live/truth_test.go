package live

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/metadata"

	"github.com/tasksim/tasksim/model"
	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wiremap"
)

// The attempt a run --live worker really runs reaches the observer only, through the
// truth header and the driver: a CompleteTask of attempt 1, sent after the deadline
// detector failed attempt 1 at 5s and the retry made attempt 2 current at 6s, is a stale
// result; the same CompleteTask saying attempt 2 is not. The orchestrator answers both
// alike (it is never handed the header's attempt).
func TestTruthHeaderReachesOnlyTheObserver(t *testing.T) {
	for _, tc := range []struct {
		attempt string
		stale   int64
	}{{"1", 1}, {"2", 0}} {
		t.Run("attempt "+tc.attempt, func(t *testing.T) {
			cfg := smallScenario(1, 1, model.FlavourPython, model.DetectorDeadline)
			srv, mock, conn, obs := mockServerWith(t, ServerConfig{Scenario: cfg, OwnWorkers: true})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			tasks, orch := pbgrpc.NewTasksServiceClient(conn), pbgrpc.NewOrchestratorServiceClient(conn)
			var buf [36]byte
			worker := wiremap.UUIDs{Kind: wiremap.WorkerKind}.Render(&buf, 5)
			stream, err := tasks.PullTasks(ctx, &pb.PullTasksRequest{QueueName: "default", WorkerId: worker})
			if err != nil {
				t.Fatal(err)
			}
			advanceTo(srv, mock, 0)
			a, err := stream.Recv()
			if err != nil || a.GetExecute().GetAttempt() != 1 {
				t.Fatalf("first assignment %v, %v", a, err)
			}
			if _, err := orch.TaskHeartbeat(ctx, &pb.TaskHeartbeatRequest{TaskId: a.TaskId, WorkerId: worker}); err != nil {
				t.Fatal(err)
			}
			advanceTo(srv, mock, 5*time.Second) // the deadline fails attempt 1
			advanceTo(srv, mock, 6*time.Second) // the retry's backoff (1s) ends
			retry, err := stream.Recv()
			if err != nil || retry.TaskId != a.TaskId || retry.GetExecute().GetAttempt() != 2 {
				t.Fatalf("retry %v, %v; want attempt 2 of task %s", retry, err, a.TaskId)
			}
			advanceTo(srv, mock, 6500*time.Millisecond)
			late := metadata.AppendToOutgoingContext(ctx, truthHeader, tc.attempt)
			_, err = orch.CompleteTask(late, &pb.CompleteTaskRequest{TaskId: a.TaskId,
				Result: &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{}}})
			if err != nil {
				t.Fatal(err)
			}
			s := obs.Result(6500*time.Millisecond, nil).Summary
			if s.Completed != 1 || s.Timeouts.Heartbeat != 1 || s.StaleResults != tc.stale {
				t.Fatalf("completed %d, heartbeat timeouts %d, stale results %d; want 1, 1, %d",
					s.Completed, s.Timeouts.Heartbeat, s.StaleResults, tc.stale)
			}
		})
	}
}
