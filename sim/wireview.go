package sim

import (
	"github.com/tasksim/tasksim/model"
	"github.com/tasksim/tasksim/model/wiremap"
)

// handed is m as the kernel hands it to its receiver, through model.Deliver (which keeps
// its Truth away from the receiver). A check run (wireOnly) cuts it down to wireView
// first: the run must come out the same, or a participant read what no socket tells.
func (w *world) handed(m model.Message) model.Message {
	if w.wireOnly {
		return wireView(m)
	}
	return m
}

// wireView is what a receiver on a real socket can know of m: the protobuf body's part
// (wiremap.Wire), the envelope (the peer, the call a reply answers), Truth (for Deliver
// to attach to the receiver's effects, never to hand over), and what the transport
// itself carries beside the body: the JetStream delivery an assignment or ack names, the
// subject (pool) an assignment is published on, and the size of its input payload, which
// a relay passes on. Fetch and Ack are JetStream's own and carry no body: whole.
//
// One field beyond the wire is kept, a known leak: a list_components assignment's
// attempt. TaskAssignment.list_components carries none, yet the worker takes it as its
// execution's attempt; it reaches only the Truth of that execution's messages (so the
// trace and its hash), never a decision, since a discovery task is never retried.
func wireView(m model.Message) model.Message {
	if m.Type == model.MsgFetch || m.Type == model.MsgAck {
		return m
	}
	r := wiremap.Wire(m)
	r.From, r.To, r.Call, r.Truth = m.From, m.To, m.Call, m.Truth
	if m.Type == model.MsgAssignment {
		r.Delivery, r.Pool, r.PayloadBytes = m.Delivery, m.Pool, m.PayloadBytes
		if m.Discovery {
			r.Attempt = m.Attempt
		}
	}
	return r
}
