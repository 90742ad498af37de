package wiremap

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wire"
)

// directPair is a Direct and the reference path it must agree with, each with its own
// Codec (the reference's decodes alias its Codec), both with the same frozen Values.
type directPair struct {
	direct   *Direct
	dc, rc   *wire.Codec
	dmp, rmp *Mapper
}

func newDirectPair(t testing.TB, url string) *directPair {
	p := &directPair{dc: wire.NewCodec(), rc: wire.NewCodec()}
	values := map[int32]*structpb.Value{}
	value := func(n int32) *structpb.Value {
		v, ok := values[n]
		if !ok {
			v = wire.SampleValue(int(n))
			values[n] = v
			for _, c := range []*wire.Codec{p.dc, p.rc} {
				if _, err := c.FreezeValue(v); err != nil {
					t.Fatal(err)
				}
			}
		}
		return v
	}
	for _, mp := range []**Mapper{&p.dmp, &p.rmp} {
		*mp = New([]string{"default", "gpu"}, []string{"/python/echo", "/rust/resize"}, 0xabc, url)
		(*mp).ValueSource = value
	}
	p.direct = NewDirect(p.dmp, p.dc)
	return p
}

// directMessages are the shapes Direct takes, at the edges of their fields' ranges.
func directMessages() []model.Message {
	var msgs []model.Message
	for _, task := range []model.TaskID{0, 1, 42, 0xabcdef, 1<<48 - 1, 1 << 48, 1<<64 - 1} {
		for _, run := range []model.RunID{0, 7, 1<<32 - 2, UnknownRun} {
			for _, worker := range []model.NodeID{0, 9, 1<<31 - 1, -1} {
				msgs = append(msgs, model.Message{Type: model.MsgHeartbeat, Task: task, Worker: worker, Run: run})
			}
			for _, attempt := range []uint32{0, 1, 127, 128, 1<<32 - 1} {
				for _, comp := range []int32{0, 1, -1, 5} {
					msgs = append(msgs, model.Message{Type: model.MsgAssignment, Task: task, Run: run, Step: model.StepID(attempt) * 3,
						Attempt: attempt, Component: comp, PayloadBytes: 512, HeartbeatSecs: attempt % 300})
				}
			}
			for _, size := range []int32{0, 64, 512, 5000} {
				msgs = append(msgs, model.Message{Type: model.MsgComplete, Task: task, Run: run, Result: model.ResultResponse, PayloadBytes: size})
				msgs = append(msgs, model.Message{Type: model.MsgAssignment, Task: task, Run: run, Step: 1, Attempt: 1, PayloadBytes: size, HeartbeatSecs: 1})
			}
			msgs = append(msgs, model.Message{Type: model.MsgAssignment, Task: task, Run: run, Discovery: true, Component: -1},
				model.Message{Type: model.MsgComplete, Task: task, Run: run, Result: model.ResultListComponents, Discovery: true})
			for _, code := range []model.ErrorCode{0, model.ErrComponentFailed, 127, 128, 255} {
				msgs = append(msgs, model.Message{Type: model.MsgComplete, Task: task, Run: run, Result: model.ResultError, ErrorCode: code})
			}
		}
	}
	for _, status := range []model.TaskStatus{0, model.StatusInProgress, model.StatusAlreadyClaimed, 127, 128, 255} {
		for _, abort := range []bool{false, true} {
			msgs = append(msgs, model.Message{Type: model.MsgHeartbeatReply, Status: status, ShouldAbort: abort})
		}
	}
	return append(msgs, model.Message{Type: model.MsgCompleteReply})
}

// Direct puts on the wire exactly the bytes of the reference path, and decodes them to
// exactly what the reference path decodes, for every shape it takes; it takes all of them.
func TestDirectMatchesReference(t *testing.T) {
	for _, url := range []string{"http://127.0.0.1:7837", "", "http://" + string(bytes.Repeat([]byte("a"), 200))} {
		p := newDirectPair(t, url)
		for _, m := range directMessages() {
			want, err := p.rmp.Encode(p.rc, &m)
			if err != nil {
				t.Fatalf("reference encode of %+v: %v", m, err)
			}
			want = bytes.Clone(want)
			got, ok := p.direct.Encode(&m)
			if !ok {
				t.Fatalf("Direct does not encode %+v", m)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("url %q: %+v encodes to\n%x\nwant (reference)\n%x", url, m, got, want)
			}
			ref, err := p.rmp.Decode(p.rc, m.Type, want)
			if err != nil {
				t.Fatalf("reference decode of %+v: %v", m, err)
			}
			var dec model.Message
			if !p.direct.Decode(m.Type, want, &dec) {
				t.Fatalf("Direct does not decode %+v (%x)", m, want)
			}
			if dec != ref {
				t.Fatalf("%+v decodes to\n%+v\nwant (reference)\n%+v", m, dec, ref)
			}
		}
	}
}

