package wiremap

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

func newTestMapper(owned bool) *Mapper {
	mp := New([]string{"default", "gpu"}, []string{"/python/echo", "/rust/resize"}, 0xabc, "http://127.0.0.1:1")
	mp.Owned = owned
	return mp
}

// Every message a participant sends comes back with the fields the wire carries, through
// real protobuf bytes, in both the reusing and the owning mode.
func TestRoundTrip(t *testing.T) {
	msgs := []model.Message{
		{Type: model.MsgPullTasks, Worker: 7, Pool: 1},
		{Type: model.MsgAssignment, Task: 42, Run: 3, Step: 9, Attempt: 2, Component: 1, PayloadBytes: 64, HeartbeatSecs: 1},
		{Type: model.MsgAssignment, Task: 43, Run: 0, Discovery: true, Component: -1},
		{Type: model.MsgHeartbeat, Task: 42, Worker: 7, Run: 3, Call: 5, Truth: model.Truth{Step: 9, Attempt: 2}},
		{Type: model.MsgHeartbeatReply, Status: model.StatusAlreadyClaimed, ShouldAbort: true},
		{Type: model.MsgComplete, Task: 42, Run: 3, Result: model.ResultResponse, PayloadBytes: 64},
		{Type: model.MsgComplete, Task: 42, Run: 3, Result: model.ResultError, ErrorCode: model.ErrInvalidInput},
		{Type: model.MsgComplete, Task: 43, Run: 0, Result: model.ResultListComponents, Discovery: true},
	}
	for _, owned := range []bool{false, true} {
		mp := newTestMapper(owned)
		for _, m := range msgs {
			var got model.Message
			var err error
			switch m.Type {
			case model.MsgPullTasks:
				got, err = mp.FromPullTasks(reencode(t, mp.PullTasks(&m), &pb.PullTasksRequest{}))
			case model.MsgAssignment:
				got = mp.FromAssignment(reencode(t, mp.Assignment(&m), &pb.TaskAssignment{}))
			case model.MsgHeartbeat:
				got, err = mp.FromHeartbeat(reencode(t, mp.Heartbeat(&m), &pb.TaskHeartbeatRequest{}))
			case model.MsgHeartbeatReply:
				got = mp.FromHeartbeatReply(reencode(t, mp.HeartbeatReply(&m), &pb.TaskHeartbeatResponse{}))
			case model.MsgComplete:
				got, err = mp.FromComplete(reencode(t, mp.Complete(&m), &pb.CompleteTaskRequest{}))
			}
			if err != nil {
				t.Fatalf("owned=%v %v: %v", owned, m.Type, err)
			}
			if Wire(got) != Wire(m) {
				t.Errorf("owned=%v %v: sent %+v, got %+v", owned, m.Type, Wire(m), Wire(got))
			}
			if got.Call != 0 || got.Truth != (model.Truth{}) {
				t.Errorf("%v: ground truth crossed the wire: %+v", m.Type, got)
			}
		}
	}
}

