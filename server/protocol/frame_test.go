package protocol

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A server frame decodes the same by the fast path as by encoding/json.
func TestDecodeServerFrame(t *testing.T) {
	event, _ := EncodeEvent(EventReceiveRoomMessage, MessagesEvent{RoomID: "r", MessageList: []json.RawMessage{json.RawMessage(`{"message":"a \"}\" b"}`)}})
	reply, _ := EncodeReply(42, LeaveRoomReply{RoomID: "r"})
	for _, b := range [][]byte{
		event, reply,
		EncodeError(7, Errorf(CodeNotInRoom, "not in room")),
		[]byte(`{"data":{"x":1},"event":"reordered"}`),
		[]byte(`{"id":3}`),
	} {
		var want Frame
		require.NoError(t, json.Unmarshal(b, &want))
		got, err := DecodeServerFrame(b)
		require.NoError(t, err)
		assert.Equal(t, want, got, "%s", b)
	}
	_, err := DecodeServerFrame([]byte(`not json`))
	assert.Error(t, err)
}
