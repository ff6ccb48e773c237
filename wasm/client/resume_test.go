//go:build !js

package client

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/netfault"
	"roomkit/server/protocol"
)

// cuttableTransport dials natively and can drop the current connection,
// as a network failure would.
type cuttableTransport struct {
	mu   sync.Mutex
	last Conn
}

func (t *cuttableTransport) Dial(ctx context.Context, url string) (Conn, error) {
	c, err := DefaultTransport().Dial(ctx, url)
	t.mu.Lock()
	t.last = c
	t.mu.Unlock()
	return c, err
}

func (t *cuttableTransport) cut() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.last.(*nativeConn).c.CloseNow()
}

func sendText(t *testing.T, c *Client, room, text string) {
	t.Helper()
	b, _ := json.Marshal(text)
	_, err := c.SendRoomMessage(context.Background(), protocol.SendMessageRequest{RoomID: room, Message: protocol.Message{Type: protocol.MessageTypeText, Message: b}})
	require.NoError(t, err)
}

func TestReconnectResumesWithoutLeaving(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	tr := &cuttableTransport{}
	rb := &recorder{}
	bob, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Transport: tr, OnEvent: rb.on, ReconnectMin: 100 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	require.NoError(t, err)
	defer bob.Logout(ctx)
	_, err = alice.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	ra.waitFor(t, "roomMemberJoined r bob")
	rb.take()

	tr.cut()
	rb.waitFor(t, "room r 1 1")
	sendText(t, alice, "r", "while you were away")
	rb.waitFor(t, "conn 2 0", "room r 2 0", "receiveRoomMessage r ")
	for _, e := range ra.take() {
		assert.NotContains(t, e, "roomMemberLeft", "alice never saw bob leave")
	}
	n, err := alice.QueryRoomOnlineMemberCount(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

func TestSuspendAndResumeInANewClient(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	bob, rb := login(t, srv, "bob")
	_, err := alice.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	sendText(t, alice, "r", "one")
	rb.waitFor(t, "receiveRoomMessage r ")

	ra.waitFor(t, "roomMemberJoined r bob")
	state := bob.Suspend() // the page reloads
	assert.Equal(t, uint64(2), state.Received, "frames handled: the enterRoom reply, then the message")
	sendText(t, alice, "r", "two")
	sendText(t, alice, "r", "three")

	var mu sync.Mutex
	var texts []string
	rb2 := &recorder{}
	bob2, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Resume: &state, OnEvent: func(e Event) {
		rb2.on(e)
		if e.Name == protocol.EventReceiveRoomMessage {
			var ev struct{ MessageList []protocol.Message }
			_ = e.Decode(&ev)
			mu.Lock()
			for _, m := range ev.MessageList {
				var s string
				_ = json.Unmarshal(m.Message, &s)
				texts = append(texts, s)
			}
			mu.Unlock()
		}
	}})
	require.NoError(t, err)
	defer bob2.Logout(ctx)
	assert.True(t, bob2.Session().Resumed)
	assert.Equal(t, []string{"r"}, bob2.Rooms())
	rb2.waitFor(t, "room r 2 0")
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(texts) == 2 }, 5*time.Second, 10*time.Millisecond)
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	assert.Equal(t, []string{"two", "three"}, texts, "the missed messages, once each")
	mu.Unlock()
	for _, e := range ra.take() {
		assert.NotContains(t, e, "roomMemberLeft")
		assert.NotContains(t, e, "roomMemberJoined r bob")
	}
}

// recordingTransport dials natively and keeps the IDs of the requests
// the client writes.
type recordingTransport struct {
	mu  sync.Mutex
	ids []uint64
}

func (t *recordingTransport) Dial(ctx context.Context, url string) (Conn, error) {
	c, err := DefaultTransport().Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	return recordingConn{Conn: c, t: t}, nil
}

func (t *recordingTransport) sent() []uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.ids)
}

type recordingConn struct {
	Conn
	t *recordingTransport
}

func (c recordingConn) Write(ctx context.Context, b []byte) error {
	var f protocol.Frame
	_ = json.Unmarshal(b, &f)
	if f.Op != protocol.OpLogin {
		c.t.mu.Lock()
		c.t.ids = append(c.t.ids, f.ID)
		c.t.mu.Unlock()
	}
	return c.Conn.Write(ctx, b)
}

