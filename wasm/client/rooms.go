package client

import (
	"context"

	"roomkit/server/protocol"
)

// CreateRoom creates info's room and joins it, reporting
// (room, Connecting, ActiveCreate) then (room, Connected, Success) or
// (room, Disconnected, CreateFailed).
func (c *Client) CreateRoom(ctx context.Context, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return c.join(ctx, info, protocol.OpCreateRoom, protocol.RoomRequest{RoomInfo: info, Config: cfg}, protocol.RoomEventActiveCreate, protocol.RoomEventCreateFailed)
}

// JoinRoom joins an existing room, reporting ActiveEnter then Success or
// EnterFailed.
func (c *Client) JoinRoom(ctx context.Context, roomID string) (protocol.RoomInfo, error) {
	return c.join(ctx, protocol.RoomInfo{RoomID: roomID}, protocol.OpJoinRoom, protocol.RoomIDRequest{RoomID: roomID}, protocol.RoomEventActiveEnter, protocol.RoomEventEnterFailed)
}

// EnterRoom joins the room, creating it with cfg first if needed.
func (c *Client) EnterRoom(ctx context.Context, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return c.join(ctx, info, protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: info, Config: cfg}, protocol.RoomEventActiveEnter, protocol.RoomEventEnterFailed)
}

// join runs one of the joining operations through the room state machine.
func (c *Client) join(ctx context.Context, info protocol.RoomInfo, op string, req any, active, failed int) (protocol.RoomInfo, error) {
	c.mu.Lock()
	if r := c.rooms[info.RoomID]; r != nil {
		c.mu.Unlock()
		if r.busy {
			return info, busyError(info.RoomID)
		}
		return info, protocol.Errorf(protocol.CodeAlreadyInRoom, "you are already in room %q", info.RoomID)
	}
	c.rooms[info.RoomID] = &roomEntry{info: info, state: protocol.RoomStateConnecting, busy: true}
	c.pushRoomLocked(info.RoomID, protocol.RoomStateConnecting, active, "")
	c.mu.Unlock()

	var reply protocol.RoomReply
	err := c.request(ctx, op, req, &reply)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.rooms, info.RoomID)
		c.pushRoomLocked(info.RoomID, protocol.RoomStateDisconnected, failed, err.Error())
		return info, err
	}
	c.rooms[info.RoomID] = &roomEntry{info: reply.RoomInfo.BaseInfo, state: protocol.RoomStateConnected}
	c.lastRoom = info.RoomID
	c.pushRoomLocked(info.RoomID, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
	return reply.RoomInfo.BaseInfo, nil
}

// SwitchRoom leaves from and joins to as one step: (to, Connecting,
// ActiveSwitch); then (to, Connected, Success) and (from, Disconnected,
// Success); or (to, Disconnected, SwitchFailed) with the client still in
// from.
func (c *Client) SwitchRoom(ctx context.Context, from string, to protocol.RoomInfo, create bool, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	c.mu.Lock()
	fr, tr := c.rooms[from], c.rooms[to.RoomID]
	switch {
	case (fr != nil && fr.busy) || (tr != nil && tr.busy):
		c.mu.Unlock()
		if tr != nil && tr.busy {
			return to, busyError(to.RoomID)
		}
		return to, busyError(from)
	case fr == nil:
		c.mu.Unlock()
		return to, protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q, so you cannot switch from it", from)
	case tr != nil:
		c.mu.Unlock()
		return to, protocol.Errorf(protocol.CodeAlreadyInRoom, "you are already in room %q", to.RoomID)
	}
	fr.busy = true
	c.rooms[to.RoomID] = &roomEntry{info: to, state: protocol.RoomStateConnecting, busy: true}
	c.pushRoomLocked(to.RoomID, protocol.RoomStateConnecting, protocol.RoomEventActiveSwitch, "")
	c.mu.Unlock()

	var reply protocol.RoomReply
	err := c.request(ctx, protocol.OpSwitchRoom, protocol.SwitchRoomRequest{FromRoomID: from, ToRoomInfo: to, IsCreateWhenRoomNotExisted: create, Config: cfg}, &reply)

	c.mu.Lock()
	defer c.mu.Unlock()
	if err != nil {
		delete(c.rooms, to.RoomID)
		if r := c.rooms[from]; r != nil {
			r.busy = false
		}
		c.pushRoomLocked(to.RoomID, protocol.RoomStateDisconnected, protocol.RoomEventSwitchFailed, err.Error())
		return to, err
	}
	c.rooms[to.RoomID] = &roomEntry{info: reply.RoomInfo.BaseInfo, state: protocol.RoomStateConnected}
	c.lastRoom = to.RoomID
	c.pushRoomLocked(to.RoomID, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
	delete(c.rooms, from)
	c.pushRoomLocked(from, protocol.RoomStateDisconnected, protocol.RoomEventSuccess, "")
	return reply.RoomInfo.BaseInfo, nil
}

// LeaveRoom leaves roomID, reporting (room, Disconnected, Success).
func (c *Client) LeaveRoom(ctx context.Context, roomID string) error {
	c.mu.Lock()
	if r := c.rooms[roomID]; r != nil {
		if r.busy {
			c.mu.Unlock()
			return busyError(roomID)
		}
		r.busy = true
	}
	c.mu.Unlock()

	err := c.request(ctx, protocol.OpLeaveRoom, protocol.RoomIDRequest{RoomID: roomID}, nil)

	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.rooms[roomID]
	if err != nil {
		if r != nil {
			r.busy = false
		}
		return err
	}
	if r != nil {
		delete(c.rooms, roomID)
		c.pushRoomLocked(roomID, protocol.RoomStateDisconnected, protocol.RoomEventSuccess, "")
	}
	return nil
}

// LeaveAllRoom leaves every room of this connection (other tabs and devices
// of the user keep theirs) and returns their IDs.
func (c *Client) LeaveAllRoom(ctx context.Context) ([]string, error) {
	var reply protocol.LeaveAllRoomReply
	if err := c.request(ctx, protocol.OpLeaveAllRoom, struct{}{}, &reply); err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range reply.RoomIDs {
		if c.rooms[id] != nil {
			delete(c.rooms, id)
			c.pushRoomLocked(id, protocol.RoomStateDisconnected, protocol.RoomEventSuccess, "")
		}
	}
	if reply.RoomIDs == nil {
		reply.RoomIDs = []string{}
	}
	return reply.RoomIDs, nil
}

// QueryRoomMemberList returns one page of roomID's members in join order.
func (c *Client) QueryRoomMemberList(ctx context.Context, roomID string, count int, nextFlag string) (protocol.MemberListReply, error) {
	var reply protocol.MemberListReply
	err := c.request(ctx, protocol.OpQueryMemberList, protocol.MemberListRequest{RoomID: roomID, Count: count, NextFlag: nextFlag}, &reply)
	if reply.MemberList == nil {
		reply.MemberList = []protocol.Member{}
	}
	return reply, err
}

// QueryRoomOnlineMemberCount returns how many members roomID has.
func (c *Client) QueryRoomOnlineMemberCount(ctx context.Context, roomID string) (int, error) {
	var reply protocol.MemberCountReply
	err := c.request(ctx, protocol.OpQueryMemberCount, protocol.RoomIDRequest{RoomID: roomID}, &reply)
	return reply.Count, err
}

func busyError(roomID string) error {
	return protocol.Errorf(protocol.CodeRoomConnecting, "room %q is connecting: wait for the operation under way to finish", roomID)
}
