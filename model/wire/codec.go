// Package wire is the simulator's protobuf codec for the Stepflow v1 task messages: the
// fastest encoder and decoder that `tasksim bench codec` found correct, behind one small
// type, plus the sample messages that the bench and the tests share.
//
// Correct means: a decoded message equals what was encoded, for every message and
// every codec it meets (protobuf-go, vtprotobuf); and the same message always
// encodes to the same bytes, because the trace hash covers them. vtprotobuf's generated
// Marshal fails the second test for TaskAssignment and CompleteTaskRequest (it ranges
// over Go maps), protobuf-go's Deterministic mode passes it at several times the cost.
//
// So encoding is hand-written in vtprotobuf's style with map keys sorted, and for
// heartbeats in a single pass; the bytes are identical to
// proto.MarshalOptions{Deterministic: true}. Decoding is vtprotobuf's UnmarshalVTUnsafe
// into a message the Codec keeps per type (heartbeats by hand, without allocating),
// falling back to protobuf-go for input the generated code rejects.
package wire

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
	"unsafe"

	"google.golang.org/protobuf/proto"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// SimVariant is the name under which the codec bench reports this Codec, the variant it
// marks sim_path: the one place that records which codec the simulator runs.
const SimVariant = "wire"

// Codec encodes and decodes the six task messages with buffers and messages it reuses,
// so that, in steady state, encoding allocates nothing.
//
// A Codec belongs to one goroutine (one simulator); it is not safe for concurrent use.
//
// Aliasing contract:
//   - The slice an Encode method returns is valid until the next Encode call of any type
//     on the same Codec. Copy it to keep it (the simulated network must, for delivery
//     later).
//   - The message a Decode method returns is owned by the Codec and is overwritten by the
//     next Decode of the same type (pointer fields included: they may point into the
//     Codec). Its strings, those inside a Value too, point into the input slice rather
//     than being copied, so the input must not be modified while the message is in use,
//     and a string kept past the next Decode or past the input's life must be copied
//     first with strings.Clone. proto.Clone and CloneVT copy no string bytes: to keep a
//     whole message, keep its input bytes unmodified too, or decode it with
//     proto.Unmarshal instead.
type Codec struct {
	buf []byte
	enc encoder

	pullTasks     pb.PullTasksRequest
	assignment    pb.TaskAssignment
	heartbeat     pb.TaskHeartbeatRequest
	heartbeatResp pb.TaskHeartbeatResponse
	complete      pb.CompleteTaskRequest
	completeResp  pb.CompleteTaskResponse

	// The nested messages of the last decoded TaskAssignment and CompleteTaskRequest.
	assignParts   assignmentParts
	completeParts completionParts

	// The optional fields of the last decoded heartbeat point here.
	hbProgress        float32
	hbStatus, hbRunID string

	stats Stats
	clock func() time.Duration
	every int64
	// encLeft and decLeft count the untimed encodes and decodes left before the next
	// timed one (a countdown: a remainder of the call count took a division on every
	// message). Without a clock they only fall, never read.
	encLeft, decLeft int64
	// overhead is the cost of one clock read, subtracted from each timed call so that
	// tiny messages are not reported as slow as the clock.
	overhead time.Duration
}

// NewCodec returns a Codec with no clock: it counts messages and bytes but times nothing.
func NewCodec() *Codec {
	return &Codec{}
}

// SetClock makes the Codec time one call in every `every` (1 times all) with now, a
// monotonic clock that the caller owns, for the perf figures of a run. Timing is kept out
// of the codec itself so that package model never reads a clock; the figures it yields
// are wall-clock and must stay out of anything deterministic. A nil now stops timing.
func (c *Codec) SetClock(now func() time.Duration, every int) {
	c.clock = now
	c.every = max(int64(every), 1)
	// The same calls as timing those whose count is a multiple of every.
	c.encLeft = (c.every - c.stats.Encoded%c.every) % c.every
	c.decLeft = (c.every - c.stats.Decoded%c.every) % c.every
	c.overhead = 0
	if now == nil {
		return
	}
	// The cheapest of a few back-to-back reads approximates the clock's own cost.
	best := time.Duration(1 << 62)
	for range 64 {
		a := now()
		if d := now() - a; d < best {
			best = d
		}
	}
	c.overhead = best
}

