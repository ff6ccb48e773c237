package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// The room operations are the engine's table (engine/ops.go): Do routes
// each to its room's owner, forwarding the request's bytes as they came,
// and keeps this node's list of each session's rooms.

// Do implements engine.Engine: req runs on its room's owner.
func (e *Engine) Do(p engine.Peer, req engine.Request) (any, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	switch req.Op.Kind {
	case engine.KindJoin:
		// The origin checks the connection's room count: its rooms are
		// spread over nodes.
		if n := e.origins.count(p.Who().Session); n >= e.limits.MaxRoomsPerSession {
			return nil, protocol.Errorf(protocol.CodeJoinedRoomsLimit, "this connection is in %d rooms, the most it may be in; leave one first", n)
		}
		return e.joinRoom(p, req)
	case engine.KindSwitch:
		return e.switchRoom(p, req)
	case engine.KindLeave:
		v, err := e.routeRoom(p, req)
		if err == nil || (req.Op.Name == protocol.OpLeaveRoom && isCode(err, protocol.CodeNotInRoom)) {
			e.origins.left(p.Who().Session, req.Room)
		}
		return v, err
	}
	return e.routeRoom(p, req)
}

// joinRoom runs a join and records where the room lives.
func (e *Engine) joinRoom(p engine.Peer, req engine.Request) (any, error) {
	v, err := e.routeRoom(p, req)
	if err == nil {
		e.origins.joined(p, req.Room)
	}
	return v, err
}

// routeRoom runs req on its room's owner, for p.
func (e *Engine) routeRoom(p engine.Peer, req engine.Request) (any, error) {
	who := p.Who()
	return e.route(target{
		key:     roomKey{who.App, req.Room},
		bus:     "op",
		fwd:     forwarded{Op: req.Op.Name, Peer: who, Room: req.Room, Args: req.Raw},
		local:   func() (any, error) { return req.Run(e.local, p) },
		changes: req.Op.Kind != engine.KindRead,
		what:    fmt.Sprintf("room %q", req.Room),
		before:  func() { e.origins.note(p) },
	})
}

// switchRoom is a switch. When both rooms live on one node it is one step
// there; otherwise the join comes first and the leave after, as on one
// node, so a failed join leaves p where it was.
func (e *Engine) switchRoom(p engine.Peer, req engine.Request) (any, error) {
	who := p.Who()
	from := req.From
	fromOwner, err := e.own.resolve(roomKey{who.App, from})
	if err != nil {
		return nil, err
	}
	toOwner, err := e.own.resolve(roomKey{who.App, req.Room})
	if err != nil {
		return nil, err
	}
	if fromOwner == toOwner {
		v, err := e.joinRoom(p, req)
		if err == nil {
			e.origins.left(who.Session, from)
		}
		return v, err
	}
	if !e.origins.in(who.Session, from) {
		return nil, protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q, so you cannot switch from it", from)
	}
	var sw protocol.SwitchRoomRequest
	if err := json.Unmarshal(req.Raw, &sw); err != nil {
		return nil, err
	}
	var join engine.Request
	if sw.IsCreateWhenRoomNotExisted {
		join, err = engine.NewRequest(protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: sw.ToRoomInfo, Config: sw.Config})
	} else {
		join, err = engine.NewRequest(protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: sw.ToRoomInfo.RoomID, Passcode: protocol.PasscodeOf(sw.Config)})
	}
	if err != nil {
		return nil, err
	}
	v, err := e.joinRoom(p, join)
	if err != nil {
		return nil, err
	}
	leave, err := engine.NewRequest(protocol.OpLeaveRoom, protocol.RoomIDRequest{RoomID: from})
	if err == nil {
		_, err = e.Do(p, leave)
	}
	if err != nil && !isCode(err, protocol.CodeNotInRoom) {
		e.log.Warn("switch: leaving the old room failed", "room", from, "err", err)
	}
	return v, nil
}

func isCode(err error, code protocol.Code) bool {
	var pe *protocol.Error
	return errors.As(err, &pe) && pe.Code == code
}

// LeaveAll implements engine.Engine: p leaves its rooms here and on every
// node it has rooms on, and this node forgets it.
func (e *Engine) LeaveAll(p engine.Peer) []string {
	who := p.Who()
	ids := e.local.LeaveAll(p)
	for _, n := range e.otherOwners(e.origins.drop(who.Session)) {
		f := forwarded{Op: "leaveAll", Peer: who}
		raw, err := e.node.Request(context.Background(), n, "op", who.Session, f)
		if err != nil {
			// Given up, the session would stay a member there for good (a
			// ghost nobody sees leave): it is asked again until it is
			// done or that node is dead (whose rooms are made again
			// without the sessions gone).
			e.log.Warn("leaving the rooms on another node failed; trying again", "owner", n, "session", who.Session, "err", err)
			go e.leaveAllLater(n, who.Session, f)
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
	who := p.Who()
	rooms := e.local.Rooms(p)
	for _, n := range e.otherOwners(e.origins.keys(who.Session)) {
		raw, err := e.node.Request(context.Background(), n, "op", who.Session, forwarded{Op: "rooms", Peer: who})
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

// otherOwners returns the other nodes owning the rooms keys, each once; a
// room whose owner is unknown, or no longer alive (it stopped, and handed
// its rooms on), is looked up again.
func (e *Engine) otherOwners(keys []roomKey) []string {
	seen := map[string]bool{e.node.ID(): true}
	var nodes []string
	for _, key := range keys {
		owner := e.own.owner(key)
		if owner == "" || (owner != e.node.ID() && !e.alive(owner)) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			owner, _ = e.node.Holder(ctx, key.lease())
			cancel()
			e.own.learn(key, owner)
		}
		if owner != "" && !seen[owner] {
			seen[owner] = true
			nodes = append(nodes, owner)
		}
	}
	return nodes
}
