package gateway

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// Invitations over the wire: they ring every tab of the callee, the first
// answer wins, and the server refuses a non-initiator's invitation when the
// call says only the initiator may invite.
func TestCallsOverTheWire(t *testing.T) {
	srv, _ := newServer(t, Config{})
	ann := loggedIn(t, srv, "ann")
	ben1 := loggedIn(t, srv, "ben")
	ben2 := loggedIn(t, srv, "ben")
	cat := loggedIn(t, srv, "cat")

	send(t, ann, `{"id":2,"op":"callInvite","data":{"callees":[{"userID":"ben"},{"userID":"nobody"}],"config":{"canInvitingInCalling":true,"onlyInitiatorCanInvite":true}}}`)
	var inv protocol.CallInviteReply
	f := reply(t, ann, 2)
	require.Nil(t, f.Error)
	require.NoError(t, json.Unmarshal(f.Data, &inv))
	assert.Equal(t, []protocol.Callee{{UserID: "nobody"}}, inv.ErrorInvitees)
	assert.Equal(t, protocol.EventCallInvitationReceived, read(t, ben1).Event)
	assert.Equal(t, protocol.EventCallInvitationReceived, read(t, ben2).Event)
	read(t, ben1) // state: ringing
	read(t, ben2)

	send(t, ben2, `{"id":3,"op":"callAccept","data":{"callID":"`+inv.CallID+`"}}`)
	require.Nil(t, reply(t, ben2, 3).Error)
	f = read(t, ben1)
	assert.Equal(t, protocol.EventCallStateChanged, f.Event)
	assert.Contains(t, string(f.Data), `"userID":"ben","userName":"ben","state":"Accepted"`, "the other tab stops ringing")
	send(t, ben1, `{"id":4,"op":"callAccept","data":{"callID":"`+inv.CallID+`"}}`)
	assert.Equal(t, protocol.CodeCallStateInvalid, reply(t, ben1, 4).Error.Code)

	// ben is not the initiator: the server refuses his invitation, however
	// the page was changed.
	send(t, ben2, `{"id":5,"op":"callAdd","data":{"callID":"`+inv.CallID+`","callees":[{"userID":"cat"}]}}`)
	f = reply(t, ben2, 5)
	require.NotNil(t, f.Error)
	assert.Equal(t, protocol.CodeCallInviteNotPermitted, f.Error.Code)
	send(t, ann, `{"id":6,"op":"callAdd","data":{"callID":"`+inv.CallID+`","callees":[{"userID":"cat"}]}}`)
	require.Nil(t, reply(t, ann, 6).Error)
	assert.Equal(t, protocol.EventCallInvitationReceived, read(t, cat).Event)
}

// A server that shuts down ends every call and tells every party why
// before it closes their connections.
func TestShutdownEndsCallsWithAReason(t *testing.T) {
	noLeaks(t)
	srv, g := newServer(t, Config{})
	ann := loggedIn(t, srv, "ann")
	ben := loggedIn(t, srv, "ben")
	var inv protocol.CallInviteReply
	ok(t, ann, 2, protocol.OpCallInvite, map[string]any{"callees": []map[string]string{{"userID": "ben"}}}, &inv)
	ok(t, ben, 2, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, nil)

	go func() { _ = g.Shutdown(context.Background()) }()
	for _, c := range []*websocket.Conn{ann, ben} {
		var ended *protocol.CallStateEvent
		for ended == nil {
			f := read(t, c)
			var ev protocol.CallStateEvent
			if f.Event == protocol.EventCallStateChanged && json.Unmarshal(f.Data, &ev) == nil && ev.Call.Ended {
				ended = &ev
			}
		}
		assert.Equal(t, protocol.CallReasonServerShutdown, ended.Call.Reason)
		assert.Equal(t, websocket.StatusServiceRestart, closed(t, c).Code)
	}
}
