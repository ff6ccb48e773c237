package gateway

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// peerMessage reads c's frames until a peerMessageReceived, skipping other
// events.
func peerMessage(t *testing.T, c *websocket.Conn) protocol.PeerMessageEvent {
	t.Helper()
	for {
		f := read(t, c)
		if f.Event == protocol.EventPeerMessageReceived {
			var ev protocol.PeerMessageEvent
			require.NoError(t, json.Unmarshal(f.Data, &ev))
			return ev
		}
	}
}

// noPeerMessage reads c's frames for a moment and fails on any
// peerMessageReceived. A cancelled read ends a coder/websocket connection,
// so it is the last thing done with c.
func noPeerMessage(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	for {
		b, err := readFrame(ctx, c)
		if err != nil {
			return
		}
		var f protocol.Frame
		require.NoError(t, json.Unmarshal(b, &f))
		require.NotEqual(t, protocol.EventPeerMessageReceived, f.Event, "a peer message reached a member it was not for: %s", b)
	}
}

func sendPeer(t *testing.T, c *websocket.Conn, id uint64, req protocol.SendPeerMessageRequest) protocol.SendPeerMessageReply {
	t.Helper()
	var out protocol.SendPeerMessageReply
	ok(t, c, id, protocol.OpSendPeerMessage, req, &out)
	return out
}

// A peer message reaches the member it names, in the order sent, with the
// sender's user and connection; nobody else in the room sees it.
func TestPeerMessagesReachOneMemberInOrder(t *testing.T) {
	srv, _ := newServer(t, Config{})
	alice, bob, carol := loggedIn(t, srv, "alice"), loggedIn(t, srv, "bob"), loggedIn(t, srv, "carol")
	for _, c := range []*websocket.Conn{alice, bob, carol} {
		enter(t, c, 2, "call")
	}
	var from string
	for i := range 20 {
		r := sendPeer(t, alice, uint64(10+i), protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", Data: json.RawMessage(`{"n":` + strconv.Itoa(i) + `}`)})
		assert.Equal(t, 1, r.Delivered)
		require.NotEmpty(t, r.ConnectionID)
		from = r.ConnectionID
	}
	for i := range 20 {
		ev := peerMessage(t, bob)
		assert.Equal(t, "call", ev.RoomID)
		assert.Equal(t, "alice", ev.FromUserID)
		assert.Equal(t, from, ev.FromConnectionID)
		assert.JSONEq(t, `{"n":`+strconv.Itoa(i)+`}`, string(ev.Data))
	}
	// The answer goes back to the connection the offer came from.
	sendPeer(t, bob, 40, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "alice", ToConnectionID: from, Data: json.RawMessage(`"answer"`)})
	ev := peerMessage(t, alice)
	assert.Equal(t, "bob", ev.FromUserID)
	assert.JSONEq(t, `"answer"`, string(ev.Data))
	noPeerMessage(t, carol)
}

