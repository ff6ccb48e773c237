package client

import (
	"context"

	"roomkit/server/protocol"
)

// call sends one request and decodes its reply as Res.
func call[Res any](ctx context.Context, c *Client, op string, req any) (Res, error) {
	var res Res
	err := c.request(ctx, op, req, &res)
	return res, err
}

// SendRoomMessage sends a text, command or custom message to a room; the
// reply carries the server's messageID, timestamp and orderKey.
func (c *Client) SendRoomMessage(ctx context.Context, req protocol.SendMessageRequest) (protocol.SendMessageReply, error) {
	return call[protocol.SendMessageReply](ctx, c, protocol.OpSendRoomMessage, req)
}

// QueryHistoryRoomMessage returns a page of a room's kept messages.
func (c *Client) QueryHistoryRoomMessage(ctx context.Context, req protocol.HistoryRequest) (protocol.HistoryReply, error) {
	return call[protocol.HistoryReply](ctx, c, protocol.OpQueryHistoryRoomMessage, req)
}

// SetRoomAttributes sets room attributes; inside a batch it is queued and
// sent by EndRoomAttributesBatch.
func (c *Client) SetRoomAttributes(ctx context.Context, req protocol.SetAttributesRequest) (protocol.AttributesReply, error) {
	op := protocol.AttributesOperation{Action: protocol.AttributesActionSet, Attributes: req.Attributes, Config: req.Config}
	if c.addToBatch(req.RoomID, op) {
		return protocol.AttributesReply{RoomID: req.RoomID, ErrorKeys: []string{}}, nil
	}
	return call[protocol.AttributesReply](ctx, c, protocol.OpSetRoomAttributes, req)
}

// DeleteRoomAttributes deletes room attributes; inside a batch it is
// queued.
func (c *Client) DeleteRoomAttributes(ctx context.Context, req protocol.DeleteAttributesRequest) (protocol.AttributesReply, error) {
	op := protocol.AttributesOperation{Action: protocol.AttributesActionDelete, Keys: req.Keys, Config: req.Config}
	if c.addToBatch(req.RoomID, op) {
		return protocol.AttributesReply{RoomID: req.RoomID, ErrorKeys: []string{}}, nil
	}
	return call[protocol.AttributesReply](ctx, c, protocol.OpDeleteRoomAttributes, req)
}

// BeginRoomAttributesBatch opens a batch for roomID: later sets and deletes
// of its attributes are held until EndRoomAttributesBatch sends them as one
// change. cfg is the default config of the batch's operations.
func (c *Client) BeginRoomAttributesBatch(roomID string, cfg protocol.AttributesConfig) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batches[roomID] != nil {
		return protocol.Errorf(protocol.CodeInvalidParameter, "a batch for room %q is already open; end it first", roomID)
	}
	c.batches[roomID] = &attributesBatch{config: cfg}
	return nil
}

// EndRoomAttributesBatch sends the batch opened for roomID.
func (c *Client) EndRoomAttributesBatch(ctx context.Context, roomID string) (protocol.AttributesReply, error) {
	c.mu.Lock()
	b := c.batches[roomID]
	delete(c.batches, roomID)
	c.mu.Unlock()
	if b == nil {
		return protocol.AttributesReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "no batch is open for room %q; begin one first", roomID)
	}
	if len(b.ops) == 0 {
		return protocol.AttributesReply{RoomID: roomID, ErrorKeys: []string{}}, nil
	}
	return call[protocol.AttributesReply](ctx, c, protocol.OpRoomAttributesBatch, protocol.AttributesBatchRequest{RoomID: roomID, Operations: b.ops})
}

// attributesBatch is an open batch: its default config and queued steps.
type attributesBatch struct {
	config protocol.AttributesConfig
	ops    []protocol.AttributesOperation
}

// addToBatch queues op when a batch is open for roomID. An operation with
// the zero config takes the batch's.
func (c *Client) addToBatch(roomID string, op protocol.AttributesOperation) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.batches[roomID]
	if b == nil {
		return false
	}
	if op.Config == (protocol.AttributesConfig{}) {
		op.Config = b.config
	}
	b.ops = append(b.ops, op)
	return true
}

// QueryRoomAllAttributes returns a room's attributes.
func (c *Client) QueryRoomAllAttributes(ctx context.Context, roomID string) (protocol.AllAttributesReply, error) {
	return call[protocol.AllAttributesReply](ctx, c, protocol.OpQueryRoomAllAttributes, protocol.RoomIDRequest{RoomID: roomID})
}

// SetRoomMembersAttributes sets member attributes.
func (c *Client) SetRoomMembersAttributes(ctx context.Context, req protocol.SetMembersAttributesRequest) (protocol.SetMembersAttributesReply, error) {
	return call[protocol.SetMembersAttributesReply](ctx, c, protocol.OpSetRoomMembersAttributes, req)
}

// QueryRoomMembersAttributes returns the listed members' attributes.
func (c *Client) QueryRoomMembersAttributes(ctx context.Context, req protocol.UserIDsRequest) (protocol.MembersAttributesReply, error) {
	return call[protocol.MembersAttributesReply](ctx, c, protocol.OpQueryRoomMembersAttributes, req)
}

// QueryRoomMemberAttributesList returns a page of members' attributes.
func (c *Client) QueryRoomMemberAttributesList(ctx context.Context, req protocol.MemberListRequest) (protocol.MemberAttributesListReply, error) {
	return call[protocol.MemberAttributesListReply](ctx, c, protocol.OpQueryRoomMemberAttributesList, req)
}

// QueryRoomMembers returns the listed users who are in the room.
func (c *Client) QueryRoomMembers(ctx context.Context, req protocol.UserIDsRequest) (protocol.QueryMembersReply, error) {
	return call[protocol.QueryMembersReply](ctx, c, protocol.OpQueryRoomMembers, req)
}

// SendPeerMessage sends req.Data to one other member of a room: to every
// connection (tab, device) of req.ToUserID in it, or to the one
// req.ToConnectionID names. It is the signalling channel for media between
// two members (offers, answers, ICE candidates); the recipient gets a
// peerMessageReceived event, and no one else sees it. The reply names the
// sender's own connection ID in the room.
func (c *Client) SendPeerMessage(ctx context.Context, req protocol.SendPeerMessageRequest) (protocol.SendPeerMessageReply, error) {
	return call[protocol.SendPeerMessageReply](ctx, c, protocol.OpSendPeerMessage, req)
}
