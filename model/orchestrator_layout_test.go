package model

import (
	"testing"
	"unsafe"
)

// The hot records are sized to cache lines (see orchTask and Worker): a field added
// carelessly would cost a run at 100,000 workers a cache miss per event.
func TestHotRecordsFitTheirCacheLines(t *testing.T) {
	if got := unsafe.Sizeof(orchTask{}); got != 64 {
		t.Errorf("orchTask is %d bytes, want 64 (one cache line)", got)
	}
	if got := unsafe.Sizeof(workerExec{}); got > 72 {
		t.Errorf("workerExec is %d bytes, want at most 72", got)
	}
	// A worker and its inline executions fit the 512-byte size class.
	if got := unsafe.Sizeof(Worker{}); got > 512 {
		t.Errorf("Worker is %d bytes, want at most 512", got)
	}
}

// A worker keeps its first executions inside itself, and moves them to the heap, intact,
// once it holds more.
func TestWorkerExecutionsInlineThenHeap(t *testing.T) {
	w := NewWorker(WorkerConfig{Node: 2, Orchestrator: 1, Source: 1, Flavour: FlavourRust, Concurrency: inlineExecs + 1})
	var out Effects
	w.Start(0, &out)
	for k := range inlineExecs + 1 {
		out.Reset()
		Deliver(w, 0, Message{Type: MsgAssignment, From: 1, Task: TaskID(k + 1), Run: 1, Step: StepID(k + 1), Attempt: 1}, &out)
		inline := &w.execs[0] == &w.inline[0]
		if want := k < inlineExecs; inline != want {
			t.Fatalf("after %d assignments the executions are inline: %v, want %v", k+1, inline, want)
		}
	}
	for k := range inlineExecs + 1 {
		if w.execs[k].task != TaskID(k+1) || w.execs[k].exec != uint32(k+1) || w.execs[k].phase != phaseClaiming {
			t.Fatalf("execution %d is %+v", k, w.execs[k])
		}
	}
}
