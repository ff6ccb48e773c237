package engine

import (
	"encoding/json"

	"roomkit/server/protocol"
)

// Extension is state another part of the server keeps for one room beside
// the engine's own (the media server's connections and tracks). It is
// made with the room on the node that owns it, told of what happens to
// the room's members as typed calls, carried along when the room moves
// (Detach, Import, and the copies a failover makes the room again from),
// and reached by room operations of its own through the operation table
// (WithExtension). So it lives, moves and ends with its room.
//
// Its methods run under the room's lock, in the order the room's events
// are made: they must not block, and must not call into the engine.
type Extension interface {
	// Joined: session is now a member, as m (role and state included).
	// After an Import it is called again for each member the room came
	// with that is here, and Left for each that is not.
	Joined(session string, m protocol.Member)
	// Left: session is no longer a member (a leave, a removal, a session
	// a failover did not find); m is the member as it was.
	Left(session string, m protocol.Member)
	// Updated: a user's role, name or state changed; m is the user now.
	Updated(m protocol.Member)
	// Closed: the room is gone from this node, ended or moved away (its
	// members are gone with it, without a Left each). Nothing is called
	// after it.
	Closed()
	// Export is the extension's state as it moves with the room (nil for
	// none): Extensions gets it back on the node that takes the room.
	Export() json.RawMessage
}

// Extensions makes the extension of each room made on this node: state
// is what Export gave where the room came from, nil for a new room;
// members is how the extension reaches the room's members. It may return
// a nil Extension (an untyped nil: the room has none). It runs under the
// engine's lock and must not block.
type Extensions func(app, roomID string, state json.RawMessage, members Members) Extension

// Members is how an extension reaches the members of its room, wherever
// their connections are.
type Members interface {
	// Send delivers frame to member session; it reports false when
	// session is not a member (or the room has ended or moved away). It
	// takes the room's lock: call it from the extension's own goroutines,
	// never from the methods the room calls (they run under that lock).
	Send(session string, frame []byte) bool
	// Changed says the extension's state (Export) changed outside the
	// room's calls into it, so the room's copy is written again. It takes
	// the room's lock, as Send does.
	Changed()
}

// roomMembers is a room's Members.
type roomMembers struct{ r *room }

func (rm roomMembers) Changed() {
	rm.r.mu.Lock()
	rm.r.dirty = true
	rm.r.mu.Unlock()
}

func (rm roomMembers) Send(session string, frame []byte) bool {
	rm.r.mu.Lock()
	defer rm.r.mu.Unlock()
	mem := rm.r.members[session]
	if mem == nil || rm.r.ext == nil {
		return false
	}
	mem.peer.Deliver(frame)
	return true
}

// WithExtensions has every room made by the engine (created, or taken
// over by Import) get an extension from f.
func WithExtensions(f Extensions) Option { return func(m *Manager) { m.extensions = f } }

// WithExtension runs f on the extension of p's room roomID, under the
// room's lock, with p's member as the room shows it; the room's copy is
// written again after (f may have changed the extension's state). It
// fails with CodeNotInRoom when p is not in the room, and with
// CodeFailed when the room has no extension. For the operations an
// extension defines in the table.
func (m *Manager) WithExtension(p Peer, roomID string, f func(ext Extension, me protocol.Member) (any, error)) (any, error) {
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[p.Who().Session]
	if me == nil {
		return nil, notInRoom(roomID)
	}
	if r.ext == nil {
		return nil, protocol.Errorf(protocol.CodeFailed, "room %q has nothing of that kind on this server", roomID)
	}
	r.dirty = true
	return f(r.ext, me.user.member)
}

// ExtensionOf is the extension of p's room roomID and p's member as the
// room shows it, for an operation whose work may block (a media
// negotiation): the room's lock is let go before it returns, so the
// extension must be safe to call without it, and must answer sensibly
// once closed (the room may end meanwhile). It fails with CodeNotInRoom
// when p is not in the room, and returns a nil Extension when the room
// has none (the caller says what is missing).
func (m *Manager) ExtensionOf(p Peer, roomID string) (Extension, protocol.Member, error) {
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return nil, protocol.Member{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[p.Who().Session]
	if me == nil {
		return nil, protocol.Member{}, notInRoom(roomID)
	}
	return r.ext, me.user.member, nil
}

// Define adds an operation to the table (for an extension's own room
// operations): its request is a Req, room names the room it acts on and
// valid checks it, run runs it on the room's owner. A cluster routes and
// forwards it as any other. Call it from an init function only (the table
// is read without a lock), with a name no other operation has: it panics
// on a name taken, by the table or by the connection's and the cluster's
// own operations.
func Define[Req any](name string, kind Kind, room func(*Req) string, valid func(*Req) error, run func(m *Manager, p Peer, req *Req) (any, error)) {
	if _, dup := operations[name]; dup || reservedOps[name] {
		panic("engine: operation " + name + " is taken")
	}
	define(name, kind, room, valid, run)
}

// reservedOps are the names the table must not hold: the connection's
// own operations and the calls' (the gateway's), and a cluster's own.
var reservedOps = map[string]bool{
	protocol.OpLogin: true, protocol.OpLogout: true, protocol.OpPing: true, protocol.OpRenewToken: true, protocol.OpLeaveAllRoom: true,
	protocol.OpCallInvite: true, protocol.OpCallAdd: true, protocol.OpCallAccept: true, protocol.OpCallReject: true,
	protocol.OpCallCancel: true, protocol.OpCallQuit: true, protocol.OpCallEnd: true,
	"leaveAll": true, "rooms": true, "rebind": true, "handover": true, "importRoom": true,
}

// makeExtLocked gives r its extension, from state. Caller holds m.mu.
func (m *Manager) makeExtLocked(r *room, state json.RawMessage) {
	if m.extensions != nil {
		r.ext = m.extensions(r.app, r.id, state, roomMembers{r})
	}
}

// The calls into r's extension, when it has one. Caller holds r.mu.

func (r *room) extJoined(mem *member) {
	if r.ext != nil {
		r.ext.Joined(mem.session, mem.user.member)
	}
}

func (r *room) extLeft(session string, m protocol.Member) {
	if r.ext != nil {
		r.ext.Left(session, m)
	}
}

func (r *room) extUpdated(users []*userPlace) {
	if r.ext != nil {
		for _, u := range users {
			r.ext.Updated(u.member)
		}
	}
}

func (r *room) extClosed() {
	if r.ext != nil {
		r.ext.Closed()
		r.ext = nil
	}
}

func (r *room) extExport() json.RawMessage {
	if r.ext == nil {
		return nil
	}
	return r.ext.Export()
}
