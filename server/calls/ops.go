package calls

import (
	"encoding/json"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// The call operations of the protocol, each defined once, as the room
// operations are (engine/ops.go): the request type and what the app's
// calls node runs, with the reply as the client gets it. They are routed
// by the caller's app: every call of an app is kept by one node. The
// gateway decodes a call request by this table; a cluster forwards its
// bytes to the app's calls node, which decodes them by the same table.

// Operation is one entry of the table.
type Operation struct {
	// Name is the protocol op.
	Name string
	// Rings is true for the operations that ring users (an invitation),
	// which count against the inviter's invitation budget.
	Rings  bool
	decode func(o *Operation, raw json.RawMessage) (Request, error)
}

// Request is one decoded call operation, ready to run on the calls node.
type Request struct {
	Op *Operation
	// Raw is the request's data as it came, which a cluster forwards.
	Raw json.RawMessage
	run func(m *Manager, p engine.Peer) (any, error)
}

// Run runs the request on m for p and returns the reply's data.
func (r Request) Run(m *Manager, p engine.Peer) (any, error) { return r.run(m, p) }

var operations = map[string]*Operation{}

// Lookup returns the call operation named op, if op is one.
func Lookup(op string) (*Operation, bool) {
	o, ok := operations[op]
	return o, ok
}

// Decode decodes raw, a request's data, as a request of o.
func (o *Operation) Decode(raw json.RawMessage) (Request, error) { return o.decode(o, raw) }

// Do runs req here, the node keeping the app's calls.
func (m *Manager) Do(p engine.Peer, req Request) (any, error) { return req.Run(m, p) }

func define[Req any](name string, rings bool, run func(m *Manager, p engine.Peer, req *Req) (any, error)) {
	operations[name] = &Operation{Name: name, Rings: rings, decode: func(o *Operation, raw json.RawMessage) (Request, error) {
		req := new(Req)
		if err := protocol.Decode(name, raw, req); err != nil {
			return Request{}, err
		}
		return Request{Op: o, Raw: raw, run: func(m *Manager, p engine.Peer) (any, error) { return run(m, p, req) }}, nil
	}}
}

// reply turns a typed result into the reply's data, nil on an error.
func reply[R any](v R, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func init() {
	define(protocol.OpCallInvite, true, func(m *Manager, p engine.Peer, req *protocol.CallInviteRequest) (any, error) {
		return reply(m.Invite(p, *req))
	})
	define(protocol.OpCallAdd, true, func(m *Manager, p engine.Peer, req *protocol.CallAddRequest) (any, error) {
		return reply(m.Add(p, *req))
	})
	define(protocol.OpCallAccept, false, func(m *Manager, p engine.Peer, req *protocol.CallIDRequest) (any, error) {
		return reply(m.Accept(p, req.CallID))
	})
	define(protocol.OpCallReject, false, func(m *Manager, p engine.Peer, req *protocol.CallRejectRequest) (any, error) {
		return reply(m.Reject(p, req.CallID, req.Busy))
	})
	define(protocol.OpCallCancel, false, func(m *Manager, p engine.Peer, req *protocol.CallIDRequest) (any, error) {
		return reply(m.Cancel(p, req.CallID, req.UserIDs))
	})
	define(protocol.OpCallQuit, false, func(m *Manager, p engine.Peer, req *protocol.CallIDRequest) (any, error) {
		return reply(m.Quit(p, req.CallID))
	})
	define(protocol.OpCallEnd, false, func(m *Manager, p engine.Peer, req *protocol.CallIDRequest) (any, error) {
		return reply(m.End(p, req.CallID))
	})
}
