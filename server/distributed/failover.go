package distributed

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"roomkit/server/calls"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Failover. The owner of a room writes its state (engine.RoomState) to
// Redis as it changes, as deltas (copy.go): a reply to an operation that
// changed a room is sent only once the change is in Redis (commit.go),
// and other changes (timers, the idle end) are written within
// snapshotEvery. When the owner dies, the node that takes the room's
// lease over makes the room again from that copy: the members whose
// sessions live on live nodes stay, in their order, with their roles and
// attributes; those of the dead node are announced as gone; attributes and
// history are as of the copy. What a crash can lose: a change whose
// requester had not been answered yet (others may have seen its events).

const snapshotEvery = 200 * time.Millisecond

func stateKey(key roomKey) string { return "roomkit:state:" + key.lease() }

// callsCopyKey holds a copy of an app's calls under way.
func callsCopyKey(app string) string { return "roomkit:calls:" + callsKey(app).lease() }

// persist writes the rooms held here that changed since the last time
// (and those whose last write failed), and deletes the copies of rooms
// that ended here (a copy must never bring an ended room back); and the
// same for the calls of the apps whose calls are kept here. It reports
// whether everything was written (a reply waiting for this round may go).
func (e *Engine) persist() bool {
	callsOK := e.persistCalls()
	states := e.local.Snapshots(false)
	e.copyMu.Lock()
	defer e.copyMu.Unlock()
	var ended []roomKey
	for _, key := range e.own.heldKeys() {
		if !key.isCalls() && !e.persistedGone[key] && !e.own.busy(key) && !e.local.HasRoom(key.app, key.id) {
			ended = append(ended, key)
			e.persistedGone[key] = true
		}
	}
	dirty := map[roomKey]bool{}
	for _, st := range states {
		dirty[roomKey{st.App, st.ID}] = true
	}
	for key := range e.rewrite {
		if !dirty[key] {
			if st, ok := e.local.Snapshot(key.app, key.id); ok {
				states = append(states, st)
			} else {
				delete(e.rewrite, key) // no longer here
			}
		}
	}
	if len(states) == 0 && len(ended) == 0 {
		return callsOK
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	next := map[roomKey]*roomCopy{}
	// One transaction (MULTI/EXEC): a copy is never seen half written,
	// nor left so by a cut connection.
	_, err := e.node.Redis().TxPipelined(ctx, func(p redis.Pipeliner) error {
		gone := map[roomKey]bool{}
		for _, key := range ended {
			gone[key] = true
			p.Del(ctx, copyKeys(key)...)
			delete(e.copies, key)
		}
		for _, st := range states {
			key := roomKey{st.App, st.ID}
			gen, held := e.own.holds(key)
			if gone[key] {
				continue
			}
			if !held {
				// Not yet held (being taken over): written once it is.
				e.rewrite[key] = true
				continue
			}
			c, err := queueCopy(ctx, p, key, gen, st, e.copies[key])
			if err != nil {
				e.log.Error("a room's copy does not encode", "room", key.id, "err", err)
				e.rewrite[key] = true
				continue
			}
			delete(e.persistedGone, key)
			next[key] = c
		}
		return nil
	})
	if err != nil {
		// What Redis took of this round is unknown: each room's next copy
		// is written whole.
		for key := range next {
			delete(e.copies, key)
			e.rewrite[key] = true
		}
		e.log.Warn("writing the rooms' state to Redis failed; a crash now would lose their latest changes", "err", err)
		return false
	}
	for key, c := range next {
		e.copies[key] = c
		delete(e.rewrite, key)
	}
	return callsOK
}

// restore makes a room taken over from a dead owner again from its last
// copy, if there is one; it reports whether it did.
func (e *Engine) restore(key roomKey) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, ok, err := readCopy(ctx, e.node.Redis(), key)
	if err != nil {
		e.log.Error("a room's copy in Redis does not read", "room", key.id, "err", err)
		return false
	}
	if !ok {
		return false
	}
	names := map[string]protocol.Member{}
	for _, u := range st.Users {
		names[u.Member.UserID] = u.Member
	}
	// The peers are found before Import, which holds the engine's lock
	// (Engine.mu is never taken under it).
	peers := map[string]engine.Peer{}
	for _, ms := range st.Members {
		if p := e.restoredPeer(ctx, key, ms.SessionID, names[ms.UserID]); p != nil {
			peers[ms.SessionID] = p
		}
	}
	err = e.local.Import(st, func(session, _ string) engine.Peer { return peers[session] })
	if err != nil {
		e.log.Error("a room could not be made again from its copy", "room", key.id, "err", err)
		return false
	}
	e.log.Info("took over a room from a dead node", "room", key.id, "members", len(st.Members))
	return true
}

