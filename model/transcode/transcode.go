// Package transcode converts stepflow.v1 messages between binary protobuf and the two
// human formats, canonical protojson and prototext. It backs `tasksim codec`. Output is
// normalised so that it is byte-stable across builds: the protobuf library deliberately
// varies whitespace per binary to stop people depending on it, and users diff this output.
package transcode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tasksim/tasksim/model/stepflowpb"
)

// Format is a human-readable encoding of a message.
type Format string

const (
	JSON Format = "json"
	Text Format = "text"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch Format(s) {
	case JSON, Text:
		return Format(s), nil
	}
	return "", fmt.Errorf("format %q is not one of json, text", s)
}

// files are the schema's files; every message in them is a type the codec knows.
var files = []protoreflect.FileDescriptor{
	stepflowpb.File_stepflow_v1_common_proto,
	stepflowpb.File_stepflow_v1_tasks_proto,
	stepflowpb.File_stepflow_v1_orchestrator_proto,
}

// Types returns the full names of every stepflow.v1 message, sorted.
func Types() []string {
	var names []string
	for _, f := range files {
		msgs := f.Messages()
		for i := 0; i < msgs.Len(); i++ {
			names = append(names, string(msgs.Get(i).FullName()))
		}
	}
	sort.Strings(names)
	return names
}

// New returns an empty message of the named type. The package prefix may be left out.
func New(typeName string) (proto.Message, error) {
	full := typeName
	if !strings.Contains(full, ".") {
		full = "stepflow.v1." + full
	}
	for _, f := range files {
		if md := f.Messages().ByName(protoreflect.FullName(full).Name()); md != nil && md.FullName() == protoreflect.FullName(full) {
			return messageFor(md), nil
		}
	}
	return nil, fmt.Errorf("unknown type %q; known types: %s", typeName, strings.Join(Types(), ", "))
}

func messageFor(md protoreflect.MessageDescriptor) proto.Message {
	// The generated types are registered by the stepflowpb package; use them so that the
	// output is the real Go type, not a dynamic message.
	for _, m := range []proto.Message{
		&stepflowpb.PullTasksRequest{}, &stepflowpb.TaskAssignment{}, &stepflowpb.TaskContext{},
		&stepflowpb.ComponentExecuteRequest{}, &stepflowpb.ObservabilityContext{},
		&stepflowpb.ListComponentsRequest{}, &stepflowpb.ComponentInfo{},
		&stepflowpb.ListComponentsResult{}, &stepflowpb.ComponentExecuteResponse{},
		&stepflowpb.TaskError{}, &stepflowpb.CompleteTaskRequest{}, &stepflowpb.CompleteTaskResponse{},
		&stepflowpb.TaskHeartbeatRequest{}, &stepflowpb.TaskHeartbeatResponse{},
		&stepflowpb.GetOrchestratorForRunRequest{}, &stepflowpb.GetOrchestratorForRunResponse{},
	} {
		if m.ProtoReflect().Descriptor().FullName() == md.FullName() {
			return m
		}
	}
	panic(fmt.Sprintf("transcode: no Go type for %s; add it to messageFor", md.FullName()))
}

// Decode turns binary protobuf of the named type into JSON or text, ending in a newline.
func Decode(typeName string, bin []byte, format Format) ([]byte, error) {
	msg, err := New(typeName)
	if err != nil {
		return nil, err
	}
	if err := (proto.UnmarshalOptions{}).Unmarshal(bin, msg); err != nil {
		return nil, malformed(msg.ProtoReflect().Descriptor(), bin, err)
	}
	return Render(msg, format)
}

// maxIndentDepth is the deepest nesting Render indents. Indentation makes the output grow
// with the square of the depth (a 50 KB input 10,000 levels deep would print 200 MB, and
// protobuf-go's text encoder cannot be told not to indent a multi-line message); past
// this depth JSON lines start at the margin and text is one line, so output stays linear.
const maxIndentDepth = 64