// A heartbeat's, a completion's and a reply's Truth never reaches the bytes: the message
// encodes to exactly the bytes of the same message without it, and decodes with Truth
// zero, equal to the wire's part of what was sent.
func TestTruthNeverReachesTheBytes(t *testing.T) {
	truth := model.Truth{Step: 9, Attempt: 2}
	msgs := []model.Message{
		{Type: model.MsgHeartbeat, Task: 42, Worker: 7, Run: 3, Truth: truth},
		{Type: model.MsgHeartbeat, Task: 42, Worker: 7, Run: model.NoRun, Truth: truth},
		{Type: model.MsgComplete, Task: 42, Run: 3, Result: model.ResultResponse, PayloadBytes: 64, Truth: truth},
		{Type: model.MsgComplete, Task: 42, Run: 3, Result: model.ResultError, ErrorCode: model.ErrComponentFailed, Truth: truth},
		{Type: model.MsgHeartbeatReply, Status: model.StatusInProgress, Truth: truth},
		{Type: model.MsgCompleteReply, Truth: truth},
	}
	marshal := func(m proto.Message) []byte {
		b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, owned := range []bool{false, true} {
		mp := newTestMapper(owned)
		encode := func(m *model.Message) []byte {
			switch m.Type {
			case model.MsgHeartbeat:
				return marshal(mp.Heartbeat(m))
			case model.MsgComplete:
				return marshal(mp.Complete(m))
			case model.MsgHeartbeatReply:
				return marshal(mp.HeartbeatReply(m))
			default:
				return marshal(mp.CompleteReply(m))
			}
		}
		for _, m := range msgs {
			bare := m
			bare.Truth = model.Truth{}
			with, without := encode(&m), encode(&bare)
			if string(with) != string(without) {
				t.Errorf("owned=%v %v: Truth changed the bytes: %x, without it %x", owned, m.Type, with, without)
			}
			var got model.Message
			var err error
			switch m.Type {
			case model.MsgHeartbeat:
				got, err = mp.FromHeartbeat(decode(t, with, &pb.TaskHeartbeatRequest{}))
			case model.MsgComplete:
				got, err = mp.FromComplete(decode(t, with, &pb.CompleteTaskRequest{}))
			case model.MsgHeartbeatReply:
				got = mp.FromHeartbeatReply(decode(t, with, &pb.TaskHeartbeatResponse{}))
			default:
				decode(t, with, &pb.CompleteTaskResponse{})
				got = model.Message{Type: model.MsgCompleteReply}
			}
			if err != nil {
				t.Fatalf("owned=%v %v: %v", owned, m.Type, err)
			}
			if got.Truth != (model.Truth{}) {
				t.Errorf("owned=%v %v: Truth after decode %+v, want zero", owned, m.Type, got.Truth)
			}
			if got != Wire(m) {
				t.Errorf("owned=%v %v: decoded %+v, want the wire's part %+v", owned, m.Type, got, Wire(m))
			}
		}
	}
}

func decode[T proto.Message](t *testing.T, b []byte, into T) T {
	t.Helper()
	if err := proto.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
	return into
}

func reencode[T proto.Message](t *testing.T, m proto.Message, into T) T {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if err := proto.Unmarshal(b, into); err != nil {
		t.Fatal(err)
	}
	return into
}

// Owned messages survive the next encode: the live driver hands them to other goroutines.
func TestOwnedMessagesDoNotAlias(t *testing.T) {
	mp := newTestMapper(true)
	a := mp.Heartbeat(&model.Message{Type: model.MsgHeartbeat, Task: 1, Worker: 2, Run: 3})
	mp.Heartbeat(&model.Message{Type: model.MsgHeartbeat, Task: 9, Worker: 8, Run: 7})
	if got, _ := mp.FromHeartbeat(a); got.Task != 1 || got.Worker != 2 || got.Run != 3 {
		t.Fatalf("first heartbeat changed by the second encode: %+v", got)
	}
}

// A real orchestrator's ids are interned on the worker side and rendered back verbatim;
// a real SDK's worker ids are interned on the orchestrator side.
func TestForeignIDs(t *testing.T) {
	worker := newTestMapper(true)
	worker.Tasks, worker.Runs, worker.Steps = &Interned{First: 1}, &Interned{}, &Interned{}
	a := &pb.TaskAssignment{TaskId: "task-from-elsewhere", Context: &pb.TaskContext{RootRunId: "run-x"},
		Task: &pb.TaskAssignment_Execute{Execute: &pb.ComponentExecuteRequest{ComponentId: "/rust/resize", Attempt: 1,
			Observability: &pb.ObservabilityContext{StepId: proto.String("resize_step")}}}}
	m := worker.FromAssignment(a)
	if m.Task != 1 || m.Component != 1 || m.Attempt != 1 {
		t.Fatalf("assignment mapped to %+v", m)
	}
	hb := worker.Heartbeat(&model.Message{Type: model.MsgHeartbeat, Task: m.Task, Run: m.Run, Worker: 3})
	if hb.TaskId != "task-from-elsewhere" || hb.GetRunId() != "run-x" {
		t.Fatalf("heartbeat names %q run %q", hb.TaskId, hb.GetRunId())
	}
	if m2 := worker.FromAssignment(&pb.TaskAssignment{TaskId: "other", Task: &pb.TaskAssignment_Execute{Execute: &pb.ComponentExecuteRequest{ComponentId: "nope"}}}); m2.Task != 2 || m2.Component != -1 {
		t.Fatalf("second foreign assignment mapped to %+v", m2)
	}

	orch := newTestMapper(true)
	orch.Workers = &Interned{}
	h1, _ := orch.FromHeartbeat(&pb.TaskHeartbeatRequest{TaskId: "garbage", WorkerId: "sdk-uuid-1"})
	h2, _ := orch.FromHeartbeat(&pb.TaskHeartbeatRequest{TaskId: orch.Heartbeat(&model.Message{Task: 5}).TaskId, WorkerId: "sdk-uuid-2"})
	if h1.Task != UnknownTask || h1.Worker != 0 || h2.Task != 5 || h2.Worker != 1 || h1.Run != UnknownRun {
		t.Fatalf("orchestrator side mapped %+v and %+v", h1, h2)
	}
}

// A request without a run (model.NoRun: the rust SDK sends no run_id) is encoded with
// run_id absent, and an absent run_id decodes to UnknownRun; a run is sent as its id.
func TestAbsentRunID(t *testing.T) {
	for _, owned := range []bool{false, true} {
		mp := newTestMapper(owned)
		hb := mp.Heartbeat(&model.Message{Type: model.MsgHeartbeat, Task: 5, Worker: 3, Run: model.NoRun})
		c := mp.Complete(&model.Message{Type: model.MsgComplete, Task: 5, Run: model.NoRun, Result: model.ResultResponse})
		if hb.RunId != nil || c.RunId != nil {
			t.Fatalf("owned=%v: run_id present: heartbeat %v, complete %v", owned, hb.RunId, c.RunId)
		}
		m, err := mp.FromHeartbeat(hb)
		if err != nil || m.Run != UnknownRun {
			t.Fatalf("owned=%v: absent run_id decoded to %d (%v)", owned, m.Run, err)
		}
		hb = mp.Heartbeat(&model.Message{Type: model.MsgHeartbeat, Task: 5, Worker: 3, Run: 4})
		if m, err := mp.FromHeartbeat(hb); hb.RunId == nil || err != nil || m.Run != 4 {
			t.Fatalf("owned=%v: run 4 sent as %v, decoded to %d (%v)", owned, hb.RunId, m.Run, err)
		}
	}
}

// Requests the protocol rejects are errors naming the cause, never a panic.
func TestRejectedRequests(t *testing.T) {
	mp := newTestMapper(true)
	if _, err := mp.FromHeartbeat(&pb.TaskHeartbeatRequest{TaskId: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("heartbeat without worker_id: %v", err)
	}
	if _, err := mp.FromComplete(&pb.CompleteTaskRequest{TaskId: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("completion without result: %v", err)
	}
	if _, err := mp.FromPullTasks(&pb.PullTasksRequest{QueueName: "nope"}); !errors.Is(err, ErrNotServed) {
		t.Errorf("unknown queue: %v", err)
	}
	if m, err := mp.FromPullTasks(&pb.PullTasksRequest{QueueName: "gpu"}); err != nil || m.Worker != -1 || m.Pool != 1 {
		t.Errorf("empty worker_id: %+v %v", m, err)
	}
	// nil messages (as a fuzzer or a broken peer could produce) map without panicking.
	mp.FromAssignment(&pb.TaskAssignment{})
	mp.FromHeartbeatReply(&pb.TaskHeartbeatResponse{})
}

func TestUUIDSaltsDoNotCollide(t *testing.T) {
	var buf [36]byte
	a, b := UUIDs{Kind: WorkerKind, Salt: 1}, UUIDs{Kind: WorkerKind, Salt: 2}
	s := a.Render(&buf, 77)
	if _, ok := b.Parse(s); ok {
		t.Fatalf("%s parsed under another salt", s)
	}
	if v, ok := a.Parse(s); !ok || v != 77 {
		t.Fatalf("%s parsed to %d %v", s, v, ok)
	}
	if s0 := (UUIDs{Kind: TaskKind}).Render(&buf, 0x2a); s0 != "00000000-0000-4000-8000-00000000002a" {
		t.Fatalf("salt 0 renders %s, the simulator's historic form", s0)
	}
}

// The table-driven parsers accept exactly what strconv accepts, with the same values.
func TestParsersAgreeWithStrconv(t *testing.T) {
	hexCases := []string{"", "0", "00000000", "deadBEEF", "ffffffff", "0000002a", "g0000000", "+1234567",
		"-1234567", "0x123456", "12_45678", " 1234567", "123456789abc", "FFFFFFFFFFFF", "00000000000z"}
	for _, c := range hexCases {
		want, err := strconv.ParseUint(c, 16, 64)
		got, ok := parseHex(c)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("parseHex(%q) = %d %v, strconv %d %v", c, got, ok, want, err)
		}
	}
	decCases := []string{"", "0", "007", "42", "+1", "-1", "1a", " 1", "9999999999999999999",
		"18446744073709551615", "18446744073709551616", "1_000"}
	for _, c := range decCases {
		want, err := strconv.ParseUint(c, 10, 64)
		got, ok := Decimal{}.Parse(c)
		if ok != (err == nil) || (ok && got != want) {
			t.Errorf("Decimal.Parse(%q) = %d %v, strconv %d %v", c, got, ok, want, err)
		}
	}
	u := UUIDs{Kind: TaskKind, Salt: 0xABCDEF01}
	var buf [36]byte
	s := u.Render(&buf, 0xfedcba987654)
	if v, ok := u.Parse(s); !ok || v != 0xfedcba987654 {
		t.Fatalf("%s parsed to %x %v", s, v, ok)
	}
	upper := strings.ToUpper(s[:8]) + s[8:]
	if v, ok := u.Parse(upper); !ok || v != 0xfedcba987654 {
		t.Fatalf("%s (upper-case salt) parsed to %x %v", upper, v, ok)
	}
	if _, ok := u.Parse(s[:24] + "00000000000g"); ok {
		t.Fatal("a non-hex id parsed")
	}
}
