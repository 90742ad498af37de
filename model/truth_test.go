package model

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"strings"
	"testing"
	"time"
)

// echoParticipant records what it is handed and answers a request as the orchestrator
// does: a reply to its call, and a completion event about its task.
type echoParticipant struct{ got []Message }

func (p *echoParticipant) Start(time.Duration, *Effects)         {}
func (p *echoParticipant) Fire(time.Duration, TimerID, *Effects) {}
func (p *echoParticipant) Receive(_ time.Duration, m Message, out *Effects) {
	p.got = append(p.got, m)
	out.Send = append(out.Send,
		Message{Type: MsgCompleteReply, From: m.To, To: m.From, Call: m.Call, Task: m.Task},
		Message{Type: MsgCompleteReply, From: m.To, To: m.From, Call: m.Call + 1, Task: m.Task})
	out.Events = append(out.Events,
		Event{Kind: EvCompleted, Task: m.Task, CurrentAttempt: 3},
		Event{Kind: EvCompleted, Task: m.Task + 1, CurrentAttempt: 3},
		Event{Kind: EvDispatched, Task: m.Task, Attempt: 3})
}

// Deliver hands the receiver a message without Truth, and gives the request's Truth to
// the reply that answers it and its attempt to the completion event about its task;
// another call's reply, another task's event and other kinds keep what the receiver set.
func TestDeliverHandsNoTruth(t *testing.T) {
	p := &echoParticipant{}
	var out Effects
	req := Message{Type: MsgComplete, From: 7, To: 0, Call: 4, Task: 100, Run: 1,
		Result: ResultResponse, Truth: Truth{Step: 5, Attempt: 2}}
	Deliver(p, time.Second, req, &out)
	want := req
	want.Truth = Truth{}
	if len(p.got) != 1 || p.got[0] != want {
		t.Fatalf("handed %+v, want %+v", p.got, want)
	}
	if got := out.Send[0].Truth; got != req.Truth {
		t.Errorf("reply to call 4: Truth %+v, want %+v", got, req.Truth)
	}
	if got := out.Send[1].Truth; got != (Truth{}) {
		t.Errorf("reply to call 5: Truth %+v, want zero", got)
	}
	if a := [3]uint32{out.Events[0].Attempt, out.Events[1].Attempt, out.Events[2].Attempt}; a != [3]uint32{2, 0, 3} {
		t.Errorf("event attempts %v, want [2 0 3]", a)
	}
	// An assignment carries no Truth to attach: Deliver hands it as it is.
	p.got = nil
	out.Reset()
	a := Message{Type: MsgAssignment, From: 0, To: 7, Task: 100, Step: 5, Attempt: 2}
	Deliver(p, time.Second, a, &out)
	if len(p.got) != 1 || p.got[0] != a || p.got[0].TrueAttempt() != 2 {
		t.Errorf("assignment handed as %+v, want %+v", p.got, a)
	}
}

// No participant reads a message's Truth: outside the helpers that drivers use for
// observers (TrueAttempt, AttachTruth, Deliver), the package's code only writes Truth, as
// a field of a message it builds. A selector `.Truth` anywhere else would read it (or
// overwrite a received one).
func TestParticipantsNeverReadTruth(t *testing.T) {
	allowed := map[string]bool{"TrueAttempt": true, "AttachTruth": true, "Deliver": true}
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	files := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Body == nil || allowed[fn.Name.Name] {
				continue
			}
			ast.Inspect(fn.Body, func(n ast.Node) bool {
				if s, ok := n.(*ast.SelectorExpr); ok && s.Sel.Name == "Truth" {
					t.Errorf("%v: %s reads a message's Truth", fset.Position(s.Pos()), fn.Name.Name)
				}
				return true
			})
		}
	}
	if files < 10 {
		t.Fatalf("parsed %d files: not the model package's directory?", files)
	}
}
