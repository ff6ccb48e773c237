package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// The room operations, each defined once: what the room's owner runs, for
// the peer or its stand-in. The Engine methods below route them.

type joinArgs struct {
	Info     protocol.RoomInfo    `json:"info"`
	Config   *protocol.RoomConfig `json:"config,omitempty"`
	Passcode string               `json:"passcode,omitempty"`
	From     string               `json:"from,omitempty"`
	Create   bool                 `json:"create,omitempty"`
}

type roomArgs struct {
	Room     string   `json:"room"`
	Count    int      `json:"count,omitempty"`
	Next     string   `json:"next,omitempty"`
	UserIDs  []string `json:"userIDs,omitempty"`
	UserID   string   `json:"userID,omitempty"`
	Role     string   `json:"role,omitempty"`
	Name     string   `json:"name,omitempty"`
	Locked   bool     `json:"locked,omitempty"`
	Keys     []string `json:"keys,omitempty"`
	Attrs    map[string]string
	AttrsCfg protocol.AttributesConfig
	Batch    []protocol.AttributesOperation
}

var (
	opCreate = define("create", func(m *engine.Manager, p engine.Peer, a joinArgs) (protocol.RoomInfo, error) {
		return m.Create(p, a.Info, a.Config)
	})
	opJoin = define("join", func(m *engine.Manager, p engine.Peer, a joinArgs) (protocol.RoomInfo, error) {
		return m.Join(p, a.Info.RoomID, a.Passcode)
	})
	opEnter = define("enter", func(m *engine.Manager, p engine.Peer, a joinArgs) (protocol.RoomInfo, error) {
		return m.Enter(p, a.Info, a.Config)
	})
	opSwitch = define("switch", func(m *engine.Manager, p engine.Peer, a joinArgs) (protocol.RoomInfo, error) {
		return m.Switch(p, a.From, a.Info, a.Create, a.Config)
	})
	opLeave = define("leave", func(m *engine.Manager, p engine.Peer, a roomArgs) (struct{}, error) {
		return struct{}{}, m.Leave(p, a.Room)
	})
	opMemberList = define("memberList", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.MemberListReply, error) {
		return m.MemberList(p, a.Room, a.Count, a.Next)
	})
	opMemberCount = define("memberCount", func(m *engine.Manager, p engine.Peer, a roomArgs) (int, error) {
		return m.MemberCount(p, a.Room)
	})
	opSendMessage = define("sendMessage", func(m *engine.Manager, p engine.Peer, a struct {
		Room string           `json:"room"`
		Msg  protocol.Message `json:"msg"`
	}) (protocol.Message, error) {
		return m.SendMessage(p, a.Room, a.Msg)
	})
	opSendPeerMessage = define("sendPeerMessage", func(m *engine.Manager, p engine.Peer, a protocol.SendPeerMessageRequest) (protocol.SendPeerMessageReply, error) {
		return m.SendPeerMessage(p, a)
	})
	opHistory = define("history", func(m *engine.Manager, p engine.Peer, a protocol.HistoryRequest) (protocol.HistoryReply, error) {
		return m.History(p, a)
	})
	opSetAttributes = define("setAttributes", func(m *engine.Manager, p engine.Peer, a roomArgs) ([]string, error) {
		return m.SetAttributes(p, a.Room, a.Attrs, a.AttrsCfg)
	})
	opDeleteAttributes = define("deleteAttributes", func(m *engine.Manager, p engine.Peer, a roomArgs) ([]string, error) {
		return m.DeleteAttributes(p, a.Room, a.Keys, a.AttrsCfg)
	})
	opAttributesBatch = define("attributesBatch", func(m *engine.Manager, p engine.Peer, a roomArgs) ([]string, error) {
		return m.AttributesBatch(p, a.Room, a.Batch)
	})
	opQueryAttributes = define("queryAttributes", func(m *engine.Manager, p engine.Peer, a roomArgs) (map[string]string, error) {
		return m.QueryAttributes(p, a.Room)
	})
	opQueryMembers = define("queryMembers", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.QueryMembersReply, error) {
		return m.QueryMembers(p, a.Room, a.UserIDs)
	})
	opSetMemberAttributes = define("setMemberAttributes", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.SetMembersAttributesReply, error) {
		return m.SetMemberAttributes(p, a.Room, a.UserIDs, a.Attrs)
	})
	opQueryMemberAttributes = define("queryMemberAttributes", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.MembersAttributesReply, error) {
		return m.QueryMemberAttributes(p, a.Room, a.UserIDs)
	})
	opMemberAttributesList = define("memberAttributesList", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.MemberAttributesListReply, error) {
		return m.MemberAttributesList(p, a.Room, a.Count, a.Next)
	})
	opSetMemberRole = define("setMemberRole", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.Member, error) {
		return m.SetMemberRole(p, a.Room, a.UserID, a.Role)
	})
	opRenameMember = define("renameMember", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.Member, error) {
		return m.RenameMember(p, a.Room, a.UserID, a.Name)
	})
	opSetMemberState = define("setMemberState", func(m *engine.Manager, p engine.Peer, a protocol.SetMemberStateRequest) (protocol.Member, error) {
		return m.SetMemberState(p, a)
	})
	opRemoveMember = define("removeMember", func(m *engine.Manager, p engine.Peer, a roomArgs) (struct{}, error) {
		return struct{}{}, m.RemoveMember(p, a.Room, a.UserID)
	})
	opEndRoom = define("endRoom", func(m *engine.Manager, p engine.Peer, a roomArgs) (struct{}, error) {
		return struct{}{}, m.EndRoom(p, a.Room)
	})
	opSetShareLock = define("setShareLock", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.SessionInfo, error) {
		return m.SetShareLock(p, a.Room, a.Locked)
	})
	opSessionInfo = define("sessionInfo", func(m *engine.Manager, p engine.Peer, a roomArgs) (protocol.SessionInfo, error) {
		return m.SessionInfo(p, a.Room)
	})
)

