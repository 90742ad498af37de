package wire

import (
	"bytes"
	"fmt"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// Frozen Values. The simulator hands the same input or output Value (one per payload
// size) to every assignment and completion, and the Value is a tree of ~100 nodes whose
// Struct keys must be sorted on every encode and whose map must be rebuilt on every
// decode: most of the cost of those messages. A caller that promises a Value never
// changes can freeze it: the Codec encodes it once, and from then on an encode copies
// those bytes where the Value goes, and a decode that finds exactly those bytes there
// returns the Value they decode to (decoded once, when frozen) instead of rebuilding it.
// The output bytes are identical either way (a test pins it), so trace hashes do not
// move; the decoded message is equal either way.
//
// Calls the Codec times (SetClock) always take the full path, so the perf figures stay
// those of real encodes and decodes; Stats counts how many messages reused frozen bytes.

// frozenValue is a Value the caller promised not to change, with its encoding.
type frozenValue struct {
	v *structpb.Value
	// body is v's encoding without the tag and length of the field that holds it.
	body []byte
	// decoded is what decoding body gives: the Value a decode of these bytes returns.
	decoded *structpb.Value
}

// maxFrozen bounds the table, which is searched linearly on every encode and decode of a
// message with a Value: a scenario has one Value per distinct payload size.
const maxFrozen = 8

// FreezeValue promises that v (and every node under it) is never changed again, so that
// the Codec may encode it once and reuse the bytes (see above). It reports whether v was
// taken: a table that is full, or a Value that cannot be encoded, leaves v to the full
// path. The Value a decode returns for frozen bytes is shared by every such decode and
// must not be changed either.
func (c *Codec) FreezeValue(v *structpb.Value) (bool, error) {
	if v == nil {
		return false, nil
	}
	for _, f := range c.enc.frozen {
		if f.v == v {
			return true, nil
		}
	}
	if len(c.enc.frozen) == maxFrozen {
		return false, nil
	}
	var e encoder
	n := e.sizeValue(v, 3)
	if e.tooDeep {
		return false, errTooDeep("Value")
	}
	b := e.appendValue(make([]byte, 0, n+maxHeader), 0x12, v)
	body := b[len(b)-n:]
	decoded := &structpb.Value{}
	if err := proto.Unmarshal(body, decoded); err != nil {
		return false, fmt.Errorf("wire: freeze Value: its own encoding does not decode: %w", err)
	}
	c.enc.frozen = append(c.enc.frozen, frozenValue{v: v, body: body, decoded: decoded})
	return true, nil
}

// frozenBody returns the frozen encoding of v, if reuse is on and v is frozen.
func (e *encoder) frozenBody(v *structpb.Value) ([]byte, bool) {
	if !e.reuse {
		return nil, false
	}
	for i := range e.frozen {
		if e.frozen[i].v == v {
			return e.frozen[i].body, true
		}
	}
	return nil, false
}

// sizeTopValue is sizeValue for a message's own input or output Value: a frozen one is
// sized by its bytes.
func (e *encoder) sizeTopValue(v *structpb.Value) int {
	if body, ok := e.frozenBody(v); ok {
		slot := e.push()
		e.sizes[slot] = len(body)
		e.reused = true
		return len(body)
	}
	return e.sizeValue(v, 3)
}

// appendTopValue is appendValue for the Value sizeTopValue sized.
func (e *encoder) appendTopValue(b []byte, tag byte, v *structpb.Value) []byte {
	if body, ok := e.frozenBody(v); ok {
		b = AppendLen(b, tag, e.pop())
		return append(b, body...)
	}
	return e.appendValue(b, tag, v)
}

// decodeTopValue decodes a message's input or output Value into arena, or returns the
// frozen Value these exact bytes decode to.
func (c *Codec) decodeTopValue(a *valueArena, body []byte) (*structpb.Value, bool) {
	if c.enc.reuse {
		for i := range c.enc.frozen {
			if f := &c.enc.frozen[i]; bytes.Equal(f.body, body) {
				c.enc.reused = true
				return f.decoded, true
			}
		}
	}
	return a.value(body, 0)
}

// FrozenBody returns the encoding of v (without the tag and length of the field that
// holds it) if v is frozen: what an encoder outside the Codec (wiremap.Direct) copies
// where v goes. The slice belongs to the Codec and must not be modified.
func (c *Codec) FrozenBody(v *structpb.Value) ([]byte, bool) {
	for i := range c.enc.frozen {
		if c.enc.frozen[i].v == v {
			return c.enc.frozen[i].body, true
		}
	}
	return nil, false
}

// IsFrozenBody reports whether body is exactly the encoding of a frozen Value: a decoder
// outside the Codec takes such bytes as that Value, as the Codec's own decodes do.
func (c *Codec) IsFrozenBody(body []byte) bool {
	for i := range c.enc.frozen {
		if bytes.Equal(c.enc.frozen[i].body, body) {
			return true
		}
	}
	return false
}
