package gateway

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// session is one place of a user in the server: its identity, its claims,
// its rooms (in the engine) and the recent events sent to it. A session
// outlives its connection by the resume grace period, so a page that
// reloads, or a client that reconnects, takes its place back unseen by
// the others and gets the events it missed.
//
// mu guards everything below it; Deliver takes it while the engine holds
// a room's lock, so nothing under mu calls into the engine.
type session struct {
	g         *Gateway
	id        string
	resumeKey string
	app       string     // the tenant; fixed for the session's life
	userID    string     // fixed too: a renewed token names the same user
	limits    *userLimit // the user's request budget, shared by their sessions

	mu        sync.Mutex
	claims    *auth.Claims
	member    protocol.Member
	conn      *conn       // the attached connection; nil while detached
	events    eventRing   // recent frames (events and replies), for resuming
	lastRead  uint64      // the highest request ID read, told to a resuming client
	detached  *time.Timer // ends the session when the grace period passes
	warnTimer *time.Timer
	expTimer  *time.Timer
	ended     bool
	// adopting: the session is coming from another node; frames wait in
	// pending until its ring arrives, and are numbered after it.
	adopting bool
	pending  [][]byte
	serving  int // requests being served (0 or 1: a connection's come in turn)
}

func newSession(g *Gateway, c *auth.Claims) *session {
	s := &session{g: g, id: newSessionID(), resumeKey: newSessionID(), app: string(c.AppID), userID: c.UserID, events: eventRing{max: g.cfg.ResumeBufferBytes}}
	s.claims = c
	s.member = protocol.Member{UserID: c.UserID, UserName: displayName(c)}
	return s
}

// Who implements engine.Peer: the session, and the user and rights its
// token gives now.
func (s *session) Who() engine.Who {
	s.mu.Lock()
	defer s.mu.Unlock()
	return engine.Who{Session: s.id, App: s.app, Member: s.member, TokenRoom: s.claims.Room, Host: s.claims.Role == auth.RoleHost}
}

// Deliver implements engine.Peer: it numbers the frame, keeps it for a
// resume, and queues it on the attached connection, if any. Replies go
// the same way as events, so a resumed client gets the replies it missed
// too, and every frame once.
func (s *session) Deliver(frame []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return
	}
	if s.adopting {
		s.pending = append(s.pending, frame)
		return
	}
	s.events.add(frame)
	if s.conn != nil {
		s.conn.push(frame, s.g.cfg.SendQueueBytes)
	}
}

// attach makes c the session's connection: it queues reply (the login
// reply) and then every event after the first `received`, so the client
// continues exactly where it stopped. When it cannot, it says why.
func (s *session) attach(c *conn, reply func(resumed bool) []byte, received uint64, resuming bool) (why string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return errSessionEnded
	}
	missed, ok := s.events.since(received)
	switch {
	case resuming && received > s.events.next:
		// A client bug, not a loss: say so, so it is never taken for one.
		return fmt.Sprintf("the client counts %d frames received, but the session sent %d", received, s.events.next)
	case resuming && !ok:
		return "the events missed since are no longer kept"
	}
	if s.detached != nil {
		s.detached.Stop()
		s.detached = nil
	}
	if s.conn != nil && s.conn != c {
		// The old connection is still open (the refresh beat its close):
		// it is replaced, and ending it must not end the session.
		s.conn.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeSessionTakenOver, "the session was resumed on another connection"))
	}
	s.conn = c
	c.push(reply(resuming), s.g.cfg.SendQueueBytes)
	for _, f := range missed {
		c.push(f, s.g.cfg.SendQueueBytes)
	}
	return ""
}

const errSessionEnded = "the session ended (the grace period passed, or the server restarted)"

// detach runs when c has ended without a logout: the session keeps its
// rooms for the grace period, then ends.
func (s *session) detach(c *conn) {
	s.mu.Lock()
	if s.conn != c || s.ended {
		s.mu.Unlock()
		return
	}
	s.conn = nil
	grace := s.g.cfg.ResumeGrace
	if grace > 0 {
		s.detached = time.AfterFunc(grace, s.end)
		s.mu.Unlock()
		return
	}
	s.mu.Unlock()
	s.end()
}

// end removes the session from its rooms (the others see it leave) and
// from the gateway. Later calls do nothing.
func (s *session) end() {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	for _, t := range []*time.Timer{s.detached, s.warnTimer, s.expTimer} {
		if t != nil {
			t.Stop()
		}
	}
	s.events = eventRing{}
	s.mu.Unlock()
	// Unregistered first: once anyone sees this session leave, a resume of
	// it is refused as ended.
	last := s.g.remove(s)
	s.g.log.Info("session ended", "app", s.app, "user", s.userID, "session", s.id)
	s.g.engine.LeaveAll(s)
	if s.g.cluster != nil {
		s.g.cluster.SessionEnded(s.id)
	}
	if last && (s.g.cluster == nil || s.g.cluster.UserOffline(s.app, s.userID)) {
		s.g.calls.UserGone(s.app, s.userID)
	}
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
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c != nil {
			c.ended.Store(true)
			c.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeTokenExpired, "the token expired; log in again with a new one"))
		} else {
			s.end()
		}
	})
}

// displayName is the name others see: the user name, or the ID when empty.
func displayName(c *auth.Claims) string {
	if c.UserName == "" {
		return c.UserID
	}
	return c.UserName
}

// serve runs requests from c, in order, until c ends; then the session
// ends (logout, expiry) or waits for a resume.
func (s *session) serve(c *conn) {
	c.startHeartbeat(s.g.cfg.PingInterval, s.g.cfg.PingTimeout)
	s.readLoop(c.ctx, c)
	c.done()
	c.ws.CloseNow()
	if c.ended.Load() {
		s.mu.Lock()
		mine := s.conn == c
		s.mu.Unlock()
		if mine {
			s.end()
		}
		return
	}
	s.detach(c)
}