// validRoom checks a room ID before it names a lease.
func validRoom(field, id string) error {
	if err := protocol.ValidateID(field, id, protocol.MaxRoomIDBytes); err != nil {
		return err
	}
	return nil
}

// join is every join: the origin checks the connection's room count (its
// rooms are spread over nodes) and records where the room lives.
func (e *Engine) join(p engine.Peer, o op[joinArgs, protocol.RoomInfo], a joinArgs) (protocol.RoomInfo, error) {
	if err := protocol.ValidateRoomInfo(a.Info); err != nil {
		return protocol.RoomInfo{}, err
	}
	if a.From == "" && e.roomCount(p) >= e.limits.MaxRoomsPerSession {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeJoinedRoomsLimit, "this connection is in %d rooms, the most it may be in; leave one first", e.roomCount(p))
	}
	info, err := o.call(e, p, a.Info.RoomID, a)
	if err == nil {
		e.joined(p, info.RoomID)
	}
	return info, err
}

// Create implements engine.Engine.
func (e *Engine) Create(p engine.Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return e.join(p, opCreate, joinArgs{Info: info, Config: cfg})
}

// Join implements engine.Engine.
func (e *Engine) Join(p engine.Peer, roomID, passcode string) (protocol.RoomInfo, error) {
	return e.join(p, opJoin, joinArgs{Info: protocol.RoomInfo{RoomID: roomID}, Passcode: passcode})
}

// Enter implements engine.Engine.
func (e *Engine) Enter(p engine.Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return e.join(p, opEnter, joinArgs{Info: info, Config: cfg})
}

