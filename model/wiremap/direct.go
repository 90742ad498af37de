package wiremap

import (
	"unicode/utf8"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// Direct codes the messages a simulated run sends most straight between a model.Message
// and its protobuf bytes: no protobuf struct is filled or read in between, no id string
// is rendered apart from the bytes it goes into, and the payload Value goes in and is
// recognised as the bytes the Codec froze (wire.Codec.FreezeValue). Its bytes are those
// of the reference path (Mapper's Encode methods, then the Codec), and what it decodes
// is what the reference path decodes (then Mapper's From methods): tests compare the two
// on every message shape and fuzz the decoders on arbitrary bytes.
//
// It takes only the shapes the simulator sends (tasksim's own ids: UUIDs and Decimal
// spaces; frozen payloads; no discovery or foreign fields) and answers false for
// anything else, which the caller then codes on the reference path; a decode gives up
// the same way on input it does not take in every detail, so the reference path decides
// every error. The calls the Codec would time are left to the reference path too, so
// the Codec's timed figures stay those of full encodes and decodes.
//
// A Direct reads its Mapper's spaces, names and URL once, when made. It is not safe for
// concurrent use.
type Direct struct {
	mp    *Mapper
	codec *wire.Codec
	// on: the Mapper's spaces are the ones Direct renders (New's).
	on           bool
	task, worker uuidForm
	errMessage   string
	// list is the body of a list_components result (every component's id and path),
	// nil if some id or path is not valid UTF-8 (the reference path rejects those).
	list []byte
	buf  []byte
}

// uuidForm is a UUIDs space's rendering of id 0: what every id shares but its last 12
// hex digits.
type uuidForm [uuidLen]byte

const (
	uuidLen    = 36
	uuidPrefix = 24 // the bytes before the id's 12 digits
	idMask     = 1<<48 - 1
)

// NewDirect returns a Direct for mp's messages, counting its traffic in codec (whose
// frozen Values it copies and recognises). It never takes a message if mp's task or
// worker space is not UUIDs, or its run or step space not Decimal.
func NewDirect(mp *Mapper, codec *wire.Codec) *Direct {
	d := &Direct{mp: mp, codec: codec, errMessage: mp.taskErr.Message}
	tasks, ok1 := mp.Tasks.(UUIDs)
	workers, ok2 := mp.Workers.(UUIDs)
	_, ok3 := mp.Runs.(Decimal)
	_, ok4 := mp.Steps.(Decimal)
	d.on = ok1 && ok2 && ok3 && ok4
	if d.on {
		var buf [36]byte
		copy(d.task[:], tasks.Render(&buf, 0))
		copy(d.worker[:], workers.Render(&buf, 0))
	}
	d.list = []byte{}
	for _, c := range mp.infos {
		if !utf8.ValidString(c.ComponentId) || !utf8.ValidString(c.Path) || c.Description != nil ||
			c.InputSchema != nil || c.OutputSchema != nil {
			d.list = nil
			break
		}
		n := 0
		if len(c.ComponentId) > 0 {
			n += wire.LenField(len(c.ComponentId))
		}
		if len(c.Path) > 0 {
			n += wire.LenField(len(c.Path))
		}
		d.list = wire.AppendLen(d.list, 0xa, n)
		if len(c.ComponentId) > 0 {
			d.list = wire.AppendString(d.list, 0xa, c.ComponentId)
		}
		if len(c.Path) > 0 {
			d.list = wire.AppendString(d.list, 0x2a, c.Path)
		}
	}
	return d
}

// Encode encodes m into the Direct's buffer (valid until the next Encode), or reports
// false: then m is to be encoded on the reference path.
func (d *Direct) Encode(m *model.Message) ([]byte, bool) {
	if !d.on || d.codec.EncodeTimedNext() {
		return nil, false
	}
	b := d.buf[:0]
	reused := false
	switch m.Type {
	case model.MsgHeartbeat:
		b = d.heartbeat(b, m)
	case model.MsgHeartbeatReply:
		if m.ShouldAbort {
			b = append(b, 0x8, 1)
		}
		if s := pb.TaskStatus(m.Status); s != 0 {
			b = wire.AppendVarint(append(b, 0x10), uint64(s))
		}
	case model.MsgAssignment:
		if m.Discovery {
			b = d.discovery(b, m)
			break
		}
		body, ok := d.codec.FrozenBody(d.mp.input(m))
		if !ok {
			return nil, false
		}
		b, reused = d.assignment(b, m, body), true
	case model.MsgComplete:
		switch m.Result {
		case model.ResultListComponents:
			if d.list == nil {
				return nil, false
			}
			b = d.completeHead(b, m)
			b = append(wire.AppendLen(b, 0x2a, len(d.list)), d.list...)
		case model.ResultError:
			b = d.completeError(b, m)
		default:
			body, ok := d.codec.FrozenBody(d.mp.Value(m.PayloadBytes))
			if !ok {
				return nil, false
			}
			b, reused = d.completeResponse(b, m, body), true
		}
	case model.MsgCompleteReply:
		// CompleteTaskResponse has no fields: no bytes.
	default:
		return nil, false
	}
	d.buf = b
	d.codec.CountEncode(len(b), reused)
	return b, true
}

func (d *Direct) heartbeat(b []byte, m *model.Message) []byte {
	b = d.appendUUID(b, 0xa, &d.task, uint64(m.Task))
	b = d.appendUUID(b, 0x12, &d.worker, uint64(m.Worker))
	if m.Run != UnknownRun {
		b = appendDecimal(b, 0x2a, uint64(m.Run))
	}
	return b
}

// assignment is the execute branch of a TaskAssignment, fields in protobuf-go's order:
// task_id, context, heartbeat_interval_secs, then the oneof.
func (d *Direct) assignment(b []byte, m *model.Message, input []byte) []byte {
	run, step := uint64(m.Run), uint64(m.Step)
	comp := d.mp.Components.Name(m.Component)
	b = d.appendUUID(b, 0xa, &d.task, uint64(m.Task))
	b = d.appendContext(b, run)
	if m.HeartbeatSecs != 0 {
		b = wire.AppendVarint(append(b, 0x28), uint64(m.HeartbeatSecs))
	}
	obs := decimalField(run) + decimalField(step)
	exec := wire.LenField(len(input)) + wire.LenField(obs)
	if len(comp) > 0 {
		exec += wire.LenField(len(comp))
	}
	if m.Attempt != 0 {
		exec += 1 + wire.SizeVarint(uint64(m.Attempt))
	}
	b = wire.AppendLen(b, 0x12, exec)
	if len(comp) > 0 {
		b = wire.AppendString(b, 0xa, comp)
	}
	b = append(wire.AppendLen(b, 0x12, len(input)), input...)
	if m.Attempt != 0 {
		b = wire.AppendVarint(append(b, 0x18), uint64(m.Attempt))
	}
	b = wire.AppendLen(b, 0x22, obs)
	b = appendDecimal(b, 0x1a, run)
	return appendDecimal(b, 0x2a, step)
}

// discovery is the list_components branch of a TaskAssignment: task_id, context, and an
// empty ListComponentsRequest (no heartbeat interval, as Mapper.Assignment sends none).
func (d *Direct) discovery(b []byte, m *model.Message) []byte {
	b = d.appendUUID(b, 0xa, &d.task, uint64(m.Task))
	b = d.appendContext(b, uint64(m.Run))
	return append(b, 0x1a, 0)
}

func (d *Direct) appendContext(b []byte, run uint64) []byte {
	url := d.mp.OrchestratorURL
	ctx := decimalField(run)
	if len(url) > 0 {
		ctx += wire.LenField(len(url))
	}
	b = wire.AppendLen(b, 0x22, ctx)
	if len(url) > 0 {
		b = wire.AppendString(b, 0xa, url)
	}
	return appendDecimal(b, 0x12, run)
}

func (d *Direct) completeHead(b []byte, m *model.Message) []byte {
	b = d.appendUUID(b, 0xa, &d.task, uint64(m.Task))
	if m.Run != UnknownRun {
		b = appendDecimal(b, 0x22, uint64(m.Run))
	}
	return b
}

func (d *Direct) completeResponse(b []byte, m *model.Message, output []byte) []byte {
	b = d.completeHead(b, m)
	b = wire.AppendLen(b, 0x12, wire.LenField(len(output)))
	return append(wire.AppendLen(b, 0xa, len(output)), output...)
}

func (d *Direct) completeError(b []byte, m *model.Message) []byte {
	b = d.completeHead(b, m)
	code := uint64(pb.TaskErrorCode(m.ErrorCode))
	n := 0
	if code != 0 {
		n += 1 + wire.SizeVarint(code)
	}
	if len(d.errMessage) > 0 {
		n += wire.LenField(len(d.errMessage))
	}
	b = wire.AppendLen(b, 0x1a, n)
	if code != 0 {
		b = wire.AppendVarint(append(b, 0x8), code)
	}
	if len(d.errMessage) > 0 {
		b = wire.AppendString(b, 0x12, d.errMessage)
	}
	return b
}

// hexPairs holds each byte's two lowercase hex digits.
var hexPairs = func() (t [256][2]byte) {
	for i := range t {
		t[i] = [2]byte{hexDigits[i>>4], hexDigits[i&0xf]}
	}
	return t
}()

// appendUUID appends field tag with form's UUID for id: form's first 24 bytes, then
// id's low 48 bits in 12 hex digits, as UUIDs.Render writes them.
func (d *Direct) appendUUID(b []byte, tag byte, form *uuidForm, id uint64) []byte {
	b = append(b, tag, uuidLen)
	b = append(b, form[:uuidPrefix]...)
	n := len(b)
	b = append(b, form[uuidPrefix:]...)
	putHex48((*[12]byte)(b[n:]), id)
	return b
}

func putHex48(dst *[12]byte, id uint64) {
	for i := 0; i < 6; i++ {
		p := hexPairs[byte(id>>(40-8*i))]
		dst[2*i], dst[2*i+1] = p[0], p[1]
	}
}

// decimalLen is the number of decimal digits of x.
func decimalLen(x uint64) int {
	n := 1
	for x >= 10 {
		x /= 10
		n++
	}
	return n
}

// decimalField is the encoded size of a string field holding x in decimal.
func decimalField(x uint64) int { return 2 + decimalLen(x) }

// appendDecimal appends field tag with x in decimal (at most 20 digits: a 1-byte length).
func appendDecimal(b []byte, tag byte, x uint64) []byte {
	n := decimalLen(x)
	b = append(b, tag, byte(n))
	start := len(b)
	b = append(b, "00000000000000000000"[:n]...)
	for i := start + n - 1; i >= start; i-- {
		b[i] = byte('0' + x%10)
		x /= 10
	}
	return b
}

// Decode decodes b, encoded from a message of type t, into m: what the wire carries of
// it, as Mapper's From methods give it (m's other fields zero). It reports false if it
// does not take b: then b is to be decoded on the reference path, which also decides
// every error, and m is garbage.
func (d *Direct) Decode(t model.MsgType, b []byte, m *model.Message) bool {
	if !d.on || d.codec.DecodeTimedNext() {
		return false
	}
	ok, reused := false, false
	switch t {
	case model.MsgHeartbeat:
		ok = d.decodeHeartbeat(m, b)
	case model.MsgHeartbeatReply:
		ok = decodeHeartbeatReply(m, b)
	case model.MsgAssignment:
		ok, reused = d.decodeAssignment(m, b), true
	case model.MsgComplete:
		ok, reused = d.decodeComplete(m, b)
	case model.MsgCompleteReply:
		*m = model.Message{Type: model.MsgCompleteReply}
		ok = len(b) == 0
	}
	if !ok {
		return false
	}
	d.codec.CountDecode(len(b), reused)
	return true
}

// parseUUID reads the id of a UUID rendered in form: the first 24 bytes exactly form's
// (another salt, kind or case is left to the reference path), then 12 hex digits.
func parseUUID(form *uuidForm, s []byte) (uint64, bool) {
	if len(s) != uuidLen || [uuidPrefix]byte(s[:uuidPrefix]) != [uuidPrefix]byte(form[:uuidPrefix]) {
		return 0, false
	}
	var v uint64
	var bad byte
	for _, c := range s[uuidPrefix:] {
		h := hexValue[c]
		bad |= h
		v = v<<4 | uint64(h&0xf)
	}
	return v, bad&0xf0 == 0
}

// parseDecimal reads 1 to 19 decimal digits, which cannot overflow (Decimal.Parse's own
// loop; longer or empty strings are left to the reference path).
func parseDecimal(s []byte) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for _, c := range s {
		if c-'0' > 9 {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, true
}

// ownRun is Mapper.ownRun of a parsed run_id.
func ownRun(v uint64) model.RunID {
	if v >= uint64(UnknownRun) {
		return UnknownRun
	}
	return model.RunID(v)
}

func (d *Direct) decodeHeartbeat(m *model.Message, b []byte) bool {
	*m = model.Message{Type: model.MsgHeartbeat, Run: UnknownRun}
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		body, next, ok := wire.ReadBytes(b, i+1)
		if !ok {
			return false
		}
		i = next
		var v uint64
		switch tag {
		case 0xa:
			v, ok = parseUUID(&d.task, body)
			m.Task = model.TaskID(v)
		case 0x12:
			v, ok = parseUUID(&d.worker, body)
			m.Worker = ForeignWorker
			if v <= 1<<31-1 {
				m.Worker = model.NodeID(v)
			}
		case 0x2a:
			v, ok = parseDecimal(body)
			m.Run = ownRun(v)
		default:
			return false
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	// Without a worker_id the reference path answers ErrInvalid; without a task_id its
	// task is UnknownTask: both left to it.
	return seen&(1<<1|1<<2) == 1<<1|1<<2
}

// once marks field tag seen, reporting false if it was already: a field sent twice
// (protobuf's last-one-wins, or a merge) is left to the reference path.
func once(seen *uint8, tag byte) bool {
	bit := uint8(1) << (tag >> 3 & 7)
	if *seen&bit != 0 {
		return false
	}
	*seen |= bit
	return true
}

func decodeHeartbeatReply(m *model.Message, b []byte) bool {
	*m = model.Message{Type: model.MsgHeartbeatReply}
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		x, next, ok := wire.ReadVarint(b, i+1)
		if !ok {
			return false
		}
		i = next
		switch tag {
		case 0x8:
			m.ShouldAbort = x != 0
		case 0x10:
			m.Status = model.TaskStatus(pb.TaskStatus(x))
		default:
			return false
		}
		if !once(&seen, tag) {
			return false
		}
	}
	return true
}

func (d *Direct) decodeAssignment(m *model.Message, b []byte) bool {
	*m = model.Message{Type: model.MsgAssignment}
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		var ok bool
		var v uint64
		if tag == 0x28 {
			if v, i, ok = wire.ReadVarint(b, i+1); !ok {
				return false
			}
			m.HeartbeatSecs = uint32(v)
		} else {
			var body []byte
			if body, i, ok = wire.ReadBytes(b, i+1); !ok {
				return false
			}
			switch tag {
			case 0xa:
				v, ok = parseUUID(&d.task, body)
				m.Task = model.TaskID(v)
			case 0x12:
				ok = d.decodeExecute(m, body)
			case 0x22:
				ok = d.decodeContext(m, body)
			case 0x1a:
				// list_components: an empty ListComponentsRequest (anything in it is
				// unknown fields, the reference path's).
				ok = len(body) == 0
				m.Discovery = true
			default:
				return false
			}
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	// Task id, context and one of execute and list_components, each once; the rest to
	// the reference path.
	switch seen &^ (1 << 5) {
	case 1<<1 | 1<<2 | 1<<4:
		return true
	case 1<<1 | 1<<3 | 1<<4:
		m.Component, m.Attempt, m.Step = -1, 0, 0
		return true
	}
	return false
}

func (d *Direct) decodeContext(m *model.Message, b []byte) bool {
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		body, next, ok := wire.ReadBytes(b, i+1)
		if !ok {
			return false
		}
		i = next
		switch tag {
		case 0xa:
			ok = string(body) == d.mp.OrchestratorURL
		case 0x12:
			var v uint64
			v, ok = parseDecimal(body)
			m.Run = model.RunID(v)
		default:
			return false
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	// The URL absent (unless the Mapper's is empty) or root_run_id absent: reference path.
	return seen&(1<<2) != 0 && (seen&(1<<1) != 0) == (d.mp.OrchestratorURL != "")
}

func (d *Direct) decodeExecute(m *model.Message, b []byte) bool {
	var seen uint8
	m.Component = -1
	for i := 0; i < len(b); {
		tag := b[i]
		var ok bool
		if tag == 0x18 {
			var v uint64
			if v, i, ok = wire.ReadVarint(b, i+1); !ok {
				return false
			}
			m.Attempt = uint32(v)
		} else {
			var body []byte
			if body, i, ok = wire.ReadBytes(b, i+1); !ok {
				return false
			}
			switch tag {
			case 0xa:
				if c, found := d.mp.Components.lookup(body); found {
					m.Component = c
				}
			case 0x12:
				ok = d.codec.IsFrozenBody(body)
			case 0x22:
				ok = decodeObservability(m, body)
			default:
				return false
			}
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	if seen&(1<<1) == 0 {
		// No component_id: the reference path looks up "".
		if c, found := d.mp.Components.Index(""); found {
			m.Component = c
		}
	}
	// An input is needed: one that is not a frozen Value is the reference path's to decode.
	return seen&(1<<2) != 0
}

// decodeObservability reads run_id (which the model does not read) and step_id.
func decodeObservability(m *model.Message, b []byte) bool {
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		body, next, ok := wire.ReadBytes(b, i+1)
		if !ok {
			return false
		}
		i = next
		var v uint64
		switch tag {
		case 0x1a:
			_, ok = parseDecimal(body)
		case 0x2a:
			v, ok = parseDecimal(body)
			m.Step = model.StepID(v)
		default:
			return false
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	return true
}

func (d *Direct) decodeComplete(m *model.Message, b []byte) (ok, reused bool) {
	*m = model.Message{Type: model.MsgComplete, Run: UnknownRun}
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		var body []byte
		if body, i, ok = wire.ReadBytes(b, i+1); !ok {
			return false, false
		}
		var v uint64
		switch tag {
		case 0xa:
			v, ok = parseUUID(&d.task, body)
			m.Task = model.TaskID(v)
		case 0x22:
			v, ok = parseDecimal(body)
			m.Run = ownRun(v)
		case 0x12:
			// A response with exactly a frozen output.
			if len(body) == 0 || body[0] != 0xa {
				return false, false
			}
			out, j, found := wire.ReadBytes(body, 1)
			ok = found && j == len(body) && d.codec.IsFrozenBody(out)
			m.Result, reused = model.ResultResponse, true
		case 0x1a:
			ok = decodeTaskError(m, body)
			m.Result = model.ResultError
		case 0x2a:
			// A list_components result: exactly the one this side would send.
			ok = d.list != nil && string(body) == string(d.list)
			m.Result, m.Discovery = model.ResultListComponents, true
		default:
			return false, false
		}
		if results := seen & (1<<2 | 1<<3 | 1<<5); !ok || !once(&seen, tag) || results != 0 && tag != 0xa && tag != 0x22 {
			// Twice the same field, or two results: the reference path decides.
			return false, false
		}
	}
	return seen&(1<<1) != 0 && seen&(1<<2|1<<3|1<<5) != 0, reused
}

// decodeTaskError reads a TaskError's code and message (valid UTF-8, as the reference
// path's protobuf-go requires); its data is left to the reference path.
func decodeTaskError(m *model.Message, b []byte) bool {
	var seen uint8
	for i := 0; i < len(b); {
		tag := b[i]
		var ok bool
		if tag == 0x8 {
			var v uint64
			if v, i, ok = wire.ReadVarint(b, i+1); !ok {
				return false
			}
			m.ErrorCode = model.ErrorCode(pb.TaskErrorCode(v))
		} else if tag == 0x12 {
			var body []byte
			if body, i, ok = wire.ReadBytes(b, i+1); !ok {
				return false
			}
			ok = utf8.Valid(body)
		} else {
			return false
		}
		if !ok || !once(&seen, tag) {
			return false
		}
	}
	return true
}
