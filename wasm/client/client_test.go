//go:build !js

package client

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/auth"
	"roomkit/server/protocol"
)

const secret = "test-secret-0123456789"

func startServer(t testing.TB, addr string, mut func(*app.Config)) *app.Server {
	t.Helper()
	cfg := app.Default()
	cfg.Addr = addr
	cfg.Apps = map[string]string{"app": secret}
	if mut != nil {
		mut(&cfg)
	}
	var ln net.Listener
	var err error
	require.Eventually(t, func() bool { ln, err = net.Listen("tcp", addr); return err == nil }, 5*time.Second, 50*time.Millisecond)
	srv := app.Serve(cfg, ln, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return srv
}

func token(t testing.TB, user string, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(secret, auth.Claims{AppID: "app", UserID: user, UserName: strings.ToUpper(user)}, time.Now(), ttl)
	require.NoError(t, err)
	return tok
}

// recorder collects a client's events as "name room state event" lines.
type recorder struct {
	mu     sync.Mutex
	events []string
}

func (r *recorder) on(e Event) {
	var line string
	switch e.Name {
	case EventRoomStateChanged:
		var ev protocol.RoomStateEvent
		_ = e.Decode(&ev)
		line = fmt.Sprintf("room %s %d %d", ev.RoomID, ev.State, ev.Event)
	case EventConnectionStateChanged:
		var ev ConnectionStateChanged
		_ = e.Decode(&ev)
		line = fmt.Sprintf("conn %d %d", ev.State, ev.Event)
	case protocol.EventPeerMessageReceived:
		var ev protocol.PeerMessageEvent
		_ = e.Decode(&ev)
		line = fmt.Sprintf("peer %s from %s %s", ev.RoomID, ev.FromUserID, ev.Data)
	default:
		var ev protocol.MembersEvent
		_ = e.Decode(&ev)
		var users []string
		for _, m := range ev.MemberList {
			users = append(users, m.UserID)
		}
		line = fmt.Sprintf("%s %s %s", e.Name, ev.RoomID, strings.Join(users, ","))
	}
	r.mu.Lock()
	r.events = append(r.events, line)
	r.mu.Unlock()
}

// take returns the events so far and forgets them.
func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.events
	r.events = nil
	return out
}

// waitFor waits until the recorded events include want, in order, and
// returns everything recorded.
func (r *recorder) waitFor(t *testing.T, want ...string) []string {
	t.Helper()
	var got []string
	if !assert.Eventually(t, func() bool {
		r.mu.Lock()
		got = append([]string(nil), r.events...)
		r.mu.Unlock()
		i := 0
		for _, e := range got {
			if i < len(want) && e == want[i] {
				i++
			}
		}
		return i == len(want)
	}, 10*time.Second, 10*time.Millisecond) {
		t.Fatalf("want %q in order; got %q", want, got)
	}
	r.take()
	return got
}

func login(t *testing.T, srv *app.Server, user string) (*Client, *recorder) {
	t.Helper()
	rec := &recorder{}
	c, err := Login(context.Background(), Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, user, time.Hour), OnEvent: rec.on, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 200 * time.Millisecond})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Logout(context.Background()) })
	rec.waitFor(t, "conn 1 1", "conn 2 0")
	return c, rec
}

func codeIs(t *testing.T, want protocol.Code, err error) {
	t.Helper()
	require.Error(t, err)
	assert.Equal(t, int(want), codeOf(err), err.Error())
}

func info(id string) protocol.RoomInfo { return protocol.RoomInfo{RoomID: id, RoomName: id + " name"} }