// What Direct does not take it leaves to the reference path: a PullTasksRequest (one
// per stream), a payload that is not frozen, a list_components result of components
// whose ids are not UTF-8, a Mapper with other id spaces, and calls the Codec times.
func TestDirectDeclines(t *testing.T) {
	p := newDirectPair(t, "http://x")
	if m := (model.Message{Type: model.MsgPullTasks, Worker: 1}); func() bool { _, ok := p.direct.Encode(&m); return ok }() {
		t.Errorf("Direct encoded %+v", m)
	}
	bad := New(nil, []string{"\xff"}, 0, "")
	list := model.Message{Type: model.MsgComplete, Task: 1, Result: model.ResultListComponents, Discovery: true}
	if _, ok := NewDirect(bad, wire.NewCodec()).Encode(&list); ok {
		t.Error("Direct encoded a list_components result with a component id that is not UTF-8")
	}
	p.dmp.Inputs = []*structpb.Value{structpb.NewStringValue("not frozen")}
	m := model.Message{Type: model.MsgAssignment, Task: 1, Run: 1, Step: 1, Attempt: 1, Component: 0, PayloadBytes: 64}
	if _, ok := p.direct.Encode(&m); ok {
		t.Error("Direct encoded an assignment whose input is not frozen")
	}
	p.rmp.Inputs = p.dmp.Inputs
	data, err := p.rmp.Encode(p.rc, &m)
	if err != nil {
		t.Fatal(err)
	}
	if p.direct.Decode(model.MsgAssignment, data, new(model.Message)) {
		t.Error("Direct decoded an assignment whose input is not frozen")
	}

	interned := New(nil, nil, 0, "")
	interned.Tasks = &Interned{First: 1}
	hb := model.Message{Type: model.MsgHeartbeat, Task: 1, Worker: 1, Run: 1}
	if _, ok := NewDirect(interned, wire.NewCodec()).Encode(&hb); ok {
		t.Error("Direct encoded for a Mapper with an Interned task space")
	}

	// With a clock, the Codec times one call in 4: those take the reference path, so its
	// figures are of full encodes and decodes; the others are counted as Direct's.
	start := time.Now()
	c := wire.NewCodec()
	c.SetClock(func() time.Duration { return time.Since(start) }, 4)
	d := NewDirect(New(nil, nil, 0, ""), c)
	var took []bool
	for range 8 {
		_, ok := d.Encode(&hb)
		if !ok {
			if _, err := d.mp.Encode(c, &hb); err != nil {
				t.Fatal(err)
			}
		}
		took = append(took, ok)
	}
	if fmt.Sprint(took) != "[false true true true false true true true]" {
		t.Errorf("Direct took encodes %v, want all but every fourth", took)
	}
	if st := c.Stats(); st.Encoded != 8 || st.TimedEncodes != 2 || st.EncodedBytes != 8*int64(len(mustEncode(t, d.mp, &hb))) {
		t.Errorf("stats %+v: want 8 encodes, 2 timed, 8 heartbeats' bytes", st)
	}
}

func mustEncode(t *testing.T, mp *Mapper, m *model.Message) []byte {
	t.Helper()
	b, err := mp.Encode(wire.NewCodec(), m)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(b)
}

// Stats count Direct's messages as the Codec's own: bytes, and the payloads reused.
func TestDirectStats(t *testing.T) {
	p := newDirectPair(t, "http://x")
	msgs := []model.Message{
		{Type: model.MsgHeartbeat, Task: 1, Worker: 2, Run: 3},
		{Type: model.MsgAssignment, Task: 1, Run: 3, Step: 1, Attempt: 1, PayloadBytes: 512, HeartbeatSecs: 1},
		{Type: model.MsgComplete, Task: 1, Run: 3, Result: model.ResultResponse, PayloadBytes: 512},
	}
	var n int64
	for _, m := range msgs {
		b, ok := p.direct.Encode(&m)
		if !ok {
			t.Fatalf("Direct does not encode %+v", m)
		}
		n += int64(len(b))
		if !p.direct.Decode(m.Type, bytes.Clone(b), new(model.Message)) {
			t.Fatalf("Direct does not decode %+v", m)
		}
	}
	st := p.dc.Stats()
	want := wire.Stats{Encoded: 3, EncodedBytes: n, Decoded: 3, DecodedBytes: n, ReusedEncodes: 2, ReusedDecodes: 2}
	if st != want {
		t.Errorf("stats %+v, want %+v", st, want)
	}
}

