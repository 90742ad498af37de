// Package wire is the simulator's protobuf codec for the Stepflow v1 task messages: the
// fastest encoder and decoder that `tasksim bench codec` found correct, behind one small
// type, plus the sample messages that the bench and the tests share.
//
// Encoding uses vtprotobuf's generated SizeVT and MarshalToSizedBufferVT into a buffer
// the Codec keeps, except that map entries (ComponentExecuteRequest.path_params and
// google.protobuf.Struct fields) are written in sorted key order. The output is
// byte-identical to proto.MarshalOptions{Deterministic: true}, so the trace hash does not
// depend on Go's map order. Decoding uses vtprotobuf's UnmarshalVTUnsafe into a message
// the Codec keeps per type, falling back to protobuf-go for input the generated code
// rejects.
package wire

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	pb "github.com/tasksim/tasksim/model/stepflowpb"
)

// SimVariant is the name under which the codec bench reports this Codec, and the one
// row per message and direction it marks sim_path. The bench also reports the variants
// it was chosen from; see EncodeBase and DecodeBase.
const SimVariant = "wire"

// EncodeBase and DecodeBase name, in the bench's terms, the generated code the Codec
// wraps. Plain "vtproto" encoding was not chosen as-is because it ranges over Go maps,
// so two encodings of one TaskAssignment differ; "vtproto-unsafe" decoding was chosen
// over "vtproto" because it does not copy strings, and over "hyperpb" because hyperpb
// yields read-only reflection messages, not the generated types the participants use.
const (
	EncodeBase = "vtproto"
	DecodeBase = "vtproto-unsafe"
)

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
//     next Decode of the same type. Its strings (and bytes in a Value) point into the
//     input slice rather than being copied, so the input must not be modified while the
//     message is in use, and anything kept past the next Decode or past the input's life
//     must be copied first (strings.Clone, proto.Clone).
type Codec struct {
	buf []byte
	enc encoder

	pullTasks     pb.PullTasksRequest
	assignment    pb.TaskAssignment
	heartbeat     pb.TaskHeartbeatRequest
	heartbeatResp pb.TaskHeartbeatResponse
	complete      pb.CompleteTaskRequest
	completeResp  pb.CompleteTaskResponse

	stats Stats
	clock func() time.Duration
	every int64
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
func (c *Codec) startTimer(n int64) time.Duration {
	if c.clock == nil || n%c.every != 0 {
		return -1
	}
	return c.clock()
}

func (c *Codec) elapsed(start time.Duration) time.Duration {
	return max(c.clock()-start-c.overhead, 0)
}

func (c *Codec) encoded(start time.Duration, n int) {
	if start >= 0 {
		c.stats.EncodeTime += c.elapsed(start)
		c.stats.TimedEncodes++
		c.stats.TimedEncodeBytes += int64(n)
	}
	c.stats.Encoded++
	c.stats.EncodedBytes += int64(n)
}

func (c *Codec) decoded(start time.Duration, n int) {
	if start >= 0 {
		c.stats.DecodeTime += c.elapsed(start)
		c.stats.TimedDecodes++
		c.stats.TimedDecodeBytes += int64(n)
	}
	c.stats.Decoded++
	c.stats.DecodedBytes += int64(n)
}

// grow returns the Codec's buffer with length n, reallocating only when it is too small.
func (c *Codec) grow(n int) []byte {
	if cap(c.buf) < n {
		// Round up so that a stream of slowly growing messages does not reallocate each time.
		c.buf = make([]byte, max(n, 2*cap(c.buf), 256))
	}
	return c.buf[:n]
}

// vtMessage is the generated code of a map-free message: its own output is deterministic.
type vtMessage interface {
	SizeVT() int
	MarshalToSizedBufferVT([]byte) (int, error)
}

func (c *Codec) encodeVT(name string, m vtMessage) ([]byte, error) {
	start := c.startTimer(c.stats.Encoded)
	b := c.grow(m.SizeVT())
	n, err := m.MarshalToSizedBufferVT(b)
	if err != nil {
		return nil, fmt.Errorf("wire: encode %s: %w", name, err)
	}
	// The generated code writes backwards from the end of b.
	b = b[len(b)-n:]
	c.encoded(start, len(b))
	return b, nil
}

// EncodePullTasksRequest encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodePullTasksRequest(m *pb.PullTasksRequest) ([]byte, error) {
	return c.encodeVT("PullTasksRequest", m)
}

