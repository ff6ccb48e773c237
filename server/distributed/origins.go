package distributed

import (
	"sync"

	"roomkit/server/engine"
)

// origins is what this node knows of its own sessions that are in rooms
// through this engine: the peer, to hand it what other nodes send, and
// which rooms it joined (rooms from which others removed it may linger
// until Rooms refreshes it). Where those rooms live is ownership's: it is
// read there, never copied here.
//
// mu guards the map and every origin's rooms; it is taken under no other
// lock of the engine's and nothing is called under it.
type origins struct {
	mu        sync.Mutex
	bySession map[string]*origin
}

// origin is one of this node's sessions with rooms.
type origin struct {
	peer  engine.Peer
	app   string
	rooms map[string]bool
}

func newOrigins() *origins { return &origins{bySession: map[string]*origin{}} }

// note makes sure p is known, so that what other nodes send it reaches
// it (before an operation that may make events is forwarded).
func (r *origins) note(p engine.Peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noteLocked(p)
}

func (r *origins) noteLocked(p engine.Peer) *origin {
	who := p.Who()
	o := r.bySession[who.Session]
	if o == nil {
		o = &origin{peer: p, app: who.App, rooms: map[string]bool{}}
		r.bySession[who.Session] = o
	}
	return o
}

// joined notes that p is in rooms.
func (r *origins) joined(p engine.Peer, rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.noteLocked(p)
	for _, r := range rooms {
		o.rooms[r] = true
	}
}

// left notes that session is no longer in rooms.
func (r *origins) left(session string, rooms ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.bySession[session]; o != nil {
		for _, r := range rooms {
			delete(o.rooms, r)
		}
	}
}

// in reports whether session is in room, as this node believes.
func (r *origins) in(session, room string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.bySession[session]
	return o != nil && o.rooms[room]
}

// count is how many rooms this node believes session is in.
func (r *origins) count(session string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.bySession[session]; o != nil {
		return len(o.rooms)
	}
	return 0
}

// peer is session's peer, if it is one of the origins.
func (r *origins) peer(session string) engine.Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	if o := r.bySession[session]; o != nil {
		return o.peer
	}
	return nil
}

// keys is the keys of session's rooms.
func (r *origins) keys(session string) []roomKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bySession[session].keys()
}

// drop forgets session and returns the keys of its rooms.
func (r *origins) drop(session string) []roomKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	o := r.bySession[session]
	delete(r.bySession, session)
	return o.keys()
}

// place is one origin's peer and the keys of its rooms, as of a moment.
type place struct {
	peer engine.Peer
	keys []roomKey
}

// all is every origin with its rooms.
func (r *origins) all() []place {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]place, 0, len(r.bySession))
	for _, o := range r.bySession {
		out = append(out, place{o.peer, o.keys()})
	}
	return out
}

// inRoom reports whether any origin is in key's room.
func (r *origins) inRoom(key roomKey) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.bySession {
		if o.app == key.app && o.rooms[key.id] {
			return true
		}
	}
	return false
}

// keys is o's rooms (none for a nil o). Caller holds the origins' mu.
func (o *origin) keys() []roomKey {
	if o == nil {
		return nil
	}
	keys := make([]roomKey, 0, len(o.rooms))
	for r := range o.rooms {
		keys = append(keys, roomKey{o.app, r})
	}
	return keys
}
