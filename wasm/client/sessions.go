package client

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"roomkit/server/protocol"
	"roomkit/wasm/client/internal/sha256"
)

// JoinRoomWithPasscode joins an existing room that has a passcode.
func (c *Client) JoinRoomWithPasscode(ctx context.Context, roomID, passcode string) (protocol.RoomInfo, error) {
	return c.join(ctx, protocol.RoomInfo{RoomID: roomID}, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: roomID, Passcode: passcode}, protocol.RoomEventActiveEnter, protocol.RoomEventEnterFailed)
}

// SetMemberRole makes a member host (handing the role over), manager or
// participant; only the host may.
func (c *Client) SetMemberRole(ctx context.Context, req protocol.SetMemberRoleRequest) (protocol.MemberReply, error) {
	return call[protocol.MemberReply](ctx, c, protocol.OpSetMemberRole, req)
}

// RenameMember changes a member's display name in a room: one's own, or,
// as host or manager, another's.
func (c *Client) RenameMember(ctx context.Context, req protocol.RenameMemberRequest) (protocol.MemberReply, error) {
	return call[protocol.MemberReply](ctx, c, protocol.OpRenameMember, req)
}

// SetMemberState publishes one's audio, video and share flags, or, as host
// or manager, turns another member's audio off or on.
func (c *Client) SetMemberState(ctx context.Context, req protocol.SetMemberStateRequest) (protocol.MemberReply, error) {
	return call[protocol.MemberReply](ctx, c, protocol.OpSetMemberState, req)
}

// RemoveMember takes a member out of a room for as long as it lasts.
func (c *Client) RemoveMember(ctx context.Context, req protocol.UserInRoomRequest) (protocol.UserInRoomRequest, error) {
	return call[protocol.UserInRoomRequest](ctx, c, protocol.OpRemoveMember, req)
}

// EndRoom ends a room for everyone in it (host only); each member, this
// client included, gets (room, Disconnected, KickedOut).
func (c *Client) EndRoom(ctx context.Context, roomID string) (protocol.LeaveRoomReply, error) {
	return call[protocol.LeaveRoomReply](ctx, c, protocol.OpEndRoom, protocol.RoomIDRequest{RoomID: roomID})
}

// SetShareLock locks or unlocks screen sharing for participants.
func (c *Client) SetShareLock(ctx context.Context, req protocol.ShareLockRequest) (protocol.SessionInfo, error) {
	return call[protocol.SessionInfo](ctx, c, protocol.OpSetShareLock, req)
}

// QuerySessionInfo returns a room's session settings.
func (c *Client) QuerySessionInfo(ctx context.Context, roomID string) (protocol.SessionInfo, error) {
	return call[protocol.SessionInfo](ctx, c, protocol.OpQuerySessionInfo, protocol.RoomIDRequest{RoomID: roomID})
}

// MaxSessionNameChars is the longest session name (the video SDK's topic).
const MaxSessionNameChars = 150

// SessionRoomID maps a session name (the video SDK's topic: case-insensitive,
// up to 150 characters, spaces and symbols allowed) to the room that holds
// the session. The name is lower-cased; letters, digits and the room ID
// punctuation but '%' stay as they are, every other byte becomes %XX. A
// result over the 128 bytes a room ID may have becomes "%h" and the
// SHA-256 of the lower-cased name in hex, which no shorter name maps to.
func SessionRoomID(name string) (string, error) {
	if name == "" {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "the session name is empty")
	}
	if !utf8.ValidString(name) {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "the session name is not valid UTF-8")
	}
	if n := utf8.RuneCountInString(name); n > MaxSessionNameChars {
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "the session name is %d characters; at most %d are allowed", n, MaxSessionNameChars)
	}
	lower := strings.ToLower(name)
	var b strings.Builder
	for i := 0; i < len(lower); i++ {
		ch := lower[i]
		if ch != '%' && protocol.ValidateID("id", string(ch), 1) == nil {
			b.WriteByte(ch)
		} else {
			fmt.Fprintf(&b, "%%%02X", ch)
		}
	}
	if b.Len() <= protocol.MaxRoomIDBytes {
		return b.String(), nil
	}
	sum := sha256.Sum256([]byte(lower))
	return "%h" + hex.EncodeToString(sum[:]), nil
}
