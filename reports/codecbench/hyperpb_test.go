package codecbench

import (
	"testing"

	"buf.build/go/hyperpb"
	"google.golang.org/protobuf/proto"

	"github.com/tasksim/tasksim/model/wire/wiretest"
)

// hyperpb, a decode variant of the bench, decodes what every binary encoder makes of
// every sample and of wiretest's variety (every oneof case, Value kind, empty field and
// unknown field) to a message equal to the original: model/wire's round trip of every
// encoder and decoder, for the decoder kept here with hyperpb so that wire's tests and
// fuzz build do not compile it.
func TestHyperpbDecodesEveryEncoding(t *testing.T) {
	types := map[string]*hyperpb.MessageType{}
	encs := wiretest.Encoders()
	for _, m := range wiretest.AllMessages(0, 512, 16384) {
		d := m.ProtoReflect().Descriptor()
		typ, ok := types[string(d.FullName())]
		if !ok {
			typ = hyperpb.CompileMessageDescriptor(d)
			types[string(d.FullName())] = typ
		}
		for en, enc := range encs {
			if en == "protojson" {
				continue
			}
			b, err := enc(m)
			if err != nil {
				t.Fatalf("%s: encode %s: %v", wiretest.Describe(m), en, err)
			}
			got := hyperpb.NewMessage(typ)
			if err := got.Unmarshal(b); err != nil {
				t.Errorf("%s: encode %s, decode hyperpb: %v", wiretest.Describe(m), en, err)
				continue
			}
			if !proto.Equal(got, m) {
				t.Errorf("%s: encode %s, decode hyperpb: message differs\n got %v\nwant %v", wiretest.Describe(m), en, got, m)
			}
		}
	}
}
