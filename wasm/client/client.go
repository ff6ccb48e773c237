// Package client is roomkit's client core: one connection to the server,
// login, request/reply correlation with per-request timeouts, event
// dispatch, a state machine per room, and reconnection with backoff that
// rejoins the rooms. It is plain Go that builds natively (tests, the load
// generator) and for js/wasm (the browser bundle); only the transport
// differs.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"time"

	"roomkit/server/protocol"
)

// Config configures a Client. Zero durations take the defaults named.
type Config struct {
	URL            string        // ws:// or wss:// address of the server's /ws
	Token          string        // the JWT to log in with
	Transport      Transport     // nil: DefaultTransport()
	RequestTimeout time.Duration // 0 = 10 s
	ReconnectMin   time.Duration // first backoff; 0 = 250 ms
	ReconnectMax   time.Duration // backoff cap; 0 = 5 s
	ReconnectFor   time.Duration // give up after trying this long; 0 = 2 min
	// PingInterval is how often the client checks that the server still
	// answers; a ping unanswered within PingTimeout means the connection
	// is dead (the network went away without a word), and the client
	// reconnects. 0 = 10 s each.
	PingInterval time.Duration
	PingTimeout  time.Duration
	OnEvent      func(Event) // called on one goroutine, in order
	// Resume takes back a session suspended by an earlier page (Suspend),
	// rooms and all, with the events it missed. When the server cannot
	// resume it, Login still succeeds, in no rooms (Session().ResumeError
	// says why).
	Resume *protocol.ResumeRequest
}

// Client is a logged-in connection. Its methods are safe for concurrent use.
type Client struct {
	cfg    Config
	events *eventQueue

	mu         sync.Mutex
	conn       Conn // nil while disconnected
	session    protocol.LoginReply
	framesRead uint64 // frames read on this session after its login reply, for resuming it
	nextID     uint64 // request IDs grow for the client's life, so a resumed session tells them apart
	pending    map[uint64]*pendingRequest
	rooms      map[string]*roomEntry        // joined rooms and rooms being joined
	calls      map[string]protocol.CallInfo // calls this session is part of, as last told
	batches    map[string]*attributesBatch  // open attribute batches by room
	lastRoom   string                       // the room most recently joined
	closed     bool                         // logged out: never reconnect
	loopDone   chan struct{}                // closed when the connection's loop has ended

	// sendTurn is held (a token in it) while a request is numbered and
	// written, and while a resumed connection's unread requests are sent
	// again: frames reach a connection in the order of their IDs, so the
	// server's last read ID tells exactly which it never read. Taken
	// before mu.
	sendTurn chan struct{}
}

// roomEntry is the client's view of one room.
type roomEntry struct {
	info  protocol.RoomInfo
	state int  // protocol.RoomState*
	busy  bool // an operation on the room is under way
}

// Login connects, logs in with cfg.Token and returns the client. It fails
// with the server's error (token codes, version) or CodeNetworkError.
func Login(ctx context.Context, cfg Config) (*Client, error) {
	if cfg.Transport == nil {
		cfg.Transport = DefaultTransport()
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&cfg.RequestTimeout, 10*time.Second)
	def(&cfg.ReconnectMin, 250*time.Millisecond)
	def(&cfg.ReconnectMax, 5*time.Second)
	def(&cfg.ReconnectFor, 2*time.Minute)
	def(&cfg.PingInterval, 10*time.Second)
	def(&cfg.PingTimeout, 10*time.Second)
	c := &Client{cfg: cfg, events: newEventQueue(cfg.OnEvent), pending: map[uint64]*pendingRequest{}, rooms: map[string]*roomEntry{}, calls: map[string]protocol.CallInfo{}, batches: map[string]*attributesBatch{}, sendTurn: make(chan struct{}, 1)}
	c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateConnecting, Event: protocol.ConnEventActiveLogin})
	if err := c.connect(ctx, cfg.Resume); err != nil {
		ev := protocol.ConnEventLoginInterrupted
		if isTokenError(err) {
			ev = protocol.ConnEventTokenExpired
		}
		c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateDisconnected, Event: ev, ExtendedData: err.Error()})
		c.events.stop()
		return nil, err
	}
	return c, nil
}

