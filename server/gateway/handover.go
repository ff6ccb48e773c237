package gateway

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/directory"
	"roomkit/server/protocol"
)

// Sessions move between the nodes of a cluster when a client reconnects to
// another node (a reload behind a load balancer): the new node makes a
// pending session of the same ID and asks the old one to hand it over
// (Cluster.Adopt); the old node closes its connection, points the
// session's rooms at the new node, and sends its recent frames, so the
// client resumes there as it would have here.

// adopt takes over session req.SessionID from the node holding it, for a
// client whose claims name the same user; "" why on success.
func (g *Gateway) adopt(c *auth.Claims, req *protocol.ResumeRequest) (*session, string) {
	s := newSession(g, c)
	s.id, s.resumeKey, s.adopting = req.SessionID, req.Key, true
	if err := g.add(s); err != nil {
		return nil, err.Message
	}
	h, err := g.cluster.Adopt(s, req.Key)
	if err != nil {
		g.log.Info("a session was not taken over from another node", "session", s.id, "err", err)
		s.mu.Lock()
		s.adopting, s.pending = false, nil
		s.mu.Unlock()
		s.end()
		return nil, errSessionEnded
	}
	s.mu.Lock()
	s.events = eventRing{max: g.cfg.ResumeBufferBytes, first: h.First, next: h.Next}
	for _, f := range h.Frames {
		s.events.frames = append(s.events.frames, []byte(f))
		s.events.bytes += len(f)
	}
	if h.First == 0 && len(h.Frames) == 0 {
		s.events.first = 0
	}
	for _, f := range s.pending {
		s.events.add(f)
	}
	s.adopting, s.pending, s.lastRead = false, nil, h.LastRead
	s.mu.Unlock()
	g.log.Info("session taken over from another node", "app", s.app, "user", s.userID, "session", s.id, "rooms", len(h.Rooms))
	return s, ""
}

// HandOver implements directory.Session: the session goes to node to.
func (s *session) HandOver(key, app, userID, to string) (directory.Handover, error) {
	g := s.g
	s.mu.Lock()
	ok := s.app == app && s.userID == userID && subtle.ConstantTimeCompare([]byte(key), []byte(s.resumeKey)) == 1 && !s.ended && !s.adopting
	var conn *conn
	if ok {
		if s.detached != nil {
			s.detached.Stop()
			s.detached = nil
		}
		conn, s.conn = s.conn, nil
	}
	s.mu.Unlock()
	if !ok {
		return directory.Handover{}, fmt.Errorf("the session belongs to someone else, or has ended")
	}
	if conn != nil {
		conn.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeSessionTakenOver, "the session was resumed on another server node"))
	}
	// A request the old connection had sent is answered here first: its
	// reply goes along in the ring (the client counts it as read).
	s.waitServed(5 * time.Second)
	rooms, err := g.cluster.MoveSession(s, to)
	if err != nil {
		// Some rooms may point at the new node already: this session
		// cannot go on here either.
		s.end()
		return directory.Handover{}, err
	}
	s.mu.Lock()
	h := directory.Handover{First: s.events.first, Next: s.events.next, LastRead: s.lastRead, Rooms: rooms}
	for _, f := range s.events.frames {
		h.Frames = append(h.Frames, json.RawMessage(f))
	}
	s.ended = true
	for _, t := range []*time.Timer{s.warnTimer, s.expTimer} {
		if t != nil {
			t.Stop()
		}
	}
	s.events = eventRing{}
	s.mu.Unlock()
	if g.remove(s) {
		g.cluster.UserOffline(s.app, s.userID)
	}
	g.log.Info("session handed over to another node", "app", s.app, "user", s.userID, "session", s.id, "to", to)
	return h, nil
}
