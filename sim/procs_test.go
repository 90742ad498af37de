package sim

import (
	"testing"
	"time"
	"unsafe"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/sim/eventq"
)

// TestProcRecordsStayPutAndAreFoundByNode checks the worker-process table: each node after
// workerBase finds its own record, across block boundaries, records never move when
// later blocks are added (slots and fault targets point at them), other nodes find none,
// the usual few calls, executions and timers sit in the record itself, and more spill
// without losing any and come back when they fit again.
func TestProcRecordsStayPutAndAreFoundByNode(t *testing.T) {
	w := &world{workerBase: 2, q: eventq.New[event](8)}
	const n = 3<<procBlockBits + 5
	ps := make([]*proc, n)
	for i := range ps {
		ps[i] = w.newProc()
		ps[i].node = model.NodeID(2 + i)
	}
	for i, p := range ps {
		if got := w.proc(model.NodeID(2 + i)); got != p || got.node != model.NodeID(2+i) {
			t.Fatalf("proc(%d) = %p (node %d), want %p", 2+i, got, got.node, p)
		}
	}
	for _, node := range []model.NodeID{-1, 0, 1, 2 + n, 1 << 30} {
		if p := w.proc(node); p != nil {
			t.Fatalf("proc(%d) = node %d's record, want none", node, p.node)
		}
	}
	p := ps[0]
	for i := uint32(1); i <= 5; i++ {
		p.addCall(pendingCall{call: i})
		p.addExec(handleOf{id: uint64(i)})
		p.timers.put(model.TimerID(i), w.push(time.Duration(i), event{kind: evTimer}))
		if i == 2 && (p.ncalls != 2 || p.spill != nil) {
			t.Fatal("the first two calls are not in the record's own array")
		}
		if i == 4 && (p.nexecs != 4 || p.timers.n != 4 || p.timers.many != nil || p.spill.execs != nil) {
			t.Fatal("the first four executions or timers are not in the record's own arrays")
		}
	}
	if p.ncalls != spilled || p.nexecs != spilled || p.timers.many == nil {
		t.Fatal("a fifth call, execution or timer did not spill")
	}
	forgetCall(p, 2)
	var calls uint32
	for _, c := range p.callList() {
		calls += c.call
	}
	if len(p.callList()) != 4 || calls != 1+3+4+5 {
		t.Fatalf("calls after forgetting 2: %v", p.callList())
	}
	forgetCall(p, 1)
	forgetCall(p, 5)
	if p.ncalls != 2 || p.callList()[0].call+p.callList()[1].call != 3+4 {
		t.Fatalf("calls 3 and 4 did not move back into the record: %d, %v", p.ncalls, p.callList())
	}
	if i := findHandle(p.execList(), 5); i != 4 || len(p.execList()) != 5 {
		t.Fatalf("exec 5 at %d of %d, want 4 of 5", i, len(p.execList()))
	}
	p.dropExec(0)
	if p.nexecs != 4 || findHandle(p.execList(), 1) >= 0 || findHandle(p.execList(), 5) < 0 {
		t.Fatalf("executions after dropping 1: %d, %v", p.nexecs, p.execList())
	}
	p.timers.drop(1)
	if _, ok := p.timers.get(1); ok {
		t.Fatal("timer 1 still there")
	}
	for id := model.TimerID(2); id <= 5; id++ {
		if _, ok := p.timers.get(id); !ok {
			t.Fatalf("timer %d lost in the spill", id)
		}
	}
}

// TestProcLinesAsLaidOut checks the record's layout: whole cache lines, the timers' array
// on the second, the calls on the third, the executions on the fourth, the pipe on the
// fifth (see proc).
func TestProcLinesAsLaidOut(t *testing.T) {
	var p proc
	got := [...]uintptr{unsafe.Sizeof(p), unsafe.Offsetof(p.timers) + unsafe.Offsetof(p.timers.few),
		unsafe.Offsetof(p.callBuf), unsafe.Offsetof(p.execBuf), unsafe.Offsetof(p.pipe)}
	if want := [...]uintptr{320, 64, 128, 192, 256}; got != want {
		t.Fatalf("size, timers, calls, executions, pipe at %v, want %v", got, want)
	}
}