// Render renders a message in a stable human form.
func Render(msg proto.Message, format Format) ([]byte, error) {
	deep := depth(msg.ProtoReflect()) > maxIndentDepth
	switch format {
	case Text:
		out, err := prototext.MarshalOptions{Multiline: !deep, Indent: "  "}.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("render %s as text: %w", msg.ProtoReflect().Descriptor().FullName(), err)
		}
		if deep {
			return append(singleSpaced(out), '\n'), nil
		}
		return stableText(out), nil
	default:
		out, err := protojson.Marshal(msg)
		if err != nil {
			return nil, fmt.Errorf("render %s as JSON: %w", msg.ProtoReflect().Descriptor().FullName(), err)
		}
		var buf bytes.Buffer
		indent := "  "
		if deep {
			indent = ""
		}
		if err := json.Indent(&buf, out, "", indent); err != nil {
			return nil, fmt.Errorf("normalise JSON: %w", err)
		}
		buf.WriteByte('\n')
		return buf.Bytes(), nil
	}
}

// depth is how many levels of messages m holds, itself included.
func depth(m protoreflect.Message) int {
	deepest := 0
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.MapValue().Kind() == protoreflect.MessageKind:
			v.Map().Range(func(_ protoreflect.MapKey, e protoreflect.Value) bool {
				deepest = max(deepest, depth(e.Message()))
				return true
			})
		case fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			for i, l := 0, v.List(); i < l.Len(); i++ {
				deepest = max(deepest, depth(l.Get(i).Message()))
			}
		case !fd.IsMap() && !fd.IsList() && fd.Kind() == protoreflect.MessageKind:
			deepest = max(deepest, depth(v.Message()))
		}
		return true
	})
	return 1 + deepest
}

// textNameSpaces matches a field name and the (randomly one or two) spaces after its colon.
var textNameSpaces = regexp.MustCompile(`(?m)^(\s*[\w.\[\]/]+:) +`)

// singleSpaced removes the extra spaces that the one-line text encoder puts, at random,
// between fields: outside quoted strings the text format has no other runs of spaces.
func singleSpaced(out []byte) []byte {
	w := 0
	quote := byte(0)
	for r := 0; r < len(out); r++ {
		c := out[r]
		switch {
		case quote != 0 && c == '\\' && r+1 < len(out):
			out[w] = c
			w++
			r++
			c = out[r]
		case quote != 0 && c == quote:
			quote = 0
		case quote == 0 && (c == '"' || c == '\''):
			quote = c
		case quote == 0 && c == ' ' && w > 0 && out[w-1] == ' ':
			continue
		}
		out[w] = c
		w++
	}
	return out[:w]
}

func stableText(out []byte) []byte {
	out = textNameSpaces.ReplaceAll(out, []byte("$1 "))
	if len(out) > 0 && out[len(out)-1] != '\n' {
		out = append(out, '\n')
	}
	return out
}

// Encode turns JSON or text of the named type into binary protobuf. Encoding is
// deterministic (map keys sorted), so the same input always gives the same bytes.
func Encode(typeName string, in []byte, format Format) ([]byte, error) {
	msg, err := New(typeName)
	if err != nil {
		return nil, err
	}
	name := msg.ProtoReflect().Descriptor().FullName()
	switch format {
	case Text:
		if err := prototext.Unmarshal(in, msg); err != nil {
			return nil, fmt.Errorf("text input does not fit %s: %s", name, trimProtoPrefix(err))
		}
	default:
		if err := protojson.Unmarshal(in, msg); err != nil {
			return nil, fmt.Errorf("JSON input does not fit %s: %s", name, trimProtoPrefix(err))
		}
	}
	out, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", name, err)
	}
	return out, nil
}

func trimProtoPrefix(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "proto: ")
	s = strings.TrimPrefix(s, "proto:\u00a0")
	return s
}

// MaxDepth is how deeply messages may nest (a Value in a Struct in a Value...):
// protobuf-go's own recursion limit, so that the codec refuses exactly what
// proto.Unmarshal refuses, and the walk that explains a failure cannot overflow the stack.
const MaxDepth = protowire.DefaultRecursionLimit

// MaxInputBytes bounds what the codec reads: far above any task message the simulator
// makes, far below what would take the machine down (an endless stdin, /dev/zero).
const MaxInputBytes = 64 << 20