// A new page resuming a session gets the replies the old page had not
// handled sent again; its own requests take IDs past them, so no old
// reply answers a new request.
func TestResumedClientRequestIDsFollowTheOldOnes(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	old := &recordingTransport{}
	bob, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Transport: old})
	require.NoError(t, err)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	for range 3 {
		_, err = bob.QueryRoomOnlineMemberCount(ctx, "r")
		require.NoError(t, err)
	}
	state := bob.Suspend() // no event handled: every reply is sent again
	assert.Equal(t, uint64(0), state.Received)

	fresh := &recordingTransport{}
	bob2, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Resume: &state, Transport: fresh})
	require.NoError(t, err)
	defer bob2.Logout(ctx)
	require.True(t, bob2.Session().Resumed)
	for range 4 {
		n, err := bob2.QueryRoomOnlineMemberCount(ctx, "r")
		require.NoError(t, err)
		assert.Equal(t, 1, n)
	}
	oldIDs, newIDs := old.sent(), fresh.sent()
	require.NotEmpty(t, newIDs)
	assert.Greater(t, newIDs[0], slices.Max(oldIDs), "old %v, new %v", oldIDs, newIDs)
}

// A client whose network vanishes without a word notices by its own
// heartbeat, reports the rooms as interrupted, reconnects and resumes
// its session: the others see nothing.
func TestHeartbeatNoticesAVanishedServer(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	proxy, err := netfault.New(srv.Addr())
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	ctx := context.Background()
	alice, ra := login(t, srv, "alice")
	rb := &recorder{}
	bob, err := Login(ctx, Config{URL: "ws://" + proxy.Addr() + "/ws", Token: token(t, "bob", time.Hour), OnEvent: rb.on,
		PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond, ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond})
	require.NoError(t, err)
	defer bob.Logout(ctx)
	_, err = alice.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)
	ra.waitFor(t, "roomMemberJoined r bob")
	rb.take()

	proxy.Blackhole()
	rb.waitFor(t, "room r 1 1", "conn 3 3", "conn 2 0", "room r 2 0")
	for _, e := range ra.take() {
		assert.NotContains(t, e, "roomMemberLeft", "alice never saw bob leave")
	}
	sendText(t, alice, "r", "you are back")
	rb.waitFor(t, "receiveRoomMessage r ")
}

// A reconnect the server cannot resume (here it restarted without its
// state) ends, for the client, every call it was in, with a reason: no
// event from the server could say so.
func TestCallsEndWhenTheSessionIsLost(t *testing.T) {
	first := startServer(t, "127.0.0.1:0", nil)
	second := startServer(t, "127.0.0.1:0", nil)
	proxy, err := netfault.New(first.Addr())
	require.NoError(t, err)
	t.Cleanup(proxy.Close)
	ctx := context.Background()
	ended := make(chan protocol.CallStateEvent, 10)
	connect := func(user string) *Client {
		c, err := Login(ctx, Config{URL: "ws://" + proxy.Addr() + "/ws", Token: token(t, user, time.Hour), ReconnectMin: 50 * time.Millisecond, ReconnectMax: 100 * time.Millisecond,
			OnEvent: func(e Event) {
				var ev protocol.CallStateEvent
				if e.Name == protocol.EventCallStateChanged && e.Decode(&ev) == nil && ev.Call.Ended {
					ended <- ev
				}
			}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Logout(ctx) })
		return c
	}
	ann, ben := connect("ann"), connect("ben")
	inv, err := ann.CallInvite(ctx, protocol.CallInviteRequest{Callees: []protocol.Callee{{UserID: "ben"}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		_, err := ben.CallAccept(ctx, protocol.CallIDRequest{CallID: inv.CallID})
		return err == nil
	}, 5*time.Second, 20*time.Millisecond)

	proxy.Retarget(second.Addr())
	proxy.Cut()
	got := map[string]string{}
	for range 2 {
		select {
		case ev := <-ended:
			require.Len(t, ev.Changed, 1)
			assert.Equal(t, inv.CallID, ev.Call.CallID)
			assert.Equal(t, protocol.CallReasonDisconnected, ev.Call.Reason)
			assert.Equal(t, protocol.CallStateQuit, ev.Changed[0].State)
			got[ev.Changed[0].UserID] = ev.Changed[0].Reason
		case <-time.After(10 * time.Second):
			t.Fatal("a party was never told the call ended")
		}
	}
	assert.Equal(t, map[string]string{"ann": "Disconnected", "ben": "Disconnected"}, got)
}

// gatedTransport dials natively and holds the first write of an op until
// release is closed, as a slow goroutine of the application would.
type gatedTransport struct {
	cuttableTransport
	op      string
	held    chan struct{} // closed once the write is being held
	release chan struct{}
	once    sync.Once
}

func (t *gatedTransport) Dial(ctx context.Context, url string) (Conn, error) {
	c, err := t.cuttableTransport.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	return gatedConn{Conn: c, t: t}, nil
}

type gatedConn struct {
	Conn
	t *gatedTransport
}

func (c gatedConn) Write(ctx context.Context, b []byte) error {
	var f protocol.Frame
	_ = json.Unmarshal(b, &f)
	if f.Op == c.t.op {
		c.t.once.Do(func() {
			close(c.t.held)
			<-c.t.release
		})
	}
	return c.Conn.Write(ctx, b)
}

// Two requests made at once reach the server in the order of their IDs,
// even when the first one's write is slow: were the second read first and
// the connection lost before the first, the resumed session's last read ID
// would hide the first, and it would wait for a reply that never comes.
func TestRequestsReachTheServerInTheOrderOfTheirIDs(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	tr := &gatedTransport{op: protocol.OpSetRoomAttributes, held: make(chan struct{}), release: make(chan struct{})}
	bob, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Transport: tr,
		RequestTimeout: 3 * time.Second, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	require.NoError(t, err)
	defer bob.Logout(ctx)
	_, err = bob.EnterRoom(ctx, info("r"), nil)
	require.NoError(t, err)

	first := make(chan error, 1)
	go func() {
		_, err := bob.SetRoomAttributes(ctx, protocol.SetAttributesRequest{RoomID: "r", Attributes: map[string]string{"k": "v"}})
		first <- err
	}()
	<-tr.held
	second := make(chan error, 1)
	go func() {
		_, err := bob.QueryRoomOnlineMemberCount(ctx, "r")
		second <- err
	}()
	time.Sleep(200 * time.Millisecond) // room for the second to overtake the first, were it allowed to
	tr.cut()
	close(tr.release)

	require.NoError(t, <-first, "the first request is answered after the resume")
	if err := <-second; err != nil {
		assert.Equal(t, int(protocol.CodeNetworkError), codeOf(err), "the second is answered or told the connection dropped: %v", err)
	}
	attrs, err := bob.QueryRoomAllAttributes(ctx, "r")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, attrs.RoomAttributes)
}