// readLoop reads and serves requests in order until the connection ends.
func (s *session) readLoop(ctx context.Context, c *conn) {
	limit := newTokenBucket(s.g.cfg.RequestsPerSecond, s.g.cfg.RequestBurst, time.Now())
	c.msgLimit = newTokenBucket(s.g.cfg.MessagesPerSecond, s.g.cfg.MessageBurst, time.Now())
	for {
		typ, b, err := c.ws.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) == websocket.StatusMessageTooBig {
				s.g.log.Info("closed a connection for an oversized frame", "session", s.id)
			}
			return
		}
		var f protocol.Frame
		var perr *protocol.Error
		onShortStack(func() { f, perr = parseFrame(typ, b) })
		if !s.read(c, f.ID) {
			return // the session moved to another connection
		}
		if perr == nil && !limit.allow(time.Now()) {
			perr = protocol.Errorf(protocol.CodeRateLimited, "too many requests: at most %g a second (bursts of %d) on one connection; slow down", s.g.cfg.RequestsPerSecond, s.g.cfg.RequestBurst)
		}
		if perr == nil {
			perr = s.limits.allowRequest(time.Now())
		}
		s.g.stats.requests.Add(1)
		if perr != nil {
			s.g.stats.refuse(perr.Code)
			s.Deliver(protocol.EncodeError(f.ID, perr))
			s.served()
			continue
		}
		onShortStack(func() { s.serveRequest(c, f) })
		s.served()
	}
}

// onShortStack runs f on a goroutine of its own and waits for it. The read
// loop handles each request this way: decoding, the engine and encoding
// the reply grow a stack to 8 KiB or more, and a goroutine keeps the stack
// it grew for as long as it lives, which for the read loop is the life of
// a mostly idle connection. A short-lived goroutine's stack goes back to
// the runtime when it ends. It costs a goroutine start per request.
func onShortStack(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// internalError is what a client is told of a failure that is not its
// own: code 1, the operation, and the session ID by which the server's log
// finds the detail. It never carries the failure's own text.
func internalError(op, sessionID string) *protocol.Error {
	return protocol.Errorf(protocol.CodeFailed, "%s failed on the server; try again, and if it persists give the operator session ID %s", op, sessionID)
}

// serveRequest runs one request and queues its reply.
func (s *session) serveRequest(c *conn, f protocol.Frame) {
	var res any
	var err error
	func() {
		defer func() {
			if p := recover(); p != nil {
				s.g.log.Error("panic serving request", "session", s.id, "app", s.app, "op", f.Op, "panic", p)
				err = internalError(f.Op, s.id)
			}
		}()
		res, err = s.dispatch(c, f)
	}()
	if err != nil {
		var pe *protocol.Error
		if !errors.As(err, &pe) || pe == nil {
			// Not the client's to read (a Redis or forwarding failure can
			// name addresses and internals): the detail goes to the log,
			// the client gets code 1 and the session ID to quote.
			s.g.log.Error("request failed", "session", s.id, "app", s.app, "op", f.Op, "err", err)
			pe = internalError(f.Op, s.id)
		}
		s.g.stats.refuse(pe.Code)
		s.g.log.Debug("request refused", "session", s.id, "op", f.Op, "code", int(pe.Code), "message", pe.Message)
		s.Deliver(protocol.EncodeError(f.ID, pe))
		return
	}
	if f.Op == protocol.OpSendRoomMessage {
		s.g.stats.messages.Add(1)
	}
	reply, eerr := protocol.EncodeReply(f.ID, res)
	if eerr != nil {
		s.g.log.Error("reply does not encode", "session", s.id, "app", s.app, "op", f.Op, "err", eerr)
		reply = protocol.EncodeError(f.ID, internalError(f.Op, s.id))
	}
	s.Deliver(reply)
	if f.Op == protocol.OpLogout {
		c.ended.Store(true)
		c.closeAfterQueue(websocket.StatusNormalClosure, "logout")
	}
}

// read records that request id came on c, and reports whether c is still
// the session's connection: a connection whose session was resumed on
// another serves nothing more, so the client can tell from lastRead which
// of its requests to send again.
func (s *session) read(c *conn, id uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != c {
		return false
	}
	s.lastRead = max(s.lastRead, id)
	s.serving++ // until served: the request read is the session's now
	return true
}

// served marks the request read last as answered (or refused).
func (s *session) served() {
	s.mu.Lock()
	s.serving--
	s.mu.Unlock()
}

// waitServed waits, up to d, until the request the session read last has
// its reply in the ring: a session handed to another node takes it along.
func (s *session) waitServed(d time.Duration) {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		s.mu.Lock()
		n := s.serving
		s.mu.Unlock()
		if n <= 0 {
			return
		}
	}
}

// checkResume reports whether key is this session's resume key, in
// constant time.
func (s *session) checkResume(key string) bool {
	return subtle.ConstantTimeCompare([]byte(key), []byte(s.resumeKey)) == 1
}

// Restart implements directory.Session: the client is told why and to
// connect again (it logs in afresh and enters its rooms again), and the
// others see it leave and come back.
func (s *session) Restart(why string) {
	s.mu.Lock()
	c := s.conn
	s.mu.Unlock()
	if c != nil {
		c.closeAfterQueue(websocket.StatusServiceRestart, closeReason(protocol.Errorf(protocol.CodeServerShutdown, "%s", why)))
	}
	s.end()
}
