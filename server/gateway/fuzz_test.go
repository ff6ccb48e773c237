package gateway

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// FuzzParseFrame: the frame decoder never panics, and what it accepts is
// a request it can serve.
func FuzzParseFrame(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"op":"login","data":{"token":"x","version":1}}`,
		`{"id":2,"op":"joinRoom","data":{"roomID":"r"}}`,
		`{"op":"joinRoom"}`, `{"id":-1,"op":"x"}`, `{"id":1e99,"op":"x"}`, `[]`, `null`, `"x"`,
		"{\"id\":5,\"op\":\"joinRoom\",\"data\":{\"roomID\":\"\xff\"}}", `{"id":1,"op":"x","data":`,
	} {
		f.Add([]byte(s), false)
	}
	f.Add([]byte{0, 1, 2}, true)
	f.Fuzz(func(t *testing.T, b []byte, binary bool) {
		typ := websocket.MessageText
		if binary {
			typ = websocket.MessageBinary
		}
		fr, err := parseFrame(typ, b)
		if err != nil {
			if err.Code != protocol.CodeMalformedFrame || err.Message == "" {
				t.Fatalf("refusal %v: want a malformed-frame code and a message", err)
			}
			return
		}
		if fr.ID == 0 || fr.Op == "" {
			t.Fatalf("accepted a frame with no id or op: %+v", fr)
		}
	})
}

// fuzzSession is one logged-in session on an engine of its own, shared by
// the fuzz inputs, so state builds up the way it would on a connection.
var fuzzSession = sync.OnceValue(func() *session {
	g := New(Config{}, engine.NewManager(engine.Limits{}), auth.NewVerifier(testApps, nil), slog.New(slog.DiscardHandler), nil)
	claims := &auth.Claims{AppID: "app", UserID: "fuzz"}
	claims.ExpiresAt = nil
	s := newSession(g, claims)
	if err := g.add(s); err != nil {
		panic(err)
	}
	return s
})

// FuzzDispatch: whatever op and data a logged-in client sends, the server
// answers with a reply it can encode or an error with a code and a message
// (never an internal failure), and never panics.
func FuzzDispatch(f *testing.F) {
	seeds := map[string]string{
		protocol.OpEnterRoom:                     `{"roomInfo":{"roomID":"r","roomName":"R"},"config":{"roomAttributes":{"k":"v"},"roomDestroyDelayTime":5}}`,
		protocol.OpCreateRoom:                    `{"roomInfo":{"roomID":"c"}}`,
		protocol.OpJoinRoom:                      `{"roomID":"r"}`,
		protocol.OpSwitchRoom:                    `{"fromRoomID":"r","toRoomInfo":{"roomID":"s"},"isCreateWhenRoomNotExisted":true}`,
		protocol.OpLeaveRoom:                     `{"roomID":"s"}`,
		protocol.OpLeaveAllRoom:                  `{}`,
		protocol.OpQueryMemberList:               `{"roomID":"r","count":10,"nextFlag":""}`,
		protocol.OpQueryMemberCount:              `{"roomID":"r"}`,
		protocol.OpSendRoomMessage:               `{"roomID":"r","message":{"type":1,"message":"hi <b>"}}`,
		protocol.OpQueryHistoryRoomMessage:       `{"roomID":"r","count":5,"nextOrderKey":0,"reverse":false}`,
		protocol.OpSetRoomAttributes:             `{"roomID":"r","roomAttributes":{"a":"1"},"config":{"isForce":true}}`,
		protocol.OpDeleteRoomAttributes:          `{"roomID":"r","keys":["a"],"config":{}}`,
		protocol.OpRoomAttributesBatch:           `{"roomID":"r","operations":[{"action":0,"roomAttributes":{"b":"2"}},{"action":1,"keys":["b"]}]}`,
		protocol.OpQueryRoomAllAttributes:        `{"roomID":"r"}`,
		protocol.OpSetRoomMembersAttributes:      `{"roomID":"r","userIDs":["fuzz"],"attributes":{"mic":"on"}}`,
		protocol.OpQueryRoomMembersAttributes:    `{"roomID":"r","userIDs":["fuzz","x"]}`,
		protocol.OpQueryRoomMemberAttributesList: `{"roomID":"r","count":3,"nextFlag":"1"}`,
		protocol.OpQueryRoomMembers:              `{"roomID":"r","userIDs":["fuzz"]}`,
		protocol.OpCallInvite:                    `{"callees":[{"userID":"nobody"}],"timeout":5,"data":"d"}`,
		protocol.OpCallAdd:                       `{"callID":"1_1","callees":[{"userID":"x"}]}`,
		protocol.OpCallAccept:                    `{"callID":"1_1"}`,
		protocol.OpCallReject:                    `{"callID":"1_1","busy":true}`,
		protocol.OpCallCancel:                    `{"callID":"1_1","userIDs":["x"]}`,
		protocol.OpCallQuit:                      `{"callID":"1_1"}`,
		protocol.OpCallEnd:                       `{"callID":"1_1"}`,
		protocol.OpRenewToken:                    `{"token":"a.b.c"}`,
		protocol.OpPing:                          `{}`,
		"fly":                                    `{}`,
	}
	for op, data := range seeds {
		f.Add(op, []byte(data))
	}
	f.Fuzz(func(t *testing.T, op string, data []byte) {
		if op == protocol.OpLogout {
			return // ends the shared session
		}
		s := fuzzSession()
		c := &conn{out: newOutbox(1 << 20), msgLimit: newTokenBucket(1e9, 1e9, time.Now())}
		res, err := s.dispatch(c, protocol.Frame{ID: 1, Op: op, Data: data})
		if err != nil {
			var pe *protocol.Error
			if !errors.As(err, &pe) || pe.Code == protocol.CodeFailed || pe.Message == "" {
				t.Fatalf("%s %q: %v is not an error a client can act on", op, data, err)
			}
			return
		}
		if _, err := protocol.EncodeReply(1, res); err != nil {
			t.Fatalf("%s %q: the reply does not encode: %v", op, data, err)
		}
	})
}
