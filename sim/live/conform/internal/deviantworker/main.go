// Command deviantworker is a Stepflow v1 gRPC worker written to behave like the model's
// rust flavour except in three deliberate ways, so that conform's test can check that
// exactly those differences are reported:
//   - it heartbeats every 2s whatever the assignment suggests (rust: max(1s, suggested));
//   - it retries CompleteTask answered UNAVAILABLE every second, forever (rust: one try);
//   - it honours should_abort, on the claim and later: it stops the component and sends no
//     CompleteTask (rust ignores it).
//
// It reads STEPFLOW_TASKS_URL and STEPFLOW_QUEUE_NAME, offers one component, "sleep"
// (input {"seconds": N}), and sets no deadline on any RPC.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	pb "github.com/tasksim/tasksim/model/stepflowpb"

	pbgrpc "github.com/tasksim/tasksim/model/stepflowgrpc"
)

const (
	slots          = 10              // rust's default concurrency
	beatPeriod     = 2 * time.Second // deviation: fixed
	completePause  = time.Second     // deviation: retried forever
	maxTries       = 10              // rust ends at its 10th stream failure in a row
	maxBackoff     = 60 * time.Second
	terminateGrace = 30 * time.Second
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "deviantworker:", err)
		os.Exit(1)
	}
}

type worker struct {
	id      string
	tasks   pbgrpc.TasksServiceClient
	dial    func(addr string) (pbgrpc.OrchestratorServiceClient, error)
	running sync.WaitGroup
	slots   chan struct{}
}

func run() error {
	url, queue := os.Getenv("STEPFLOW_TASKS_URL"), os.Getenv("STEPFLOW_QUEUE_NAME")
	if url == "" || queue == "" {
		return errors.New("STEPFLOW_TASKS_URL and STEPFLOW_QUEUE_NAME must be set")
	}
	conn, err := grpc.NewClient(url, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("dial %s: %w", url, err)
	}
	defer conn.Close()
	var mu sync.Mutex
	orch := map[string]pbgrpc.OrchestratorServiceClient{url: pbgrpc.NewOrchestratorServiceClient(conn)}
	w := &worker{id: uuid(), tasks: pbgrpc.NewTasksServiceClient(conn), slots: make(chan struct{}, slots),
		dial: func(addr string) (pbgrpc.OrchestratorServiceClient, error) {
			mu.Lock()
			defer mu.Unlock()
			if c, ok := orch[addr]; ok {
				return c, nil
			}
			cc, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
			if err != nil {
				return nil, err
			}
			orch[addr] = pbgrpc.NewOrchestratorServiceClient(cc)
			return orch[addr], nil
		}}
	// SIGTERM stops reading at once; running tasks get terminateGrace to finish.
	pullCtx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = w.pull(pullCtx, queue)
	if pullCtx.Err() != nil {
		done := make(chan struct{})
		go func() { w.running.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(terminateGrace):
		}
		return nil
	}
	return err
}

// pull reads assignments, one per free slot, as rust's Worker::run does: a stream the
// server accepted and that then failed is opened again at once; an open that fails
// waits 2^failures s (at most 60s); the maxTries-th failure in a row ends it.
func (w *worker) pull(ctx context.Context, queue string) error {
	failures := 0
	for {
		opened := false
		err := w.stream(ctx, queue, func() { failures, opened = 0, true })
		if ctx.Err() != nil {
			return nil
		}
		failures++
		if failures >= maxTries {
			return fmt.Errorf("giving up after %d failures in a row: %w", maxTries, err)
		}
		if opened {
			continue
		}
		pause := min(time.Duration(1<<min(failures, 6))*time.Second, maxBackoff)
		select {
		case <-time.After(pause):
		case <-ctx.Done():
			return nil
		}
	}
}

// stream runs one PullTasks stream until it fails; accepted is called once the server
// has accepted it.
func (w *worker) stream(ctx context.Context, queue string, accepted func()) error {
	st, err := w.tasks.PullTasks(ctx, &pb.PullTasksRequest{QueueName: queue, WorkerId: w.id})
	if err != nil {
		return err
	}
	// No header and no error: the stream ended before the server accepted it.
	if md, err := st.Header(); err != nil || md == nil {
		_, err := st.Recv()
		return err
	}
	accepted()
	for {
		// Rust reads only when a slot is free.
		select {
		case w.slots <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		a, err := st.Recv()
		if err != nil {
			<-w.slots
			return err
		}
		w.running.Add(1)
		go func() {
			defer w.running.Done()
			defer func() { <-w.slots }()
			w.handle(a)
		}()
	}
}

// handle claims an assignment, runs it with its heartbeat loop, and completes it.
func (w *worker) handle(a *pb.TaskAssignment) {
	url := a.GetContext().GetOrchestratorServiceUrl()
	if url == "" {
		return
	}
	orch, err := w.dial(url)
	if err != nil {
		return
	}
	ctx := context.Background()
	beat := &pb.TaskHeartbeatRequest{TaskId: a.GetTaskId(), WorkerId: w.id}
	claim, err := orch.TaskHeartbeat(ctx, beat)
	if err != nil || claim.GetStatus() == pb.TaskStatus_TASK_STATUS_ALREADY_CLAIMED || claim.GetShouldAbort() {
		return // deviation: should_abort on the claim drops the task too
	}
	req := &pb.CompleteTaskRequest{TaskId: a.GetTaskId()}
	if a.GetListComponents() != nil {
		req.Result = &pb.CompleteTaskRequest_ListComponents{ListComponents: &pb.ListComponentsResult{
			Components: []*pb.ComponentInfo{{ComponentId: "sleep", Path: "/sleep"}}}}
		w.complete(orch, req)
		return
	}
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	aborted := make(chan struct{})
	beatsDone := make(chan struct{})
	go func() {
		defer close(beatsDone)
		for {
			select {
			case <-time.After(beatPeriod):
			case <-runCtx.Done():
				return
			}
			resp, err := orch.TaskHeartbeat(runCtx, beat)
			if err == nil && resp.GetShouldAbort() {
				close(aborted) // deviation: should_abort is honoured
				cancelRun()
				return
			}
		}
	}()
	out, runErr := runComponent(runCtx, a.GetExecute())
	cancelRun()
	<-beatsDone
	select {
	case <-aborted:
		return
	default:
	}
	if runErr != nil {
		req.Result = &pb.CompleteTaskRequest_Error{Error: &pb.TaskError{
			Code: pb.TaskErrorCode_TASK_ERROR_CODE_COMPONENT_FAILED, Message: runErr.Error()}}
	} else {
		req.Result = &pb.CompleteTaskRequest_Response{Response: &pb.ComponentExecuteResponse{Output: out}}
	}
	w.complete(orch, req)
}

// complete sends CompleteTask, again every second for as long as it is UNAVAILABLE.
func (w *worker) complete(orch pbgrpc.OrchestratorServiceClient, req *pb.CompleteTaskRequest) {
	for {
		_, err := orch.CompleteTask(context.Background(), req)
		if status.Code(err) != codes.Unavailable {
			return
		}
		time.Sleep(completePause)
	}
}

// runComponent runs the "sleep" component; any other id is an unknown component.
func runComponent(ctx context.Context, req *pb.ComponentExecuteRequest) (*structpb.Value, error) {
	if req.GetComponentId() != "sleep" {
		return nil, fmt.Errorf("no component %q", req.GetComponentId())
	}
	secs := req.GetInput().GetStructValue().GetFields()["seconds"].GetNumberValue()
	select {
	case <-time.After(time.Duration(secs * float64(time.Second))):
		return structpb.NewStringValue("slept"), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func uuid() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