// Stats counts a Codec's traffic and, when a clock is set, the time spent on its sample
// of timed calls.
type Stats struct {
	Encoded      int64 // messages encoded
	EncodedBytes int64
	Decoded      int64 // messages decoded, including those that failed
	DecodedBytes int64

	TimedEncodes     int64 // encodes that were timed
	TimedEncodeBytes int64
	EncodeTime       time.Duration // total over timed encodes
	TimedDecodes     int64
	TimedDecodeBytes int64
	DecodeTime       time.Duration

	// ReusedEncodes and ReusedDecodes count the messages whose Value was a frozen one
	// (FreezeValue), copied as encoded bytes or recognised by them instead of walked.
	// Timed calls never reuse, so the times above are those of full encodes and decodes.
	ReusedEncodes, ReusedDecodes int64
}

// Stats returns the counts so far.
func (c *Codec) Stats() Stats { return c.stats }

// EncodeNsPerMessage is the mean time of a timed encode, 0 if none was timed.
func (s Stats) EncodeNsPerMessage() float64 {
	return perMessage(s.EncodeTime, s.TimedEncodes)
}

// DecodeNsPerMessage is the mean time of a timed decode, 0 if none was timed.
func (s Stats) DecodeNsPerMessage() float64 {
	return perMessage(s.DecodeTime, s.TimedDecodes)
}

// NsPerMessage is the mean time of a timed encode or decode, 0 if none was timed.
func (s Stats) NsPerMessage() float64 {
	return perMessage(s.EncodeTime+s.DecodeTime, s.TimedEncodes+s.TimedDecodes)
}

// MBPerSecond is the codec's throughput over the timed calls, in 10^6 bytes per second
// (as `go test -bench` reports it), 0 if none was timed.
func (s Stats) MBPerSecond() float64 {
	t := s.EncodeTime + s.DecodeTime
	if t <= 0 {
		return 0
	}
	return float64(s.TimedEncodeBytes+s.TimedDecodeBytes) / t.Seconds() / 1e6
}

func perMessage(t time.Duration, n int64) float64 {
	if n == 0 {
		return 0
	}
	return float64(t.Nanoseconds()) / float64(n)
}

// startTimer returns the start time if this call is one to time, else -1.
func (c *Codec) startTimer(left int64) time.Duration {
	if c.clock == nil || left != 0 {
		return -1
	}
	return c.clock()
}

func (c *Codec) elapsed(start time.Duration) time.Duration {
	return max(c.clock()-start-c.overhead, 0)
}

// encoded and decoded are kept small enough to inline: heartbeats take ~20ns, and a call
// would be a noticeable part of that.
func (c *Codec) encoded(start time.Duration, n int) {
	if start >= 0 {
		c.timedEncode(start, n)
	}
	c.stats.Encoded++
	c.stats.EncodedBytes += int64(n)
	c.encLeft-- // a timed call has set it to every
}

func (c *Codec) timedEncode(start time.Duration, n int) {
	c.encLeft = c.every
	c.stats.EncodeTime += c.elapsed(start)
	c.stats.TimedEncodes++
	c.stats.TimedEncodeBytes += int64(n)
}

func (c *Codec) decoded(start time.Duration, n int) {
	if start >= 0 {
		c.timedDecode(start, n)
	}
	c.stats.Decoded++
	c.stats.DecodedBytes += int64(n)
	c.decLeft--
}

// EncodeTimedNext reports whether the Codec would time its next encode. A coder outside
// the Codec (wiremap.Direct) leaves such a call to the Codec's own full path, so the
// timed figures stay those of full encodes, and counts the others with CountEncode.
func (c *Codec) EncodeTimedNext() bool {
	return c.clock != nil && c.encLeft == 0
}

// DecodeTimedNext is EncodeTimedNext for decodes.
func (c *Codec) DecodeTimedNext() bool {
	return c.clock != nil && c.decLeft == 0
}