// Switch implements engine.Engine. When both rooms live on one node it is
// one step there; otherwise the join comes first and the leave after, as
// on one node, so a failed join leaves p where it was.
func (e *Engine) Switch(p engine.Peer, from string, to protocol.RoomInfo, create bool, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	if err := validRoom("fromRoomID", from); err != nil {
		return protocol.RoomInfo{}, err
	}
	if err := protocol.ValidateRoomInfo(to); err != nil {
		return protocol.RoomInfo{}, err
	}
	fromOwner, err := e.resolve(roomKey{p.AppID(), from})
	if err != nil {
		return protocol.RoomInfo{}, err
	}
	toOwner, err := e.resolve(roomKey{p.AppID(), to.RoomID})
	if err != nil {
		return protocol.RoomInfo{}, err
	}
	if fromOwner == toOwner {
		info, err := e.join(p, opSwitch, joinArgs{Info: to, Config: cfg, From: from, Create: create, Passcode: protocol.PasscodeOf(cfg)})
		if err == nil {
			e.left(p, from)
		}
		return info, err
	}
	e.mu.Lock()
	_, in := e.origins[p.SessionID()].roomsHas(from)
	e.mu.Unlock()
	if !in {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q, so you cannot switch from it", from)
	}
	o := opJoin
	if create {
		o = opEnter
	}
	info, err := e.join(p, o, joinArgs{Info: to, Config: cfg, From: from, Passcode: protocol.PasscodeOf(cfg)})
	if err != nil {
		return info, err
	}
	if err := e.Leave(p, from); err != nil && !isCode(err, protocol.CodeNotInRoom) {
		e.log.Warn("switch: leaving the old room failed", "room", from, "err", err)
	}
	return info, nil
}

func (o *originState) roomsHas(room string) (string, bool) {
	if o == nil {
		return "", false
	}
	owner, ok := o.rooms[room]
	return owner, ok
}

func isCode(err error, code protocol.Code) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == code
}

// Leave implements engine.Engine.
func (e *Engine) Leave(p engine.Peer, roomID string) error {
	if err := validRoom("roomID", roomID); err != nil {
		return err
	}
	_, err := opLeave.call(e, p, roomID, roomArgs{Room: roomID})
	if err == nil || isCode(err, protocol.CodeNotInRoom) {
		e.left(p, roomID)
	}
	return err
}

// LeaveAll implements engine.Engine: p leaves its rooms here and on every
// node it has rooms on, and this node forgets it.
func (e *Engine) LeaveAll(p engine.Peer) []string {
	ids := e.local.LeaveAll(p)
	e.mu.Lock()
	o := e.origins[p.SessionID()]
	delete(e.origins, p.SessionID())
	e.mu.Unlock()
	for _, n := range e.otherOwners(p, o) {
		f := forwarded{Op: "leaveAll", Peer: describe(p, "")}
		raw, err := e.node.Request(context.Background(), n, "op", p.SessionID(), f)
		if err != nil {
			// Given up, the session would stay a member there for good (a
			// ghost nobody sees leave): it is asked again until it is
			// done or that node is dead (whose rooms are made again
			// without the sessions gone).
			e.log.Warn("leaving the rooms on another node failed; trying again", "owner", n, "session", p.SessionID(), "err", err)
			go e.leaveAllLater(n, p.SessionID(), f)
			continue
		}
		var more []string
		if json.Unmarshal(raw, &more) == nil {
			ids = append(ids, more...)
		}
	}
	sort.Strings(ids)
	return ids
}

// leaveAllRetries bounds how long a failed leaveAll is asked again: the
// pauses double from a second, 1+2+...+32 s.
const leaveAllRetries = 6

// leaveAllLater asks node again to take a session that has ended out of
// its rooms there, until it answers, it is found dead, or the retries run
// out (logged: only then can a member be left behind).
func (e *Engine) leaveAllLater(node, session string, f forwarded) {
	pause := time.Second
	for range leaveAllRetries {
		select {
		case <-e.stop:
			return
		case <-time.After(pause):
		}
		pause *= 2
		if !e.alive(node) {
			return
		}
		if _, err := e.node.Request(context.Background(), node, "op", session, f); err == nil {
			e.log.Info("a session's leaving reached another node after all", "owner", node, "session", session)
			return
		}
	}
	e.log.Error("a session's leaving never reached another node: it may be left a member there", "owner", node, "session", session)
}

