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

// sameAsEncodingJSON checks that DecodeRequest gives what encoding/json
// gives for b: the same error or none, and the same ID, op and data.
func sameAsEncodingJSON(t *testing.T, b []byte) {
	t.Helper()
	got, gotErr := DecodeRequest(b)
	var want Frame
	wantErr := json.Unmarshal(b, &want)
	require.Equal(t, wantErr == nil, gotErr == nil, "%q: error %v, encoding/json's %v", b, gotErr, wantErr)
	if wantErr != nil {
		return
	}
	assert.Equal(t, want.ID, got.ID, "%q", b)
	assert.Equal(t, want.Op, got.Op, "%q", b)
	assert.Equal(t, want.Event, got.Event, "%q", b)
	assert.Equal(t, want.Error, got.Error, "%q", b)
	assert.Equal(t, string(want.Data), string(got.Data), "%q", b)
}

// A request decodes the same by the hand-split path as by encoding/json,
// including inputs that are nearly in its shape.
func TestDecodeRequest(t *testing.T) {
	req, _ := Marshal(Frame{ID: 9, Op: OpSendRoomMessage, Data: json.RawMessage(`{"roomID":"r","message":"a \"}\" b"}`)})
	for _, s := range []string{
		string(req),
		`{"id":1,"op":"ping"}`,
		`{"id":1,"op":"ping","data":{}}`,
		`{"id":1,"op":"ping","data":null}`,
		`{"id":1,"op":"ping","data":{} }`,
		`{"id":1,"op":"ping","data": {}}`,
		"{\"id\":1,\"op\":\"ping\",\"data\":\n\t\"x\" }",
		`{"id":1,"op":"ping","data":{}}}`,
		`{"id":1,"op":"ping","data":{},"op":"logout"}`,
		`{"id":1,"op":"ping","data":"x"}`,
		`{"id":1,"op":"ping","data":}`,
		`{"id":01,"op":"ping"}`,
		`{"id":0,"op":"ping"}`,
		`{"id":18446744073709551616,"op":"ping"}`,
		`{"id":1,"op":"pi\"ng"}`,
		`{"id":1,"op":"pi\u006eg"}`,
		`{"id":1,"op":"pïng"}`,
		`{"id":1,"op":"ping","data":{"a":[1,2,{"b":null}]}}`,
		`{"id":1,"op":"ping","data":[1,2}`,
		`{"id":1,"op":"ping" }`,
		`{"id":1,"op":"ping","error":{"code":1}}`,
		`{"id":1}`,
		`{"id":`,
		`{"id":1,"op":"`,
	} {
		sameAsEncodingJSON(t, []byte(s))
	}
}

// FuzzDecodeRequest: for any input, DecodeRequest and encoding/json agree.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"ping"}`, `{"id":2,"op":"joinRoom","data":{"roomID":"r"}}`,
		`{"id":3,"op":"x","data":[1,{"y":"z"}]}`, `{"id":01,"op":"x"}`, `{"id":1,"op":"x","data":{} }`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { sameAsEncodingJSON(t, b) })
}

// BenchmarkDecodeRequest decodes a room message request, by DecodeRequest
// and by encoding/json.
func BenchmarkDecodeRequest(b *testing.B) {
	req, _ := Marshal(Frame{ID: 12345, Op: OpSendRoomMessage, Data: json.RawMessage(`{"roomID":"room-1","message":"hello, everyone in the room: this is a message of ordinary length"}`)})
	b.Run("DecodeRequest", func(b *testing.B) {
		for b.Loop() {
			if _, err := DecodeRequest(req); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for b.Loop() {
			var f Frame
			if err := json.Unmarshal(req, &f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