// restoredPeer is the peer of a member of a room made again from its
// copy: this node's session, a stand-in for a live node's, or nil.
func (e *Engine) restoredPeer(ctx context.Context, key roomKey, session string, m protocol.Member) engine.Peer {
	node, err := e.node.Redis().Get(ctx, sessionKey(session)).Result()
	if err != nil || node == "" {
		return nil
	}
	if node == e.node.ID() {
		return e.localPeer(session)
	}
	if !e.alive(node) {
		return nil
	}
	return e.remote(node, engine.Who{Session: session, App: key.app, Member: protocol.Member{UserID: m.UserID, UserName: m.UserName}})
}

// takeOverRooms finds a new owner for the rooms keys (whose owner died)
// that this node's sessions are in: the first node to ask takes each one
// over (from its copy); the others learn where it went.
func (e *Engine) takeOverRooms(keys []roomKey) {
	for _, key := range keys {
		if e.origins.inRoom(key) {
			_, _ = e.own.resolve(key)
		}
	}
}

// stepDown runs when this node finds it was silent long enough to be taken
// for dead: the others may have removed its members from their rooms and
// taken its rooms over from their copies. It lets go of everything it
// held, without a word (the rooms go on elsewhere from their copies), and
// ends its sessions: their clients reconnect, log in afresh and enter their
// rooms again, and every view converges.
func (e *Engine) stepDown() {
	// copyMu until the leases are let go: a commit round under way
	// finishes first, and none writes a copy after.
	e.copyMu.Lock()
	e.copies, e.rewrite = map[roomKey]*roomCopy{}, map[roomKey]bool{}
	held := e.own.releaseAll() // every owner is found again when needed
	e.mu.Lock()
	e.remotes = map[string]*remotePeer{}
	e.mu.Unlock()
	e.log.Error("stepping down: letting go of every room and ending every session here", "rooms", len(held))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, key := range held {
		if !key.isCalls() {
			e.local.Detach(key.app, key.id)
		}
		_ = e.node.Release(ctx, key.lease()) // only if still ours
	}
	e.copyMu.Unlock()
	e.calls.EndAll(protocol.CallReasonServerShutdown)
	go e.sessions.RestartAll("this server node lost touch with the others for a moment; reconnecting")
}

// persistCalls writes the calls of the apps whose calls changed.
func (e *Engine) persistCalls() bool {
	m := e.calls
	copies := m.Copies()
	if len(copies) == 0 {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_, err := e.node.Redis().Pipelined(ctx, func(p redis.Pipeliner) error {
		for app, calls := range copies {
			_, held := e.own.holds(callsKey(app))
			switch {
			case !held:
			case len(calls) == 0:
				p.Del(ctx, callsCopyKey(app))
			default:
				raw, err := json.Marshal(calls)
				if err != nil {
					return err
				}
				p.Set(ctx, callsCopyKey(app), raw, 0)
			}
		}
		return nil
	})
	if err != nil {
		apps := make([]string, 0, len(copies))
		for app := range copies {
			apps = append(apps, app)
		}
		m.CopyFailed(apps) // written at the next round
		e.log.Warn("writing the calls to Redis failed; a crash now would lose their latest changes", "err", err)
		return false
	}
	return true
}

// restoreCalls makes an app's calls again from their copy, when this node
// takes them over from a dead one.
func (e *Engine) restoreCalls(app string) {
	m := e.calls
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := e.node.Redis().Get(ctx, callsCopyKey(app)).Bytes()
	if err != nil {
		return
	}
	var copies []calls.CallCopy
	if err := json.Unmarshal(raw, &copies); err != nil {
		e.log.Error("the calls' copy in Redis does not decode", "app", app, "err", err)
		return
	}
	m.Restore(app, copies)
	e.log.Info("took over the calls of an app from a dead node", "app", app, "calls", len(copies))
}

// takeOverCallsOf takes over the calls of the apps whose calls a dead node
// kept: their ringing invitations ring out on time, and answers find them.
// The first node to take an app's calls lease makes them again.
func (e *Engine) takeOverCallsOf(dead map[string]bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	names, err := e.node.LeasesOf(ctx, "room:*calls", dead)
	if err != nil {
		e.log.Warn("looking for the calls a dead node kept failed", "err", err)
	}
	for _, name := range names {
		if app, ok := callsLeaseApp(name); ok {
			e.own.forget(callsKey(app))
			_, _ = e.own.resolve(callsKey(app))
		}
	}
}

// callsLeaseApp reads the app out of a calls lease's name.
func callsLeaseApp(name string) (string, bool) {
	rest, ok := strings.CutPrefix(name, "room:")
	if !ok {
		return "", false
	}
	n, rest, ok := strings.Cut(rest, ":")
	size, err := strconv.Atoi(n)
	if !ok || err != nil || size > len(rest) {
		return "", false
	}
	app := rest[:size]
	if callsKey(app).lease() != name {
		return "", false
	}
	return app, true
}
