package directory

import (
	"fmt"
	"sync"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Registry is this node's sessions, attached or waiting for a resume: by
// ID, and by app and user (every tab of a user here). It is made before
// the engine and the gateway and given to both: the gateway adds and
// removes its sessions; the cluster finds them to deliver what other
// nodes send and to hand one over. Safe for concurrent use; its lock is
// held only while its maps are read or changed, never while calling a
// session.
type Registry struct {
	mu     sync.Mutex
	byID   map[string]entry
	byUser map[userKey][]Session // in the order they were added
	perApp map[string]int
}

// entry is a session with the user it is of (fixed for its life).
type entry struct {
	s    Session
	user userKey
}

// userKey names a user: user IDs are an app's own.
type userKey struct{ app, id string }

// Limits bound the sessions a registry takes: on the server, per app and
// per user. Zero fields do not bound.
type Limits struct {
	MaxSessions, MaxSessionsPerApp, MaxSessionsPerUser int
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{byID: map[string]entry{}, byUser: map[userKey][]Session{}, perApp: map[string]int{}}
}

// Add registers s under its ID and its user, unless that passes one of
// l's bounds: then it refuses with CodeConnectionLimit, saying which. It
// reports whether s is its user's first session here. A session of an ID
// registered already replaces it.
func (r *Registry) Add(s Session, l Limits) (first bool, _ *protocol.Error) {
	who := s.Who()
	key := userKey{who.App, who.Member.UserID}
	r.mu.Lock()
	defer r.mu.Unlock()
	tabs := r.byUser[key]
	switch {
	case l.MaxSessions > 0 && len(r.byID) >= l.MaxSessions:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "the server has %d sessions, its limit; try again later", l.MaxSessions)
	case l.MaxSessionsPerApp > 0 && r.perApp[who.App] >= l.MaxSessionsPerApp:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "this app has %d sessions on this server, its limit; try again later", l.MaxSessionsPerApp)
	case l.MaxSessionsPerUser > 0 && len(tabs) >= l.MaxSessionsPerUser:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "user %q has %d sessions (tabs and devices), the most one user may; close one first", key.id, l.MaxSessionsPerUser)
	}
	if old, ok := r.byID[who.Session]; ok {
		r.removeLocked(who.Session, old)
		tabs = r.byUser[key]
	}
	r.byID[who.Session] = entry{s, key}
	r.perApp[who.App]++
	r.byUser[key] = append(tabs, s)
	return len(tabs) == 0, nil
}

// Remove forgets s (nothing when another session holds its ID now, or
// none); it reports whether s was its user's last session here.
func (r *Registry) Remove(s Session) (last bool) {
	id := s.Who().Session
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.byID[id]
	if !ok || e.s != s {
		return false
	}
	return r.removeLocked(id, e)
}

func (r *Registry) removeLocked(id string, e entry) (last bool) {
	delete(r.byID, id)
	if r.perApp[e.user.app]--; r.perApp[e.user.app] <= 0 {
		delete(r.perApp, e.user.app)
	}
	key := e.user
	tabs := r.byUser[key]
	for i, t := range tabs {
		if t == e.s {
			tabs = append(tabs[:i:i], tabs[i+1:]...)
			break
		}
	}
	if len(tabs) == 0 {
		delete(r.byUser, key)
		return true
	}
	r.byUser[key] = tabs
	return false
}

// Session is the session of this ID here, or nil.
func (r *Registry) Session(id string) Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.byID[id]; ok {
		return e.s
	}
	return nil
}

// Peers implements calls.Directory: every session here of app's user
// userID whose token admits roomID (every one for ""), attached or
// waiting for a resume (a resumed tab gets what rang meanwhile).
func (r *Registry) Peers(app, userID, roomID string) []engine.Peer {
	r.mu.Lock()
	tabs := r.byUser[userKey{app, userID}]
	out := make([]engine.Peer, 0, len(tabs))
	for _, s := range tabs {
		out = append(out, s)
	}
	r.mu.Unlock()
	if roomID == "" {
		return out
	}
	kept := out[:0]
	for _, p := range out {
		if p.Who().AdmitsRoom(roomID) {
			kept = append(kept, p)
		}
	}
	return kept
}

// All is every session here.
func (r *Registry) All() []Session {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Session, 0, len(r.byID))
	for _, e := range r.byID {
		out = append(out, e.s)
	}
	return out
}

// Len counts the sessions here.
func (r *Registry) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.byID)
}

// HandOver gives session id to node to (Session.HandOver); it fails when
// no session of that ID is here.
func (r *Registry) HandOver(id, key, app, userID, to string) (Handover, error) {
	s := r.Session(id)
	if s == nil {
		return Handover{}, fmt.Errorf("the session has ended")
	}
	return s.HandOver(key, app, userID, to)
}

// RestartAll restarts every session here (Session.Restart), for a node
// whose view of the cluster went stale.
func (r *Registry) RestartAll(why string) {
	for _, s := range r.All() {
		s.Restart(why)
	}
}
