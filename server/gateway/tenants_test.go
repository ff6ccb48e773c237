package gateway

import (
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/protocol"
)

func roomRequest(roomID string) map[string]any {
	return map[string]any{"roomInfo": map[string]string{"roomID": roomID}}
}

func textMessage(roomID, text string) map[string]any {
	return map[string]any{"roomID": roomID, "message": map[string]any{"type": 1, "message": text}}
}

// Two apps on one server share nothing: a room of the same ID is two rooms,
// a user ID of the same name is two users (for attribute ownership and for
// ringing), and a call of one app does not exist for the other.
func TestAppsShareNothing(t *testing.T) {
	noLeaks(t)
	srv, _ := newServer(t, Config{})
	alice := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "alice"})
	ben := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "ben"})
	mallory := loggedInWith(t, srv, auth.Claims{AppID: "app2", UserID: "alice"}) // app2's "alice"

	ok(t, alice, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	ok(t, alice, 3, protocol.OpSetRoomAttributes, map[string]any{"roomID": "r", "roomAttributes": map[string]string{"k": "app's"}}, nil)
	ok(t, alice, 4, protocol.OpSendRoomMessage, textMessage("r", "secret of app"), nil)

	// app2's "r" is another room: empty, no history, no attributes.
	failsWith(t, mallory, 2, protocol.OpJoinRoom, map[string]string{"roomID": "r"}, protocol.CodeRoomNotExist)
	ok(t, mallory, 3, protocol.OpEnterRoom, roomRequest("r"), nil)
	var count protocol.MemberCountReply
	ok(t, mallory, 4, protocol.OpQueryMemberCount, map[string]string{"roomID": "r"}, &count)
	assert.Equal(t, 1, count.Count, "app2's room r has only app2's member")
	var history protocol.HistoryReply
	ok(t, mallory, 5, protocol.OpQueryHistoryRoomMessage, map[string]any{"roomID": "r", "count": 10}, &history)
	assert.Empty(t, history.MessageList, "app's messages are not in app2's room")
	var attrs protocol.AllAttributesReply
	ok(t, mallory, 6, protocol.OpQueryRoomAllAttributes, map[string]string{"roomID": "r"}, &attrs)
	assert.Empty(t, attrs.RoomAttributes)

	// app2's "alice" does not own app's alice's attribute: in app's room
	// she cannot be, and in her own room k is hers alone.
	var set protocol.AttributesReply
	ok(t, mallory, 7, protocol.OpSetRoomAttributes, map[string]any{"roomID": "r", "roomAttributes": map[string]string{"k": "app2's"}}, &set)
	assert.Empty(t, set.ErrorKeys)
	ok(t, alice, 5, protocol.OpQueryRoomAllAttributes, map[string]string{"roomID": "r"}, &attrs)
	assert.Equal(t, map[string]string{"k": "app's"}, attrs.RoomAttributes)

	// app2 cannot ring app's users: ben is offline as far as app2 knows.
	var inv protocol.CallInviteReply
	ok(t, mallory, 8, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "ben"}}}, &inv)
	assert.Equal(t, []protocol.Callee{{UserID: "ben"}}, inv.ErrorInvitees)

	// app's call does not exist for app2's user of the same ID.
	ok(t, ben, 2, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "alice"}}}, &inv)
	require.Empty(t, inv.ErrorInvitees)
	failsWith(t, mallory, 9, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, protocol.CodeCallNotExist)
	ok(t, alice, 6, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, nil)
	quiet(t, mallory)
}