func TestRoomLifecycle(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	bob, rb := login(t, srv, "bob")

	got, err := alice.CreateRoom(ctx, info("r1"), &protocol.RoomConfig{RoomAttributes: map[string]string{"k": "v"}})
	require.NoError(t, err)
	assert.Equal(t, info("r1"), got)
	assert.Equal(t, []string{"room r1 1 4", "room r1 2 0"}, ra.waitFor(t, "room r1 2 0"))

	_, err = bob.CreateRoom(ctx, info("r1"), nil)
	codeIs(t, protocol.CodeRoomAlreadyExists, err)
	assert.Equal(t, []string{"room r1 1 4", "room r1 0 5"}, rb.waitFor(t, "room r1 0 5"))

	_, err = bob.JoinRoom(ctx, "missing")
	codeIs(t, protocol.CodeRoomNotExist, err)
	rb.waitFor(t, "room missing 1 6", "room missing 0 7")

	got, err = bob.JoinRoom(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, "r1 name", got.RoomName)
	rb.waitFor(t, "room r1 1 6", "room r1 2 0")
	ra.waitFor(t, "roomMemberJoined r1 bob")

	page, err := alice.QueryRoomMemberList(ctx, "r1", 10, "")
	require.NoError(t, err)
	assert.Equal(t, []protocol.Member{{UserID: "alice", UserName: "ALICE", Role: "participant"}, {UserID: "bob", UserName: "BOB", Role: "participant"}}, page.MemberList)
	n, err := bob.QueryRoomOnlineMemberCount(ctx, "r1")
	require.NoError(t, err)
	assert.Equal(t, 2, n)

	// Switch bob from r1 to a new room r2: the full sequence.
	_, err = bob.SwitchRoom(ctx, "r1", info("r2"), true, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"room r2 1 11", "room r2 2 0", "room r1 0 0"}, rb.waitFor(t, "room r1 0 0"))
	ra.waitFor(t, "roomMemberLeft r1 bob")
	assert.Equal(t, []string{"r2"}, bob.Rooms())

	// A failing switch: bob stays in r2.
	_, err = bob.SwitchRoom(ctx, "r2", info("nope"), false, nil)
	codeIs(t, protocol.CodeRoomNotExist, err)
	assert.Equal(t, []string{"room nope 1 11", "room nope 0 12"}, rb.waitFor(t, "room nope 0 12"))
	assert.Equal(t, []string{"r2"}, bob.Rooms())
	assert.Equal(t, "r2", bob.CurrentRoom())

	require.NoError(t, bob.LeaveRoom(ctx, "r2"))
	rb.waitFor(t, "room r2 0 0")
	codeIs(t, protocol.CodeNotInRoom, bob.LeaveRoom(ctx, "r2"))

	_, err = alice.EnterRoom(ctx, info("r3"), nil)
	require.NoError(t, err)
	ids, err := alice.LeaveAllRoom(ctx)
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r3"}, ids)
	ra.waitFor(t, "room r1 0 0", "room r3 0 0")
	assert.Empty(t, alice.Rooms())
	assert.Equal(t, "", alice.CurrentRoom())
}

func TestRoomConnectingRefusesSecondOperation(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	alice, _ := login(t, srv, "alice")
	// Hold the join in flight by blocking the event handler? No: run two
	// operations at once; whichever comes second while the first is under
	// way fails with 6000326.
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = alice.EnterRoom(context.Background(), info("busy"), nil)
		}()
	}
	wg.Wait()
	ok, busy, already := 0, 0, 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case codeOf(err) == int(protocol.CodeRoomConnecting):
			busy++
		case codeOf(err) == int(protocol.CodeAlreadyInRoom):
			already++
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	assert.Equal(t, 1, ok)
	assert.Equal(t, len(errs)-1, busy+already)
}

func TestBadTokenIsRefused(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	rec := &recorder{}
	_, err := Login(context.Background(), Config{URL: "ws://" + srv.Addr() + "/ws", Token: "garbage", OnEvent: rec.on})
	codeIs(t, protocol.CodeTokenInvalid, err)
	rec.waitFor(t, "conn 1 1", "conn 0 5")

	expired, err := auth.Mint(secret, auth.Claims{AppID: "app", UserID: "u"}, time.Now().Add(-2*time.Hour), time.Hour)
	require.NoError(t, err)
	_, err = Login(context.Background(), Config{URL: "ws://" + srv.Addr() + "/ws", Token: expired})
	codeIs(t, protocol.CodeTokenExpired, err)
}

func TestReconnectAfterServerRestart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	srv := startServer(t, addr, nil)
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	_, err = alice.EnterRoom(ctx, info("keep1"), nil)
	require.NoError(t, err)
	_, err = alice.CreateRoom(ctx, info("keep2"), nil)
	require.NoError(t, err)
	ra.take()

	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	require.NoError(t, srv.Shutdown(sctx))
	cancel()
	ra.waitFor(t, "room keep1 1 1", "room keep2 1 1", "conn 3 3")
	_, err = alice.JoinRoom(ctx, "elsewhere")
	codeIs(t, protocol.CodeNetworkError, err)

	srv2 := startServer(t, addr, nil)
	ra.waitFor(t, "conn 2 0", "room keep1 2 0", "room keep2 2 0")
	bob, rb := login(t, srv2, "bob")
	_, err = bob.JoinRoom(ctx, "keep1")
	require.NoError(t, err, "alice's rejoin made the room again on the new server")
	rb.waitFor(t, "room keep1 2 0")
	page, err := bob.QueryRoomMemberList(ctx, "keep1", 10, "")
	require.NoError(t, err)
	assert.Len(t, page.MemberList, 2)
}

func TestGiveUpReportsNetworkDisconnected(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	rec := &recorder{}
	c, err := Login(context.Background(), Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "al", time.Hour), OnEvent: rec.on,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 40 * time.Millisecond, ReconnectFor: 300 * time.Millisecond})
	require.NoError(t, err)
	_, err = c.EnterRoom(context.Background(), info("gone"), nil)
	require.NoError(t, err)
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, srv.Shutdown(sctx))
	rec.waitFor(t, "room gone 1 1", "conn 3 3", "room gone 0 2", "conn 0 3")
	assert.Empty(t, c.Rooms())
}
