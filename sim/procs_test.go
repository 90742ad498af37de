package sim

import (
	"testing"

	"github.com/tasksim/tasksim/model"
)

// TestProcRecordsStayPutAndAreFoundByNode checks the worker-process table: each node after
// workerBase finds its own record, across block boundaries, records never move when
// later blocks are added (slots and fault targets point at them), other nodes find none,
// the usual one or two calls, executions and timers sit in the record itself, and more
// spill without losing any.
func TestProcRecordsStayPutAndAreFoundByNode(t *testing.T) {
	w := &world{workerBase: 2}
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
		p.calls = append(p.calls, pendingCall{call: i})
		p.execs = append(p.execs, handleOf{id: uint64(i)})
		p.timers.put(model.TimerID(i), w.lastPush)
		if i == 2 && (&p.calls[0] != &p.callBuf[0] || &p.execs[0] != &p.execBuf[0] || &p.timers.few[0] != &p.timerBuf[0]) {
			t.Fatal("the first two calls, executions or timers are not in the record's own arrays")
		}
	}
	forgetCall(p, 2)
	var calls uint32
	for _, c := range p.calls {
		calls += c.call
	}
	if len(p.calls) != 4 || calls != 1+3+4+5 {
		t.Fatalf("calls after forgetting 2: %v", p.calls)
	}
	if i := findHandle(p.execs, 5); i != 4 || len(p.execs) != 5 {
		t.Fatalf("exec 5 at %d of %d, want 4 of 5", i, len(p.execs))
	}
	p.timers.drop(1)
	if _, ok := p.timers.get(1); ok || len(p.timers.few) != 4 {
		t.Fatalf("timer 1 still there or %d timers left, want 4", len(p.timers.few))
	}
	if _, ok := p.timers.get(5); !ok {
		t.Fatal("timer 5 lost in the spill")
	}
}