// FuzzDirectDecode holds Direct's decoders to the reference path on arbitrary bytes: what
// Direct decodes, the reference path decodes without error to the same message; input
// the reference path rejects, Direct never takes.
func FuzzDirectDecode(f *testing.F) {
	p := newDirectPair(f, "http://127.0.0.1:7837")
	for _, m := range directMessages() {
		if m.Task > 1<<20 {
			continue // a smaller seed corpus: the fuzzer mutates the ids' digits anyway
		}
		b, err := p.rmp.Encode(p.rc, &m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(typeSeed(m.Type), bytes.Clone(b))
	}
	f.Fuzz(func(t *testing.T, typ uint8, data []byte) {
		types := []model.MsgType{model.MsgPullTasks, model.MsgAssignment, model.MsgHeartbeat,
			model.MsgHeartbeatReply, model.MsgComplete, model.MsgCompleteReply}
		mt := types[int(typ)%len(types)]
		var got model.Message
		ok := p.direct.Decode(mt, bytes.Clone(data), &got)
		ref, err := p.rmp.Decode(p.rc, mt, bytes.Clone(data))
		if !ok {
			return
		}
		if err != nil {
			t.Fatalf("Direct decodes %v from %x to %+v; the reference path rejects it: %v", mt, data, got, err)
		}
		if got != ref {
			t.Fatalf("%v %x: Direct decodes\n%+v\nthe reference path\n%+v", mt, data, got, ref)
		}
	})
}

// typeSeed is the fuzz argument that picks t.
func typeSeed(t model.MsgType) uint8 {
	for i, w := range []model.MsgType{model.MsgPullTasks, model.MsgAssignment, model.MsgHeartbeat,
		model.MsgHeartbeatReply, model.MsgComplete, model.MsgCompleteReply} {
		if w == t {
			return uint8(i)
		}
	}
	return 0
}

// UUIDs.Render writes the documented shape: salt, Kind at digit 19, the id's low 48 bits.
func TestUUIDRenderShape(t *testing.T) {
	for _, u := range []UUIDs{{Kind: TaskKind}, {Kind: WorkerKind, Salt: 0xdeadbeef}, {Kind: TaskKind, Salt: 0x01020304}} {
		for _, id := range []uint64{0, 1, 0xabcdef, 1<<48 - 1, 1 << 48, 1<<64 - 1} {
			var buf [36]byte
			got := u.Render(&buf, id)
			want := fmt.Sprintf("%08x-0000-4000-%c000-%012x", u.Salt, u.Kind, id&(1<<48-1))
			if got != want {
				t.Errorf("Render(%+v, %#x) = %s, want %s", u, id, got, want)
			}
			if v, ok := u.Parse(got); !ok || v != id&(1<<48-1) {
				t.Errorf("Parse(%s) = %#x %v", got, v, ok)
			}
		}
	}
}

// SameOnWire is Wire(a) == Wire(b), on messages that differ in one field or none, of
// every type and every field the model has.
func TestSameOnWireIsWireEquality(t *testing.T) {
	base := []model.Message{}
	for typ := model.MsgPullTasks; typ <= model.MsgCompleteReply; typ++ {
		for _, disc := range []bool{false, true} {
			for _, res := range []model.ResultKind{model.ResultResponse, model.ResultError, model.ResultListComponents} {
				for _, code := range []model.Code{model.CodeOK, model.CodeOK + 1} {
					base = append(base, model.Message{Type: typ, From: 1, To: 2, Call: 3, Worker: 4, Pool: 5, Task: 6, Run: 7,
						Step: 8, Attempt: 9, Discovery: disc, Component: 10, PayloadBytes: 11, HeartbeatSecs: 12, Result: res,
						ErrorCode: 13, Status: 14, ShouldAbort: true, Code: code, Delivery: 15, Truth: model.Truth{Step: 16, Attempt: 17}})
				}
			}
		}
	}
	changes := []func(*model.Message){
		func(*model.Message) {},
		func(m *model.Message) { m.Type++ }, func(m *model.Message) { m.From++ }, func(m *model.Message) { m.To++ },
		func(m *model.Message) { m.Call++ }, func(m *model.Message) { m.Worker++ }, func(m *model.Message) { m.Pool++ },
		func(m *model.Message) { m.Task++ }, func(m *model.Message) { m.Run++ }, func(m *model.Message) { m.Step++ },
		func(m *model.Message) { m.Attempt++ }, func(m *model.Message) { m.Discovery = !m.Discovery },
		func(m *model.Message) { m.Component++ }, func(m *model.Message) { m.PayloadBytes++ },
		func(m *model.Message) { m.HeartbeatSecs++ }, func(m *model.Message) { m.Result++ },
		func(m *model.Message) { m.ErrorCode++ }, func(m *model.Message) { m.Status++ },
		func(m *model.Message) { m.ShouldAbort = !m.ShouldAbort }, func(m *model.Message) { m.Code++ },
		func(m *model.Message) { m.Delivery++ }, func(m *model.Message) { m.Truth.Attempt++ },
	}
	differ := 0
	for _, a := range base {
		for i, change := range changes {
			b := a
			change(&b)
			want := Wire(a) == Wire(b)
			if got := SameOnWire(&a, &b); got != want {
				t.Errorf("change %d of %+v: SameOnWire %v, Wire equality %v", i, a, got, want)
			}
			if !want {
				differ++
			}
		}
	}
	if differ == 0 {
		t.Fatal("no change made two messages differ on the wire")
	}
}
