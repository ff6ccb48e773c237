package engine

import (
	"strconv"

	"roomkit/server/protocol"
)

// connectionID names m's place in its room to the other members: its join
// sequence number, which no other place in the room's life shares, and
// which says nothing about the session behind it.
func (m *member) connectionID() string { return strconv.FormatUint(m.seq, 10) }

// SendPeerMessage runs sendPeerMessage (ops.go). It is delivered at once, not with the
// room's next flush: a message for one member has nothing to batch with,
// and call set-up waits on it.
func (m *Manager) SendPeerMessage(p Peer, req protocol.SendPeerMessageRequest) (protocol.SendPeerMessageReply, error) {
	if err := protocol.ValidateID("toUserID", req.ToUserID, protocol.MaxUserIDBytes); err != nil {
		return protocol.SendPeerMessageReply{}, err
	}
	if len(req.Data) == 0 || string(req.Data) == "null" {
		return protocol.SendPeerMessageReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "data is missing: give the message as any JSON value")
	}
	if len(req.Data) > m.limits.MaxPeerMessageBytes {
		return protocol.SendPeerMessageReply{}, protocol.Errorf(protocol.CodeMessageTooLarge, "the peer message is %d bytes as JSON; at most %d are allowed", len(req.Data), m.limits.MaxPeerMessageBytes)
	}
	r, err := m.memberRoom(p, req.RoomID)
	if err != nil {
		return protocol.SendPeerMessageReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[p.Who().Session]
	if me == nil {
		return protocol.SendPeerMessageReply{}, notInRoom(req.RoomID)
	}
	reply := protocol.SendPeerMessageReply{RoomID: req.RoomID, ConnectionID: me.connectionID()}
	var to []*member
	if u := r.users[req.ToUserID]; u != nil {
		for _, s := range u.sessions {
			if s != me && (req.ToConnectionID == "" || s.connectionID() == req.ToConnectionID) {
				to = append(to, s)
			}
		}
	}
	if len(to) == 0 {
		if req.ToConnectionID != "" {
			return reply, protocol.Errorf(protocol.CodeUserNotInRoom, "user %q has no connection %q in room %q (it left, or joined again under a new one)", req.ToUserID, req.ToConnectionID, req.RoomID)
		}
		return reply, protocol.Errorf(protocol.CodeUserNotInRoom, "user %q is not in room %q", req.ToUserID, req.RoomID)
	}
	frame, err := protocol.EncodeEvent(protocol.EventPeerMessageReceived, protocol.PeerMessageEvent{
		RoomID: req.RoomID, FromUserID: me.userID(), FromConnectionID: me.connectionID(), Data: req.Data,
	})
	if err != nil {
		return reply, protocol.Errorf(protocol.CodeInvalidParameter, "data is not valid JSON: %v", err)
	}
	for _, s := range to {
		s.peer.Deliver(frame)
	}
	reply.Delivered = len(to)
	return reply, nil
}
