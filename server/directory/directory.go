// Package directory is what a node's connections (server/gateway) and the
// cluster it belongs to (server/distributed) say to each other: the
// Registry of the node's sessions, made first and shared by both, a
// session's Handover to another node, and the Cluster and CallService
// the gateway is given. It imports neither side.
package directory

import (
	"context"
	"encoding/json"

	"roomkit/server/calls"
	"roomkit/server/engine"
)

// Session is one session of this node, as the registry keeps it: a peer
// of the engine that can be handed to another node or ended.
type Session interface {
	engine.Peer
	// HandOver gives the session to node to, if app's user holds it with
	// key: it closes its connection here, points its rooms at to, and
	// leaves the registry.
	HandOver(key, app, userID, to string) (Handover, error)
	// Restart ends the session and tells its client why and to connect
	// again (it logs in afresh and enters its rooms again).
	Restart(why string)
}

// Handover is a session as its old node hands it to the node its client
// reconnected to: its recent frames, numbered first to next, the highest
// request ID it read, and its rooms with the nodes owning them.
type Handover struct {
	First    uint64            `json:"first"`
	Next     uint64            `json:"next"`
	Frames   []json.RawMessage `json:"frames"`
	LastRead uint64            `json:"lastRead"`
	Rooms    map[string]string `json:"rooms"`
}

// CallService keeps call invitations. calls.Manager is a single node's; a
// cluster's reaches the users of every node.
type CallService interface {
	// Do runs a call operation (the table in calls/ops.go) for p, on the
	// node keeping p's app's calls, and returns its reply's data.
	Do(p engine.Peer, req calls.Request) (any, error)
	// UserGone takes a user whose last session (on every node) has ended
	// out of their calls.
	UserGone(app, userID string)
	// RoomEnded ends the calls in app's room roomID, which has ended.
	RoomEnded(app, roomID string)
	// EndAll ends every call kept here, for reason.
	EndAll(reason string)
	// Count counts the calls kept here and the invitations ringing.
	Count() (calls, ringing int)
}

var _ CallService = (*calls.Manager)(nil)

// Cluster is what the gateway of one node among several needs from the
// cluster: this node's session registry and a call service reaching
// every node's users (both made with the cluster's engine), and word of
// this node's users and sessions coming and going.
type Cluster interface {
	// Sessions is this node's session registry, the one the cluster finds
	// sessions in: the gateway adds its sessions to it.
	Sessions() *Registry
	// Calls is the cluster's call service.
	Calls() CallService
	// UserOnline says app's user has a first session on this node.
	UserOnline(app, userID, userName string)
	// UserOffline says the user's last session on this node ended; it
	// reports whether the user has none left on any node.
	UserOffline(app, userID string) (goneEverywhere bool)
	// SessionStarted and SessionEnded record where a session lives, so
	// that a reload landing on another node finds it.
	SessionStarted(id string)
	SessionEnded(id string)
	// Adopt brings session s.Who().Session from the node holding it to
	// this one (s is its new, pending self here): that node checks key and
	// hands over what Handover holds; the session's rooms now deliver to
	// s. It fails when no live node holds the session or the key is wrong.
	Adopt(s engine.Peer, key string) (Handover, error)
	// MoveSession points the rooms session p is in at node to, and returns
	// them with their owners. When it returns, every frame sent to p
	// before has reached p.
	MoveSession(p engine.Peer, to string) (map[string]string, error)
	// Drain hands the rooms this node owns to the other nodes, before a
	// graceful stop.
	Drain(ctx context.Context) error
}
