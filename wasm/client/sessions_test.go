//go:build !js

package client

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/auth"
	"roomkit/server/protocol"
)

func TestSessionRoomID(t *testing.T) {
	for name, want := range map[string]string{
		"Weekly Sync":   "weekly%20sync",
		"weekly sync":   "weekly%20sync",
		"100% / team":   "100%25%20%2F%20team",
		"Ünïcode":       "%C3%BCn%C3%AFcode",
		"a-b_c.d@e[1]~": "a-b_c.d@e[1]~",
	} {
		got, err := SessionRoomID(name)
		require.NoError(t, err)
		assert.Equal(t, want, got, name)
		assert.Nil(t, protocol.ValidateID("roomID", got, protocol.MaxRoomIDBytes), got)
	}
	long, err := SessionRoomID(strings.Repeat("é", 150))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(long, "%h") && len(long) == 66, long)
	assert.Nil(t, protocol.ValidateID("roomID", long, protocol.MaxRoomIDBytes))
	upper, _ := SessionRoomID(strings.Repeat("É", 150))
	assert.Equal(t, long, upper, "names are case-insensitive")

	for _, bad := range []string{"", strings.Repeat("x", 151), "\xff"} {
		_, err := SessionRoomID(bad)
		assert.Equal(t, protocol.CodeInvalidParameter, protocol.Code(codeOf(err)), "%q", bad)
	}
}

func loginAs(t *testing.T, srv interface{ Addr() string }, claims auth.Claims) (*Client, *recorder) {
	t.Helper()
	claims.AppID = "app"
	tok, err := auth.Mint(secret, claims, time.Now(), time.Hour)
	require.NoError(t, err)
	rec := &recorder{}
	c, err := Login(context.Background(), Config{URL: "ws://" + srv.Addr() + "/ws", Token: tok, OnEvent: rec.on})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Logout(context.Background()) })
	return c, rec
}

func TestSessionOperations(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	host, rh := loginAs(t, srv, auth.Claims{UserID: "h", Role: auth.RoleHost})
	p, rp := loginAs(t, srv, auth.Claims{UserID: "p"})
	_, err := host.EnterRoom(ctx, info("s"), &protocol.RoomConfig{Passcode: "pw"})
	require.NoError(t, err)
	_, err = p.JoinRoom(ctx, "s")
	assert.Equal(t, int(protocol.CodeWrongPasscode), codeOf(err))
	_, err = p.JoinRoomWithPasscode(ctx, "s", "pw")
	require.NoError(t, err)

	on, off := true, false
	_, err = p.SetMemberState(ctx, protocol.SetMemberStateRequest{RoomID: "s", Audio: &on})
	require.NoError(t, err)
	muted, err := host.SetMemberState(ctx, protocol.SetMemberStateRequest{RoomID: "s", UserID: "p", Audio: &off})
	require.NoError(t, err)
	assert.False(t, muted.Member.Audio)
	rp.waitFor(t, "roomMemberUpdated s p", "roomMemberUpdated s p")
	_, err = p.RemoveMember(ctx, protocol.UserInRoomRequest{RoomID: "s", UserID: "h"})
	assert.Equal(t, int(protocol.CodeNotPermitted), codeOf(err))

	info, err := p.QuerySessionInfo(ctx, "s")
	require.NoError(t, err)
	assert.Equal(t, "h", info.HostUserID)

	_, err = host.EndRoom(ctx, "s")
	require.NoError(t, err)
	rp.waitFor(t, "room s 0 8")
	rh.waitFor(t, "room s 0 8")
	assert.Empty(t, p.Rooms())
	assert.Empty(t, host.Rooms())
}

// A page going away with leaveOnPageUnload logs out at once: the others
// see it leave now, not after the resume grace.
func TestLogoutNowLeavesAtOnce(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Gateway.ResumeGrace = time.Minute })
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	bob, _ := login(t, srv, "bob")
	_, err := alice.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	ra.waitFor(t, "roomMemberJoined r bob")
	bob.LogoutNow()
	ra.waitFor(t, "roomMemberLeft r bob")
	_, err = bob.QueryRoomOnlineMemberCount(ctx, "r")
	assert.Equal(t, int(protocol.CodeNotLoggedIn), codeOf(err))
}
