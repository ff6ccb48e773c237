package distributed

import (
	"encoding/json"
	"fmt"
	"strings"

	"roomkit/server/calls"
	"roomkit/server/cluster"
	"roomkit/server/directory"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Calls across nodes. Every call of an app is kept by one node, the holder
// of the app's calls lease, in a calls.Manager unchanged from a single
// node's: busy detection, ringing limits, timeouts and the first answer
// winning need no agreement between nodes. Calls are signalling, rare next
// to room traffic, so one node per app carries them easily. What the
// Manager needs of the cluster is a directory reaching a user's tabs on
// every node: presence in Redis says on which nodes a user has sessions,
// and a stand-in per (node, user) carries the call's events there.

var _ directory.Cluster = (*Engine)(nil)

// callsKey is the lease of an app's calls; "\x00" is in no room ID.
func callsKey(app string) roomKey { return roomKey{app, "\x00calls"} }

func (k roomKey) isCalls() bool { return k.id == "\x00calls" }

// Calls implements directory.Cluster: the node's call service. The calls
// kept here ring users on every node.
func (e *Engine) Calls() directory.CallService { return callService{e} }

// Sessions implements directory.Cluster: this node's session registry.
func (e *Engine) Sessions() *directory.Registry { return e.sessions }

// callees is the calls Manager's directory: a user's sessions here, and a
// stand-in for their sessions on each other node.
type callees struct{ e *Engine }

// Peers implements calls.Directory.
func (d callees) Peers(app, user, room string) []engine.Peer {
	peers := d.e.sessions.Peers(app, user, room)
	nodes, name := d.e.userNodes(app, user)
	for _, n := range nodes {
		peers = append(peers, &userPeer{e: d.e, node: n, room: room, who: engine.Who{Session: "user@" + n + ":" + user, App: app, Member: protocol.Member{UserID: user, UserName: name}}})
	}
	return peers
}

// userPeer stands in for every session of a user on another node whose
// token admits room (every session for ""): that node hands what it is
// sent only to those tabs.
type userPeer struct {
	e          *Engine
	node, room string
	who        engine.Who
}

// Who implements engine.Peer.
func (u *userPeer) Who() engine.Who { return u.who }

// Deliver implements engine.Peer.
func (u *userPeer) Deliver(frame []byte) {
	u.e.node.SendEvent(u.node, userAddress(u.who.App, u.who.Member.UserID, u.room), frame)
}

// A user address on the bus: "u", app, user and room, NUL-separated (no
// ID may hold a NUL).
func userAddress(app, user, room string) string { return "u\x00" + app + "\x00" + user + "\x00" + room }

func parseUserAddress(s string) (app, user, room string, ok bool) {
	parts := strings.Split(s, "\x00")
	if len(parts) != 4 || parts[0] != "u" {
		return "", "", "", false
	}
	return parts[1], parts[2], parts[3], true
}

// callOp is one of the calls node's own operations (a user gone, a room
// ended: the protocol's are the calls' table, calls/ops.go): what the
// app's calls node runs, for the peer itself or its stand-in.
type callOp[A, R any] struct {
	name string
	run  func(m *calls.Manager, p engine.Peer, a A) (R, error)
}

var callOps = map[string]func(m *calls.Manager, p engine.Peer, args json.RawMessage) (any, error){}

func defineCall[A, R any](name string, run func(m *calls.Manager, p engine.Peer, a A) (R, error)) callOp[A, R] {
	callOps[name] = func(m *calls.Manager, p engine.Peer, raw json.RawMessage) (any, error) {
		var a A
		if err := json.Unmarshal(raw, &a); err != nil {
			return nil, fmt.Errorf("call op %s: arguments do not decode: %w", name, err)
		}
		return run(m, p, a)
	}
	return callOp[A, R]{name: name, run: run}
}

var (
	callUserGone = defineCall("userGone", func(m *calls.Manager, p engine.Peer, a struct {
		UserID string `json:"userID"`
	}) (struct{}, error) {
		m.UserGone(p.Who().App, a.UserID)
		return struct{}{}, nil
	})
	callRoomEnded = defineCall("roomEnded", func(m *calls.Manager, p engine.Peer, a struct {
		RoomID string `json:"roomID"`
	}) (struct{}, error) {
		m.RoomEnded(p.Who().App, a.RoomID)
		return struct{}{}, nil
	})
)

// call runs o on the node keeping p's app's calls.
func (o callOp[A, R]) call(e *Engine, p engine.Peer, a A) (R, error) {
	who := p.Who()
	args, err := json.Marshal(a)
	if err != nil {
		var zero R
		return zero, err
	}
	return replyAs[R](e.route(target{
		key:     callsKey(who.App),
		bus:     "call",
		fwd:     forwarded{Op: o.name, Peer: who, Args: args},
		local:   func() (any, error) { return o.run(e.calls, p, a) },
		changes: true,
		what:    "the calls of this app",
	}))
}

// handleCall is the calls node's side of a forwarded call operation.
func (e *Engine) handleCall(from string, f forwarded) (any, error) {
	run := callOps[f.Op] // the node's own: a user gone, a room ended
	if o, ok := calls.Lookup(f.Op); ok {
		req, err := o.Decode(f.Args)
		if err != nil {
			return nil, err
		}
		run = func(m *calls.Manager, p engine.Peer, _ json.RawMessage) (any, error) { return req.Run(m, p) }
	}
	if run == nil {
		return nil, fmt.Errorf("unknown call operation %q", f.Op)
	}
	key := callsKey(f.Peer.App)
	owner, err := e.own.resolve(key)
	if err != nil {
		return nil, err
	}
	if owner != e.node.ID() {
		return nil, errMoved
	}
	rp := e.remote(from, f.Peer)
	defer e.dropIfIdle(rp)
	v, err := e.own.run(key, func() (any, error) { return run(e.calls, rp, f.Args) })
	if err == nil {
		// The reply waits for the calls' copy, off the bus's worker.
		return cluster.Later(func() (any, error) { e.durable(); return v, nil }), nil
	}
	return v, err
}

// callService is the gateway's CallService on a cluster node.
type callService struct{ e *Engine }

// Do runs req on the node keeping p's app's calls, forwarding the
// request's bytes as they came.
func (c callService) Do(p engine.Peer, req calls.Request) (any, error) {
	who := p.Who()
	e := c.e
	return e.route(target{
		key:     callsKey(who.App),
		bus:     "call",
		fwd:     forwarded{Op: req.Op.Name, Peer: who, Args: req.Raw},
		local:   func() (any, error) { return req.Run(e.calls, p) },
		changes: true,
		what:    "the calls of this app",
	})
}

// UserGone tells the app's calls node, which takes the user out.
func (c callService) UserGone(app, user string) {
	if _, err := callUserGone.call(c.e, appPeer{app}, struct {
		UserID string `json:"userID"`
	}{user}); err != nil {
		c.e.log.Warn("calls: a user's leaving was not passed on", "user", user, "err", err)
	}
}

// RoomEnded tells the app's calls node that a room ended, which ends its
// calls.
func (c callService) RoomEnded(app, roomID string) {
	if _, err := callRoomEnded.call(c.e, appPeer{app}, struct {
		RoomID string `json:"roomID"`
	}{roomID}); err != nil {
		c.e.log.Warn("calls: a room's end was not passed on", "room", roomID, "err", err)
	}
}

// EndAll ends the calls kept here (a node stopping).
func (c callService) EndAll(reason string) { c.e.calls.EndAll(reason) }

// Count counts the calls kept here.
func (c callService) Count() (int, int) { return c.e.calls.Count() }

// appPeer is the app's own voice (no session), for UserGone.
type appPeer struct{ app string }

// Who implements engine.Peer: the app, and no session or user.
func (a appPeer) Who() engine.Who { return engine.Who{Session: "app:" + a.app, App: a.app} }

// Deliver implements engine.Peer: it has nowhere to deliver.
func (a appPeer) Deliver([]byte) {}

// removeGoneCallers takes out of the calls kept here the users who have
// no session on any live node left (their node died).
func (e *Engine) removeGoneCallers() {
	m, locals := e.calls, e.sessions
	for app, users := range m.ActiveUsers() {
		for _, u := range users {
			if len(locals.Peers(app, u, "")) > 0 {
				continue
			}
			if nodes, _ := e.userNodes(app, u); len(nodes) == 0 {
				m.UserGone(app, u)
			}
		}
	}
}
