package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/protocol"
)

// session is one logged-in connection. Its read loop owns the rate limiter;
// mu guards the claims (renewToken swaps them while the engine reads them)
// and the token timers.
type session struct {
	g    *Gateway
	conn *websocket.Conn
	id   string
	out  *outbox

	msgLimit *tokenBucket // sendRoomMessage rate; used by the read loop only

	mu        sync.Mutex
	claims    *auth.Claims
	member    protocol.Member
	warnTimer *time.Timer
	expTimer  *time.Timer

	closeOnce sync.Once
	closeReq  chan closeRequest // to the writer: close once the queue is written
	done      chan struct{}     // closed when the session ends
}

type closeRequest struct {
	status websocket.StatusCode
	reason string
}

func newSession(g *Gateway, c *websocket.Conn) *session {
	return &session{
		g: g, conn: c, id: newSessionID(),
		out:      newOutbox(g.cfg.SendQueueBytes),
		closeReq: make(chan closeRequest, 1),
		done:     make(chan struct{}),
	}
}

// SessionID implements engine.Peer.
func (s *session) SessionID() string { return s.id }

// Member implements engine.Peer.
func (s *session) Member() protocol.Member {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.member
}

// AdmitsRoom implements engine.Peer.
func (s *session) AdmitsRoom(roomID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.claims.AdmitsRoom(roomID)
}

// Deliver implements engine.Peer: it queues frame, and closes the session
// as too slow when its queue is full.
func (s *session) Deliver(frame []byte) {
	if !s.out.push(frame) {
		s.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeSlowConsumer,
			"disconnected: the connection fell %d bytes behind", s.g.cfg.SendQueueBytes))
	}
}

// run logs the session in, then serves it until the connection ends.
func (s *session) run(ctx context.Context) {
	defer close(s.done)
	if !s.login(ctx) {
		return
	}
	if !s.g.add(s) {
		s.conn.Close(websocket.StatusServiceRestart, closeReason(protocol.Errorf(protocol.CodeServerShutdown, "server shutting down")))
		return
	}
	defer s.g.remove(s)

	ctx, cancel := context.WithCancel(ctx)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		s.writeLoop(ctx)
	}()
	s.readLoop(ctx)
	cancel()
	<-writerDone
	s.stopTimers()
	s.g.engine.LeaveAll(s)
	s.conn.CloseNow()
}

// login reads the first frame, which must be a login with a valid token and
// a protocol version this server speaks. On failure it replies with the
// error and closes the connection.
func (s *session) login(ctx context.Context) bool {
	// A timer, not a read deadline: cancelling a read drops the connection
	// without a close frame, and the client should learn why it was closed.
	timer := time.AfterFunc(s.g.cfg.LoginTimeout, func() {
		s.conn.Close(websocket.StatusPolicyViolation, closeReason(protocol.Errorf(protocol.CodeLoginTimeout, "no login within %s", s.g.cfg.LoginTimeout)))
	})
	typ, b, err := s.conn.Read(ctx)
	if !timer.Stop() || err != nil {
		s.conn.CloseNow()
		return false
	}
	f, perr := parseFrame(typ, b)
	if perr == nil && f.Op != protocol.OpLogin {
		perr = protocol.Errorf(protocol.CodeNotLoggedIn, "the first frame must be a login, not %q", f.Op)
	}
	var req protocol.LoginRequest
	if perr == nil {
		perr = decode(f, &req)
	}
	if perr == nil && req.Version != protocol.Version {
		perr = protocol.Errorf(protocol.CodeUnsupportedVersion, "protocol version %d is not supported; this server speaks version %d; update the roomkit client", req.Version, protocol.Version)
	}
	var claims *auth.Claims
	if perr == nil {
		claims, perr = s.g.verifier.Verify(req.Token)
	}
	if perr != nil {
		wctx, wcancel := context.WithTimeout(ctx, s.g.cfg.WriteTimeout)
		_ = s.conn.Write(wctx, websocket.MessageText, protocol.EncodeError(f.ID, perr))
		wcancel()
		s.conn.Close(websocket.StatusPolicyViolation, closeReason(perr))
		return false
	}
	s.mu.Lock()
	s.claims = claims // the timers are armed once the reply is queued, so it comes first
	s.mu.Unlock()
	reply, _ := protocol.EncodeReply(f.ID, protocol.LoginReply{
		SessionID: s.id, UserID: claims.UserID, UserName: displayName(claims),
		ExpiresAt: claims.ExpiresAt.Unix(), ServerVersion: protocol.Version,
	})
	s.out.push(reply)
	s.setClaims(claims)
	return true
}

// setClaims installs verified claims and (re)arms the token timers.
func (s *session) setClaims(c *auth.Claims) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.claims = c
	s.member = protocol.Member{UserID: c.UserID, UserName: displayName(c)}
	if s.warnTimer != nil {
		s.warnTimer.Stop()
		s.expTimer.Stop()
	}
	left := time.Until(c.ExpiresAt.Time)
	s.warnTimer = time.AfterFunc(max(0, left-s.g.cfg.TokenWarning), func() {
		ev, _ := protocol.EncodeEvent(protocol.EventTokenWillExpire, protocol.TokenWillExpireEvent{Second: int(time.Until(c.ExpiresAt.Time).Seconds())})
		s.Deliver(ev)
	})
	s.expTimer = time.AfterFunc(left, func() {
		s.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeTokenExpired, "the token expired; log in again with a new one"))
	})
}