// Without a connection ID a message reaches every tab of the user in the
// room; with one, that tab alone. The sender's own tab is never sent its
// message.
func TestPeerMessagesToATabOrAll(t *testing.T) {
	srv, _ := newServer(t, Config{})
	alice := loggedIn(t, srv, "alice")
	bob1, bob2 := loggedIn(t, srv, "bob"), loggedIn(t, srv, "bob")
	enter(t, alice, 2, "call")
	enter(t, bob1, 2, "call")
	enter(t, bob2, 2, "call")
	r := sendPeer(t, alice, 3, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", Data: json.RawMessage(`"hello"`)})
	assert.Equal(t, 2, r.Delivered)
	conn1 := peerMessage(t, bob1).FromConnectionID
	peerMessage(t, bob2)
	own := sendPeer(t, bob1, 3, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "alice", ToConnectionID: conn1, Data: json.RawMessage(`"from bob1"`)})
	bob1Conn := own.ConnectionID
	assert.Equal(t, "from bob1", strings.Trim(string(peerMessage(t, alice).Data), `"`))
	r = sendPeer(t, alice, 4, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", ToConnectionID: bob1Conn, Data: json.RawMessage(`"only bob1"`)})
	assert.Equal(t, 1, r.Delivered)
	assert.JSONEq(t, `"only bob1"`, string(peerMessage(t, bob1).Data))
	// bob's tabs may talk to each other; a tab is not sent its own message.
	r = sendPeer(t, bob1, 5, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", Data: json.RawMessage(`"to my other tab"`)})
	assert.Equal(t, 1, r.Delivered)
	assert.JSONEq(t, `"to my other tab"`, string(peerMessage(t, bob2).Data))
	noPeerMessage(t, bob1)
}

// Refusals: a sender outside the room, a recipient outside it, a
// connection that is not the recipient's, no data, too much data. Another
// app's room of the same name is another room.
func TestPeerMessageRefusals(t *testing.T) {
	srv, _ := newServerWith(t, Config{}, engine.Limits{MaxPeerMessageBytes: 100})
	alice, bob, mallory := loggedIn(t, srv, "alice"), loggedIn(t, srv, "bob"), loggedIn(t, srv, "mallory")
	other := loggedInWith(t, srv, auth.Claims{AppID: "app2", UserID: "bob"})
	enter(t, alice, 2, "call")
	enter(t, bob, 2, "call")
	enter(t, other, 2, "call")
	to := func(user, conn, data string) protocol.SendPeerMessageRequest {
		return protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: user, ToConnectionID: conn, Data: json.RawMessage(data)}
	}
	e := failsWith(t, mallory, 3, protocol.OpSendPeerMessage, to("bob", "", `"psst"`), protocol.CodeNotInRoom)
	assert.Contains(t, e.Message, "call")
	e = failsWith(t, alice, 4, protocol.OpSendPeerMessage, to("mallory", "", `"hi"`), protocol.CodeUserNotInRoom)
	assert.Contains(t, e.Message, `"mallory"`)
	failsWith(t, alice, 5, protocol.OpSendPeerMessage, to("bob", "999", `"hi"`), protocol.CodeUserNotInRoom)
	failsWith(t, alice, 6, protocol.OpSendPeerMessage, map[string]string{"roomID": "call", "toUserID": "bob"}, protocol.CodeInvalidParameter)
	e = failsWith(t, alice, 7, protocol.OpSendPeerMessage, to("bob", "", `"`+strings.Repeat("x", 200)+`"`), protocol.CodeMessageTooLarge)
	assert.Contains(t, e.Message, "at most 100")
	failsWith(t, alice, 8, protocol.OpSendPeerMessage, to("bad id!*", "", `1`), protocol.CodeInvalidParameter)
	// The one that is allowed reaches app's bob, not app2's.
	sendPeer(t, alice, 9, to("bob", "", `"for app's bob"`))
	assert.JSONEq(t, `"for app's bob"`, string(peerMessage(t, bob).Data))
	noPeerMessage(t, other)
}

// A resumed session keeps its connection ID: a page refreshed inside the
// grace period is still the same place in the room to the others. A new
// join after leaving is a new place, with a new ID.
func TestPeerConnectionIDSurvivesAResume(t *testing.T) {
	srv, _ := newServer(t, Config{ResumeGrace: 3 * time.Second})
	bob := loggedIn(t, srv, "bob")
	enter(t, bob, 2, "call")
	alice, ra := loginWith(t, srv, "alice", nil)
	enter(t, alice, 2, "call")
	msg := protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", Data: json.RawMessage(`1`)}
	before := sendPeer(t, alice, 3, msg).ConnectionID
	assert.Equal(t, before, peerMessage(t, bob).FromConnectionID)
	alice.CloseNow() // alice read 2 frames: the two replies

	alice2, r2 := loginWith(t, srv, "alice", &protocol.ResumeRequest{SessionID: ra.SessionID, Key: ra.ResumeKey, Received: 2})
	require.True(t, r2.Resumed, r2.ResumeError)
	assert.Equal(t, before, sendPeer(t, alice2, 4, msg).ConnectionID)
	assert.Equal(t, before, peerMessage(t, bob).FromConnectionID)

	ok(t, alice2, 5, protocol.OpLeaveRoom, map[string]string{"roomID": "call"}, nil)
	enter(t, alice2, 6, "call")
	after := sendPeer(t, alice2, 7, msg).ConnectionID
	assert.NotEqual(t, before, after)
	assert.Equal(t, after, peerMessage(t, bob).FromConnectionID)
}
