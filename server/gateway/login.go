package gateway

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/protocol"
)

// login reads c's first frame, which must be a login with a valid token and
// a protocol version this server speaks, and attaches c to a session: the
// one named by a valid resume request, or a new one. On failure it replies
// with the error, closes c and returns nil.
func (g *Gateway) login(ctx context.Context, c *conn) *session {
	// A timer, not a read deadline: cancelling a read drops the connection
	// without a close frame, and the client should learn why it was closed.
	timer := time.AfterFunc(g.cfg.LoginTimeout, func() {
		c.ws.Close(websocket.StatusPolicyViolation, closeReason(protocol.Errorf(protocol.CodeLoginTimeout, "no login within %s", g.cfg.LoginTimeout)))
	})
	typ, b, err := c.ws.Read(ctx)
	if !timer.Stop() || err != nil {
		c.ws.CloseNow()
		return nil
	}
	g.stats.requests.Add(1)
	f, perr := parseFrame(typ, b)
	if perr == nil && f.Op != protocol.OpLogin {
		perr = protocol.Errorf(protocol.CodeNotLoggedIn, "the first frame must be a login, not %q", f.Op)
	}
	var req protocol.LoginRequest
	if perr == nil {
		perr = decode(f, &req)
	}
	if perr == nil && (req.Version < protocol.MinVersion || req.Version > protocol.Version) {
		perr = protocol.Errorf(protocol.CodeUnsupportedVersion, "protocol version %d is not supported; this server speaks versions %d to %d; update the roomkit client", req.Version, protocol.MinVersion, protocol.Version)
	}
	var claims *auth.Claims
	if perr == nil {
		claims, perr = g.verifier.Verify(req.Token)
	}
	if perr != nil {
		g.refuse(ctx, c, f.ID, perr)
		return nil
	}
	c.batch.Store(req.Version >= 2)

	reply := func(s *session, resumeErr string) func(bool) []byte {
		var rooms []protocol.RoomInfo
		if resumeErr == "" && req.Resume != nil {
			rooms = g.engine.Rooms(s)
		}
		return func(resumed bool) []byte {
			b, _ := protocol.EncodeReply(f.ID, protocol.LoginReply{
				SessionID: s.id, UserID: claims.UserID, UserName: displayName(claims),
				ExpiresAt: claims.ExpiresAt.Unix(), ServerVersion: protocol.Version,
				ResumeKey: s.resumeKey, Resumed: resumed, ResumeError: resumeErr, Rooms: rooms,
				LastRequestID: s.lastRead, // attach calls this under s.mu
				Media:         g.cfg.Media,
			})
			return b
		}
	}
	resumeErr := ""
	if req.Resume != nil {
		s, why := g.resume(claims, req.Resume)
		if s == nil && why == errSessionEnded && g.cluster != nil {
			// Not here: perhaps on another node, which hands it over.
			s, why = g.adopt(claims, req.Resume)
		}
		if s != nil {
			if why = s.attach(c, reply(s, ""), req.Resume.Received, true); why == "" {
				s.setClaims(claims)
				g.log.Info("session resumed", "app", s.app, "user", s.userID, "session", s.id)
				return s
			}
			s.end() // never two places for one tab
		}
		resumeErr = why
	}
	s := newSession(g, claims)
	if err := g.add(s); err != nil {
		g.refuse(ctx, c, f.ID, err)
		return nil
	}
	s.attach(c, reply(s, resumeErr), 0, false)
	s.setClaims(claims)
	g.log.Info("logged in", "app", s.app, "user", s.userID, "session", s.id, "resumeRefused", resumeErr)
	return s
}

// refuse answers a login with err and closes the connection with it.
func (g *Gateway) refuse(ctx context.Context, c *conn, id uint64, err *protocol.Error) {
	g.stats.refuse(err.Code)
	g.log.Info("login refused", "code", int(err.Code), "message", err.Message)
	wctx, cancel := context.WithTimeout(ctx, g.cfg.WriteTimeout)
	_ = c.ws.Write(wctx, websocket.MessageText, protocol.EncodeError(id, err))
	cancel()
	c.ws.Close(websocket.StatusPolicyViolation, closeReason(err))
}

// resume finds the session a resume request names, if the request may take
// it back: same app and user, right key, and not ended.
func (g *Gateway) resume(c *auth.Claims, req *protocol.ResumeRequest) (*session, string) {
	s := g.session(req.SessionID)
	if s == nil {
		return nil, errSessionEnded
	}
	s.mu.Lock()
	same := s.claims.AppID == c.AppID && s.claims.UserID == c.UserID
	s.mu.Unlock()
	if !same || !s.checkResume(req.Key) {
		return nil, "the session belongs to someone else"
	}
	return s, ""
}
