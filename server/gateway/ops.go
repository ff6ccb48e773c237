package gateway

import (
	"time"

	"roomkit/server/protocol"
)

// dispatch runs one request against the engine. It returns the reply data or
// an error (a *protocol.Error when the caller can act on it).
func (s *session) dispatch(c *conn, f protocol.Frame) (any, error) {
	e := s.g.engine
	switch f.Op {
	case protocol.OpCreateRoom, protocol.OpEnterRoom:
		var req protocol.RoomRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		do := e.Create
		if f.Op == protocol.OpEnterRoom {
			do = e.Enter
		}
		info, err := do(s, req.RoomInfo, req.Config)
		return roomReply(info, err)
	case protocol.OpJoinRoom:
		var req protocol.JoinRoomRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return roomReply(e.Join(s, req.RoomID, req.Passcode))
	case protocol.OpSwitchRoom:
		var req protocol.SwitchRoomRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return roomReply(e.Switch(s, req.FromRoomID, req.ToRoomInfo, req.IsCreateWhenRoomNotExisted, req.Config))
	case protocol.OpLeaveRoom:
		var req protocol.RoomIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if err := e.Leave(s, req.RoomID); err != nil {
			return nil, err
		}
		return protocol.LeaveRoomReply{RoomID: req.RoomID}, nil
	case protocol.OpLeaveAllRoom, protocol.OpLogout:
		return protocol.LeaveAllRoomReply{RoomIDs: e.LeaveAll(s)}, nil
	case protocol.OpQueryMemberList:
		var req protocol.MemberListRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.MemberList(s, req.RoomID, req.Count, req.NextFlag)
	case protocol.OpQueryMemberCount:
		var req protocol.RoomIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		n, err := e.MemberCount(s, req.RoomID)
		if err != nil {
			return nil, err
		}
		return protocol.MemberCountReply{RoomID: req.RoomID, Count: n}, nil
	case protocol.OpRenewToken:
		var req protocol.RenewTokenRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return s.renewToken(req.Token)
	case protocol.OpSendRoomMessage:
		var req protocol.SendMessageRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if !c.msgLimit.allow(time.Now()) {
			return nil, protocol.Errorf(protocol.CodeMessageRateLimited, "too many messages: at most %g a second (bursts of %d) on one connection; slow down", s.g.cfg.MessagesPerSecond, s.g.cfg.MessageBurst)
		}
		if err := s.limits.allowMessage(time.Now()); err != nil {
			return nil, err
		}
		msg, err := e.SendMessage(s, req.RoomID, req.Message)
		if err != nil {
			return nil, err
		}
		return protocol.SendMessageReply{Message: msg}, nil
	case protocol.OpSendPeerMessage:
		// Counted as a request (the connection's, its user's and its
		// app's request budgets), not as a room message: call set-up
		// sends a burst of them, and none of them is stored.
		var req protocol.SendPeerMessageRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.SendPeerMessage(s, req)
	case protocol.OpQueryHistoryRoomMessage:
		var req protocol.HistoryRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.History(s, req)
	case protocol.OpSetRoomAttributes:
		var req protocol.SetAttributesRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return attributesReply(req.RoomID)(e.SetAttributes(s, req.RoomID, req.Attributes, req.Config))
	case protocol.OpDeleteRoomAttributes:
		var req protocol.DeleteAttributesRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return attributesReply(req.RoomID)(e.DeleteAttributes(s, req.RoomID, req.Keys, req.Config))
	case protocol.OpRoomAttributesBatch:
		var req protocol.AttributesBatchRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return attributesReply(req.RoomID)(e.AttributesBatch(s, req.RoomID, req.Operations))
	case protocol.OpQueryRoomAllAttributes:
		var req protocol.RoomIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		attrs, err := e.QueryAttributes(s, req.RoomID)
		if err != nil {
			return nil, err
		}
		return protocol.AllAttributesReply{RoomID: req.RoomID, RoomAttributes: attrs}, nil
	case protocol.OpSetRoomMembersAttributes:
		var req protocol.SetMembersAttributesRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.SetMemberAttributes(s, req.RoomID, req.UserIDs, req.Attributes)
	case protocol.OpQueryRoomMembersAttributes:
		var req protocol.UserIDsRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.QueryMemberAttributes(s, req.RoomID, req.UserIDs)
	case protocol.OpQueryRoomMemberAttributesList:
		var req protocol.MemberListRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.MemberAttributesList(s, req.RoomID, req.Count, req.NextFlag)
	case protocol.OpQueryRoomMembers:
		var req protocol.UserIDsRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.QueryMembers(s, req.RoomID, req.UserIDs)
	case protocol.OpCallInvite:
		var req protocol.CallInviteRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if err := s.limits.allowInvite(time.Now()); err != nil {
			return nil, err
		}
		return s.g.calls.Invite(s, req)
	case protocol.OpCallAdd:
		var req protocol.CallAddRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if err := s.limits.allowInvite(time.Now()); err != nil {
			return nil, err
		}
		return s.g.calls.Add(s, req)
	case protocol.OpCallAccept, protocol.OpCallCancel, protocol.OpCallQuit, protocol.OpCallEnd:
		var req protocol.CallIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		switch f.Op {
		case protocol.OpCallAccept:
			return s.g.calls.Accept(s, req.CallID)
		case protocol.OpCallCancel:
			return s.g.calls.Cancel(s, req.CallID, req.UserIDs)
		case protocol.OpCallQuit:
			return s.g.calls.Quit(s, req.CallID)
		}
		return s.g.calls.End(s, req.CallID)
	case protocol.OpCallReject:
		var req protocol.CallRejectRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return s.g.calls.Reject(s, req.CallID, req.Busy)
	case protocol.OpSetMemberRole:
		var req protocol.SetMemberRoleRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return memberReply(req.RoomID)(e.SetMemberRole(s, req.RoomID, req.UserID, req.Role))
	case protocol.OpRenameMember:
		var req protocol.RenameMemberRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return memberReply(req.RoomID)(e.RenameMember(s, req.RoomID, req.UserID, req.UserName))
	case protocol.OpSetMemberState:
		var req protocol.SetMemberStateRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return memberReply(req.RoomID)(e.SetMemberState(s, req))
	case protocol.OpRemoveMember:
		var req protocol.UserInRoomRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if err := e.RemoveMember(s, req.RoomID, req.UserID); err != nil {
			return nil, err
		}
		return protocol.UserInRoomRequest{RoomID: req.RoomID, UserID: req.UserID}, nil
	case protocol.OpEndRoom:
		var req protocol.RoomIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		if err := e.EndRoom(s, req.RoomID); err != nil {
			return nil, err
		}
		return protocol.LeaveRoomReply{RoomID: req.RoomID}, nil
	case protocol.OpSetShareLock:
		var req protocol.ShareLockRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.SetShareLock(s, req.RoomID, req.Locked)
	case protocol.OpQuerySessionInfo:
		var req protocol.RoomIDRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return e.SessionInfo(s, req.RoomID)
	case protocol.OpPing:
		return struct{}{}, nil
	case protocol.OpLogin:
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "already logged in on this connection; use renewToken to swap the token")
	}
	return nil, protocol.Errorf(protocol.CodeUnknownOperation, "unknown operation %q", f.Op)
}