// Session returns what the server said at login.
func (c *Client) Session() protocol.LoginReply {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session
}

// connect dials, logs in (resuming the session resume names, if any) and
// starts the read loop.
func (c *Client) connect(ctx context.Context, resume *protocol.ResumeRequest) error {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	conn, err := c.cfg.Transport.Dial(ctx, c.cfg.URL)
	if err != nil {
		return protocol.Errorf(protocol.CodeNetworkError, "cannot reach the server at %s: %v", c.cfg.URL, err)
	}
	c.mu.Lock()
	token := c.cfg.Token
	c.mu.Unlock()
	data, _ := protocol.Marshal(protocol.LoginRequest{Token: token, Version: protocol.Version, Resume: resume})
	frame, _ := protocol.Marshal(protocol.Frame{ID: 1, Op: protocol.OpLogin, Data: data})
	if err := conn.Write(ctx, frame); err != nil {
		conn.Close()
		return protocol.Errorf(protocol.CodeNetworkError, "login: %v", err)
	}
	b, err := conn.Read(ctx)
	if err != nil {
		conn.Close()
		if code := closeCode(err); code != 0 {
			var ce *CloseError
			errors.As(err, &ce)
			return protocol.Errorf(protocol.Code(code), "%s", ce.Message)
		}
		if ctx.Err() != nil {
			return protocol.Errorf(protocol.CodeRequestTimeout, "login: no answer from the server within %s", c.cfg.RequestTimeout)
		}
		return protocol.Errorf(protocol.CodeNetworkError, "login: %v", err)
	}
	// The login reply may share its message with the frames that follow
	// it (a resumed session's missed events): the read loop takes those.
	b, rest, _ := bytes.Cut(b, []byte{protocol.FrameSeparator})
	var reply protocol.Frame
	if err := json.Unmarshal(b, &reply); err != nil {
		conn.Close()
		return protocol.Errorf(protocol.CodeFailed, "login: unreadable reply: %v", err)
	}
	if reply.Error != nil {
		conn.Close()
		return reply.Error
	}
	var session protocol.LoginReply
	if err := json.Unmarshal(reply.Data, &session); err != nil {
		conn.Close()
		return protocol.Errorf(protocol.CodeFailed, "login: unreadable reply: %v", err)
	}
	// No request is numbered or written from here until the requests the
	// server never read are sent again, ahead of any new one.
	select {
	case c.sendTurn <- struct{}{}:
	case <-ctx.Done():
		conn.Close()
		return protocol.Errorf(protocol.CodeRequestTimeout, "login: a request being written held the connection for %s", c.cfg.RequestTimeout)
	}
	defer func() { <-c.sendTurn }()
	done := make(chan struct{})
	var resend [][]byte
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		conn.Close()
		return protocol.Errorf(protocol.CodeNotLoggedIn, "logged out")
	}
	c.conn, c.session, c.loopDone = conn, session, done
	// The application hears it is connected, and which rooms it is in,
	// before any frame the server sends on this connection: a resumed
	// session's missed events follow the state they belong to.
	c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateConnected, Event: protocol.ConnEventSuccess})
	switch {
	case session.Resumed && resume != nil:
		if c.framesRead == 0 { // a new client resuming a suspended session
			c.events.lastHandled.Store(resume.Received)
		}
		c.framesRead = resume.Received
		// The replies sent again belong to IDs up to the server's last:
		// new requests must not be taken for them (a new page resuming
		// starts with no IDs of its own).
		c.nextID = max(c.nextID, session.LastRequestID)
		// The server kept our places: nobody saw us leave, and the events
		// we missed follow.
		c.reconcileLocked(session.Rooms)
		resend = c.unreadLocked(session.LastRequestID)
	default:
		c.framesRead = 0
		c.failPendingLocked(protocol.Errorf(protocol.CodeNetworkError, "the connection dropped before the reply, and the session could not be resumed (%s); the request may or may not have been served", session.ResumeError))
	}
	c.mu.Unlock()
	go c.readLoop(conn, done, rest)
	go c.heartbeat(conn, done)
	for _, f := range resend {
		// A failed write is the next lost connection: the requests stay
		// pending and the next resume sorts them out.
		if conn.Write(ctx, f) != nil {
			break
		}
	}
	return nil
}

