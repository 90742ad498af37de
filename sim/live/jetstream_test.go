package live

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim"
	"github.com/tasksim/tasksim/sim/live/natsqueue"
)

// slowAckScenario is ack-late cut down for a test: a JetStream queue with a 1s ack wait
// and tasks of 3s, so a worker that acknowledges only on completion has each task
// redelivered while it still runs it. One worker: every redelivery goes back to the
// worker that runs the task, which claims it again (its own claim: IN_PROGRESS) and
// starts a second copy (hazard 4). With two workers which one the server hands a
// redelivery to is up to its scheduling, so the number of second copies (rather than
// ALREADY_CLAIMED refusals) would be luck. Slots for every copy (12 tasks, up to 3
// deliveries each), so none waits for one.
func slowAckScenario(ack sim.AckPoint) *sim.Config {
	cfg := smallScenario(1, slowAckTasks, model.FlavourPython, model.DetectorScan)
	cfg.Name = "live-ack"
	cfg.Queue = sim.QueueConfig{Kind: sim.QueueJetStream, AckWait: time.Second}
	cfg.Workers[0].Ack = ack
	cfg.Workers[0].Concurrency = 4 * slowAckTasks
	cfg.Components[0].Duration = sim.Dist{Kind: sim.DistConstant, Value: 3 * time.Second}
	cfg.Load[0].Arrival = sim.ArrivalBurst
	return cfg
}

const slowAckTasks = 12

func runBoth(t *testing.T, cfg *sim.Config) (live, simulated sim.Summary) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := RunWith(ctx, cfg, RunOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	sr, err := sim.Run(cfg, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Summary, sr.Summary
}

// Ack on completion with tasks longer than the ack wait: the real NATS server redelivers
// every task while the worker still runs it, the worker runs a second copy of each, and
// the simulation of the same file shows exactly the same.
func TestJetStreamSlowAckRedelivers(t *testing.T) {
	live, simulated := runBoth(t, slowAckScenario(sim.AckOnComplete))
	t.Logf("live: redeliveries %d double executions %d already claimed %d lost %d; sim: %d %d %d %d",
		live.Redeliveries, live.DoubleExecutions, live.AlreadyClaimed, live.Lost,
		simulated.Redeliveries, simulated.DoubleExecutions, simulated.AlreadyClaimed, simulated.Lost)
	for name, s := range map[string]sim.Summary{"live": live, "simulated": simulated} {
		// The first redelivery is due 1s after a delivery, 2s before the task ends: every
		// step runs twice at once. Later ones race the ack at the end, so only a floor.
		if s.Redeliveries < slowAckTasks || s.DoubleExecutions != slowAckTasks || s.AlreadyClaimed != 0 {
			t.Errorf("%s: %d redeliveries, %d double executions, %d already claimed; want >= %d, %d, 0",
				name, s.Redeliveries, s.DoubleExecutions, s.AlreadyClaimed, slowAckTasks, slowAckTasks)
		}
		if s.Lost != 0 || s.Completed != slowAckTasks {
			t.Errorf("%s: lost %d completed %d, want 0 and %d", name, s.Lost, s.Completed, slowAckTasks)
		}
	}
	js := live.Live.JetStream
	if len(js) != 1 || js[0].Stream != "STEPFLOW_TASKS" || js[0].Consumer != "stepflow-default" {
		t.Fatalf("jetstream stats %+v, want one queue STEPFLOW_TASKS/stepflow-default", js)
	}
}

// The same file with ack on receipt: no redelivery, no second copy, nothing lost, live
// and simulated alike; and the queue is empty at the end (WorkQueue retention).
func TestJetStreamAckOnReceiptLosesNothing(t *testing.T) {
	live, simulated := runBoth(t, slowAckScenario(sim.AckOnReceipt))
	for name, s := range map[string]sim.Summary{"live": live, "simulated": simulated} {
		if s.Redeliveries != 0 || s.DoubleExecutions != 0 || s.Lost != 0 || s.Completed != slowAckTasks {
			t.Errorf("%s: redeliveries %d double executions %d lost %d completed %d; want 0 0 0 %d",
				name, s.Redeliveries, s.DoubleExecutions, s.Lost, s.Completed, slowAckTasks)
		}
	}
	if js := live.Live.JetStream; len(js) != 1 || js[0].Pending != 0 || js[0].AckPending != 0 {
		t.Errorf("queue at the end %+v, want nothing pending or unacknowledged", js)
	}
}

// A three-node JetStream cluster on loopback with the stream replicated on all three:
// the node leading the stream is killed mid-run, nothing is lost, and the summary says
// how long dispatch stalled while the cluster moved the stream's leadership.
func TestJetStreamClusterLosesANode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node NATS cluster")
	}
	cl, err := natsqueue.StartCluster("tasksim", t.TempDir(), 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Stop)
	cfg := slowAckScenario(sim.AckOnReceipt)
	cfg.Workers[0].Count, cfg.Workers[0].Concurrency = 4, 4
	cfg.Components[0].Duration = sim.Dist{Kind: sim.DistConstant, Value: 100 * time.Millisecond}
	cfg.Load[0].Tasks, cfg.Load[0].Arrival, cfg.Load[0].RatePerSec = 300, sim.ArrivalConstant, 60
	cfg.Queue.AckWait = 5 * time.Second

	killed := make(chan string, 1)
	go func() {
		killed <- killStreamLeader(cl, 50)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	res, err := RunWith(ctx, cfg, RunOptions{NATS: NATSConfig{URL: cl.URLs(), Replicas: 3}})
	if err != nil {
		t.Fatal(err)
	}
	victim := <-killed
	if victim == "" {
		t.Fatal("could not find and kill the stream's leader")
	}
	s := res.Summary
	if s.Lost != 0 || s.Completed != 300 {
		t.Fatalf("with %s killed: lost %d completed %d, want 0 and 300", victim, s.Lost, s.Completed)
	}
	js := s.Live.JetStream
	if len(js) != 1 || js[0].DispatchStall <= 0 {
		t.Fatalf("jetstream stats %+v: want the dispatch stall", js)
	}
	t.Logf("stream leader %s killed: dispatch stalled %.3fs, redeliveries %d", victim, js[0].DispatchStall, s.Redeliveries)
}

