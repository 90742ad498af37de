package transcode

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

func TestSamplesCoverEveryType(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range samples() {
		seen[string(s.msg.ProtoReflect().Descriptor().FullName())] = true
	}
	for _, name := range Types() {
		if !seen[name] {
			t.Errorf("no sample of %s", name)
		}
	}
}

func TestRoundTripEveryFormat(t *testing.T) {
	for _, s := range samples() {
		name := string(s.msg.ProtoReflect().Descriptor().FullName())
		bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.msg)
		if err != nil {
			t.Fatalf("%s: marshal: %v", s.name, err)
		}
		for _, f := range []Format{JSON, Text} {
			human, err := Decode(name, bin, f)
			if err != nil {
				t.Fatalf("%s: decode to %s: %v", s.name, f, err)
			}
			back, err := Encode(name, human, f)
			if err != nil {
				t.Fatalf("%s: encode from %s: %v\n%s", s.name, f, err, human)
			}
			got, _ := New(name)
			if err := proto.Unmarshal(back, got); err != nil {
				t.Fatalf("%s: unmarshal: %v", s.name, err)
			}
			if !proto.Equal(got, s.msg) {
				t.Errorf("%s via %s: got %v, want %v", s.name, f, got, s.msg)
			}
			if !bytes.Equal(back, bin) {
				t.Errorf("%s via %s: bytes differ after a round trip (deterministic encoding broken)", s.name, f)
			}
		}
	}
}

func TestPresenceSurvivesRoundTrip(t *testing.T) {
	in := &pb.TaskHeartbeatRequest{TaskId: "t", WorkerId: "w", Progress: f32(0), StatusMessage: str("")}
	bin, _ := proto.Marshal(in)
	var out pb.TaskHeartbeatRequest
	if err := proto.Unmarshal(bin, &out); err != nil {
		t.Fatal(err)
	}
	if out.Progress == nil || out.StatusMessage == nil || out.RunId != nil {
		t.Fatalf("presence lost: progress=%v status=%v run=%v", out.Progress, out.StatusMessage, out.RunId)
	}
	js, _ := Decode("TaskHeartbeatRequest", bin, JSON)
	if !strings.Contains(string(js), `"progress": 0`) || !strings.Contains(string(js), `"statusMessage": ""`) || strings.Contains(string(js), "runId") {
		t.Fatalf("JSON does not show present-but-empty vs absent:\n%s", js)
	}
}

func TestMapEncodingIsDeterministic(t *testing.T) {
	m := &pb.ComponentExecuteRequest{PathParams: map[string]string{}}
	for _, k := range []string{"q", "b", "z", "a", "m", "c"} {
		m.PathParams[k] = k + k
	}
	first, _ := Encode("ComponentExecuteRequest", mustJSON(t, m), JSON)
	for i := 0; i < 20; i++ {
		again, _ := Encode("ComponentExecuteRequest", mustJSON(t, m), JSON)
		if !bytes.Equal(first, again) {
			t.Fatal("map encoding differs between calls")
		}
	}
	// Keys must appear on the wire in sorted order.
	var keys []string
	rest := first
	for len(rest) > 0 {
		// field 5, length-delimited entry: tag 0x2a
		if rest[0] != 0x2a {
			t.Fatalf("unexpected tag %#x", rest[0])
		}
		n := int(rest[1])
		entry := rest[2 : 2+n]
		keys = append(keys, string(entry[2:2+int(entry[1])]))
		rest = rest[2+n:]
	}
	if strings.Join(keys, ",") != "a,b,c,m,q,z" {
		t.Fatalf("map keys on the wire in order %v, want sorted", keys)
	}
}

func mustJSON(t *testing.T, m proto.Message) []byte {
	t.Helper()
	js, err := Render(m, JSON)
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func TestErrorsNameTheProblem(t *testing.T) {
	cases := []struct {
		name    string
		typ     string
		format  Format
		decode  bool
		input   string
		wantErr string
	}{
		{"unknown type", "stepflow.v1.Nope", JSON, true, "", `unknown type "stepflow.v1.Nope"`},
		{"truncated string", "TaskAssignment", JSON, true, "\x0a\x05ab", "malformed stepflow.v1.TaskAssignment at byte 0 (field 1 task_id): unexpected EOF"},
		{"nested truncation", "TaskAssignment", JSON, true, "\x12\x03\x0a\x05a", "at byte 2 (field 2 execute > field 1 component_id)"},
		{"bad utf8", "PullTasksRequest", JSON, true, "\x0a\x01\xff", "at byte 0 (field 1 queue_name): string is not valid UTF-8"},
		{"unknown JSON field", "TaskAssignment", JSON, false, `{"taskid": "x"}`, `JSON input does not fit stepflow.v1.TaskAssignment: (line 1:2): unknown field "taskid"`},
		{"JSON wrong type", "TaskAssignment", JSON, false, `{"heartbeatIntervalSecs": "soon"}`, `heartbeatIntervalSecs`},
		{"bad enum", "TaskHeartbeatResponse", JSON, false, `{"status": "TASK_STATUS_DONE"}`, `TASK_STATUS_DONE`},
		{"bad text", "TaskAssignment", Text, false, `task_id: 5`, `text input does not fit stepflow.v1.TaskAssignment`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			if c.decode {
				_, err = Decode(c.typ, []byte(c.input), c.format)
			} else {
				_, err = Encode(c.typ, []byte(c.input), c.format)
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, c.wantErr)
			}
		})
	}
}

func TestEnumSpellings(t *testing.T) {
	want := map[protoreflect.EnumDescriptor][]string{
		pb.TaskStatus(0).Descriptor(): {"TASK_STATUS_UNSPECIFIED", "TASK_STATUS_IN_PROGRESS", "TASK_STATUS_ALREADY_CLAIMED"},
		pb.TaskErrorCode(0).Descriptor(): {"TASK_ERROR_CODE_UNSPECIFIED", "TASK_ERROR_CODE_TIMEOUT", "TASK_ERROR_CODE_INVALID_INPUT",
			"TASK_ERROR_CODE_COMPONENT_FAILED", "TASK_ERROR_CODE_CANCELLED", "TASK_ERROR_CODE_UNREACHABLE",
			"TASK_ERROR_CODE_COMPONENT_NOT_FOUND", "TASK_ERROR_CODE_RESOURCE_UNAVAILABLE",
			"TASK_ERROR_CODE_EXPRESSION_FAILURE", "TASK_ERROR_CODE_ORCHESTRATOR_ERROR", "TASK_ERROR_CODE_WORKER_ERROR"},
	}
	for ed, names := range want {
		if ed.Values().Len() != len(names) {
			t.Errorf("%s has %d values, want %d", ed.FullName(), ed.Values().Len(), len(names))
		}
		for i, n := range names {
			if got := ed.Values().ByNumber(protoreflect.EnumNumber(i)); got == nil || string(got.Name()) != n {
				t.Errorf("%s value %d: got %v, want %s", ed.FullName(), i, got, n)
			}
		}
	}
}
