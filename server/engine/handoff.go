package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"roomkit/server/protocol"
)

// A room can leave one engine and go on in another (a server node handing
// its rooms over before it stops): Detach takes it out whole, with no
// event to anyone, and Import makes it again from what Detach returned,
// with the peers of its members as the new engine knows them. Events
// queued in the room go out before it is detached.

// RoomState is a room as Detach hands it over: everything its members and
// later joiners can see, and its rules.
type RoomState struct {
	App          string           `json:"app"`
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	DestroyDelay time.Duration    `json:"destroyDelay"`
	MaxMembers   int              `json:"maxMembers,omitempty"`
	Seq          uint64           `json:"seq"`
	OrderKey     uint64           `json:"orderKey"`
	Members      []MemberState    `json:"members"` // in join order
	Users        []UserState      `json:"users"`
	Attributes   []AttributeState `json:"attributes"`
	History      []HistoryEntry   `json:"history"`
	Passcode     string           `json:"passcode,omitempty"`
	HostUser     string           `json:"hostUser,omitempty"`
	ShareLocked  bool             `json:"shareLocked,omitempty"`
	Removed      []string         `json:"removed,omitempty"`
	IdleTimeout  time.Duration    `json:"idleTimeout"`
	Extension    json.RawMessage  `json:"extension,omitempty"` // the room's Extension's Export
}

// MemberState is one session's place.
type MemberState struct {
	SessionID string `json:"session"`
	UserID    string `json:"user"`
	Seq       uint64 `json:"seq"`
}