// A room-scoped token admits its room for every operation: it cannot ring
// anyone into another room, answer a call in another, or be renewed into
// an unscoped token.
func TestTokenScopeHoldsForEveryOperation(t *testing.T) {
	noLeaks(t)
	srv, _ := newServer(t, Config{})
	scoped := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "sam", Room: "r1"})
	free := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "fay"})

	failsWith(t, scoped, 2, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "fay"}}, "roomID": "r2"}, protocol.CodeTokenRoomMismatch)
	failsWith(t, scoped, 3, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "fay"}}}, protocol.CodeTokenRoomMismatch)
	var own protocol.CallInviteReply
	ok(t, scoped, 4, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "fay"}}, "roomID": "r1"}, &own)
	ok(t, scoped, 10, protocol.OpCallCancel, map[string]string{"callID": own.CallID}, nil)

	// fay calls sam into r2 while his only tab may not enter r2: he is not
	// rung. With a second, unscoped tab he is, there alone, and the scoped
	// tab cannot answer for him.
	var inv protocol.CallInviteReply
	ok(t, free, 2, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "sam"}}, "roomID": "r2"}, &inv)
	assert.Equal(t, []protocol.Callee{{UserID: "sam"}}, inv.ErrorInvitees)
	samFree := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "sam"})
	ok(t, free, 3, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "sam"}}, "roomID": "r2"}, &inv)
	assert.Empty(t, inv.ErrorInvitees)
	assert.Equal(t, protocol.EventCallInvitationReceived, read(t, samFree).Event, "the unscoped tab rings")
	failsWith(t, scoped, 5, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, protocol.CodeTokenRoomMismatch)
	ok(t, samFree, 2, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, nil)

	e := failsWith(t, scoped, 6, protocol.OpRenewToken, map[string]string{"token": mint(t, auth.Claims{AppID: "app", UserID: "sam"}, time.Hour)}, protocol.CodeTokenInvalid)
	assert.Contains(t, e.Message, "keeps the scope")
	e = failsWith(t, scoped, 7, protocol.OpRenewToken, map[string]string{"token": mint(t, auth.Claims{AppID: "app", UserID: "sam", Room: "r1", Role: auth.RoleHost}, time.Hour)}, protocol.CodeTokenInvalid)
	assert.Contains(t, e.Message, "keeps the role")
	ok(t, scoped, 8, protocol.OpRenewToken, map[string]string{"token": mint(t, auth.Claims{AppID: "app", UserID: "sam", Room: "r1"}, time.Hour)}, nil)
	failsWith(t, scoped, 9, protocol.OpEnterRoom, roomRequest("r2"), protocol.CodeTokenRoomMismatch)
}

// Rate limits hold per user across all their connections, and per app
// across all its users: twenty tabs do not send twenty times as much.
func TestRateLimitsHoldPerUserAndPerApp(t *testing.T) {
	noLeaks(t)
	srv, _ := newServer(t, Config{UserMessages: Rate{PerSecond: 0.01, Burst: 5}, AppMessages: Rate{PerSecond: 0.01, Burst: 12}})
	sent := func(conns []*websocket.Conn, from uint64) (accepted int) {
		for i, c := range conns {
			for j := range 4 {
				id := from + uint64(i*10+j)
				f := call(t, c, id, protocol.OpSendRoomMessage, textMessage("r", "hi"))
				if f.Error == nil {
					accepted++
				} else {
					assert.Equal(t, protocol.CodeMessageRateLimited, f.Error.Code)
				}
			}
		}
		return accepted
	}
	var tabs []*websocket.Conn
	for i := range 5 {
		c := loggedIn(t, srv, "one")
		ok(t, c, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
		tabs = append(tabs, c)
		_ = i
	}
	assert.Equal(t, 5, sent(tabs, 100), "5 tabs of one user send the user's burst, not 5 tabs' worth")

	var others []*websocket.Conn
	for i := range 3 {
		c := loggedIn(t, srv, fmt.Sprint("other", i))
		ok(t, c, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
		others = append(others, c)
	}
	assert.Equal(t, 12-5, sent(others, 200), "the app's burst is shared by all its users")

	// Another app is not charged for app's load.
	c := loggedInWith(t, srv, auth.Claims{AppID: "app2", UserID: "one"})
	ok(t, c, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	ok(t, c, 3, protocol.OpSendRoomMessage, textMessage("r", "hi"), nil)
}
