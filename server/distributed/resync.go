package distributed

import (
	"context"
	"encoding/json"
	"time"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Resynchronising after a gap. The bus numbers what each node sends each
// other node (cluster.Handler.Gap); when chunks from a room's owner never
// arrived, events of its rooms meant for this node's sessions may be lost:
// a member joining or leaving, an attribute, a message, the session's own
// removal. The session cannot be sent the events again (the owner keeps
// no log per member), so it is told what a client is told after its own
// connection dropped: each room of that owner goes Connecting and, once
// the owner has said which rooms the session is still in, Connected again
// (the client reads the room anew: members, attributes, history) or
// Disconnected (it was removed meanwhile).

// resyncAttempts bounds how often the owner is asked which rooms a
// session is in before the resync gives up on that session.
const resyncAttempts = 3

// gap is the bus's Gap handler: it runs on the reader goroutine, so the
// work goes to a goroutine of its own.
func (e *Engine) gap(from string, missed uint64) {
	e.log.Warn("events from a node were lost: its rooms' members here are told to read them again", "from", from, "chunks", missed)
	go e.resync(from)
}

// resync tells every session here with rooms owned by node that their
// events may be lost, and where they stand.
func (e *Engine) resync(node string) {
	type affected struct {
		peer  engine.Peer
		rooms []string
	}
	var places []affected
	for _, o := range e.origins.all() {
		var rooms []string
		for _, key := range o.keys {
			if e.own.owner(key) == node {
				rooms = append(rooms, key.id)
			}
		}
		if len(rooms) > 0 {
			places = append(places, affected{o.peer, rooms})
		}
	}
	for _, pl := range places {
		for _, room := range pl.rooms {
			roomState(pl.peer, room, protocol.RoomStateConnecting, protocol.RoomEventNetworkInterrupted, "events of this room from the server may have been lost; read the room again once it is connected")
		}
		in, ok := e.roomsOn(node, pl.peer)
		if !ok {
			e.log.Warn("resync: the room's node did not say where a session stands", "owner", node, "session", pl.peer.Who().Session)
			continue
		}
		for _, room := range pl.rooms {
			if in[room] {
				roomState(pl.peer, room, protocol.RoomStateConnected, protocol.RoomEventSuccess, "")
				continue
			}
			e.origins.left(pl.peer.Who().Session, room)
			roomState(pl.peer, room, protocol.RoomStateDisconnected, protocol.RoomEventNetworkDisconnected, "you are no longer in this room (the event saying so was lost)")
		}
	}
}

// roomsOn asks node which of its rooms p is in.
func (e *Engine) roomsOn(node string, p engine.Peer) (map[string]bool, bool) {
	who := p.Who()
	for attempt := range resyncAttempts {
		if attempt > 0 {
			time.Sleep(time.Second)
		}
		raw, err := e.node.Request(context.Background(), node, "op", who.Session, forwarded{Op: "rooms", Peer: who})
		if err != nil {
			continue
		}
		var rooms []protocol.RoomInfo
		if json.Unmarshal(raw, &rooms) != nil {
			continue
		}
		in := make(map[string]bool, len(rooms))
		for _, r := range rooms {
			in[r.RoomID] = true
		}
		return in, true
	}
	return nil, false
}

// roomState pushes a roomStateChanged to p.
func roomState(p engine.Peer, room string, state, event int, why string) {
	b, err := protocol.EncodeEvent(protocol.EventRoomStateChanged, protocol.RoomStateEvent{RoomID: room, State: state, Event: event, ExtendedData: why})
	if err == nil {
		p.Deliver(b)
	}
}
