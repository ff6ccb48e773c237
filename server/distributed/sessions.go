package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"roomkit/server/directory"
	"roomkit/server/engine"
)

// Sessions that move. Redis records which node holds each session (a key
// per session, kept 49 hours: longer than any token lives without being
// renewed on a reconnect), so that a client reconnecting to another node
// (a reload behind a load balancer) can be handed its session: the old
// node points the session's rooms at the new one, owner by owner, and
// sends what the session kept.

// handoverRequest asks a node for one of its sessions.
type handoverRequest struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	App  string `json:"app"`
	User string `json:"user"`
	To   string `json:"to"`
}

// Adopt implements directory.Cluster.
func (e *Engine) Adopt(s engine.Peer, key string) (directory.Handover, error) {
	who := s.Who()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	holder, err := e.node.Redis().Get(ctx, sessionKey(who.Session)).Result()
	if errors.Is(err, redis.Nil) || holder == e.node.ID() {
		return directory.Handover{}, errors.New("no node holds the session")
	}
	if err != nil {
		return directory.Handover{}, err
	}
	raw, err := e.node.Request(ctx, holder, "handover", who.Session, handoverRequest{ID: who.Session, Key: key, App: who.App, User: who.Member.UserID, To: e.node.ID()})
	if err != nil {
		return directory.Handover{}, fmt.Errorf("node %s: %w", holder, err)
	}
	var h directory.Handover
	if err := json.Unmarshal(raw, &h); err != nil {
		return directory.Handover{}, err
	}
	rooms := make([]string, 0, len(h.Rooms))
	for room, owner := range h.Rooms {
		e.own.learn(roomKey{who.App, room}, owner)
		rooms = append(rooms, room)
	}
	e.origins.joined(s, rooms...)
	if err := e.node.Redis().Set(ctx, sessionKey(who.Session), e.node.ID(), sessionTTL).Err(); err != nil {
		e.log.Warn("a session's new node was not recorded", "session", who.Session, "err", err)
	}
	return h, nil
}

// handleHandover is the old node's side: the gateway checks the key,
// closes the connection and calls MoveSession.
func (e *Engine) handleHandover(body json.RawMessage) (any, error) {
	var req handoverRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	return e.sessions.HandOver(req.ID, req.Key, req.App, req.User, req.To)
}

// MoveSession implements directory.Cluster: the rooms held here point at a
// stand-in for p on node to, and every other owner of p's rooms is asked
// to do the same. A rebind request to an owner goes after everything that
// owner sent p here, and its reply after that too: once every reply is
// in, p has had every frame sent to it before the move.
func (e *Engine) MoveSession(p engine.Peer, to string) (map[string]string, error) {
	who := p.Who()
	info := who
	rp := e.remote(to, info)
	keys := e.origins.drop(who.Session)
	owners := map[string]bool{}
	for _, n := range e.otherOwners(keys) {
		owners[n] = true
	}
	rooms := map[string]string{}
	for _, key := range keys {
		rooms[key.id] = e.own.owner(key)
	}
	for _, id := range e.local.Rebind(rp) {
		rooms[id] = e.node.ID()
	}
	e.dropIfIdle(rp)
	var errs []error
	for owner := range owners {
		args, _ := json.Marshal(rebindArgs{To: to})
		if _, err := e.node.Request(context.Background(), owner, "op", who.Session, forwarded{Op: "rebind", Peer: info, Args: args}); err != nil {
			errs = append(errs, fmt.Errorf("node %s: %w", owner, err))
		}
	}
	return rooms, errors.Join(errs...)
}

type rebindArgs struct {
	To string `json:"to"`
}

// rebind is an owner's side of MoveSession: the session's rooms here go
// to its stand-in on node to, or to the session itself when it moved here.
func (e *Engine) rebind(info engine.Who, args json.RawMessage) (any, error) {
	var a rebindArgs
	if err := json.Unmarshal(args, &a); err != nil {
		return nil, err
	}
	if a.To == e.node.ID() {
		if p := e.sessions.Session(info.Session); p != nil {
			e.local.Rebind(p)
			e.mu.Lock()
			delete(e.remotes, info.Session)
			e.mu.Unlock()
			return struct{}{}, nil
		}
		return nil, fmt.Errorf("session %s is not here", info.Session)
	}
	rp := e.remote(a.To, info)
	e.local.Rebind(rp)
	e.dropIfIdle(rp)
	return struct{}{}, nil
}
