package client

import (
	"context"
	"encoding/json"

	"roomkit/server/protocol"
)

// CallInvite starts a call and rings its callees.
func (c *Client) CallInvite(ctx context.Context, req protocol.CallInviteRequest) (protocol.CallInviteReply, error) {
	return call[protocol.CallInviteReply](ctx, c, protocol.OpCallInvite, req)
}

// CallAdd invites more users into a call under way.
func (c *Client) CallAdd(ctx context.Context, req protocol.CallAddRequest) (protocol.CallInviteReply, error) {
	return call[protocol.CallInviteReply](ctx, c, protocol.OpCallAdd, req)
}

// CallAccept answers a ringing invitation.
func (c *Client) CallAccept(ctx context.Context, req protocol.CallIDRequest) (protocol.CallInfo, error) {
	return call[protocol.CallInfo](ctx, c, protocol.OpCallAccept, req)
}

// CallReject declines a ringing invitation (Busy: in another call).
func (c *Client) CallReject(ctx context.Context, req protocol.CallRejectRequest) (protocol.CallInfo, error) {
	return call[protocol.CallInfo](ctx, c, protocol.OpCallReject, req)
}

// CallCancel stops ringing invitees of a call the client started.
func (c *Client) CallCancel(ctx context.Context, req protocol.CallIDRequest) (protocol.CallInfo, error) {
	return call[protocol.CallInfo](ctx, c, protocol.OpCallCancel, req)
}

// CallQuit leaves a call.
func (c *Client) CallQuit(ctx context.Context, req protocol.CallIDRequest) (protocol.CallInfo, error) {
	return call[protocol.CallInfo](ctx, c, protocol.OpCallQuit, req)
}

// CallEnd ends a call the client started, for everyone.
func (c *Client) CallEnd(ctx context.Context, req protocol.CallIDRequest) (protocol.CallInfo, error) {
	return call[protocol.CallInfo](ctx, c, protocol.OpCallEnd, req)
}

// trackCallLocked follows the calls this session is part of, from the
// events that tell of them. Caller holds c.mu.
func (c *Client) trackCallLocked(f protocol.Frame) {
	var info protocol.CallInfo
	switch f.Event {
	case protocol.EventCallInvitationReceived:
		var ev protocol.CallInvitationEvent
		if json.Unmarshal(f.Data, &ev) != nil {
			return
		}
		info = ev.Call
	case protocol.EventCallStateChanged:
		var ev protocol.CallStateEvent
		if json.Unmarshal(f.Data, &ev) != nil {
			return
		}
		info = ev.Call
	default:
		return
	}
	if info.Ended {
		delete(c.calls, info.CallID)
		return
	}
	c.calls[info.CallID] = info
}

// endCallsLocked tells the application that every call it was part of has
// ended for it, with reason: after a reconnect the server could not
// resume, the session that was in them is gone (the server restarted, or
// the grace period passed and the server took the user out), and no event
// will say so. Caller holds c.mu.
func (c *Client) endCallsLocked(reason string) {
	me := c.session.UserID
	for id, info := range c.calls {
		delete(c.calls, id)
		ev := protocol.CallStateEvent{Call: info}
		ev.Call.Ended, ev.Call.Reason = true, reason
		ev.Call.Users = append([]protocol.CallUser(nil), info.Users...)
		for i, u := range ev.Call.Users {
			if u.UserID != me {
				continue
			}
			switch u.State {
			case protocol.CallStateReceived:
				u.State = protocol.CallStateCancelled
			case protocol.CallStateAccepted, protocol.CallStateInviting:
				u.State = protocol.CallStateQuit
			default:
				continue
			}
			u.Reason = reason
			ev.Call.Users[i] = u
			ev.Changed = append(ev.Changed, u)
		}
		if ev.Changed != nil {
			c.events.push(protocol.EventCallStateChanged, ev)
		}
	}
}