// CountEncode counts an untimed encode of n bytes done outside the Codec; reused says
// whether it copied a frozen Value's bytes (FreezeValue).
func (c *Codec) CountEncode(n int, reused bool) {
	c.stats.Encoded++
	c.stats.EncodedBytes += int64(n)
	c.encLeft--
	if reused {
		c.stats.ReusedEncodes++
	}
}

// CountDecode counts an untimed decode of n bytes done outside the Codec; reused says
// whether it recognised a frozen Value's bytes.
func (c *Codec) CountDecode(n int, reused bool) {
	c.stats.Decoded++
	c.stats.DecodedBytes += int64(n)
	c.decLeft--
	if reused {
		c.stats.ReusedDecodes++
	}
}

func (c *Codec) timedDecode(start time.Duration, n int) {
	c.decLeft = c.every
	c.stats.DecodeTime += c.elapsed(start)
	c.stats.TimedDecodes++
	c.stats.TimedDecodeBytes += int64(n)
}

// grow returns the Codec's buffer with length n, reallocating only when it is too small.
func (c *Codec) grow(n int) []byte {
	if cap(c.buf) < n {
		// Round up so that a stream of slowly growing messages does not reallocate each time.
		c.buf = make([]byte, max(n, 2*cap(c.buf), 256))
	}
	return c.buf[:n]
}

// A maximal varint tag plus length prefix, for sizing buffers of hand-encoded messages.
const maxHeader = 1 + 10

// EncodePullTasksRequest encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodePullTasksRequest(m *pb.PullTasksRequest) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	unknown := unknown(m, offPullTasks)
	b := c.grow(2*maxHeader + len(m.QueueName) + len(m.WorkerId) + len(unknown))[:0]
	if len(m.QueueName) > 0 {
		b = AppendString(b, 0xa, m.QueueName)
	}
	if len(m.WorkerId) > 0 {
		b = AppendString(b, 0x12, m.WorkerId)
	}
	b = append(b, unknown...)
	c.encoded(start, len(b))
	return b, nil
}

// EncodeTaskHeartbeatRequest encodes m into the Codec's buffer (valid until the next
// Encode). It is written out by hand, in one pass with no size pass: heartbeats are most
// of the traffic, and this is what makes them cost little more than copying their bytes.
func (c *Codec) EncodeTaskHeartbeatRequest(m *pb.TaskHeartbeatRequest) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	unknown := unknown(m, offHeartbeat)
	// Exact size first, then plain stores: cheaper than append's checks at this size.
	n := len(unknown)
	if l := len(m.TaskId); l > 0 {
		n += LenField(l)
	}
	if l := len(m.WorkerId); l > 0 {
		n += LenField(l)
	}
	if m.Progress != nil {
		n += 5
	}
	if m.StatusMessage != nil {
		n += LenField(len(*m.StatusMessage))
	}
	if m.RunId != nil {
		n += LenField(len(*m.RunId))
	}
	b := c.grow(n)
	i := 0
	// The ids are UUIDs in practice: putUUID inlines, a general string write would not.
	if l := len(m.TaskId); l == uuidLen {
		putUUID(b, 0xa, m.TaskId)
		i = 2 + uuidLen
	} else if l > 0 {
		i = putString(b, i, 0xa, m.TaskId)
	}
	if l := len(m.WorkerId); l == uuidLen {
		putUUID(b[i:], 0x12, m.WorkerId)
		i += 2 + uuidLen
	} else if l > 0 {
		i = putString(b, i, 0x12, m.WorkerId)
	}
	if m.Progress != nil {
		b[i] = 0x1d
		binary.LittleEndian.PutUint32(b[i+1:], math.Float32bits(*m.Progress))
		i += 5
	}
	if m.StatusMessage != nil {
		i = putString(b, i, 0x22, *m.StatusMessage)
	}
	if m.RunId != nil {
		if len(*m.RunId) == uuidLen {
			putUUID(b[i:], 0x2a, *m.RunId)
			i += 2 + uuidLen
		} else {
			i = putString(b, i, 0x2a, *m.RunId)
		}
	}
	copy(b[i:], unknown)
	c.encoded(start, n)
	return b, nil
}

// uuidLen is the length of the UUID strings that make up most of a heartbeat.
const uuidLen = 36