// ReadInput reads all of r, refusing more than MaxInputBytes without reading further.
// name says where the bytes come from, for the error.
func ReadInput(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxInputBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > MaxInputBytes {
		return nil, fmt.Errorf("%s is larger than the codec's limit of %d MiB", name, MaxInputBytes>>20)
	}
	return data, nil
}

// malformed explains an unmarshal failure with the byte offset and field where the
// input stops making sense, found by walking the wire format against the schema.
func malformed(md protoreflect.MessageDescriptor, bin []byte, cause error) error {
	var path []string
	if off, why, ok := firstBadField(md, bin, 0, &path); ok {
		return fmt.Errorf("malformed %s at byte %d (%s): %s", md.FullName(), off, formatPath(path), why)
	}
	return fmt.Errorf("malformed %s: %s", md.FullName(), trimProtoPrefix(cause))
}

// formatPath joins the fields from the outermost in; a path as deep as MaxDepth is shown
// by its ends, so that the error stays one readable line.
func formatPath(path []string) string {
	const ends = 3
	if len(path) > 2*ends+1 {
		skipped := len(path) - 2*ends
		path = append(append(slices.Clip(path[:ends]), fmt.Sprintf("... %d more ...", skipped)), path[len(path)-ends:]...)
	}
	return strings.Join(path, " > ")
}

// firstBadField walks b as a message of type md and returns where it first breaks; path
// holds the labels of the fields it is in, outermost first. Messages nested deeper than
// MaxDepth are where it breaks: the walk is recursive, and its depth must not be the
// input's to choose.
func firstBadField(md protoreflect.MessageDescriptor, b []byte, base int, path *[]string) (int, string, bool) {
	pos := 0
	for pos < len(b) {
		num, typ, n := protowire.ConsumeTag(b[pos:])
		if n < 0 {
			*path = append(*path, "tag")
			return base + pos, protowire.ParseError(n).Error(), true
		}
		fd := md.Fields().ByNumber(num)
		label := fmt.Sprintf("field %d", num)
		if fd != nil {
			label = fmt.Sprintf("field %d %s", num, fd.Name())
		}
		vn := protowire.ConsumeFieldValue(num, typ, b[pos+n:])
		if vn < 0 {
			*path = append(*path, label)
			return base + pos, protowire.ParseError(vn).Error(), true
		}
		if fd != nil {
			if why := wireTypeMismatch(fd, typ); why != "" {
				*path = append(*path, label)
				return base + pos, why, true
			}
			if typ == protowire.BytesType {
				val, _ := protowire.ConsumeBytes(b[pos+n:])
				valStart := base + pos + n + (vn - len(val))
				switch {
				case fd.Kind() == protoreflect.MessageKind:
					*path = append(*path, label)
					if len(*path) >= MaxDepth {
						return base + pos, fmt.Sprintf("messages nested deeper than %d levels (protobuf-go's recursion limit)", MaxDepth), true
					}
					if off, why, ok := firstBadField(fd.Message(), val, valStart, path); ok {
						return off, why, true
					}
					*path = (*path)[:len(*path)-1]
				case fd.Kind() == protoreflect.StringKind && !utf8.Valid(val):
					*path = append(*path, label)
					return base + pos, "string is not valid UTF-8", true
				}
			}
		}
		pos += n + vn
	}
	return 0, "", false
}

func wireTypeMismatch(fd protoreflect.FieldDescriptor, typ protowire.Type) string {
	var want protowire.Type
	switch fd.Kind() {
	case protoreflect.FloatKind, protoreflect.Fixed32Kind, protoreflect.Sfixed32Kind:
		want = protowire.Fixed32Type
	case protoreflect.DoubleKind, protoreflect.Fixed64Kind, protoreflect.Sfixed64Kind:
		want = protowire.Fixed64Type
	case protoreflect.StringKind, protoreflect.BytesKind, protoreflect.MessageKind:
		want = protowire.BytesType
	case protoreflect.GroupKind:
		want = protowire.StartGroupType
	default:
		want = protowire.VarintType
	}
	if typ == want || fd.IsList() && typ == protowire.BytesType { // packed repeated scalars
		return ""
	}
	return fmt.Sprintf("wire type %d where a %s needs wire type %d", typ, fd.Kind(), want)
}