// heartbeat pings the server every PingInterval while conn is the
// client's connection. An unanswered ping means the connection is dead
// even though nothing said so: it is dropped and the client reconnects.
func (c *Client) heartbeat(conn Conn, done <-chan struct{}) {
	t := time.NewTicker(c.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PingTimeout)
		err := c.request(ctx, protocol.OpPing, struct{}{}, nil)
		cancel()
		if err != nil && protocol.Code(codeOf(err)) == protocol.CodeRequestTimeout {
			c.connectionLost(conn, &CloseError{Status: 1006, Message: fmt.Sprintf("the server did not answer a heartbeat within %s", c.cfg.PingTimeout)})
			go conn.Close()
			return
		}
	}
}

// readLoop routes replies to their requests and events to the queue until
// the connection ends, then hands over to reconnection. One message may
// carry several frames (protocol.SplitFrames); first holds those that came
// in the login reply's message.
func (c *Client) readLoop(conn Conn, done chan struct{}, first []byte) {
	defer close(done)
	for frame := range protocol.SplitFrames(first) {
		c.handleFrame(conn, frame)
	}
	for {
		b, err := conn.Read(context.Background())
		if err != nil {
			c.connectionLost(conn, err)
			return
		}
		for frame := range protocol.SplitFrames(b) {
			c.handleFrame(conn, frame)
		}
	}
}

// handleFrame routes one frame read on conn from the server: a reply to
// its request, an event to the queue. A frame read on a connection the
// client has already given up (a heartbeat went unanswered while the read
// was under way) is dropped: the server sends it again on the resumed
// connection, and counting it would ask the next resume for more frames
// than the server sent.
func (c *Client) handleFrame(conn Conn, b []byte) {
	f, err := protocol.DecodeServerFrame(b)
	if err != nil {
		c.mu.Lock()
		if c.conn == conn {
			c.framesRead++
		}
		c.mu.Unlock()
		return
	}
	if f.Event != "" {
		c.handleEvent(conn, f)
		return
	}
	c.mu.Lock()
	if c.conn != conn {
		c.mu.Unlock()
		return
	}
	c.framesRead++
	p := c.pending[f.ID]
	delete(c.pending, f.ID)
	c.mu.Unlock()
	if p != nil {
		p.reply <- f
	}
}

// handleEvent updates room state for server-side removals and passes every
// event on.
func (c *Client) handleEvent(conn Conn, f protocol.Frame) {
	if f.Event == protocol.EventRoomStateChanged {
		var ev protocol.RoomStateEvent
		if json.Unmarshal(f.Data, &ev) == nil && ev.State == protocol.RoomStateDisconnected {
			c.mu.Lock()
			if c.conn != conn {
				c.mu.Unlock()
				return
			}
			c.framesRead++
			delete(c.rooms, ev.RoomID)
			c.events.pushServer(f.Event, f.Data, c.framesRead)
			c.mu.Unlock()
			return
		}
	}
	c.mu.Lock()
	if c.conn != conn {
		c.mu.Unlock()
		return
	}
	c.framesRead++
	c.trackCallLocked(f)
	c.events.pushServer(f.Event, f.Data, c.framesRead)
	c.mu.Unlock()
}

// pendingRequest is a request waiting for its reply. It outlives a lost
// connection: once the session is resumed, its reply comes with what was
// missed, or, if the server never read it, it is sent again.
type pendingRequest struct {
	frame []byte
	reply chan protocol.Frame // cap 1
}

