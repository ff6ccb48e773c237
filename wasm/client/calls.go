package client

import (
	"context"

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