// heldReadTransport dials natively; the first connection's reads can be held
// after they return, as a busy page's may be.
type heldReadTransport struct {
	cuttableTransport
	dials int
	gate  chan struct{} // closed: reads pass; nil: never held
}

type heldReadConn struct {
	Conn
	t *heldReadTransport
}

func (c heldReadConn) Read(ctx context.Context) ([]byte, error) {
	b, err := c.Conn.Read(ctx)
	c.t.mu.Lock()
	gate := c.t.gate
	c.t.mu.Unlock()
	if gate != nil {
		<-gate
	}
	return b, err
}

func (t *heldReadTransport) Dial(ctx context.Context, url string) (Conn, error) {
	c, err := t.cuttableTransport.Dial(ctx, url)
	if err != nil {
		return nil, err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dials++; t.dials == 1 {
		return heldReadConn{Conn: c, t: t}, nil
	}
	return c, nil
}

func (t *heldReadTransport) hold() chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gate = make(chan struct{})
	return t.gate
}

// A connection given up for an unanswered heartbeat may still hand over a
// frame it had read: the frame is the old connection's, already sent again
// on the resumed one, and must neither reach the application twice nor
// count towards the next resume (the server would refuse a count past what
// it sent).
func TestAFrameReadOnADroppedConnectionIsNotCounted(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, _ := login(t, srv, "alice")
	tr := &heldReadTransport{}
	rb := &recorder{}
	bob, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, "bob", time.Hour), Transport: tr, OnEvent: rb.on,
		ReconnectMin: 20 * time.Millisecond, ReconnectMax: 20 * time.Millisecond, PingInterval: 100 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	defer bob.Logout(ctx)
	for _, c := range []*Client{alice, bob} {
		_, err = c.EnterRoom(ctx, info("r"), nil)
		require.NoError(t, err)
	}
	session := bob.Session().SessionID
	gate := tr.hold()
	sendText(t, alice, "r", "held")
	// The first connection holds the message; the heartbeat gives it up,
	// and the resumed connection brings the message again.
	rb.waitFor(t, "conn 3 3", "conn 2 0", "receiveRoomMessage r ")
	close(gate)
	time.Sleep(200 * time.Millisecond)
	n := 0
	for _, e := range rb.take() {
		if strings.HasPrefix(e, "receiveRoomMessage") {
			n++
		}
	}
	assert.Equal(t, 0, n, "the held copy of the message is not handed over again")

	tr.mu.Lock()
	tr.gate = nil
	tr.mu.Unlock()
	tr.cut()
	rb.waitFor(t, "conn 3 3", "conn 2 0")
	assert.Equal(t, session, bob.Session().SessionID, "the session is resumed after the next cut")
	assert.True(t, bob.Session().Resumed, "resumed: %s", bob.Session().ResumeError)
}