// displayName is the name others see: the user name, or the ID when empty.
func displayName(c *auth.Claims) string {
	if c.UserName == "" {
		return c.UserID
	}
	return c.UserName
}

func (s *session) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.warnTimer.Stop()
	s.expTimer.Stop()
}

// readLoop reads and serves requests in order until the connection ends.
func (s *session) readLoop(ctx context.Context) {
	limit := newTokenBucket(s.g.cfg.RequestsPerSecond, s.g.cfg.RequestBurst, time.Now())
	s.msgLimit = newTokenBucket(s.g.cfg.MessagesPerSecond, s.g.cfg.MessageBurst, time.Now())
	for {
		typ, b, err := s.conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig {
				s.g.log.Info("closed a connection for an oversized frame", "session", s.id)
			}
			return
		}
		f, perr := parseFrame(typ, b)
		if perr == nil && !limit.allow(time.Now()) {
			perr = protocol.Errorf(protocol.CodeRateLimited, "too many requests: at most %g a second (bursts of %d) on one connection; slow down", s.g.cfg.RequestsPerSecond, s.g.cfg.RequestBurst)
		}
		if perr != nil {
			s.Deliver(protocol.EncodeError(f.ID, perr))
			continue
		}
		s.serve(f)
	}
}

// serve runs one request and queues its reply.
func (s *session) serve(f protocol.Frame) {
	var res any
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.g.log.Error("panic serving request", "op", f.Op, "panic", p)
				err = protocol.Errorf(protocol.CodeFailed, "internal error serving %s", f.Op)
			}
		}()
		res, err = s.dispatch(f)
	}()
	if err != nil {
		var pe *protocol.Error
		if !errors.As(err, &pe) {
			pe = protocol.Errorf(protocol.CodeFailed, "%s failed: %v", f.Op, err)
		}
		s.Deliver(protocol.EncodeError(f.ID, pe))
		return
	}
	reply, eerr := protocol.EncodeReply(f.ID, res)
	if eerr != nil {
		reply = protocol.EncodeError(f.ID, protocol.Errorf(protocol.CodeFailed, "%s: %v", f.Op, eerr))
	}
	s.Deliver(reply)
	if f.Op == protocol.OpLogout {
		s.closeAfterQueue(websocket.StatusNormalClosure, "logout")
	}
}

// writeLoop writes queued frames until ctx ends or a close is requested.
func (s *session) writeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.out.wake:
			if !s.writeQueued(ctx) {
				return
			}
		case req := <-s.closeReq:
			s.writeQueued(ctx)
			s.conn.Close(req.status, req.reason)
			return
		}
	}
}

func (s *session) writeQueued(ctx context.Context) bool {
	for _, frame := range s.out.take() {
		wctx, cancel := context.WithTimeout(ctx, s.g.cfg.WriteTimeout)
		err := s.conn.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			s.conn.CloseNow()
			return false
		}
	}
	return true
}

// close ends the session now with a reason the client can read: the code
// and message of e. It never blocks, so the engine may call it.
// A peer that does not read cannot take the close frame, so the connection
// is dropped outright if the close handshake has not finished within a
// second.
func (s *session) close(status websocket.StatusCode, e *protocol.Error) {
	s.closeOnce.Do(func() {
		go func() {
			drop := time.AfterFunc(time.Second, func() { s.conn.CloseNow() })
			defer drop.Stop()
			s.conn.Close(status, closeReason(e))
		}()
	})
}

// closeAfterQueue ends the session once what is queued has been written.
func (s *session) closeAfterQueue(status websocket.StatusCode, reason string) {
	s.closeOnce.Do(func() {
		s.closeReq <- closeRequest{status: status, reason: reason}
	})
}

// closeReason renders e as a close reason: "<code> <message>", cut to the
// 123 bytes a close frame carries.
func closeReason(e *protocol.Error) string {
	r := fmt.Sprintf("%d %s", e.Code, e.Message)
	for len(r) > 123 {
		_, size := utf8.DecodeLastRuneInString(r)
		r = r[:len(r)-size]
	}
	return r
}

// parseFrame checks a frame's type, encoding and shape.
func parseFrame(typ websocket.MessageType, b []byte) (protocol.Frame, *protocol.Error) {
	var f protocol.Frame
	if typ != websocket.MessageText {
		return f, protocol.Errorf(protocol.CodeMalformedFrame, "binary frames are not accepted; send JSON text frames")
	}
	if !utf8.Valid(b) {
		return f, protocol.Errorf(protocol.CodeMalformedFrame, "the frame is not valid UTF-8")
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return protocol.Frame{}, protocol.Errorf(protocol.CodeMalformedFrame, "the frame is not a JSON object of the frame shape: %v", err)
	}
	if f.ID == 0 || f.Op == "" {
		return f, protocol.Errorf(protocol.CodeMalformedFrame, "a request needs a non-zero id and an op")
	}
	return f, nil
}

// decode unmarshals a request's data into v.
func decode(f protocol.Frame, v any) *protocol.Error {
	if len(f.Data) == 0 {
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s needs data", f.Op)
	}
	if err := json.Unmarshal(f.Data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return protocol.Errorf(protocol.CodeInvalidParameter, "%s: field %s must be a %s, not a %s", f.Op, te.Field, te.Type, te.Value)
		}
		return protocol.Errorf(protocol.CodeInvalidParameter, "%s: data is malformed: %v", f.Op, err)
	}
	return nil
}