// killStreamLeader waits until the consumer has delivered n messages of STEPFLOW_TASKS,
// then stops the node that leads the stream and returns its name ("" if it could not).
func killStreamLeader(cl *natsqueue.Cluster, n uint64) string {
	nc, js, err := natsqueue.Connect(cl.URLs(), "killer")
	if err != nil {
		return ""
	}
	defer nc.Close()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		st, err := js.Stream(ctx, "STEPFLOW_TASKS")
		if err != nil {
			cancel()
			continue
		}
		si, err1 := st.Info(ctx)
		c, err2 := st.Consumer(ctx, "stepflow-default")
		var delivered uint64
		if err2 == nil {
			if ci, err := c.Info(ctx); err == nil {
				delivered = ci.Delivered.Stream
			}
		}
		cancel()
		if err1 != nil || si.Cluster == nil || delivered < n {
			continue
		}
		for _, node := range cl.Nodes {
			if node.Name() == si.Cluster.Leader {
				node.Stop()
				return node.Name()
			}
		}
	}
	return ""
}

// A queue_restart fault: the embedded NATS server stops mid-run and starts again on
// the same store and port. The stream and its unacknowledged messages survive, both
// sides reconnect, nothing is lost, and the summary's dispatch stall covers the downtime.
func TestJetStreamServerRestart(t *testing.T) {
	cfg := slowAckScenario(sim.AckOnReceipt)
	cfg.Workers[0].Count, cfg.Workers[0].Concurrency = 4, 4
	cfg.Components[0].Duration = sim.Dist{Kind: sim.DistConstant, Value: 100 * time.Millisecond}
	cfg.Load[0].Tasks, cfg.Load[0].Arrival, cfg.Load[0].RatePerSec = 200, sim.ArrivalConstant, 50
	cfg.Queue.AckWait = 3 * time.Second
	const downtime = time.Second
	cfg.Faults = []sim.FaultConfig{{Kind: sim.FaultQueueRestart, At: 2 * time.Second, Downtime: downtime}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := RunWith(ctx, cfg, RunOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if s.Lost != 0 || s.Completed != 200 {
		t.Fatalf("after a NATS restart: lost %d completed %d, want 0 and 200", s.Lost, s.Completed)
	}
	if js := s.Live.JetStream; len(js) != 1 || js[0].DispatchStall < downtime.Seconds()/2 {
		t.Fatalf("jetstream stats %+v: want a dispatch stall near the %v downtime", js, downtime)
	}
	t.Logf("NATS down %v: dispatch stalled %.3fs, redeliveries %d", downtime, s.Live.JetStream[0].DispatchStall, s.Redeliveries)
	// With --nats the server is not tasksim's to restart: refused up front.
	if _, err := RunWith(ctx, cfg, RunOptions{NATS: NATSConfig{URL: "nats://127.0.0.1:1"}}); err == nil ||
		!strings.Contains(err.Error(), "queue_restart") {
		t.Errorf("queue_restart against a foreign server: %v, want a refusal naming the fault", err)
	}
}

// Half the workers are cut off from the orchestrator and from NATS for 2s: they fetch
// nothing while cut off, what they held is finished or redelivered, and nothing is lost.
func TestJetStreamPartitionedWorkers(t *testing.T) {
	cfg := slowAckScenario(sim.AckOnReceipt)
	cfg.Workers[0].Count, cfg.Workers[0].Concurrency = 4, 4
	cfg.Components[0].Duration = sim.Dist{Kind: sim.DistConstant, Value: 100 * time.Millisecond}
	cfg.Load[0].Tasks, cfg.Load[0].Arrival, cfg.Load[0].RatePerSec = 150, sim.ArrivalConstant, 50
	cfg.Queue.AckWait = 3 * time.Second
	cfg.Orchestrator.QueueTimeout = 10 * time.Second
	cfg.Faults = []sim.FaultConfig{{Kind: sim.FaultPartition, At: time.Second, For: 2 * time.Second,
		Target: sim.Target{Pool: "default", Count: 2}}}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	res, err := RunWith(ctx, cfg, RunOptions{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if s := res.Summary; s.Lost != 0 || s.Completed != 150 {
		t.Fatalf("after a partition: lost %d completed %d, want 0 and 150", s.Lost, s.Completed)
	}
}
