package gateway

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

const (
	secret  = "gateway-test-secret-0123"
	secret2 = "gateway-test-secret-two-0123" // of app2, a second tenant
)

// testApps are the apps every test server knows: two tenants.
var testApps = map[string]string{"app": secret, "app2": secret2}

func newServer(t *testing.T, cfg Config) (*httptest.Server, *Gateway) {
	t.Helper()
	return newServerWith(t, cfg, engine.Limits{})
}

func newServerWith(t *testing.T, cfg Config, limits engine.Limits) (*httptest.Server, *Gateway) {
	t.Helper()
	g := New(cfg, engine.NewManager(limits), auth.NewVerifier(testApps, nil), slog.New(slog.DiscardHandler), nil)
	return serve(t, g), g
}

// serve serves g on loopback until the test ends, then shuts it down.
func serve(t *testing.T, g *Gateway) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(g)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
		srv.Close()
	})
	return srv
}

func tokenFor(t *testing.T, user string, ttl time.Duration) string {
	t.Helper()
	return mint(t, auth.Claims{AppID: "app", UserID: user}, ttl)
}

// mint signs claims with their app's secret.
func mint(t *testing.T, c auth.Claims, ttl time.Duration) string {
	t.Helper()
	tok, err := auth.Mint(testApps[string(c.AppID)], c, time.Now(), ttl)
	require.NoError(t, err)
	return tok
}

func dial(t *testing.T, srv *httptest.Server) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() {
		c.CloseNow()
		unread.Lock()
		delete(unread.frames, c)
		unread.Unlock()
	})
	return c
}

func send(t *testing.T, c *websocket.Conn, s string) {
	t.Helper()
	require.NoError(t, c.Write(context.Background(), websocket.MessageText, []byte(s)))
}

// unread holds the frames of messages read and not yet handed out: one
// message from the server may carry several.
var unread = struct {
	sync.Mutex
	frames map[*websocket.Conn][][]byte
}{frames: map[*websocket.Conn][][]byte{}}

// readFrame returns c's next frame.
func readFrame(ctx context.Context, c *websocket.Conn) ([]byte, error) {
	unread.Lock()
	defer unread.Unlock()
	for len(unread.frames[c]) == 0 {
		unread.Unlock()
		_, msg, err := c.Read(ctx)
		unread.Lock()
		if err != nil {
			return nil, err
		}
		for f := range protocol.SplitFrames(msg) {
			unread.frames[c] = append(unread.frames[c], f)
		}
	}
	f := unread.frames[c][0]
	unread.frames[c] = unread.frames[c][1:]
	return f, nil
}

func read(t *testing.T, c *websocket.Conn) protocol.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := readFrame(ctx, c)
	require.NoError(t, err)
	var f protocol.Frame
	require.NoError(t, json.Unmarshal(b, &f))
	return f
}

// reply reads frames until the reply to id, skipping events.
func reply(t *testing.T, c *websocket.Conn, id uint64) protocol.Frame {
	t.Helper()
	for {
		if f := read(t, c); f.Event == "" && f.ID == id {
			return f
		}
	}
}

// closed reads until the connection ends and returns its close error.
func closed(t *testing.T, c *websocket.Conn) websocket.CloseError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		_, _, err := c.Read(ctx)
		if err != nil {
			var ce websocket.CloseError
			require.ErrorAs(t, err, &ce)
			return ce
		}
	}
}

func loginFrame(token string, version int) string {
	b, _ := json.Marshal(map[string]any{"id": 1, "op": "login", "data": map[string]any{"token": token, "version": version}})
	return string(b)
}

func loggedIn(t *testing.T, srv *httptest.Server, user string) *websocket.Conn {
	t.Helper()
	return loggedInWith(t, srv, auth.Claims{AppID: "app", UserID: user})
}

// loggedInWith logs in with a token of the given claims.
func loggedInWith(t *testing.T, srv *httptest.Server, claims auth.Claims) *websocket.Conn {
	t.Helper()
	c := dial(t, srv)
	send(t, c, loginFrame(mint(t, claims, time.Hour), protocol.Version))
	f := read(t, c)
	require.Nil(t, f.Error)
	return c
}