// unreadLocked returns, in ID order, the frames of the pending requests a
// resumed session's server never read (their IDs are past its last), to be
// sent again; the replies of the others are among the frames it sends
// again. Caller holds c.mu.
func (c *Client) unreadLocked(lastRead uint64) [][]byte {
	ids := make([]uint64, 0, len(c.pending))
	for id := range c.pending {
		if id > lastRead {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	frames := make([][]byte, len(ids))
	for i, id := range ids {
		frames[i] = c.pending[id].frame
	}
	return frames
}

// request sends op with data and waits for its reply, decoding the result
// into out (when not nil).
func (c *Client) request(ctx context.Context, op string, data, out any) error {
	raw, err := protocol.Marshal(data)
	if err != nil {
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s: %v", op, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.RequestTimeout)
	defer cancel()
	select {
	case c.sendTurn <- struct{}{}:
	case <-ctx.Done():
		return c.requestDone(op, ctx)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		<-c.sendTurn
		return protocol.Errorf(protocol.CodeNotLoggedIn, "not logged in; call login first")
	}
	conn := c.conn
	if conn == nil {
		c.mu.Unlock()
		<-c.sendTurn
		return protocol.Errorf(protocol.CodeNetworkError, "%s: the connection is down and reconnecting; try again when connectionStateChanged reports Connected", op)
	}
	c.nextID++
	id := c.nextID
	frame, _ := protocol.Marshal(protocol.Frame{ID: id, Op: op, Data: raw})
	if len(frame) > protocol.MaxFrameBytes {
		c.mu.Unlock()
		<-c.sendTurn
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s: the request is %d bytes; at most %d are allowed", op, len(frame), protocol.MaxFrameBytes)
	}
	p := &pendingRequest{frame: frame, reply: make(chan protocol.Frame, 1)}
	c.pending[id] = p
	c.mu.Unlock()
	// A failed write means the connection is being lost: the request stays
	// pending, and the resume decides whether it is sent again.
	_ = conn.Write(ctx, frame)
	<-c.sendTurn
	select {
	case f := <-p.reply:
		if f.Error != nil {
			return f.Error
		}
		if out != nil {
			if err := json.Unmarshal(f.Data, out); err != nil {
				return protocol.Errorf(protocol.CodeFailed, "%s: unreadable reply: %v", op, err)
			}
		}
		return nil
	case <-ctx.Done():
		c.forget(id)
		return c.requestDone(op, ctx)
	}
}

// requestDone is the error of a request whose context ended first.
func (c *Client) requestDone(op string, ctx context.Context) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return protocol.Errorf(protocol.CodeRequestTimeout, "%s: no reply within %s", op, c.cfg.RequestTimeout)
	}
	return protocol.Errorf(protocol.CodeFailed, "%s: %v", op, ctx.Err())
}

func (c *Client) forget(id uint64) {
	c.mu.Lock()
	delete(c.pending, id)
	c.mu.Unlock()
}

// failPending fails every request waiting on a reply. Caller holds c.mu.
func (c *Client) failPendingLocked(err *protocol.Error) {
	for id, p := range c.pending {
		p.reply <- protocol.Frame{ID: id, Error: err}
		delete(c.pending, id)
	}
}

// connectionLost runs when conn's read loop ends: unless the client logged
// out or the server refused it for good, it reports the rooms as
// interrupted and reconnects.
func (c *Client) connectionLost(conn Conn, err error) {
	c.mu.Lock()
	if c.conn != conn {
		c.mu.Unlock()
		return
	}
	c.conn = nil
	// Pending requests wait for the resume, which answers or resends them.
	if c.closed {
		c.mu.Unlock()
		return
	}
	code := protocol.Code(closeCode(err))
	if code == protocol.CodeTokenExpired || code == protocol.CodeTokenInvalid {
		c.giveUpLocked(protocol.ConnEventTokenExpired, err.Error())
		c.mu.Unlock()
		return
	}
	for _, id := range c.roomIDsLocked() {
		r := c.rooms[id]
		r.state = protocol.RoomStateConnecting
		c.pushRoomLocked(id, protocol.RoomStateConnecting, protocol.RoomEventNetworkInterrupted, err.Error())
	}
	c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateReconnecting, Event: protocol.ConnEventLoginInterrupted, ExtendedData: err.Error()})
	c.mu.Unlock()
	go c.reconnect()
}