// putString writes field tag with s at b[i:], which has room, and returns the next index.
func putString(b []byte, i int, tag byte, s string) int {
	if len(s) == uuidLen {
		putUUID(b[i:], tag, s)
		return i + 2 + uuidLen
	}
	return putAnyString(b, i, tag, s)
}

// putUUID writes field tag with the UUID string s at the start of b. A fixed-size copy
// compiles to a few moves instead of a call to memmove.
func putUUID(b []byte, tag byte, s string) {
	d := (*[2 + uuidLen]byte)(b)
	d[0], d[1] = tag, uuidLen
	*(*[uuidLen]byte)(d[2:]) = *(*[uuidLen]byte)(unsafe.Pointer(unsafe.StringData(s)))
}

func putAnyString(b []byte, i int, tag byte, s string) int {
	b[i] = tag
	if len(s) < 0x80 {
		b[i+1] = byte(len(s))
		i += 2
	} else {
		i += 1 + binary.PutUvarint(b[i+1:], uint64(len(s)))
	}
	return i + copy(b[i:], s)
}

// EncodeTaskHeartbeatResponse encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeTaskHeartbeatResponse(m *pb.TaskHeartbeatResponse) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	unknown := unknown(m, offHeartbeatResp)
	b := c.grow(2*maxHeader + len(unknown))[:0]
	if m.ShouldAbort {
		b = append(b, 0x8, 1)
	}
	if m.Status != 0 {
		b = AppendVarint(append(b, 0x10), uint64(m.Status))
	}
	b = append(b, unknown...)
	c.encoded(start, len(b))
	return b, nil
}

// EncodeCompleteTaskResponse encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeCompleteTaskResponse(m *pb.CompleteTaskResponse) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	unknown := unknown(m, offCompleteResp)
	b := append(c.grow(len(unknown))[:0], unknown...)
	c.encoded(start, len(b))
	return b, nil
}

// EncodeTaskAssignment encodes m, with path_params and Struct keys in sorted order, into
// the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeTaskAssignment(m *pb.TaskAssignment) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	c.enc.reset()
	c.enc.reuse = start < 0
	size := c.enc.sizeTaskAssignment(m)
	if c.enc.tooDeep {
		return nil, errTooDeep("TaskAssignment")
	}
	b, err := c.enc.appendTaskAssignment(c.grow(size)[:0], m)
	if err != nil {
		return nil, fmt.Errorf("wire: encode TaskAssignment: %w", err)
	}
	if len(b) != size {
		return nil, errSize("TaskAssignment", size, len(b))
	}
	c.encoded(start, size)
	if c.enc.reused {
		c.stats.ReusedEncodes++
	}
	return b, nil
}

// EncodeCompleteTaskRequest encodes m, with Struct keys in sorted order, into the
// Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeCompleteTaskRequest(m *pb.CompleteTaskRequest) ([]byte, error) {
	start := c.startTimer(c.encLeft)
	c.enc.reset()
	c.enc.reuse = start < 0
	size := c.enc.sizeCompleteTaskRequest(m)
	if c.enc.tooDeep {
		return nil, errTooDeep("CompleteTaskRequest")
	}
	b, err := c.enc.appendCompleteTaskRequest(c.grow(size)[:0], m)
	if err != nil {
		return nil, fmt.Errorf("wire: encode CompleteTaskRequest: %w", err)
	}
	if len(b) != size {
		return nil, errSize("CompleteTaskRequest", size, len(b))
	}
	c.encoded(start, size)
	if c.enc.reused {
		c.stats.ReusedEncodes++
	}
	return b, nil
}

// errSize reports a disagreement between the size pass and the write pass: a bug, but one
// that must not pass silently, as the buffer would have been reallocated.
func errSize(msg string, size, wrote int) error {
	return fmt.Errorf("wire: encode %s: sized %d bytes, wrote %d", msg, size, wrote)
}