// call sends op with data as request id and returns its reply, skipping
// events.
func call(t *testing.T, c *websocket.Conn, id uint64, op string, data any) protocol.Frame {
	t.Helper()
	raw, err := protocol.Marshal(data)
	require.NoError(t, err)
	b, err := protocol.Marshal(protocol.Frame{ID: id, Op: op, Data: raw})
	require.NoError(t, err)
	send(t, c, string(b))
	return reply(t, c, id)
}

// ok is call for a request that must succeed; it decodes the reply into
// out when out is not nil.
func ok(t *testing.T, c *websocket.Conn, id uint64, op string, data, out any) {
	t.Helper()
	f := call(t, c, id, op, data)
	require.Nil(t, f.Error, "%s: %v", op, f.Error)
	if out != nil {
		require.NoError(t, json.Unmarshal(f.Data, out))
	}
}

// failsWith is call for a request that must fail with code.
func failsWith(t *testing.T, c *websocket.Conn, id uint64, op string, data any, code protocol.Code) *protocol.Error {
	t.Helper()
	f := call(t, c, id, op, data)
	require.NotNil(t, f.Error, "%s succeeded; want code %d", op, code)
	assert.Equal(t, code, f.Error.Code, f.Error.Message)
	return f.Error
}

// quiet checks that nothing reaches c for a moment. A cancelled read ends
// a coder/websocket connection, so it is the last thing done with c.
func quiet(t *testing.T, c *websocket.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	b, err := readFrame(ctx, c)
	require.Error(t, err, "got %s", b)
}

func TestLoginRefusals(t *testing.T) {
	srv, _ := newServer(t, Config{})
	tests := []struct {
		name  string
		first string
		code  protocol.Code
	}{
		{"not login first", `{"id":1,"op":"joinRoom","data":{"roomID":"r"}}`, protocol.CodeNotLoggedIn},
		{"bad token", loginFrame("x.y.z", protocol.Version), protocol.CodeTokenInvalid},
		{"old version", loginFrame(tokenFor(t, "u", time.Hour), 0), protocol.CodeUnsupportedVersion},
		{"future version", loginFrame(tokenFor(t, "u", time.Hour), protocol.Version+1), protocol.CodeUnsupportedVersion},
		{"not json", `hello`, protocol.CodeMalformedFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dial(t, srv)
			send(t, c, tt.first)
			f := read(t, c)
			require.NotNil(t, f.Error)
			assert.Equal(t, tt.code, f.Error.Code)
			ce := closed(t, c)
			assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
			assert.True(t, strings.HasPrefix(ce.Reason, itoa(tt.code)+" "), "the close reason starts with the code: %q", ce.Reason)
		})
	}
}

func itoa(c protocol.Code) string { b, _ := json.Marshal(int(c)); return string(b) }

func TestLoginTimeout(t *testing.T) {
	srv, _ := newServer(t, Config{LoginTimeout: 200 * time.Millisecond})
	c := dial(t, srv)
	ce := closed(t, c)
	assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	assert.Contains(t, ce.Reason, "6100006 no login within 200ms")
}

func TestBadFramesGetErrorsAndTheConnectionLives(t *testing.T) {
	srv, _ := newServer(t, Config{})
	c := loggedIn(t, srv, "u")
	cases := []struct {
		frame string
		code  protocol.Code
		msg   string
	}{
		{`{"id":2,"op":"fly"}`, protocol.CodeUnknownOperation, `unknown operation "fly"`},
		{`not json`, protocol.CodeMalformedFrame, "not a JSON object"},
		{`{"op":"joinRoom"}`, protocol.CodeMalformedFrame, "non-zero id"},
		{`{"id":3,"op":"joinRoom","data":{"roomID":5}}`, protocol.CodeInvalidParameter, "field roomID must be a string"},
		{`{"id":4,"op":"joinRoom"}`, protocol.CodeInvalidParameter, "needs data"},
		{"{\"id\":5,\"op\":\"joinRoom\",\"data\":{\"roomID\":\"\xff\"}}", protocol.CodeMalformedFrame, "not valid UTF-8"},
		{`{"id":6,"op":"login","data":{}}`, protocol.CodeInvalidParameter, "already logged in"},
		{`{"id":7,"op":"enterRoom","data":{"roomInfo":{"roomID":"a b"}}}`, protocol.CodeInvalidParameter, "roomID"},
	}
	for _, tc := range cases {
		send(t, c, tc.frame)
		f := read(t, c)
		require.NotNil(t, f.Error, tc.frame)
		assert.Equal(t, tc.code, f.Error.Code, tc.frame)
		assert.Contains(t, f.Error.Message, tc.msg)
	}
	require.NoError(t, c.Write(context.Background(), websocket.MessageBinary, []byte{1, 2}))
	f := read(t, c)
	require.NotNil(t, f.Error)
	assert.Contains(t, f.Error.Message, "binary frames")

	// Still served.
	send(t, c, `{"id":9,"op":"enterRoom","data":{"roomInfo":{"roomID":"ok"}}}`)
	f = read(t, c)
	require.Nil(t, f.Error)
	assert.Equal(t, uint64(9), f.ID)
}

