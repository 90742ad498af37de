package transcode

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"
)

// nestedAssignment is a TaskAssignment whose execute.input is a Value holding a list
// holding a Value... `levels` lists deep, built from the inside out in one buffer: 10^6
// levels are 9.5 MB, the input that overflowed the stack.
func nestedAssignment(levels int) []byte {
	buf := make([]byte, 12*levels+32)
	i := len(buf)
	prepend := func(tag byte, n int) {
		var v [binary.MaxVarintLen64]byte
		w := binary.PutUvarint(v[:], uint64(n))
		i -= w
		copy(buf[i:], v[:w])
		i--
		buf[i] = tag
	}
	end := len(buf)
	prepend(0x32, 0) // the innermost Value: an empty list
	for range levels - 1 {
		prepend(0x0a, end-i) // ListValue.values
		prepend(0x32, end-i) // Value.list_value
	}
	prepend(0x12, end-i) // ComponentExecuteRequest.input
	prepend(0x12, end-i) // TaskAssignment.execute
	return buf[i:]
}

func TestDeepNestingIsRefusedNotOverflowed(t *testing.T) {
	in := nestedAssignment(1_000_000)
	if len(in) < 9_000_000 {
		t.Fatalf("input is %d bytes; want the 9.5 MB of the report", len(in))
	}
	_, err := Decode("TaskAssignment", in, JSON)
	if err == nil {
		t.Fatal("a Value nested 10^6 deep decoded")
	}
	want := "malformed stepflow.v1.TaskAssignment at byte 49995 (field 2 execute > field 2 input > field 6 list_value > ... 9994 more ... > field 1 values > field 6 list_value > field 1 values): messages nested deeper than 10000 levels (protobuf-go's recursion limit)"
	if err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// The walk that explains a failure refuses exactly what protobuf-go refuses: 4,999 levels
// are 10,000 messages with the TaskAssignment and its execute request, and decode; one
// more level is named as the limit.
func TestNestingLimitIsProtobufGos(t *testing.T) {
	if _, err := Decode("TaskAssignment", nestedAssignment(4999), JSON); err != nil {
		t.Fatalf("10,000 messages deep: %v", err)
	}
	_, err := Decode("TaskAssignment", nestedAssignment(5000), JSON)
	if err == nil || !strings.Contains(err.Error(), "nested deeper than 10000 levels") {
		t.Fatalf("10,002 messages deep: %v", err)
	}
}

// Past maxIndentDepth the output stops indenting, so it stays linear in the input, and
// it still encodes back to the same bytes.
func TestDeepMessagesRenderInLinearSize(t *testing.T) {
	in := nestedAssignment(1000)
	for _, f := range []Format{JSON, Text} {
		out, err := Decode("TaskAssignment", in, f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(out) > 8*len(in) {
			t.Errorf("%s: %d bytes of output for %d of input; indentation makes it quadratic", f, len(out), len(in))
		}
		back, err := Encode("TaskAssignment", out, f)
		if err != nil || !bytes.Equal(back, in) {
			t.Errorf("%s: the deep rendering does not encode back to the input: %v", f, err)
		}
	}
}

func TestEncodeRefusesDeepJSON(t *testing.T) {
	in := `{"execute": {"input": ` + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + `}}`
	_, err := Encode("TaskAssignment", []byte(in), JSON)
	if err == nil || !strings.Contains(err.Error(), "recursion depth") {
		t.Fatalf("got %v, want the recursion limit named", err)
	}
}

func TestReadInputIsBounded(t *testing.T) {
	_, err := ReadInput(zeros{}, "<stdin>") // /dev/zero, or a stdin that never ends
	want := "<stdin> is larger than the codec's limit of 64 MiB"
	if err == nil || err.Error() != want {
		t.Fatalf("got %v, want %q", err, want)
	}
	got, err := ReadInput(bytes.NewReader(make([]byte, MaxInputBytes)), "f")
	if err != nil || len(got) != MaxInputBytes {
		t.Fatalf("exactly the limit: %d bytes, %v", len(got), err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// FuzzNesting decodes Values nested to a depth the fuzzer picks, around and far past the
// limit, with fuzzed bytes inside: the decode refuses or succeeds, never overflows, and
// a refusal names the limit exactly when the nesting is past it.
func FuzzNesting(f *testing.F) {
	f.Add(uint32(10), []byte{})
	f.Add(uint32(4999), []byte{})
	f.Add(uint32(5000), []byte{0x08, 0x00})
	f.Add(uint32(19_000), []byte{0xff})
	f.Fuzz(func(t *testing.T, levels uint32, inner []byte) {
		levels = levels%20_000 + 1
		in := nestedAssignment(int(levels))
		_, err := Decode("TaskAssignment", in, JSON)
		tooDeep := err != nil && strings.Contains(err.Error(), "nested deeper than 10000 levels")
		if (levels >= 5000) != tooDeep {
			t.Fatalf("%d levels: %v", levels, err)
		}
		// Fuzzed bytes as the innermost ListValue's body: any outcome but a crash.
		in = append(in[:len(in):len(in)], inner...)
		_, _ = Decode("TaskAssignment", in, Text)
	})
}
