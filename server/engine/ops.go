package engine

import (
	"encoding/json"
	"fmt"

	"roomkit/server/protocol"
)

// The room operations of the protocol, each defined once: its request
// type, the room it acts on (what a cluster routes it by), how it changes
// the caller's rooms, and what the room's owner runs, with the reply as
// the client gets it. The gateway decodes a request by this table and
// hands it to its Engine; a cluster forwards the request's bytes as they
// came to the room's owner, which decodes them by the same table.
// Adding an operation is its protocol types and one define here.

// Kind says what an operation does to the caller's set of rooms (which a
// cluster's node keeps for each of its sessions) and to the room.
type Kind int

const (
	// KindRead changes nothing the room keeps (a peer message is passed
	// on, not kept).
	KindRead Kind = iota
	// KindChange may change the room.
	KindChange
	// KindJoin puts the caller in the room: it counts against the
	// caller's rooms.
	KindJoin
	// KindLeave takes the caller out of the room (a leave, or the end of
	// the room for everyone).
	KindLeave
	// KindSwitch takes the caller from one room (Request.From) to another.
	KindSwitch
)

// Operation is one entry of the table.
type Operation struct {
	// Name is the protocol op.
	Name string
	// Kind is what it does to the caller's rooms.
	Kind   Kind
	decode func(op *Operation, raw json.RawMessage) (Request, error)
}

// Request is one decoded room operation, ready to run on the room's owner.
type Request struct {
	Op *Operation
	// Room is the room it acts on, as the client named it (not yet
	// validated: Validate does that).
	Room string
	// From is the room a switch leaves ("" for the others).
	From string
	// Raw is the request's data as it came, which a cluster forwards.
	Raw      json.RawMessage
	validate func() error
	run      func(m *Manager, p Peer) (any, error)
}

// Run runs the request on m for p and returns the reply's data.
func (r Request) Run(m *Manager, p Peer) (any, error) { return r.run(m, p) }

// Validate checks the rooms it names, before they name a lease.
func (r Request) Validate() error { return r.validate() }

var operations = map[string]*Operation{}

// Lookup returns the room operation named op, if op is one.
func Lookup(op string) (*Operation, bool) {
	o, ok := operations[op]
	return o, ok
}

// Decode decodes raw, a request's data, as a request of o.
func (o *Operation) Decode(raw json.RawMessage) (Request, error) { return o.decode(o, raw) }

// NewRequest builds a request of op from req (its protocol request type),
// as if a client had sent it.
func NewRequest(op string, req any) (Request, error) {
	o, ok := operations[op]
	if !ok {
		return Request{}, fmt.Errorf("%q is not a room operation", op)
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return Request{}, err
	}
	return o.Decode(raw)
}

// define adds an operation whose request is a Req: room names the room
// it acts on, valid checks it, run runs it.
func define[Req any](name string, kind Kind, room func(*Req) string, valid func(*Req) error, run func(m *Manager, p Peer, req *Req) (any, error)) {
	operations[name] = &Operation{Name: name, Kind: kind, decode: func(o *Operation, raw json.RawMessage) (Request, error) {
		req := new(Req)
		if err := protocol.Decode(name, raw, req); err != nil {
			return Request{}, err
		}
		r := Request{Op: o, Room: room(req), Raw: raw,
			validate: func() error { return valid(req) },
			run:      func(m *Manager, p Peer) (any, error) { return run(m, p, req) }}
		if sw, ok := any(req).(*protocol.SwitchRoomRequest); ok {
			r.From = sw.FromRoomID
		}
		return r, nil
	}}
}

// roomID is the room of the requests that name it as roomID.
func roomID[Req interface{ Room() string }](req *Req) string { return (*req).Room() }

func validRoomID(id string) error {
	if err := protocol.ValidateID("roomID", id, protocol.MaxRoomIDBytes); err != nil {
		return err
	}
	return nil
}

func validRoomInfo(info protocol.RoomInfo) error {
	if err := protocol.ValidateRoomInfo(info); err != nil {
		return err
	}
	return nil
}

// plain defines an operation on the room its request's roomID names.
func plain[Req interface{ Room() string }](name string, kind Kind, run func(m *Manager, p Peer, req *Req) (any, error)) {
	define(name, kind, roomID[Req], func(req *Req) error { return validRoomID((*req).Room()) }, run)
}

