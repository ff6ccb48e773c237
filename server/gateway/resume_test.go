package gateway

import (
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// loginReply logs a fresh connection in, optionally resuming, and returns
// the connection and its login reply.
func loginWith(t *testing.T, srv *httptest.Server, user string, resume *protocol.ResumeRequest) (*websocket.Conn, protocol.LoginReply) {
	t.Helper()
	c := dial(t, srv)
	b, _ := json.Marshal(map[string]any{"id": 1, "op": "login", "data": protocol.LoginRequest{Token: tokenFor(t, user, time.Hour), Version: protocol.Version, Resume: resume}})
	send(t, c, string(b))
	f := read(t, c)
	require.Nil(t, f.Error)
	var r protocol.LoginReply
	require.NoError(t, json.Unmarshal(f.Data, &r))
	return c, r
}

func enter(t *testing.T, c *websocket.Conn, id uint64, room string) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": id, "op": "enterRoom", "data": map[string]any{"roomInfo": map[string]string{"roomID": room}}})
	send(t, c, string(b))
	require.Nil(t, reply(t, c, id).Error)
}

// eventsBefore sends a request with id and returns the events that
// arrive before its reply: everything queued for c until then. (A read
// with a deadline would close the connection.)
func eventsBefore(t *testing.T, c *websocket.Conn, id uint64, room string) ([]string, protocol.Frame) {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"id": id, "op": "queryRoomOnlineMemberCount", "data": map[string]string{"roomID": room}})
	send(t, c, string(b))
	var out []string
	for {
		f := read(t, c)
		if f.Event == "" && f.ID == id {
			return out, f
		}
		if f.Event != "" {
			out = append(out, f.Event+" "+string(f.Data))
		}
	}
}

func TestResumeWithinGraceIsSeamless(t *testing.T) {
	srv, _ := newServer(t, Config{ResumeGrace: 3 * time.Second})
	a, _ := loginWith(t, srv, "a", nil)
	b, rb := loginWith(t, srv, "b", nil)
	enter(t, a, 2, "r")
	enter(t, b, 2, "r")
	read(t, a) // b joined
	send(t, a, `{"id":3,"op":"sendRoomMessage","data":{"roomID":"r","message":{"type":1,"message":"before"}}}`)
	require.Nil(t, reply(t, a, 3).Error)
	read(t, b) // the message: b has handled 2 frames, its enterRoom reply and this
	b.CloseNow()

	// While b is away: a message and a newcomer.
	send(t, a, `{"id":4,"op":"sendRoomMessage","data":{"roomID":"r","message":{"type":1,"message":"during"}}}`)
	require.Nil(t, reply(t, a, 4).Error)
	c, _ := loginWith(t, srv, "c", nil)
	enter(t, c, 2, "r")
	// a saw c join (joins close together are announced together, a moment
	// later), and nothing of b.
	f := read(t, a)
	assert.Equal(t, protocol.EventRoomMemberJoined, f.Event)
	assert.Contains(t, string(f.Data), `"userID":"c"`)

	b2, r2 := loginWith(t, srv, "b", &protocol.ResumeRequest{SessionID: rb.SessionID, Key: rb.ResumeKey, Received: 2})
	assert.True(t, r2.Resumed, r2.ResumeError)
	assert.Equal(t, rb.SessionID, r2.SessionID)
	assert.Equal(t, []protocol.RoomInfo{{RoomID: "r"}}, r2.Rooms)
	missed, count := eventsBefore(t, b2, 5, "r")
	require.Len(t, missed, 2, "exactly the events b missed: %v", missed)
	assert.Contains(t, missed[0], `"during"`)
	assert.Contains(t, missed[1], `roomMemberJoined {"roomID":"r","memberList":[{"userID":"c"`)

	assert.JSONEq(t, `{"roomID":"r","count":3}`, string(count.Data), "b is still one member")

	evs, _ := eventsBefore(t, a, 9, "r")
	assert.Empty(t, evs, "a saw nothing of b")
}