// Encode encodes any of the six task messages; it is the typed Encode methods behind a
// type switch, for callers that hold a proto.Message.
func (c *Codec) Encode(m proto.Message) ([]byte, error) {
	switch m := m.(type) {
	case *pb.TaskHeartbeatRequest:
		return c.EncodeTaskHeartbeatRequest(m)
	case *pb.TaskHeartbeatResponse:
		return c.EncodeTaskHeartbeatResponse(m)
	case *pb.TaskAssignment:
		return c.EncodeTaskAssignment(m)
	case *pb.CompleteTaskRequest:
		return c.EncodeCompleteTaskRequest(m)
	case *pb.CompleteTaskResponse:
		return c.EncodeCompleteTaskResponse(m)
	case *pb.PullTasksRequest:
		return c.EncodePullTasksRequest(m)
	default:
		return nil, fmt.Errorf("wire: encode: %T is not a task message", m)
	}
}

// vtUnsafe is what the generated code offers for decoding without copying strings.
type vtUnsafe interface {
	proto.Message
	Reset()
	UnmarshalVTUnsafe([]byte) error
}

// decode tries the generated code first and, only if it fails, protobuf-go. The generated
// code rejects a known field sent with an unexpected wire type, where protobuf-go (like
// the C++ parser) keeps it as an unknown field; the fallback makes the Codec accept
// everything protobuf-go accepts, at no cost to well-formed input.
func (c *Codec) decode(name string, m vtUnsafe, b []byte) error {
	start := c.startTimer(c.decLeft)
	// Unmarshal merges; start from empty so nothing of the previous message survives.
	m.Reset()
	err := m.UnmarshalVTUnsafe(b)
	if err != nil {
		if perr := proto.Unmarshal(b, m); perr == nil {
			err = nil
		}
	}
	c.decoded(start, len(b))
	if err != nil {
		return fmt.Errorf("wire: decode %s: %w", name, err)
	}
	return nil
}

// decodeWithMaps is the general path for the messages that hold maps (path_params, and
// the Struct in every Value): protobuf-go alone. The generated code parses a map entry
// that carries extra or repeated fields differently from protobuf-go (fuzzing found a
// Struct entry whose key vtproto read as ""), so only the fast path, which gives up on
// such entries, and protobuf-go may decide what these bytes mean.
func (c *Codec) decodeWithMaps(name string, m proto.Message, b []byte) error {
	start := c.startTimer(c.decLeft)
	err := proto.Unmarshal(b, m)
	c.decoded(start, len(b))
	if err != nil {
		return fmt.Errorf("wire: decode %s: %w", name, err)
	}
	return nil
}

// DecodePullTasksRequest decodes b into the Codec's PullTasksRequest; see the aliasing
// contract on Codec.
func (c *Codec) DecodePullTasksRequest(b []byte) (*pb.PullTasksRequest, error) {
	if err := c.decode("PullTasksRequest", &c.pullTasks, b); err != nil {
		return nil, err
	}
	return &c.pullTasks, nil
}

// DecodeTaskAssignment decodes b into the Codec's TaskAssignment; see the aliasing
// contract on Codec. Its nested messages, and the nodes of its Value, belong to the Codec.
func (c *Codec) DecodeTaskAssignment(b []byte) (*pb.TaskAssignment, error) {
	start := c.startTimer(c.decLeft)
	m := &c.assignment
	m.Reset()
	c.enc.reuse, c.enc.reused = start < 0, false
	if !c.decodeAssignment(m, b) {
		m.Reset()
		if err := c.decodeWithMaps("TaskAssignment", m, b); err != nil {
			return nil, err
		}
		return m, nil
	}
	if c.enc.reused {
		c.stats.ReusedDecodes++
	}
	c.decoded(start, len(b))
	return m, nil
}

// DecodeTaskHeartbeatRequest decodes b into the Codec's TaskHeartbeatRequest; see the
// aliasing contract on Codec. Its optional fields point into the Codec too.
func (c *Codec) DecodeTaskHeartbeatRequest(b []byte) (*pb.TaskHeartbeatRequest, error) {
	start := c.startTimer(c.decLeft)
	m := &c.heartbeat
	m.Reset()
	if !c.decodeHeartbeat(m, b) {
		// Not the shape this Codec writes (unknown fields, a repeated or odd encoding, or
		// an error): the general path decides.
		if err := c.decode("TaskHeartbeatRequest", m, b); err != nil {
			return nil, err
		}
		return m, nil
	}
	c.decoded(start, len(b))
	return m, nil
}

