package model

import (
	"testing"
	"time"
)

const benchInFlight = 10_000

// benchFleetInFlight is what scale at 100,000 workers keeps executing: too many tasks for
// the caches, so each heartbeat pays for the lines it touches.
const benchFleetInFlight = 200_000

// benchOrch is an orchestrator with tasks claimed and heartbeating, the state a
// heartbeat or a completion meets in a busy steady state.
type benchOrch struct {
	o     *Orchestrator
	out   Effects
	now   time.Duration
	next  StepID
	tasks []TaskID // executing tasks, oldest first
}

func benchWorker(step StepID) NodeID { return otWorker + NodeID(step%100) }

func newBenchOrch(b *testing.B, det Detector, n int) *benchOrch {
	cfg := otConfig()
	cfg.Detector = det
	bo := &benchOrch{o: NewOrchestrator(cfg), now: time.Second}
	bo.o.Start(0, &bo.out)
	bo.o.Receive(0, Message{Type: MsgPullTasks, From: otWorker, Worker: otWorker}, &bo.out)
	bo.refill(n)
	return bo
}

// refill submits and claims n more steps. Their queue deadlines are fired at once (they
// find the tasks Executing and do nothing), as the driver would 30s later.
func (bo *benchOrch) refill(n int) {
	for range n {
		bo.next++
		bo.out.Reset()
		bo.o.Submit(bo.now, StepSpec{Step: bo.next, Run: 1, Component: 0, PayloadBytes: 512}, &bo.out)
		bo.o.SendDone(bo.now, otWorker, &bo.out) // the stream's pipe never fills
		var task TaskID
		var deadline TimerID
		for _, e := range bo.out.Events {
			if e.Kind == EvDispatched {
				task = e.Task
			}
		}
		for _, op := range bo.out.Timers {
			if kind, _, _ := splitOrchTimer(op.ID); kind == orchTimerQueue {
				deadline = op.ID
			}
		}
		bo.o.Receive(bo.now, Message{Type: MsgHeartbeat, From: benchWorker(bo.next), Worker: benchWorker(bo.next),
			Task: task, Run: 1}, &bo.out)
		bo.o.Fire(bo.now, deadline, &bo.out)
		bo.tasks = append(bo.tasks, task)
	}
	bo.out.Reset()
}

func benchDetectors(b *testing.B, run func(b *testing.B, det Detector)) {
	for _, d := range []struct {
		name string
		det  Detector
	}{{"scan", DetectorScan}, {"deadline", DetectorDeadline}} {
		b.Run(d.name, func(b *testing.B) { run(b, d.det) })
	}
}

// BenchmarkOrchestratorHeartbeat: one heartbeat from the claimant of one of 10,000
// executing tasks (marks it seen; the deadline detector moves its timer).
func BenchmarkOrchestratorHeartbeat(b *testing.B) {
	benchDetectors(b, func(b *testing.B, det Detector) { benchHeartbeats(b, det, benchInFlight) })
}

// BenchmarkOrchestratorHeartbeatFleet: the same among 200,000 executing tasks, taken in
// turn, so each heartbeat meets its task cold in cache.
func BenchmarkOrchestratorHeartbeatFleet(b *testing.B) {
	benchDetectors(b, func(b *testing.B, det Detector) { benchHeartbeats(b, det, benchFleetInFlight) })
}

func benchHeartbeats(b *testing.B, det Detector, inFlight int) {
	bo := newBenchOrch(b, det, inFlight)
	msgs := make([]Message, len(bo.tasks))
	for i, task := range bo.tasks {
		w := benchWorker(StepID(i + 1))
		msgs[i] = Message{Type: MsgHeartbeat, From: w, Worker: w, Task: task, Run: 1}
	}
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		bo.out.Reset()
		bo.o.Receive(bo.now, msgs[i], &bo.out)
		if i++; i == len(msgs) {
			i = 0
		}
	}
	b.StopTimer()
	if len(bo.out.Send) != 1 || bo.out.Send[0].Status != StatusInProgress {
		b.Fatalf("reply %+v", bo.out.Send)
	}
}

// BenchmarkOrchestratorComplete: one successful CompleteTask of one of 10,000 to 20,000
// executing tasks (removes it, settles its step). Completed tasks are replaced in
// batches of 10,000 outside the timer.
func BenchmarkOrchestratorComplete(b *testing.B) {
	benchDetectors(b, func(b *testing.B, det Detector) {
		bo := newBenchOrch(b, det, 2*benchInFlight)
		b.ReportAllocs()
		b.ResetTimer()
		done := 0
		for b.Loop() {
			if done == benchInFlight {
				b.StopTimer()
				bo.tasks = append(bo.tasks[:0], bo.tasks[benchInFlight:]...)
				bo.refill(benchInFlight)
				done = 0
				b.StartTimer()
			}
			task := bo.tasks[done]
			bo.out.Reset()
			bo.o.Receive(bo.now, Message{Type: MsgComplete, From: otWorker, Task: task, Run: 1,
				Result: ResultResponse}, &bo.out)
			done++
		}
		b.StopTimer()
		if len(bo.out.Send) != 1 || bo.out.Send[0].Code != CodeOK {
			b.Fatalf("reply %+v", bo.out.Send)
		}
	})
}