func TestOversizedFrameClosesOnlyThatConnection(t *testing.T) {
	srv, _ := newServer(t, Config{})
	big := loggedIn(t, srv, "big")
	other := loggedIn(t, srv, "other")
	send(t, big, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"`+strings.Repeat("a", protocol.MaxFrameBytes)+`"}}}`)
	ce := closed(t, big)
	assert.Equal(t, websocket.StatusMessageTooBig, ce.Code)

	send(t, other, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"fine"}}}`)
	assert.Nil(t, read(t, other).Error)
}

func TestRateLimit(t *testing.T) {
	srv, _ := newServer(t, Config{RequestsPerSecond: 1, RequestBurst: 3})
	c := loggedIn(t, srv, "u")
	codes := map[protocol.Code]int{}
	for i := range 6 {
		send(t, c, `{"id":`+itoa(protocol.Code(i+2))+`,"op":"queryRoomOnlineMemberCount","data":{"roomID":"r"}}`)
	}
	for range 6 {
		f := read(t, c)
		require.NotNil(t, f.Error)
		codes[f.Error.Code]++
	}
	assert.Equal(t, 3, codes[protocol.CodeNotInRoom])
	assert.Equal(t, 3, codes[protocol.CodeRateLimited])
}

func TestMemberEventsAndDisconnectLeaves(t *testing.T) {
	srv, g := newServer(t, Config{ResumeGrace: -1})
	a := loggedIn(t, srv, "a")
	b := loggedIn(t, srv, "b")
	send(t, a, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)
	require.Nil(t, read(t, a).Error)
	send(t, b, `{"id":2,"op":"joinRoom","data":{"roomID":"r"}}`)
	require.Nil(t, read(t, b).Error)
	f := read(t, a)
	assert.Equal(t, protocol.EventRoomMemberJoined, f.Event)
	assert.JSONEq(t, `{"roomID":"r","memberList":[{"userID":"b","userName":"b","role":"participant"}]}`, string(f.Data), "an empty user name shows as the user ID")

	b.CloseNow()
	f = read(t, a)
	assert.Equal(t, protocol.EventRoomMemberLeft, f.Event)
	assert.Eventually(t, func() bool { return g.SessionCount() == 1 }, 5*time.Second, 10*time.Millisecond)
}

func TestLogoutLeavesAndCloses(t *testing.T) {
	srv, _ := newServer(t, Config{})
	a := loggedIn(t, srv, "a")
	b := loggedIn(t, srv, "b")
	send(t, a, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)
	require.Nil(t, read(t, a).Error)
	send(t, b, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)
	require.Nil(t, read(t, b).Error)
	read(t, a) // b joined
	send(t, b, `{"id":3,"op":"logout","data":{}}`)
	f := read(t, b)
	assert.JSONEq(t, `{"roomIDs":["r"]}`, string(f.Data))
	assert.Equal(t, websocket.StatusNormalClosure, closed(t, b).Code)
	assert.Equal(t, protocol.EventRoomMemberLeft, read(t, a).Event)
}

func TestTokenExpiryWarnsThenCloses(t *testing.T) {
	srv, _ := newServer(t, Config{TokenWarning: 1500 * time.Millisecond})
	c := dial(t, srv)
	send(t, c, loginFrame(tokenFor(t, "u", 3*time.Second), protocol.Version))
	require.Nil(t, read(t, c).Error)
	f := read(t, c)
	assert.Equal(t, protocol.EventTokenWillExpire, f.Event)
	ce := closed(t, c)
	assert.Contains(t, ce.Reason, "6000106")
}

