package gateway

import (
	"time"

	"roomkit/server/calls"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// dispatch runs one request: a room operation by the engine's table
// (engine/ops.go), a call operation by the calls' (calls/ops.go), the
// others here. It returns the reply data or an error
// (a *protocol.Error when the caller can act on it).
func (s *session) dispatch(c *conn, f protocol.Frame) (any, error) {
	if o, ok := engine.Lookup(f.Op); ok {
		req, err := o.Decode(f.Data)
		if err != nil {
			return nil, err
		}
		if f.Op == protocol.OpSendRoomMessage {
			// A room message counts against the message budgets. (A
			// peer message counts as a request only, as every request
			// does: call set-up sends a burst of them, and none is kept.)
			if !c.msgLimit.allow(time.Now()) {
				return nil, protocol.Errorf(protocol.CodeMessageRateLimited, "too many messages: at most %g a second (bursts of %d) on one connection; slow down", s.g.cfg.MessagesPerSecond, s.g.cfg.MessageBurst)
			}
			if err := s.limits.allowMessage(time.Now()); err != nil {
				return nil, err
			}
		}
		return s.g.engine.Do(s, req)
	}
	if o, ok := calls.Lookup(f.Op); ok {
		req, err := o.Decode(f.Data)
		if err != nil {
			return nil, err
		}
		if o.Rings {
			if err := s.limits.allowInvite(time.Now()); err != nil {
				return nil, err
			}
		}
		return s.g.calls.Do(s, req)
	}
	switch f.Op {
	case protocol.OpLeaveAllRoom, protocol.OpLogout:
		return protocol.LeaveAllRoomReply{RoomIDs: s.g.engine.LeaveAll(s)}, nil
	case protocol.OpRenewToken:
		var req protocol.RenewTokenRequest
		if err := decode(f, &req); err != nil {
			return nil, err
		}
		return s.renewToken(req.Token)
	case protocol.OpPing:
		return struct{}{}, nil
	case protocol.OpLogin:
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "already logged in on this connection; use renewToken to swap the token")
	}
	return nil, protocol.Errorf(protocol.CodeUnknownOperation, "unknown operation %q", f.Op)
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