// reconnect retries with exponential backoff and full jitter until it is
// back in, the client logs out, or ReconnectFor has passed.
func (c *Client) reconnect() {
	start := time.Now()
	backoff := c.cfg.ReconnectMin
	for attempt := 0; ; attempt++ {
		time.Sleep(backoff/2 + rand.N(backoff/2+1))
		backoff = min(backoff*2, c.cfg.ReconnectMax)
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return
		}
		c.mu.Lock()
		resume := &protocol.ResumeRequest{SessionID: c.session.SessionID, Key: c.session.ResumeKey, Received: c.framesRead}
		c.mu.Unlock()
		err := c.connect(context.Background(), resume)
		if err == nil {
			c.mu.Lock()
			resumed := c.session.Resumed
			if !resumed {
				c.endCallsLocked(protocol.CallReasonDisconnected)
			}
			c.mu.Unlock()
			if !resumed {
				c.rejoin()
			}
			return
		}
		if isTokenError(err) {
			c.mu.Lock()
			c.giveUpLocked(protocol.ConnEventTokenExpired, err.Error())
			c.mu.Unlock()
			return
		}
		if time.Since(start) > c.cfg.ReconnectFor {
			c.mu.Lock()
			c.giveUpLocked(protocol.ConnEventLoginInterrupted, err.Error())
			c.mu.Unlock()
			return
		}
	}
}

// reconcileLocked makes the client's rooms those the server says a
// resumed session is in. They differ when a join or leave was served but
// its reply was lost with the connection: the server's word stands, and
// the room's state says so. A room with an operation under way is left to
// that operation. Caller holds c.mu.
func (c *Client) reconcileLocked(server []protocol.RoomInfo) {
	in := make(map[string]protocol.RoomInfo, len(server))
	for _, info := range server {
		in[info.RoomID] = info
	}
	for _, id := range c.roomIDsLocked() {
		r := c.rooms[id]
		switch _, kept := in[id]; {
		case r.busy:
		case !kept: // a leave went through
			delete(c.rooms, id)
			c.pushRoomLocked(id, protocol.RoomStateDisconnected, protocol.RoomEventSuccess, "")
		default:
			r.state = protocol.RoomStateConnected
			c.pushRoomLocked(id, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
		}
	}
	for _, info := range server {
		if c.rooms[info.RoomID] == nil { // a join went through
			c.rooms[info.RoomID] = &roomEntry{info: info, state: protocol.RoomStateConnected}
			c.lastRoom = info.RoomID
			c.pushRoomLocked(info.RoomID, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
		}
	}
}

// rejoin enters every room the client was in before the drop. A room that
// ended meanwhile is made again (enter semantics), so a server restart puts
// everyone back where they were.
func (c *Client) rejoin() {
	c.mu.Lock()
	var infos []protocol.RoomInfo
	for _, id := range c.roomIDsLocked() {
		infos = append(infos, c.rooms[id].info)
	}
	c.mu.Unlock()
	for _, info := range infos {
		err := c.request(context.Background(), protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: info}, nil)
		c.mu.Lock()
		r := c.rooms[info.RoomID]
		switch {
		case r == nil:
		case err == nil || protocol.Code(codeOf(err)) == protocol.CodeAlreadyInRoom:
			r.state = protocol.RoomStateConnected
			c.pushRoomLocked(info.RoomID, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
		default:
			delete(c.rooms, info.RoomID)
			c.pushRoomLocked(info.RoomID, protocol.RoomStateDisconnected, protocol.RoomEventEnterFailed, err.Error())
		}
		c.mu.Unlock()
	}
}

// giveUpLocked reports every room and the connection as disconnected for
// good. Caller holds c.mu.
func (c *Client) giveUpLocked(connEvent int, reason string) {
	c.closed = true
	c.failPendingLocked(protocol.Errorf(protocol.CodeNetworkError, "the connection is lost for good (%s); the request may or may not have been served", reason))
	for _, id := range c.roomIDsLocked() {
		c.pushRoomLocked(id, protocol.RoomStateDisconnected, protocol.RoomEventNetworkDisconnected, reason)
	}
	c.rooms = map[string]*roomEntry{}
	c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateDisconnected, Event: connEvent, ExtendedData: reason})
	c.events.stop()
}

