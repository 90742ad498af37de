package transcode

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
)

// protoc checks our generated code against an implementation that shares none of it:
// the C++ protoc reading the project's .proto files. CI installs it (protobuf-compiler)
// and sets TASKSIM_REQUIRE_PROTOC=1 so that a missing protoc fails instead of skipping.
func protoc(t *testing.T, stdin []byte, args ...string) []byte {
	t.Helper()
	bin, err := exec.LookPath("protoc")
	if err != nil {
		if os.Getenv("TASKSIM_REQUIRE_PROTOC") != "" {
			t.Fatalf("protoc not found and TASKSIM_REQUIRE_PROTOC is set: %v", err)
		}
		t.Skip("protoc not installed (Debian package protobuf-compiler)")
	}
	protoDir, _ := filepath.Abs("../proto")
	files, _ := filepath.Glob(filepath.Join(protoDir, "stepflow/v1/*.proto"))
	for i, f := range files {
		files[i], _ = filepath.Rel(protoDir, f)
	}
	cmd := exec.Command(bin, append(append(args, "-I", protoDir), files...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("protoc %v: %v: %s", args, err, stderr.String())
	}
	return out
}

func TestProtocEncodesWhatGoDecodes(t *testing.T) {
	for _, s := range samples() {
		name := string(s.msg.ProtoReflect().Descriptor().FullName())
		text, err := prototext.Marshal(s.msg)
		if err != nil {
			t.Fatal(err)
		}
		bin := protoc(t, text, "--encode="+name)
		got, _ := New(name)
		if err := proto.Unmarshal(bin, got); err != nil {
			t.Fatalf("%s: Go cannot decode protoc's bytes: %v", s.name, err)
		}
		if !proto.Equal(got, s.msg) {
			t.Errorf("%s: protoc-encoded message decodes to %v, want %v", s.name, got, s.msg)
		}
	}
}

func TestProtocDecodesWhatGoEncodes(t *testing.T) {
	for _, s := range samples() {
		name := string(s.msg.ProtoReflect().Descriptor().FullName())
		bin, err := proto.MarshalOptions{Deterministic: true}.Marshal(s.msg)
		if err != nil {
			t.Fatal(err)
		}
		text := protoc(t, bin, "--decode="+name)
		got, _ := New(name)
		if err := (prototext.UnmarshalOptions{}).Unmarshal(text, got); err != nil {
			t.Fatalf("%s: cannot read protoc's text: %v\n%s", s.name, err, text)
		}
		if !proto.Equal(got, s.msg) {
			t.Errorf("%s: protoc decoded %s, want %v", s.name, text, s.msg)
		}
		// protoc re-encoding what it decoded must give the same bytes (field order and
		// map keys included, since Go encoded deterministically).
		if again := protoc(t, text, "--encode="+name); !bytes.Equal(again, bin) && !proto.Equal(mustUnmarshal(t, name, again), s.msg) {
			t.Errorf("%s: protoc re-encoding differs", s.name)
		}
	}
}

func mustUnmarshal(t *testing.T, name string, b []byte) proto.Message {
	m, _ := New(name)
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	return m
}
