package app

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/cluster/redistest"
	"roomkit/server/protocol"
)

// wsUser is one logged-in connection, read frame by frame.
type wsUser struct {
	t      *testing.T
	ws     *websocket.Conn
	id     uint64
	events []protocol.Frame // read while waiting for a reply, not yet looked at
}

func dialUser(t *testing.T, s *Server, claims auth.Claims) *wsUser {
	t.Helper()
	claims.AppID = DevAppID
	tok, err := auth.Mint(secret, claims, time.Now(), time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+s.Addr()+"/ws", nil)
	require.NoError(t, err)
	t.Cleanup(func() { ws.CloseNow() })
	u := &wsUser{t: t, ws: ws}
	u.do(protocol.OpLogin, protocol.LoginRequest{Token: tok, Version: 1}, nil)
	return u
}

// read returns the next frame within 10 s.
func (u *wsUser) read() protocol.Frame {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, b, err := u.ws.Read(ctx)
	require.NoError(u.t, err)
	var f protocol.Frame
	require.NoError(u.t, json.Unmarshal(b, &f))
	return f
}

// do sends a request and waits for its reply, which must succeed; events
// read meanwhile are kept for next.
func (u *wsUser) do(op string, data, out any) {
	u.t.Helper()
	u.id++
	raw, _ := json.Marshal(data)
	b, _ := json.Marshal(protocol.Frame{ID: u.id, Op: op, Data: raw})
	require.NoError(u.t, u.ws.Write(context.Background(), websocket.MessageText, b))
	for {
		f := u.read()
		if f.Event != "" {
			u.events = append(u.events, f)
			continue
		}
		if f.ID != u.id {
			continue
		}
		require.Nil(u.t, f.Error, "%s: %v", op, f.Error)
		if out != nil {
			require.NoError(u.t, json.Unmarshal(f.Data, out))
		}
		return
	}
}

// next returns the first event kept by do, or else the next frame.
func (u *wsUser) next() protocol.Frame {
	u.t.Helper()
	if len(u.events) > 0 {
		f := u.events[0]
		u.events = u.events[1:]
		return f
	}
	return u.read()
}

// callEnded reads until a callStateChanged whose call ended (which may
// have come before the reply to the request that ended it).
func (u *wsUser) callEnded() protocol.CallInfo {
	u.t.Helper()
	for {
		f := u.next()
		if f.Event != protocol.EventCallStateChanged {
			continue
		}
		var ev protocol.CallStateEvent
		require.NoError(u.t, json.Unmarshal(f.Data, &ev))
		if ev.Call.Ended {
			return ev.Call
		}
	}
}

// A room ended on one node ends the call in it for its parties on every
// node, with the reason the call kit shows: whichever node holds the room
// and whichever holds the app's calls. The nodes have just started: a
// user on a node the calls node has not yet seen in its once-a-second
// check is online all the same.
func TestEndingARoomEndsItsCallAcrossNodes(t *testing.T) {
	r := redistest.Start(t)
	var nodes []*Server
	for i := range 2 {
		nodes = append(nodes, start(t, func(c *Config) { c.Redis, c.NodeID, c.Dev = r.URL(), fmt.Sprint("node-", i), false }))
	}
	// Rooms land on either node: each pair of users (one per node) makes
	// several, so both ways are taken.
	for n := range 4 {
		room := fmt.Sprint("call-room-", n)
		host := dialUser(t, nodes[n%2], auth.Claims{UserID: fmt.Sprint("host", n), Role: auth.RoleHost})
		ben := dialUser(t, nodes[(n+1)%2], auth.Claims{UserID: fmt.Sprint("ben", n)})
		var inv protocol.CallInviteReply
		host.do(protocol.OpCallInvite, protocol.CallInviteRequest{Callees: []protocol.Callee{{UserID: fmt.Sprint("ben", n)}}, RoomID: room, Timeout: 60}, &inv)
		require.Empty(t, inv.ErrorInvitees, "ben is online on the other node, which has just started")
		host.do(protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: protocol.RoomInfo{RoomID: room}}, nil)
		ben.do(protocol.OpCallAccept, map[string]string{"callID": inv.CallID}, nil)
		ben.do(protocol.OpJoinRoom, protocol.RoomIDRequest{RoomID: room}, nil)

		host.do(protocol.OpEndRoom, protocol.RoomIDRequest{RoomID: room}, nil)
		for name, u := range map[string]*wsUser{"host": host, "ben": ben} {
			call := u.callEnded()
			assert.Equal(t, inv.CallID, call.CallID, "%s in %s", name, room)
			assert.Equal(t, protocol.CallReasonRoomEnded, call.Reason, "%s in %s", name, room)
		}
	}
}