// Logout leaves every room, closes the connection and stops reconnecting.
func (c *Client) Logout(ctx context.Context) error {
	_ = c.request(ctx, protocol.OpLogout, struct{}{}, nil)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	conn, done := c.conn, c.loopDone
	c.conn = nil
	for _, id := range c.roomIDsLocked() {
		c.pushRoomLocked(id, protocol.RoomStateDisconnected, protocol.RoomEventSuccess, "")
	}
	c.rooms = map[string]*roomEntry{}
	c.failPendingLocked(protocol.Errorf(protocol.CodeNotLoggedIn, "logged out"))
	c.events.push(EventConnectionStateChanged, ConnectionStateChanged{State: protocol.ConnStateDisconnected, Event: protocol.ConnEventSuccess})
	c.events.stop()
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
		<-done
	}
	return nil
}

// LogoutNow ends the session at once without waiting for anything: it
// writes logout and closes the connection, so the others see this client
// leave straight away. It is for a page that is going away (pagehide),
// where nothing asynchronous runs any more; events stop.
func (c *Client) LogoutNow() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	conn := c.conn
	c.conn = nil
	c.nextID++
	frame, _ := protocol.Marshal(protocol.Frame{ID: c.nextID, Op: protocol.OpLogout, Data: json.RawMessage("{}")})
	c.failPendingLocked(protocol.Errorf(protocol.CodeNotLoggedIn, "logged out"))
	c.events.drop()
	c.mu.Unlock()
	if conn != nil {
		_ = conn.Write(context.Background(), frame)
		conn.Close()
	}
}

// Suspend stops the client without leaving its rooms, for a page that is
// going away (a reload): the server keeps the session's places for its
// grace period. It returns what a new Login needs in Config.Resume to take
// the session back, counting exactly the events already handed to OnEvent;
// queued ones are dropped, and the server sends them again.
func (c *Client) Suspend() protocol.ResumeRequest {
	c.mu.Lock()
	// Frames after the last event handed over are sent again: the events
	// among them reach the next page, and the replies find no one waiting.
	handled := c.events.drop()
	state := protocol.ResumeRequest{SessionID: c.session.SessionID, Key: c.session.ResumeKey, Received: min(handled, c.framesRead)}
	c.closed = true
	conn := c.conn
	c.conn = nil
	c.failPendingLocked(protocol.Errorf(protocol.CodeNotLoggedIn, "the client was suspended"))
	c.mu.Unlock()
	if conn != nil {
		conn.Close()
	}
	return state
}

// RenewToken swaps the connection's token for a fresh one; reconnects use it.
func (c *Client) RenewToken(ctx context.Context, token string) (protocol.RenewTokenReply, error) {
	var out protocol.RenewTokenReply
	if err := c.request(ctx, protocol.OpRenewToken, protocol.RenewTokenRequest{Token: token}, &out); err != nil {
		return out, err
	}
	c.mu.Lock()
	c.cfg.Token = token
	c.mu.Unlock()
	return out, nil
}

// Rooms returns the IDs of the rooms the client is in or joining, sorted.
func (c *Client) Rooms() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.roomIDsLocked()
}

// CurrentRoom returns the room most recently joined that the client is
// still in, or "".
func (c *Client) CurrentRoom() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.rooms[c.lastRoom]; r != nil && r.state == protocol.RoomStateConnected {
		return c.lastRoom
	}
	for _, id := range c.roomIDsLocked() {
		if c.rooms[id].state == protocol.RoomStateConnected {
			return id
		}
	}
	return ""
}

func (c *Client) roomIDsLocked() []string {
	ids := make([]string, 0, len(c.rooms))
	for id := range c.rooms {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

func (c *Client) pushRoomLocked(roomID string, state, event int, extended string) {
	c.events.push(EventRoomStateChanged, protocol.RoomStateEvent{RoomID: roomID, State: state, Event: event, ExtendedData: extended})
}

func isTokenError(err error) bool {
	code := protocol.Code(codeOf(err))
	return code == protocol.CodeTokenExpired || code == protocol.CodeTokenInvalid || code == protocol.CodeUnsupportedVersion
}

// codeOf returns the roomkit code of err, 1 for an error without one.
func codeOf(err error) int {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return int(pe.Code)
	}
	return int(protocol.CodeFailed)
}