// decodeHeartbeat decodes the usual heartbeat without allocating: the generated code
// allocates the three optional fields, which costs more than the rest of the decode; here
// they point at storage the Codec keeps. It gives up, reporting false, on anything but
// fields 1-5 with their proper wire types.
func (c *Codec) decodeHeartbeat(m *pb.TaskHeartbeatRequest, b []byte) bool {
	for i := 0; i < len(b); {
		tag := b[i]
		i++
		if tag == 0x1d {
			if len(b)-i < 4 {
				return false
			}
			c.hbProgress = math.Float32frombits(binary.LittleEndian.Uint32(b[i:]))
			m.Progress = &c.hbProgress
			i += 4
			continue
		}
		if tag != 0xa && tag != 0x12 && tag != 0x22 && tag != 0x2a {
			return false
		}
		n, w := binary.Uvarint(b[i:])
		if w <= 0 || n > uint64(len(b)-i-w) {
			return false
		}
		i += w
		var s string
		if n > 0 {
			s = unsafe.String(&b[i], int(n))
		}
		i += int(n)
		switch tag {
		case 0xa:
			m.TaskId = s
		case 0x12:
			m.WorkerId = s
		case 0x22:
			c.hbStatus = s
			m.StatusMessage = &c.hbStatus
		case 0x2a:
			c.hbRunID = s
			m.RunId = &c.hbRunID
		}
	}
	return true
}

// DecodeTaskHeartbeatResponse decodes b into the Codec's TaskHeartbeatResponse; see the
// aliasing contract on Codec.
func (c *Codec) DecodeTaskHeartbeatResponse(b []byte) (*pb.TaskHeartbeatResponse, error) {
	start := c.startTimer(c.decLeft)
	m := &c.heartbeatResp
	m.Reset()
	if decodeHeartbeatResponse(m, b) {
		c.decoded(start, len(b))
		return m, nil
	}
	if err := c.decode("TaskHeartbeatResponse", m, b); err != nil {
		return nil, err
	}
	return m, nil
}

// decodeHeartbeatResponse decodes the two varint fields of a heartbeat's answer, each at
// most once; anything else (an unknown field, a repeat, an error) it leaves to the
// general path by reporting false. The generated code's loop costs more than the message.
func decodeHeartbeatResponse(m *pb.TaskHeartbeatResponse, b []byte) bool {
	var seen byte
	for i := 0; i < len(b); {
		tag := b[i]
		x, w := binary.Uvarint(b[i+1:])
		if w <= 0 || (tag != 0x8 && tag != 0x10) || seen&tag != 0 {
			return false
		}
		seen |= tag
		i += 1 + w
		if tag == 0x8 {
			m.ShouldAbort = x != 0
		} else {
			m.Status = pb.TaskStatus(x)
		}
	}
	return true
}

// DecodeCompleteTaskRequest decodes b into the Codec's CompleteTaskRequest; see the
// aliasing contract on Codec. Its nested messages, and the nodes of its Value, belong to
// the Codec.
func (c *Codec) DecodeCompleteTaskRequest(b []byte) (*pb.CompleteTaskRequest, error) {
	start := c.startTimer(c.decLeft)
	m := &c.complete
	m.Reset()
	c.enc.reuse, c.enc.reused = start < 0, false
	if !c.decodeCompletion(m, b) {
		m.Reset()
		if err := c.decodeWithMaps("CompleteTaskRequest", m, b); err != nil {
			return nil, err
		}
		return m, nil
	}
	if c.enc.reused {
		c.stats.ReusedDecodes++
	}
	c.decoded(start, len(b))
	return m, nil
}

// DecodeCompleteTaskResponse decodes b into the Codec's CompleteTaskResponse; see the
// aliasing contract on Codec.
func (c *Codec) DecodeCompleteTaskResponse(b []byte) (*pb.CompleteTaskResponse, error) {
	if err := c.decode("CompleteTaskResponse", &c.completeResp, b); err != nil {
		return nil, err
	}
	return &c.completeResp, nil
}
