package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"roomkit/server/engine"
)

// Draining: a node about to stop hands each room it owns to another live
// node, whole (engine.Manager's Detach and Import), before its clients are
// told to reconnect. The members stay where they are: those connected to
// the draining node are reached there until their clients reconnect
// elsewhere and take their sessions along (Adopt). Operations that reach
// the draining node for a room on its way wait for the move, then go to
// the new owner.

// importArgs is a room on its way, with where each member's session is.
type importArgs struct {
	State engine.RoomState    `json:"state"`
	Peers map[string]peerSpot `json:"peers"`
}

// peerSpot is a member's session: its node and how it presents itself.
type peerSpot struct {
	Node string     `json:"node"`
	Info engine.Who `json:"info"`
}

// Drain implements directory.Cluster: every room held here goes to another
// live node, round robin; the calls leases are given up (the calls kept
// here end with the node). It returns once every room has moved, or ctx
// ends.
func (e *Engine) Drain(ctx context.Context) error {
	live, err := e.node.LiveNodes(ctx)
	if err != nil {
		return err
	}
	var targets []string
	for _, n := range live {
		if n != e.node.ID() {
			targets = append(targets, n)
		}
	}
	var rooms []roomKey
	for _, key := range e.own.heldKeys() {
		if !key.isCalls() {
			rooms = append(rooms, key)
			continue
		}
		// The app's calls end with this node.
		e.copyMu.Lock()
		e.own.release(key, "")
		e.copyMu.Unlock()
		_ = e.node.Redis().Del(ctx, callsCopyKey(key.app)).Err()
		_ = e.node.Release(ctx, key.lease())
	}
	if len(targets) == 0 {
		return errors.New("no other live node to take the rooms")
	}
	var errs []error
	for i, key := range rooms {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := e.handOff(ctx, key, targets[i%len(targets)]); err != nil {
			errs = append(errs, fmt.Errorf("room %q: %w", key.id, err))
		}
	}
	e.log.Info("drained: the rooms went to the other nodes", "rooms", len(rooms), "failed", len(errs))
	return errors.Join(errs...)
}

// handOff moves one room to node to.
func (e *Engine) handOff(ctx context.Context, key roomKey, to string) error {
	done, err := e.own.startMove(ctx, key) // operations under way finish first
	if err != nil {
		return err
	}
	defer done()
	// No commit round writes this room's copy while it moves (copyMu is
	// held to the end): the new owner writes it whole, and no late write
	// of the old owner lands after.
	e.copyMu.Lock()
	defer e.copyMu.Unlock()
	e.forgetCopy(key)
	st, ok := e.local.Detach(key.app, key.id)
	if !ok {
		e.own.release(key, "")
		return e.node.Release(ctx, key.lease())
	}
	args := importArgs{State: st, Peers: map[string]peerSpot{}}
	e.mu.Lock()
	for _, m := range st.Members {
		if rp := e.remotes[m.SessionID]; rp != nil {
			rp.mu.Lock()
			args.Peers[m.SessionID] = peerSpot{Node: rp.node, Info: rp.who}
			rp.mu.Unlock()
		}
	}
	e.mu.Unlock()
	for _, m := range st.Members {
		if _, ok := args.Peers[m.SessionID]; !ok {
			if p := e.localPeer(m.SessionID); p != nil {
				args.Peers[m.SessionID] = peerSpot{Node: e.node.ID(), Info: p.Who()}
			}
		}
	}
	if _, err := e.node.Request(ctx, to, "importRoom", key.id, args); err != nil {
		// Not taken: the room stays here, as it was.
		if ierr := e.local.Import(st, e.peerFor(args.Peers)); ierr != nil {
			e.log.Error("a room could neither move nor stay", "room", key.id, "err", ierr)
		}
		return err
	}
	e.own.release(key, to)
	return nil
}

// peerFor finds the peers of a room arriving here: this node's sessions
// themselves, stand-ins for the others'; nil for a session no node has.
// It finds them all first: Import calls what it returns holding the
// engine's lock, under which Engine.mu is never taken.
func (e *Engine) peerFor(spots map[string]peerSpot) func(sessionID, userID string) engine.Peer {
	peers := map[string]engine.Peer{}
	for id := range spots {
		if p := e.spotPeer(id, spots[id]); p != nil {
			peers[id] = p
		}
	}
	return func(sessionID, _ string) engine.Peer { return peers[sessionID] }
}

// spotPeer is one member's peer: this node's session, or a stand-in.
func (e *Engine) spotPeer(sessionID string, spot peerSpot) engine.Peer {
	if spot.Node != e.node.ID() {
		return e.remote(spot.Node, spot.Info)
	}
	return e.localPeer(sessionID)
}

// handleImport is the receiving side: the room is made here and its lease
// moved here from the sender.
func (e *Engine) handleImport(from string, body json.RawMessage) (any, error) {
	var a importArgs
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, err
	}
	key := roomKey{a.State.App, a.State.ID}
	if err := e.local.Import(a.State, e.peerFor(a.Peers)); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	moved, err := e.node.Take(ctx, key.lease(), from)
	if err != nil || !moved {
		e.local.Detach(key.app, key.id)
		return nil, fmt.Errorf("the room's lease did not move here (%v)", err)
	}
	e.own.take(key)
	return struct{}{}, nil
}