func TestResumeAfterGraceIsANewSession(t *testing.T) {
	srv, _ := newServer(t, Config{ResumeGrace: 300 * time.Millisecond})
	a, _ := loginWith(t, srv, "a", nil)
	b, rb := loginWith(t, srv, "b", nil)
	enter(t, a, 2, "r")
	enter(t, b, 2, "r")
	read(t, a)
	b.CloseNow()
	f := read(t, a)
	assert.Equal(t, protocol.EventRoomMemberLeft, f.Event, "after the grace period b leaves normally")

	_, r2 := loginWith(t, srv, "b", &protocol.ResumeRequest{SessionID: rb.SessionID, Key: rb.ResumeKey})
	assert.False(t, r2.Resumed)
	assert.Contains(t, r2.ResumeError, "the session ended")
	assert.NotEqual(t, rb.SessionID, r2.SessionID)
}

func TestResumeRefusals(t *testing.T) {
	srv, _ := newServer(t, Config{ResumeGrace: 5 * time.Second})
	a, ra := loginWith(t, srv, "a", nil)
	enter(t, a, 2, "r")
	a.CloseNow()

	_, r := loginWith(t, srv, "mallory", &protocol.ResumeRequest{SessionID: ra.SessionID, Key: ra.ResumeKey})
	assert.False(t, r.Resumed)
	assert.Contains(t, r.ResumeError, "someone else")
	_, r = loginWith(t, srv, "a", &protocol.ResumeRequest{SessionID: ra.SessionID, Key: "wrong"})
	assert.False(t, r.Resumed)

	// Asking for more events than were sent: the place is given up rather
	// than resumed wrongly, so the user is never in the room twice.
	a2, r := loginWith(t, srv, "a", &protocol.ResumeRequest{SessionID: ra.SessionID, Key: ra.ResumeKey, Received: 99})
	assert.False(t, r.Resumed)
	assert.Contains(t, r.ResumeError, "the client counts 99 frames received, but the session sent 1", "a count past what was sent is named as such, not as a loss")
	enter(t, a2, 2, "r")
	send(t, a2, `{"id":3,"op":"queryRoomOnlineMemberCount","data":{"roomID":"r"}}`)
	assert.JSONEq(t, `{"roomID":"r","count":1}`, string(reply(t, a2, 3).Data))
}

func TestResumeReplacesAConnectionStillOpen(t *testing.T) {
	srv, _ := newServer(t, Config{})
	old, r := loginWith(t, srv, "a", nil)
	_, r2 := loginWith(t, srv, "a", &protocol.ResumeRequest{SessionID: r.SessionID, Key: r.ResumeKey})
	assert.True(t, r2.Resumed)
	ce := closed(t, old)
	assert.Contains(t, ce.Reason, "6100010")
}

// A request whose reply was lost with the connection is not lost: the
// resumed session says the last request it read, and the reply comes
// again with the frames missed, once.
func TestResumeReplaysMissedReplies(t *testing.T) {
	noLeaks(t)
	srv, _ := newServer(t, Config{ResumeGrace: 3 * time.Second})
	a, ra := loginWith(t, srv, "a", nil)
	b, _ := loginWith(t, srv, "b", nil)
	enter(t, b, 2, "r")
	enter(t, a, 2, "r") // a's frame 1
	// a sends; the server serves it (b gets the message), but a never reads
	// the reply before its connection goes.
	send(t, a, `{"id":3,"op":"sendRoomMessage","data":{"roomID":"r","message":{"type":1,"message":"sent"}}}`)
	for read(t, b).Event != protocol.EventReceiveRoomMessage {
	}
	a.CloseNow()

	a2, r := loginWith(t, srv, "a", &protocol.ResumeRequest{SessionID: ra.SessionID, Key: ra.ResumeKey, Received: 1})
	require.True(t, r.Resumed, r.ResumeError)
	assert.Equal(t, uint64(3), r.LastRequestID, "request 3 was read: the client must not send it again")
	f := read(t, a2)
	assert.Equal(t, uint64(3), f.ID, "the lost reply comes first")
	assert.Contains(t, string(f.Data), `"orderKey":1`)
	ok(t, a2, 4, protocol.OpQueryMemberCount, map[string]string{"roomID": "r"}, nil)
}