// attributesReply shapes an attribute operation's result.
func attributesReply(roomID string) func([]string, error) (any, error) {
	return func(errorKeys []string, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return protocol.AttributesReply{RoomID: roomID, ErrorKeys: errorKeys}, nil
	}
}

// memberReply shapes the result of an operation on one member.
func memberReply(roomID string) func(protocol.Member, error) (any, error) {
	return func(m protocol.Member, err error) (any, error) {
		if err != nil {
			return nil, err
		}
		return protocol.MemberReply{RoomID: roomID, Member: m}, nil
	}
}

func roomReply(info protocol.RoomInfo, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return protocol.RoomReply{RoomInfo: protocol.RoomFullInfo{BaseInfo: info}}, nil
}

// renewToken swaps in a fresh token of the same app, user and scope: a
// renewal extends a token's life, never what it admits.
func (s *session) renewToken(token string) (any, error) {
	c, err := s.g.verifier.Verify(token)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	old := s.claims
	s.mu.Unlock()
	switch {
	case c.AppID != old.AppID || c.UserID != old.UserID:
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the new token is for app %q user %q; this connection is app %q user %q", c.AppID, c.UserID, old.AppID, old.UserID)
	case c.Room != old.Room:
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the new token admits room %q, this connection's token room %q (\"\" is any room); a renewal keeps the scope: log in again to change it", c.Room, old.Room)
	case c.Role != old.Role:
		return nil, protocol.Errorf(protocol.CodeTokenInvalid, "the new token's role is %d, this connection's %d; a renewal keeps the role: log in again to change it", c.Role, old.Role)
	}
	s.setClaims(c)
	return protocol.RenewTokenReply{ExpiresAt: c.ExpiresAt.Unix()}, nil
}