// Rooms implements engine.Engine: it asks every node p has rooms on.
func (e *Engine) Rooms(p engine.Peer) []protocol.RoomInfo {
	rooms := e.local.Rooms(p)
	e.mu.Lock()
	o := e.origins[p.SessionID()]
	e.mu.Unlock()
	for _, n := range e.otherOwners(p, o) {
		raw, err := e.node.Request(context.Background(), n, "op", p.SessionID(), forwarded{Op: "rooms", Peer: describe(p, "")})
		if err != nil {
			continue
		}
		var more []protocol.RoomInfo
		if json.Unmarshal(raw, &more) == nil {
			rooms = append(rooms, more...)
		}
	}
	return sortedRooms(rooms)
}

// otherOwners returns the other nodes owning the rooms of o (p's), each
// once; a room whose owner is unknown, or no longer alive (it stopped, and
// handed its rooms on), is looked up again.
func (e *Engine) otherOwners(p engine.Peer, o *originState) []string {
	if o == nil {
		return nil
	}
	e.mu.Lock()
	rooms := make(map[string]string, len(o.rooms))
	for r, owner := range o.rooms {
		rooms[r] = owner
	}
	e.mu.Unlock()
	seen := map[string]bool{e.node.ID(): true}
	var nodes []string
	for room, owner := range rooms {
		if owner == "" || (owner != e.node.ID() && !e.alive(owner)) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			owner, _ = e.node.Holder(ctx, roomKey{p.AppID(), room}.lease())
			cancel()
			e.mu.Lock()
			o.rooms[room] = owner
			e.mu.Unlock()
		}
		if owner != "" && !seen[owner] {
			seen[owner] = true
			nodes = append(nodes, owner)
		}
	}
	return nodes
}

// MemberList implements engine.Engine.
func (e *Engine) MemberList(p engine.Peer, roomID string, count int, nextFlag string) (protocol.MemberListReply, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.MemberListReply{}, err
	}
	return opMemberList.call(e, p, roomID, roomArgs{Room: roomID, Count: count, Next: nextFlag})
}

// MemberCount implements engine.Engine.
func (e *Engine) MemberCount(p engine.Peer, roomID string) (int, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return 0, err
	}
	return opMemberCount.call(e, p, roomID, roomArgs{Room: roomID})
}

// SendMessage implements engine.Engine.
func (e *Engine) SendMessage(p engine.Peer, roomID string, msg protocol.Message) (protocol.Message, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.Message{}, err
	}
	return opSendMessage.call(e, p, roomID, struct {
		Room string           `json:"room"`
		Msg  protocol.Message `json:"msg"`
	}{roomID, msg})
}

// SendPeerMessage implements engine.Engine.
func (e *Engine) SendPeerMessage(p engine.Peer, req protocol.SendPeerMessageRequest) (protocol.SendPeerMessageReply, error) {
	if err := validRoom("roomID", req.RoomID); err != nil {
		return protocol.SendPeerMessageReply{}, err
	}
	return opSendPeerMessage.call(e, p, req.RoomID, req)
}

// History implements engine.Engine.
func (e *Engine) History(p engine.Peer, req protocol.HistoryRequest) (protocol.HistoryReply, error) {
	if err := validRoom("roomID", req.RoomID); err != nil {
		return protocol.HistoryReply{}, err
	}
	return opHistory.call(e, p, req.RoomID, req)
}

// SetAttributes implements engine.Engine.
func (e *Engine) SetAttributes(p engine.Peer, roomID string, attrs map[string]string, cfg protocol.AttributesConfig) ([]string, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return nil, err
	}
	return opSetAttributes.call(e, p, roomID, roomArgs{Room: roomID, Attrs: attrs, AttrsCfg: cfg})
}

// DeleteAttributes implements engine.Engine.
func (e *Engine) DeleteAttributes(p engine.Peer, roomID string, keys []string, cfg protocol.AttributesConfig) ([]string, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return nil, err
	}
	return opDeleteAttributes.call(e, p, roomID, roomArgs{Room: roomID, Keys: keys, AttrsCfg: cfg})
}

// AttributesBatch implements engine.Engine.
func (e *Engine) AttributesBatch(p engine.Peer, roomID string, batch []protocol.AttributesOperation) ([]string, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return nil, err
	}
	return opAttributesBatch.call(e, p, roomID, roomArgs{Room: roomID, Batch: batch})
}