// UserState is one user's presence: as the room shows it, and their
// member attributes.
type UserState struct {
	Member     protocol.Member   `json:"member"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// AttributeState is one room attribute.
type AttributeState struct {
	Key                  string `json:"key"`
	Value                string `json:"value"`
	Owner                string `json:"owner"`
	DeleteAfterOwnerLeft bool   `json:"deleteAfterOwnerLeft,omitempty"`
}

// HistoryEntry is one kept message.
type HistoryEntry struct {
	OrderKey uint64          `json:"orderKey"`
	Message  json.RawMessage `json:"message"`
}

// HeldRooms returns the keys (app, room ID) of every room here.
func (m *Manager) HeldRooms() [][2]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][2]string, 0, len(m.rooms))
	for k := range m.rooms {
		out = append(out, [2]string{k.app, k.id})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0]+"\x00"+out[i][1] < out[j][0]+"\x00"+out[j][1] })
	return out
}

// Detach takes app's room roomID out of this engine and returns it: its
// members are no longer in it here, and nobody is told. False when there
// is no such room.
func (m *Manager) Detach(app, roomID string) (RoomState, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.rooms[roomKey{app, roomID}]
	if r == nil {
		return RoomState{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushJoinsLocked(r.clock.Now())
	r.flushLocked()
	st := r.stateLocked()
	for _, mem := range r.order {
		if mine := m.joined[mem.session]; mine != nil {
			delete(mine, r.id)
			if len(mine) == 0 {
				delete(m.joined, mem.session)
			}
		}
	}
	r.members, r.order, r.users = map[string]*member{}, nil, map[string]*userPlace{}
	m.destroyLocked(r)
	return st, true
}

// stateLocked is the room as a RoomState. Caller holds r.mu.
func (r *room) stateLocked() RoomState {
	st := RoomState{App: r.app, ID: r.id, Name: r.name, DestroyDelay: r.destroyDelay, MaxMembers: r.maxMembers,
		Seq: r.seq, OrderKey: r.orderKey, Passcode: r.passcode, HostUser: r.hostUser, ShareLocked: r.shareLocked, IdleTimeout: r.idleTimeout,
		Extension: r.extExport()}
	for _, mem := range r.order {
		st.Members = append(st.Members, MemberState{SessionID: mem.session, UserID: mem.userID(), Seq: mem.seq})
	}
	for _, id := range sortedKeys(r.users) {
		u := r.users[id]
		attrs := make(map[string]string, len(u.attrs))
		for k, v := range u.attrs {
			attrs[k] = v
		}
		st.Users = append(st.Users, UserState{Member: u.member, Attributes: attrs})
	}
	for _, k := range sortedKeys(r.attrs) {
		a := r.attrs[k]
		st.Attributes = append(st.Attributes, AttributeState{Key: k, Value: a.value, Owner: a.owner, DeleteAfterOwnerLeft: a.deleteAfterOwnerLeft})
	}
	for _, h := range r.history {
		st.History = append(st.History, HistoryEntry{OrderKey: h.orderKey, Message: h.raw})
	}
	st.Removed = sortedKeys(r.removed)
	return st
}

// Snapshots returns the state of every room here that changed since its
// last snapshot (of every room, with all), for a copy kept elsewhere; it
// changes nothing in the rooms.
func (m *Manager) Snapshots(all bool) []RoomState {
	m.mu.Lock()
	rooms := make([]*room, 0, len(m.rooms))
	for _, r := range m.rooms {
		rooms = append(rooms, r)
	}
	m.mu.Unlock()
	var out []RoomState
	for _, r := range rooms {
		r.mu.Lock()
		if (r.dirty || all) && !r.closed {
			r.dirty = false
			out = append(out, r.stateLocked())
		}
		r.mu.Unlock()
	}
	return out
}

// Snapshot returns the state of one room here, changed or not (a copy
// that must be written whole again); ok is false when there is none. Its
// changed mark is cleared, as by Snapshots.
func (m *Manager) Snapshot(app, roomID string) (RoomState, bool) {
	m.mu.Lock()
	r := m.rooms[roomKey{app, roomID}]
	m.mu.Unlock()
	if r == nil {
		return RoomState{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return RoomState{}, false
	}
	r.dirty = false
	return r.stateLocked(), true
}

// Import makes the room st describes here, with each member's peer as
// peerFor returns it; members whose peer is nil are left out, and the
// others told they left (their node is gone). It fails when a room of
// that ID exists here or the app's stored bytes would pass its limit.
func (m *Manager) Import(st RoomState, peerFor func(sessionID, userID string) Peer) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := roomKey{st.App, st.ID}
	if m.closed {
		return protocol.Errorf(protocol.CodeServerShutdown, "the server is shutting down")
	}
	if m.rooms[key] != nil {
		return fmt.Errorf("room %q already exists here", st.ID)
	}
	r := newRoom(st.App, protocol.RoomInfo{RoomID: st.ID, RoomName: st.Name}, nil, "")
	r.destroyDelay, r.maxMembers, r.seq, r.orderKey = st.DestroyDelay, st.MaxMembers, st.Seq, st.OrderKey
	r.passcode, r.hostUser, r.shareLocked, r.idleTimeout = st.Passcode, st.HostUser, st.ShareLocked, st.IdleTimeout
	r.clock, r.onIdle, r.joinWindow = m.clock, m.endIfIdle, m.limits.JoinBatchWindow
	for _, id := range st.Removed {
		r.removed[id] = true
	}
	for _, a := range st.Attributes {
		r.attrs[a.Key] = &attribute{value: a.Value, owner: a.Owner, deleteAfterOwnerLeft: a.DeleteAfterOwnerLeft}
	}
	r.attrBytes = attributesSize(r.attributeValues())
	for _, h := range st.History {
		r.history = append(r.history, storedMessage{orderKey: h.OrderKey, raw: h.Message})
		r.historyBytes += len(h.Message)
	}
	for _, u := range st.Users {
		place := &userPlace{member: u.Member, attrs: u.Attributes}
		if len(u.Attributes) > 0 {
			place.attrBytes = encodedSize(u.Attributes)
			r.memberAttrBytes += place.attrBytes
		}
		r.users[u.Member.UserID] = place
	}
	usage := m.budget.app(st.App)
	if err := usage.charge(int64(RoomOverheadBytes+r.attrBytes+r.historyBytes+r.memberAttrBytes), fmt.Sprintf("cannot take room %q over", st.ID)); err != nil {
		return err
	}
	r.usage = usage
	m.makeExtLocked(r, st.Extension)
	var gone []protocol.Member
	var goneSessions []string
	for _, ms := range st.Members {
		u := r.users[ms.UserID]
		p := peerFor(ms.SessionID, ms.UserID)
		if u == nil {
			continue
		}
		if p == nil {
			gone = append(gone, protocol.Member{UserID: ms.UserID, UserName: u.member.UserName})
			goneSessions = append(goneSessions, ms.SessionID)
			continue
		}
		mem := &member{peer: p, session: ms.SessionID, user: u, seq: ms.Seq}
		u.sessions = append(u.sessions, mem)
		r.members[ms.SessionID] = mem
		r.order = append(r.order, mem)
		mine := m.joined[ms.SessionID]
		if mine == nil {
			mine = map[string]*room{}
			m.joined[ms.SessionID] = mine
		}
		mine[st.ID] = r
	}
	m.rooms[key] = r
	m.appRooms[key.app]++
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dirty = true // its new owner writes its copy
	// The extension knew the members as they were where the room came
	// from: it is told which of them are here and which are gone.
	for _, mem := range r.order {
		r.extJoined(mem)
	}
	if len(gone) > 0 {
		r.broadcast(protocol.EventRoomMemberLeft, protocol.MembersEvent{RoomID: r.id, MemberList: gone}, "")
		for i, mem := range gone {
			r.extLeft(goneSessions[i], r.users[mem.UserID].member)
		}
	}
	// Users with no session left here are gone from the room, as after a
	// leave: their owned attributes go, and the host role passes on.
	for _, id := range sortedKeys(r.users) {
		if u := r.users[id]; len(u.sessions) == 0 {
			r.userGoneLocked(u)
		}
	}
	r.checkIdleLocked()
	if len(r.members) == 0 {
		if r.destroyDelay == 0 {
			m.destroyLocked(r)
		} else {
			gen := r.emptyGen
			r.timer = m.clock.AfterFunc(r.destroyDelay, func() { m.destroyIfStillEmpty(r, gen) })
		}
	}
	return nil
}
