package gateway

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// A room ended by its host ends the call running in it: every party gets
// a callStateChanged with the call ended for reason RoomEnded, an
// invitation still ringing into the room stops, and the call is gone (its
// ID is refused afterwards).
func TestEndingARoomEndsItsCall(t *testing.T) {
	eng := engine.NewManager(engine.Limits{})
	g := New(Config{}, eng, auth.NewVerifier(testApps, nil), slog.New(slog.DiscardHandler), nil)
	eng.OnRoomEnded(g.RoomEnded) // as app.Serve wires it
	srv := serve(t, g)
	host := loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: "host", Role: auth.RoleHost})
	ben := loggedIn(t, srv, "ben")
	cat := loggedIn(t, srv, "cat")

	var inv protocol.CallInviteReply
	ok(t, host, 2, protocol.OpCallInvite, protocol.CallInviteRequest{Callees: []protocol.Callee{{UserID: "ben"}, {UserID: "cat"}}, RoomID: "call-room", Timeout: 60}, &inv)
	ok(t, host, 3, protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: protocol.RoomInfo{RoomID: "call-room"}}, nil)
	ok(t, ben, 2, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, nil)
	ok(t, ben, 3, protocol.OpJoinRoom, protocol.RoomIDRequest{RoomID: "call-room"}, nil)

	ok(t, host, 4, protocol.OpEndRoom, protocol.RoomIDRequest{RoomID: "call-room"}, nil)
	for name, c := range map[string]*websocket.Conn{"host": host, "ben": ben, "cat": cat} {
		ev := callEnded(t, c)
		assert.Equal(t, inv.CallID, ev.Call.CallID, name)
		assert.Equal(t, protocol.CallReasonRoomEnded, ev.Call.Reason, name)
	}
	failsWith(t, cat, 2, protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, protocol.CodeCallNotExist)
}

// callEnded reads c's frames until a callStateChanged whose call ended.
func callEnded(t *testing.T, c *websocket.Conn) protocol.CallStateEvent {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		f := read(t, c)
		if f.Event != protocol.EventCallStateChanged {
			continue
		}
		var ev protocol.CallStateEvent
		require.NoError(t, json.Unmarshal(f.Data, &ev))
		if ev.Call.Ended {
			return ev
		}
	}
	t.Fatal("the call never ended")
	return protocol.CallStateEvent{}
}
