package gateway

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/protocol"
)

// Roles travel on the wire: the host's token makes it host, a
// participant's removal attempt is refused whatever the client, and a
// removed member that comes back by resuming its session finds itself out
// of the room, told why.
func TestRemovedMemberResumesOutOfTheRoom(t *testing.T) {
	srv, _ := newServer(t, Config{ResumeGrace: 3 * time.Second})
	host := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "h", Role: auth.RoleHost})
	other := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "o"})
	cfg := map[string]any{"roomInfo": map[string]string{"roomID": "s"}, "config": map[string]any{"passcode": "pw"}}
	ok(t, host, 2, protocol.OpEnterRoom, cfg, nil)
	ok(t, other, 2, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: "s", Passcode: "pw"}, nil)
	p, session := loginWith(t, srv, "p", nil)
	failsWith(t, p, 2, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: "s"}, protocol.CodeWrongPasscode)
	ok(t, p, 3, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: "s", Passcode: "pw"}, nil)

	e := failsWith(t, p, 4, protocol.OpRemoveMember, protocol.UserInRoomRequest{RoomID: "s", UserID: "o"}, protocol.CodeNotPermitted)
	assert.Contains(t, e.Message, "participant")
	var members protocol.MemberListReply
	ok(t, p, 5, protocol.OpQueryMemberList, protocol.MemberListRequest{RoomID: "s", Count: 10}, &members)
	assert.Equal(t, []protocol.Member{{UserID: "h", UserName: "h", Role: "host"}, {UserID: "o", UserName: "o", Role: "participant"}, {UserID: "p", UserName: "p", Role: "participant"}}, members.MemberList)

	// p's page goes away; meanwhile the host removes p.
	require.NoError(t, p.CloseNow())
	ok(t, host, 3, protocol.OpRemoveMember, protocol.UserInRoomRequest{RoomID: "s", UserID: "p"}, nil)
	p2, resumed := loginWith(t, srv, "p", &protocol.ResumeRequest{SessionID: session.SessionID, Key: session.ResumeKey, Received: 4})
	require.True(t, resumed.Resumed)
	assert.Empty(t, resumed.Rooms, "the resumed session is in no room")
	f := read(t, p2)
	require.Equal(t, protocol.EventRoomStateChanged, f.Event, "the removal is among what it missed")
	var ev protocol.RoomStateEvent
	require.NoError(t, json.Unmarshal(f.Data, &ev))
	assert.Equal(t, protocol.RoomEventKickedOut, ev.Event)
	assert.True(t, strings.Contains(ev.ExtendedData, `"reason":"removed"`), ev.ExtendedData)
	failsWith(t, p2, 2, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: "s", Passcode: "pw"}, protocol.CodeRemovedFromRoom)

	// The host ends the room: everyone is told why.
	ok(t, host, 4, protocol.OpEndRoom, protocol.RoomIDRequest{RoomID: "s"}, nil)
	for {
		f := read(t, other)
		if f.Event != protocol.EventRoomStateChanged {
			continue
		}
		require.NoError(t, json.Unmarshal(f.Data, &ev))
		assert.Equal(t, protocol.RoomStateDisconnected, ev.State)
		assert.Equal(t, protocol.RoomEventKickedOut, ev.Event)
		var why protocol.KickedOut
		require.NoError(t, json.Unmarshal([]byte(ev.ExtendedData), &why))
		assert.Equal(t, protocol.KickedOut{Reason: "ended", Operator: "h", Message: "the host (h) ended the session"}, why)
		break
	}
	failsWith(t, other, 3, protocol.OpQuerySessionInfo, protocol.RoomIDRequest{RoomID: "s"}, protocol.CodeNotInRoom)
}