func TestRenewTokenKeepsTheConnection(t *testing.T) {
	srv, _ := newServer(t, Config{TokenWarning: time.Second})
	c := dial(t, srv)
	send(t, c, loginFrame(tokenFor(t, "u", 2*time.Second), protocol.Version))
	require.Nil(t, read(t, c).Error)
	other, _ := json.Marshal(map[string]any{"id": 2, "op": "renewToken", "data": map[string]string{"token": tokenFor(t, "someone-else", time.Hour)}})
	send(t, c, string(other))
	f := reply(t, c, 2)
	require.NotNil(t, f.Error)
	assert.Contains(t, f.Error.Message, "this connection is app")
	renew, _ := json.Marshal(map[string]any{"id": 3, "op": "renewToken", "data": map[string]string{"token": tokenFor(t, "u", time.Hour)}})
	send(t, c, string(renew))
	f = reply(t, c, 3)
	require.Nil(t, f.Error)
	time.Sleep(2500 * time.Millisecond)
	send(t, c, `{"id":4,"op":"enterRoom","data":{"roomInfo":{"roomID":"still"}}}`)
	f = reply(t, c, 4)
	assert.Nil(t, f.Error, "the renewed token kept the connection open past the old expiry")
}

func TestShutdownTellsClients(t *testing.T) {
	srv, g := newServer(t, Config{})
	c := loggedIn(t, srv, "u")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	go func() { _ = g.Shutdown(ctx) }()
	ce := closed(t, c)
	assert.Equal(t, websocket.StatusServiceRestart, ce.Code)
	assert.Contains(t, ce.Reason, "6100007 server shutting down")
}

func TestOutboxRefusesPastItsLimit(t *testing.T) {
	o := newOutbox(10)
	ok, start := o.push([]byte("12345"))
	assert.True(t, ok)
	assert.True(t, start, "the first frame starts a writer")
	ok, start = o.push([]byte("12345"))
	assert.True(t, ok)
	assert.False(t, start, "one writer at a time")
	ok, _ = o.push([]byte("1"))
	assert.False(t, ok, "over the limit")
	ok, _ = o.push([]byte("1"))
	assert.False(t, ok, "stays refused once full")
	frames, _ := o.next()
	assert.Empty(t, frames, "a full outbox drops what it held: the connection is closing")

	o = newOutbox(10)
	ok, _ = o.push([]byte("a frame longer than the limit"))
	assert.True(t, ok, "an empty outbox takes any one frame")
	ok, _ = o.push([]byte("1"))
	assert.False(t, ok, "but nothing after it")
}

// The writer runs only while there is something to write: it stops when
// the queue is empty, the next push starts one again, and a close asked
// for comes after what was queued.
func TestOutboxWriterTurns(t *testing.T) {
	o := newOutbox(100)
	_, start := o.push([]byte("a"))
	require.True(t, start)
	frames, req := o.next()
	assert.Equal(t, [][]byte{[]byte("a")}, frames)
	assert.Nil(t, req)
	frames, req = o.next()
	assert.Nil(t, frames, "empty: the writer stops")
	assert.Nil(t, req)
	_, start = o.push([]byte("b"))
	assert.True(t, start, "and the next push starts one")
	assert.False(t, o.closeWhenWritten(closeRequest{status: websocket.StatusNormalClosure}), "the running writer will close")
	frames, _ = o.next()
	assert.Equal(t, [][]byte{[]byte("b")}, frames, "what was queued first")
	_, req = o.next()
	require.NotNil(t, req, "then the close")
	assert.Equal(t, websocket.StatusNormalClosure, req.status)
	_, start = o.push([]byte("c"))
	assert.False(t, start, "nothing is written after the close")
}

func TestMessageRateLimit(t *testing.T) {
	srv, _ := newServer(t, Config{MessagesPerSecond: 1, MessageBurst: 2})
	c := loggedIn(t, srv, "u")
	send(t, c, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)
	require.Nil(t, reply(t, c, 2).Error)
	codes := map[protocol.Code]int{}
	for i := range 4 {
		id := uint64(10 + i)
		send(t, c, `{"id":`+itoa(protocol.Code(id))+`,"op":"sendRoomMessage","data":{"roomID":"r","message":{"type":1,"message":"hi"}}}`)
		if f := reply(t, c, id); f.Error != nil {
			codes[f.Error.Code]++
		} else {
			codes[0]++
		}
	}
	assert.Equal(t, map[protocol.Code]int{0: 2, protocol.CodeMessageRateLimited: 2}, codes)
}