// EncodeTaskHeartbeatRequest encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeTaskHeartbeatRequest(m *pb.TaskHeartbeatRequest) ([]byte, error) {
	return c.encodeVT("TaskHeartbeatRequest", m)
}

// EncodeTaskHeartbeatResponse encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeTaskHeartbeatResponse(m *pb.TaskHeartbeatResponse) ([]byte, error) {
	return c.encodeVT("TaskHeartbeatResponse", m)
}

// EncodeCompleteTaskResponse encodes m into the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeCompleteTaskResponse(m *pb.CompleteTaskResponse) ([]byte, error) {
	return c.encodeVT("CompleteTaskResponse", m)
}

// EncodeTaskAssignment encodes m, with path_params and Struct keys in sorted order, into
// the Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeTaskAssignment(m *pb.TaskAssignment) ([]byte, error) {
	start := c.startTimer(c.stats.Encoded)
	size := m.SizeVT()
	b := c.grow(size)
	i, err := c.enc.taskAssignment(b, size, m)
	if err != nil {
		return nil, fmt.Errorf("wire: encode TaskAssignment: %w", err)
	}
	if i != 0 {
		return nil, errSize("TaskAssignment", size, size-i)
	}
	c.encoded(start, size)
	return b, nil
}

// EncodeCompleteTaskRequest encodes m, with Struct keys in sorted order, into the
// Codec's buffer (valid until the next Encode).
func (c *Codec) EncodeCompleteTaskRequest(m *pb.CompleteTaskRequest) ([]byte, error) {
	start := c.startTimer(c.stats.Encoded)
	size := m.SizeVT()
	b := c.grow(size)
	i, err := c.enc.completeTaskRequest(b, size, m)
	if err != nil {
		return nil, fmt.Errorf("wire: encode CompleteTaskRequest: %w", err)
	}
	if i != 0 {
		return nil, errSize("CompleteTaskRequest", size, size-i)
	}
	c.encoded(start, size)
	return b, nil
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
	start := c.startTimer(c.stats.Decoded)
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

// DecodePullTasksRequest decodes b into the Codec's PullTasksRequest; see the aliasing
// contract on Codec.
func (c *Codec) DecodePullTasksRequest(b []byte) (*pb.PullTasksRequest, error) {
	if err := c.decode("PullTasksRequest", &c.pullTasks, b); err != nil {
		return nil, err
	}
	return &c.pullTasks, nil
}

// DecodeTaskAssignment decodes b into the Codec's TaskAssignment; see the aliasing
// contract on Codec.
func (c *Codec) DecodeTaskAssignment(b []byte) (*pb.TaskAssignment, error) {
	if err := c.decode("TaskAssignment", &c.assignment, b); err != nil {
		return nil, err
	}
	return &c.assignment, nil
}

// DecodeTaskHeartbeatRequest decodes b into the Codec's TaskHeartbeatRequest; see the
// aliasing contract on Codec.
func (c *Codec) DecodeTaskHeartbeatRequest(b []byte) (*pb.TaskHeartbeatRequest, error) {
	if err := c.decode("TaskHeartbeatRequest", &c.heartbeat, b); err != nil {
		return nil, err
	}
	return &c.heartbeat, nil
}

// DecodeTaskHeartbeatResponse decodes b into the Codec's TaskHeartbeatResponse; see the
// aliasing contract on Codec.
func (c *Codec) DecodeTaskHeartbeatResponse(b []byte) (*pb.TaskHeartbeatResponse, error) {
	if err := c.decode("TaskHeartbeatResponse", &c.heartbeatResp, b); err != nil {
		return nil, err
	}
	return &c.heartbeatResp, nil
}

// DecodeCompleteTaskRequest decodes b into the Codec's CompleteTaskRequest; see the
// aliasing contract on Codec.
func (c *Codec) DecodeCompleteTaskRequest(b []byte) (*pb.CompleteTaskRequest, error) {
	if err := c.decode("CompleteTaskRequest", &c.complete, b); err != nil {
		return nil, err
	}
	return &c.complete, nil
}

// DecodeCompleteTaskResponse decodes b into the Codec's CompleteTaskResponse; see the
// aliasing contract on Codec.
func (c *Codec) DecodeCompleteTaskResponse(b []byte) (*pb.CompleteTaskResponse, error) {
	if err := c.decode("CompleteTaskResponse", &c.completeResp, b); err != nil {
		return nil, err
	}
	return &c.completeResp, nil
}
