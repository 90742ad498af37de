package model

import (
	"testing"
	"time"
)

const benchWorkers = 10_000

// BenchmarkWorkerHeartbeatLoop: one turn of a heartbeat loop on one of 10,000 python
// workers, each running its 4 slots: the beat timer fires (a heartbeat goes out), then
// its answer arrives (the next beat is set). Workers take turns, so each turn meets a
// worker whose state is cold in cache, as in a large run.
func BenchmarkWorkerHeartbeatLoop(b *testing.B) { benchBeatLoop(b, benchWorkers, 4) }

// BenchmarkWorkerHeartbeatLoopFleet: the same on 100,000 python workers running 2 tasks
// each, what scale at 100,000 workers holds (about 1.8 tasks a worker).
func BenchmarkWorkerHeartbeatLoopFleet(b *testing.B) { benchBeatLoop(b, 100_000, 2) }

func benchBeatLoop(b *testing.B, workers, tasks int) {
	const orch NodeID = 1
	type beat struct {
		w    *Worker
		exec uint32
	}
	var out Effects
	var turns []beat
	for n := range workers {
		w := NewWorker(WorkerConfig{Node: NodeID(2 + n), Orchestrator: orch, Source: orch, Flavour: FlavourPython})
		out.Reset()
		w.Start(0, &out)
		for k := range tasks {
			task := TaskID(n*8 + k + 1)
			out.Reset()
			Deliver(w, 0, Message{Type: MsgAssignment, From: orch, Task: task, Run: RunID(task),
				Step: StepID(task), Attempt: 1, HeartbeatSecs: 1}, &out)
			claim := out.Send[0]
			out.Reset()
			Deliver(w, 0, Message{Type: MsgHeartbeatReply, From: orch, Call: claim.Call, Task: task,
				Run: RunID(task), Status: StatusInProgress}, &out)
			if len(out.Runs) != 1 {
				b.Fatalf("worker %d slot %d did not start: %+v", n, k, out)
			}
			turns = append(turns, beat{w, out.Runs[0].Exec})
		}
	}
	now := time.Second
	b.ReportAllocs()
	b.ResetTimer()
	i := 0
	for b.Loop() {
		t := turns[i]
		out.Reset()
		t.w.Fire(now, workerTimerID(t.exec, timerBeat), &out)
		hb := out.Send[0]
		out.Reset()
		Deliver(t.w, now, Message{Type: MsgHeartbeatReply, From: orch, Call: hb.Call, Task: hb.Task,
			Run: hb.Run, Status: StatusInProgress}, &out)
		if i++; i == len(turns) {
			i = 0
			now += time.Second
		}
	}
	b.StopTimer()
	if len(out.Timers) != 1 || out.Timers[0].Cancel {
		b.Fatalf("the answer did not set the next beat: %+v", out.Timers)
	}
}
