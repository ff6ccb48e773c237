//go:build !js

package client

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

func TestMessagesAndAttributeBatch(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, _ := login(t, srv, "alice")
	bob, rb := login(t, srv, "bob")
	for _, c := range []*Client{alice, bob} {
		_, err := c.EnterRoom(ctx, info("data"), nil)
		require.NoError(t, err)
	}

	sent, err := alice.SendRoomMessage(ctx, protocol.SendMessageRequest{RoomID: "data", Message: protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"hello"`)}})
	require.NoError(t, err)
	assert.Equal(t, "alice", sent.Message.SenderUserID)
	assert.NotEmpty(t, sent.Message.MessageID)
	rb.waitFor(t, "receiveRoomMessage data ") // the recorder prints member lists; messages have none

	require.NoError(t, alice.BeginRoomAttributesBatch("data", protocol.AttributesConfig{IsDeleteAfterOwnerLeft: true}))
	assert.Error(t, alice.BeginRoomAttributesBatch("data", protocol.AttributesConfig{}), "one batch at a time")
	res, err := alice.SetRoomAttributes(ctx, protocol.SetAttributesRequest{RoomID: "data", Attributes: map[string]string{"a": "1", "b": "2"}})
	require.NoError(t, err)
	assert.Empty(t, res.ErrorKeys)
	_, err = alice.DeleteRoomAttributes(ctx, protocol.DeleteAttributesRequest{RoomID: "data", Keys: []string{"b"}})
	require.NoError(t, err)
	all, err := bob.QueryRoomAllAttributes(ctx, "data")
	require.NoError(t, err)
	assert.Empty(t, all.RoomAttributes, "nothing is sent before the batch ends")
	_, err = alice.EndRoomAttributesBatch(ctx, "data")
	require.NoError(t, err)
	rb.waitFor(t, "roomAttributesBatchUpdated data ")
	all, err = bob.QueryRoomAllAttributes(ctx, "data")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"a": "1"}, all.RoomAttributes)
	_, err = alice.EndRoomAttributesBatch(ctx, "data")
	codeIs(t, protocol.CodeInvalidParameter, err)

	// The batch's isDeleteAfterOwnerLeft applied: alice leaves, "a" goes.
	require.NoError(t, alice.LeaveRoom(ctx, "data"))
	rb.waitFor(t, "roomAttributesUpdated data ")
	all, err = bob.QueryRoomAllAttributes(ctx, "data")
	require.NoError(t, err)
	assert.Empty(t, all.RoomAttributes)
}

// A peer message reaches the member it names as peerMessageReceived, in
// the order sent, and no other member.
func TestPeerMessages(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, _ := login(t, srv, "alice")
	bob, rb := login(t, srv, "bob")
	carol, rc := login(t, srv, "carol")
	for _, c := range []*Client{alice, bob, carol} {
		_, err := c.EnterRoom(ctx, info("call"), nil)
		require.NoError(t, err)
	}
	for _, d := range []string{`{"sdp":"offer"}`, `{"candidate":1}`, `{"candidate":2}`} {
		r, err := alice.SendPeerMessage(ctx, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "bob", Data: json.RawMessage(d)})
		require.NoError(t, err)
		assert.Equal(t, 1, r.Delivered)
	}
	rb.waitFor(t, `peer call from alice {"sdp":"offer"}`, `peer call from alice {"candidate":1}`, `peer call from alice {"candidate":2}`)
	_, err := carol.SendPeerMessage(ctx, protocol.SendPeerMessageRequest{RoomID: "call", ToUserID: "dave", Data: json.RawMessage(`1`)})
	codeIs(t, protocol.CodeUserNotInRoom, err)
	// A room message alice sends after them reaches carol; no peer message
	// came before it.
	_, err = alice.SendRoomMessage(ctx, protocol.SendMessageRequest{RoomID: "call", Message: protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"all"`)}})
	require.NoError(t, err)
	rc.waitFor(t, "receiveRoomMessage call ")
	for _, e := range rc.take() {
		assert.NotContains(t, e, "peer ")
	}
}