func roomReply(info protocol.RoomInfo, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return protocol.RoomReply{RoomInfo: protocol.RoomFullInfo{BaseInfo: info}}, nil
}

func attributesReply(roomID string, errorKeys []string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return protocol.AttributesReply{RoomID: roomID, ErrorKeys: errorKeys}, nil
}

func memberReply(roomID string, m protocol.Member, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return protocol.MemberReply{RoomID: roomID, Member: m}, nil
}

// reply turns a typed result into the reply's data, nil on an error (a
// typed nil is not a nil any).
func reply[R any](v R, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

func init() {
	enter := func(create bool) func(m *Manager, p Peer, req *protocol.RoomRequest) (any, error) {
		return func(m *Manager, p Peer, req *protocol.RoomRequest) (any, error) {
			if create {
				return roomReply(m.Create(p, req.RoomInfo, req.Config))
			}
			return roomReply(m.Enter(p, req.RoomInfo, req.Config))
		}
	}
	roomInfoOf := func(req *protocol.RoomRequest) string { return req.RoomInfo.RoomID }
	validInfo := func(req *protocol.RoomRequest) error { return validRoomInfo(req.RoomInfo) }
	define(protocol.OpCreateRoom, KindJoin, roomInfoOf, validInfo, enter(true))
	define(protocol.OpEnterRoom, KindJoin, roomInfoOf, validInfo, enter(false))
	define(protocol.OpJoinRoom, KindJoin, func(req *protocol.JoinRoomRequest) string { return req.RoomID },
		func(req *protocol.JoinRoomRequest) error { return validRoomInfo(protocol.RoomInfo{RoomID: req.RoomID}) },
		func(m *Manager, p Peer, req *protocol.JoinRoomRequest) (any, error) {
			return roomReply(m.Join(p, req.RoomID, req.Passcode))
		})
	define(protocol.OpSwitchRoom, KindSwitch, func(req *protocol.SwitchRoomRequest) string { return req.ToRoomInfo.RoomID },
		func(req *protocol.SwitchRoomRequest) error {
			if err := protocol.ValidateID("fromRoomID", req.FromRoomID, protocol.MaxRoomIDBytes); err != nil {
				return err
			}
			return validRoomInfo(req.ToRoomInfo)
		},
		func(m *Manager, p Peer, req *protocol.SwitchRoomRequest) (any, error) {
			return roomReply(m.Switch(p, req.FromRoomID, req.ToRoomInfo, req.IsCreateWhenRoomNotExisted, req.Config))
		})
	plain(protocol.OpLeaveRoom, KindLeave, func(m *Manager, p Peer, req *protocol.RoomIDRequest) (any, error) {
		if err := m.Leave(p, req.RoomID); err != nil {
			return nil, err
		}
		return protocol.LeaveRoomReply{RoomID: req.RoomID}, nil
	})
	plain(protocol.OpEndRoom, KindLeave, func(m *Manager, p Peer, req *protocol.RoomIDRequest) (any, error) {
		if err := m.EndRoom(p, req.RoomID); err != nil {
			return nil, err
		}
		return protocol.LeaveRoomReply{RoomID: req.RoomID}, nil
	})
	plain(protocol.OpQueryMemberList, KindRead, func(m *Manager, p Peer, req *protocol.MemberListRequest) (any, error) {
		return reply(m.MemberList(p, req.RoomID, req.Count, req.NextFlag))
	})
	plain(protocol.OpQueryMemberCount, KindRead, func(m *Manager, p Peer, req *protocol.RoomIDRequest) (any, error) {
		n, err := m.MemberCount(p, req.RoomID)
		if err != nil {
			return nil, err
		}
		return protocol.MemberCountReply{RoomID: req.RoomID, Count: n}, nil
	})
	plain(protocol.OpSendRoomMessage, KindChange, func(m *Manager, p Peer, req *protocol.SendMessageRequest) (any, error) {
		msg, err := m.SendMessage(p, req.RoomID, req.Message)
		if err != nil {
			return nil, err
		}
		return protocol.SendMessageReply{Message: msg}, nil
	})
	plain(protocol.OpSendPeerMessage, KindRead, func(m *Manager, p Peer, req *protocol.SendPeerMessageRequest) (any, error) {
		return reply(m.SendPeerMessage(p, *req))
	})
	plain(protocol.OpQueryHistoryRoomMessage, KindRead, func(m *Manager, p Peer, req *protocol.HistoryRequest) (any, error) {
		return reply(m.History(p, *req))
	})
	plain(protocol.OpSetRoomAttributes, KindChange, func(m *Manager, p Peer, req *protocol.SetAttributesRequest) (any, error) {
		keys, err := m.SetAttributes(p, req.RoomID, req.Attributes, req.Config)
		return attributesReply(req.RoomID, keys, err)
	})
	plain(protocol.OpDeleteRoomAttributes, KindChange, func(m *Manager, p Peer, req *protocol.DeleteAttributesRequest) (any, error) {
		keys, err := m.DeleteAttributes(p, req.RoomID, req.Keys, req.Config)
		return attributesReply(req.RoomID, keys, err)
	})
	plain(protocol.OpRoomAttributesBatch, KindChange, func(m *Manager, p Peer, req *protocol.AttributesBatchRequest) (any, error) {
		keys, err := m.AttributesBatch(p, req.RoomID, req.Operations)
		return attributesReply(req.RoomID, keys, err)
	})
	plain(protocol.OpQueryRoomAllAttributes, KindRead, func(m *Manager, p Peer, req *protocol.RoomIDRequest) (any, error) {
		attrs, err := m.QueryAttributes(p, req.RoomID)
		if err != nil {
			return nil, err
		}
		return protocol.AllAttributesReply{RoomID: req.RoomID, RoomAttributes: attrs}, nil
	})
	plain(protocol.OpSetRoomMembersAttributes, KindChange, func(m *Manager, p Peer, req *protocol.SetMembersAttributesRequest) (any, error) {
		return reply(m.SetMemberAttributes(p, req.RoomID, req.UserIDs, req.Attributes))
	})
	plain(protocol.OpQueryRoomMembersAttributes, KindRead, func(m *Manager, p Peer, req *protocol.UserIDsRequest) (any, error) {
		return reply(m.QueryMemberAttributes(p, req.RoomID, req.UserIDs))
	})
	plain(protocol.OpQueryRoomMemberAttributesList, KindRead, func(m *Manager, p Peer, req *protocol.MemberListRequest) (any, error) {
		return reply(m.MemberAttributesList(p, req.RoomID, req.Count, req.NextFlag))
	})
	plain(protocol.OpQueryRoomMembers, KindRead, func(m *Manager, p Peer, req *protocol.UserIDsRequest) (any, error) {
		return reply(m.QueryMembers(p, req.RoomID, req.UserIDs))
	})
	plain(protocol.OpSetMemberRole, KindChange, func(m *Manager, p Peer, req *protocol.SetMemberRoleRequest) (any, error) {
		mem, err := m.SetMemberRole(p, req.RoomID, req.UserID, req.Role)
		return memberReply(req.RoomID, mem, err)
	})
	plain(protocol.OpRenameMember, KindChange, func(m *Manager, p Peer, req *protocol.RenameMemberRequest) (any, error) {
		mem, err := m.RenameMember(p, req.RoomID, req.UserID, req.UserName)
		return memberReply(req.RoomID, mem, err)
	})
	plain(protocol.OpSetMemberState, KindChange, func(m *Manager, p Peer, req *protocol.SetMemberStateRequest) (any, error) {
		mem, err := m.SetMemberState(p, *req)
		return memberReply(req.RoomID, mem, err)
	})
	plain(protocol.OpRemoveMember, KindChange, func(m *Manager, p Peer, req *protocol.UserInRoomRequest) (any, error) {
		if err := m.RemoveMember(p, req.RoomID, req.UserID); err != nil {
			return nil, err
		}
		return protocol.UserInRoomRequest{RoomID: req.RoomID, UserID: req.UserID}, nil
	})
	plain(protocol.OpSetShareLock, KindChange, func(m *Manager, p Peer, req *protocol.ShareLockRequest) (any, error) {
		return reply(m.SetShareLock(p, req.RoomID, req.Locked))
	})
	plain(protocol.OpQuerySessionInfo, KindRead, func(m *Manager, p Peer, req *protocol.RoomIDRequest) (any, error) {
		return reply(m.SessionInfo(p, req.RoomID))
	})
}

// Do implements Engine: the room is here.
func (m *Manager) Do(p Peer, req Request) (any, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	return req.Run(m, p)
}
