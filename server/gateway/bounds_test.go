package gateway

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/calls"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// A room whose history is nineteen messages of 32 KiB of '<' does not cut
// off the late joiners who ask for it: '<' travels as one byte, and each
// page of history fits what a connection may have queued; the rest comes
// page by page.
func TestBigHistoryReachesLateJoiners(t *testing.T) {
	noLeaks(t)
	srv, g := newServer(t, Config{})
	sender := loggedIn(t, srv, "sender")
	ok(t, sender, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	text := strings.Repeat("<", 32<<10-2) // with its quotes, exactly the limit
	failsWith(t, sender, 3, protocol.OpSendRoomMessage, textMessage("r", text+"<"), protocol.CodeMessageTooLarge)
	for i := range 19 {
		ok(t, sender, uint64(10+i), protocol.OpSendRoomMessage, textMessage("r", text), nil)
	}

	for j := range 3 {
		joiner := loggedIn(t, srv, "joiner"+string(rune('a'+j)))
		ok(t, joiner, 2, protocol.OpJoinRoom, map[string]string{"roomID": "r"}, nil)
		got, next := 0, uint64(0)
		for page := 0; ; page++ {
			require.Less(t, page, 20)
			var h protocol.HistoryReply
			ok(t, joiner, uint64(10+page), protocol.OpQueryHistoryRoomMessage, map[string]any{"roomID": "r", "count": 20, "nextOrderKey": next}, &h)
			for _, m := range h.MessageList {
				assert.Contains(t, string(m), `"message":"<<<<`, "sent as it was stored, unescaped")
			}
			got += len(h.MessageList)
			if next = h.NextOrderKey; next == 0 {
				break
			}
		}
		assert.Equal(t, 19, got, "every message, over several pages")
	}
	assert.Equal(t, 4, g.SessionCount(), "nobody was cut off")
}

// Filling rooms with history and leaving them to a 3-hour destroy delay
// stops at the app's byte budget with a clear error; the memory held stays
// near that budget, another app is still served, and everything is given
// back when the rooms end.
func TestStoredBytesAreBoundedOnTheServer(t *testing.T) {
	noLeaks(t)
	const budget = 4 << 20
	srv, g := newServerWith(t, Config{MessagesPerSecond: 1e6, MessageBurst: 1e6, UserMessages: Rate{1e6, 1e6}, AppMessages: Rate{1e6, 1e6}, RequestsPerSecond: 1e6, RequestBurst: 1e6, UserRequests: Rate{1e6, 1e6}},
		engine.Limits{MaxStoredBytesPerApp: budget, MaxStoredBytes: 2 * budget})
	heapBefore := liveHeap()
	text := strings.Repeat("x", 30<<10)
	refused := 0
	for c := range 10 {
		conn := loggedIn(t, srv, fmt.Sprint("filler", c))
		id := uint64(2)
		for r, told := 0, refused; refused == told; r++ {
			room := fmt.Sprint("room", c, "-", r)
			f := call(t, conn, id, protocol.OpEnterRoom, map[string]any{"roomInfo": map[string]string{"roomID": room}, "config": map[string]int{"roomDestroyDelayTime": 10800}})
			id++
			if f.Error != nil {
				assert.Equal(t, protocol.CodeStorageLimit, f.Error.Code)
				refused++
				break
			}
			for range 10 {
				f = call(t, conn, id, protocol.OpSendRoomMessage, textMessage(room, text))
				id++
				if f.Error != nil {
					assert.Equal(t, protocol.CodeStorageLimit, f.Error.Code, f.Error.Message)
					refused++
					break
				}
			}
			ok(t, conn, id, protocol.OpLeaveRoom, map[string]string{"roomID": room}, nil)
			id++
		}
	}
	assert.Equal(t, 10, refused, "every filler was told, none was dropped")
	appBytes, _ := g.engine.(*engine.Manager).StoredBytes("app")
	assert.LessOrEqual(t, appBytes, int64(budget))
	assert.Greater(t, appBytes, int64(budget*9/10))
	assert.Less(t, liveHeap()-heapBefore, uint64(4*budget), "the heap grows with what is stored, not past it")

	other := loggedInWith(t, srv, auth.Claims{AppID: "app2", UserID: "other"})
	ok(t, other, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	ok(t, other, 3, protocol.OpSendRoomMessage, textMessage("r", text), nil)
}

// Invitations cannot be used to flood a user: data is bounded, one user's
// ringing invitations and the invitations ringing one user are capped, and
// invitations are rate limited per user. The victim stays connected.
func TestInvitationSpamIsBounded(t *testing.T) {
	noLeaks(t)
	srv, g := newServer(t, Config{UserInvites: Rate{1000, 1000}, Calls: calls.Limits{MaxRingingPerInviter: 5, MaxRingingPerCallee: 3}})
	attacker := loggedIn(t, srv, "attacker")
	victims := []*websocket.Conn{loggedIn(t, srv, "v1"), loggedIn(t, srv, "v2")}
	invite := func(id uint64, data string, users ...string) protocol.Frame {
		var callees []map[string]string
		for _, u := range users {
			callees = append(callees, map[string]string{"userID": u})
		}
		return call(t, attacker, id, protocol.OpCallInvite, map[string]any{"callees": callees, "data": data, "timeout": 600})
	}
	e := invite(2, strings.Repeat("d", 60<<10-200), "v1").Error
	require.NotNil(t, e)
	assert.Equal(t, protocol.CodeInvalidParameter, e.Code)
	assert.Contains(t, e.Message, "data is")

	require.Nil(t, invite(3, "", "v1", "v2").Error)
	require.Nil(t, invite(4, "", "v1", "v2").Error)
	e = invite(5, "", "v1", "v2").Error
	require.NotNil(t, e, "4 ringing + 2 would pass the inviter's 5")
	assert.Equal(t, protocol.CodeCallInvitationLimit, e.Code)
	// A second inviter still reaches v1, up to the 3 that may ring v1 at
	// once; past that v1 is busy.
	other := loggedIn(t, srv, "other")
	var inv protocol.CallInviteReply
	ok(t, other, 2, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "v1"}}}, &inv)
	ok(t, other, 3, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "v1"}}}, &inv)
	rings := 0
	for {
		f := read(t, victims[0])
		if f.Event == protocol.EventCallInvitationReceived {
			rings++
		}
		if f.Event == protocol.EventCallStateChanged && strings.Contains(string(f.Data), `"reason":"Busy"`) {
			break
		}
	}
	assert.Equal(t, 3, rings)
	assert.Equal(t, 4, g.SessionCount(), "nobody was cut off")

	// At the default rate, a burst of invitations is refused past 10.
	srv2, _ := newServer(t, Config{})
	spammer := loggedIn(t, srv2, "spammer")
	loggedIn(t, srv2, "target")
	codes := map[protocol.Code]int{}
	for i := range 20 {
		f := call(t, spammer, uint64(10+i), protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "target"}}})
		if f.Error != nil {
			codes[f.Error.Code]++
		} else {
			codes[0]++
		}
	}
	assert.Equal(t, 10, codes[protocol.CodeRateLimited])
}

// A user, an app and the server have at most so many sessions; a login
// past that is refused with a reason, and the sessions in place carry on.
func TestSessionLimits(t *testing.T) {
	noLeaks(t)
	srv, _ := newServer(t, Config{MaxSessionsPerUser: 2, MaxSessionsPerApp: 3})
	a1, _ := loggedIn(t, srv, "a"), loggedIn(t, srv, "a")
	refused := func(user string) {
		c := dial(t, srv)
		send(t, c, loginFrame(tokenFor(t, user, time.Hour), protocol.Version))
		f := read(t, c)
		require.NotNil(t, f.Error)
		assert.Equal(t, protocol.CodeConnectionLimit, f.Error.Code)
		assert.Contains(t, closed(t, c).Reason, "6100012")
	}
	refused("a")
	loggedIn(t, srv, "b")
	refused("c")
	loggedInWith(t, srv, auth.Claims{AppID: "app2", UserID: "c"})
	ok(t, a1, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
}