// QueryAttributes implements engine.Engine.
func (e *Engine) QueryAttributes(p engine.Peer, roomID string) (map[string]string, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return nil, err
	}
	return opQueryAttributes.call(e, p, roomID, roomArgs{Room: roomID})
}

// QueryMembers implements engine.Engine.
func (e *Engine) QueryMembers(p engine.Peer, roomID string, userIDs []string) (protocol.QueryMembersReply, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.QueryMembersReply{}, err
	}
	return opQueryMembers.call(e, p, roomID, roomArgs{Room: roomID, UserIDs: userIDs})
}

// SetMemberAttributes implements engine.Engine.
func (e *Engine) SetMemberAttributes(p engine.Peer, roomID string, userIDs []string, attrs map[string]string) (protocol.SetMembersAttributesReply, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.SetMembersAttributesReply{}, err
	}
	return opSetMemberAttributes.call(e, p, roomID, roomArgs{Room: roomID, UserIDs: userIDs, Attrs: attrs})
}

// QueryMemberAttributes implements engine.Engine.
func (e *Engine) QueryMemberAttributes(p engine.Peer, roomID string, userIDs []string) (protocol.MembersAttributesReply, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.MembersAttributesReply{}, err
	}
	return opQueryMemberAttributes.call(e, p, roomID, roomArgs{Room: roomID, UserIDs: userIDs})
}

// MemberAttributesList implements engine.Engine.
func (e *Engine) MemberAttributesList(p engine.Peer, roomID string, count int, nextFlag string) (protocol.MemberAttributesListReply, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.MemberAttributesListReply{}, err
	}
	return opMemberAttributesList.call(e, p, roomID, roomArgs{Room: roomID, Count: count, Next: nextFlag})
}

// SetMemberRole implements engine.Engine.
func (e *Engine) SetMemberRole(p engine.Peer, roomID, userID, role string) (protocol.Member, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.Member{}, err
	}
	return opSetMemberRole.call(e, p, roomID, roomArgs{Room: roomID, UserID: userID, Role: role})
}

// RenameMember implements engine.Engine.
func (e *Engine) RenameMember(p engine.Peer, roomID, userID, name string) (protocol.Member, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.Member{}, err
	}
	return opRenameMember.call(e, p, roomID, roomArgs{Room: roomID, UserID: userID, Name: name})
}

// SetMemberState implements engine.Engine.
func (e *Engine) SetMemberState(p engine.Peer, req protocol.SetMemberStateRequest) (protocol.Member, error) {
	if err := validRoom("roomID", req.RoomID); err != nil {
		return protocol.Member{}, err
	}
	return opSetMemberState.call(e, p, req.RoomID, req)
}

// RemoveMember implements engine.Engine.
func (e *Engine) RemoveMember(p engine.Peer, roomID, userID string) error {
	if err := validRoom("roomID", roomID); err != nil {
		return err
	}
	_, err := opRemoveMember.call(e, p, roomID, roomArgs{Room: roomID, UserID: userID})
	return err
}

// EndRoom implements engine.Engine.
func (e *Engine) EndRoom(p engine.Peer, roomID string) error {
	if err := validRoom("roomID", roomID); err != nil {
		return err
	}
	_, err := opEndRoom.call(e, p, roomID, roomArgs{Room: roomID})
	if err == nil {
		e.left(p, roomID)
	}
	return err
}

// SetShareLock implements engine.Engine.
func (e *Engine) SetShareLock(p engine.Peer, roomID string, locked bool) (protocol.SessionInfo, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.SessionInfo{}, err
	}
	return opSetShareLock.call(e, p, roomID, roomArgs{Room: roomID, Locked: locked})
}

// SessionInfo implements engine.Engine.
func (e *Engine) SessionInfo(p engine.Peer, roomID string) (protocol.SessionInfo, error) {
	if err := validRoom("roomID", roomID); err != nil {
		return protocol.SessionInfo{}, err
	}
	return opSessionInfo.call(e, p, roomID, roomArgs{Room: roomID})
}
