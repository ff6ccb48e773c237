package engine

import (
	"crypto/subtle"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"roomkit/server/protocol"
)

// Manager is the in-memory Engine. Membership changes run under mu (then
// the room's lock), so they are serialised server-wide; reads and room
// traffic take only the room's lock.
type Manager struct {
	limits     Limits
	clock      Clock
	extensions Extensions    // makes each room's extension (nil: none)
	messageSeq atomic.Uint64 // message IDs, unique on this server
	messageIDs string        // prefix of every message ID (a node's, in a cluster)
	budget     *budget       // bytes held by rooms, per app and in all

	onEnded atomic.Pointer[func(app, roomID string)] // told of each room ended for all or idle

	mu       sync.Mutex
	rooms    map[roomKey]*room
	appRooms map[string]int              // rooms per app, for the per-app limit
	joined   map[string]map[string]*room // session ID -> room ID -> room
	closed   bool
}

// OnRoomEnded has f told of every room this engine ends for all its
// members (the host ended it, or it passed its idle timeout), on a
// goroutine of its own after the room is gone, so f may take any lock.
// A room that merely empties, or moves to another node, is not ended.
func (m *Manager) OnRoomEnded(f func(app, roomID string)) { m.onEnded.Store(&f) }

// roomKey names a room on the server: room IDs are an app's own, so two
// apps' rooms of the same ID are two rooms.
type roomKey struct{ app, id string }

var _ Engine = (*Manager)(nil)

// NewManager returns an empty in-memory engine with limits (zero fields take
// their defaults).
func NewManager(limits Limits, opts ...Option) *Manager {
	limits = limits.withDefaults()
	m := &Manager{limits: limits, clock: realClock{}, budget: newBudget(limits.MaxStoredBytesPerApp, limits.MaxStoredBytes), rooms: map[roomKey]*room{}, appRooms: map[string]int{}, joined: map[string]map[string]*room{}}
	for _, o := range opts {
		o(m)
	}
	return m
}

// Option changes how NewManager builds the engine.
type Option func(*Manager)

// WithClock has the engine read the time (timers, join batching, message
// timestamps) from c instead of the wall clock.
func WithClock(c Clock) Option { return func(m *Manager) { m.clock = c } }

// WithMessageIDPrefix starts every message ID with prefix, so that the
// engines of several nodes never hand out the same ID.
func WithMessageIDPrefix(prefix string) Option { return func(m *Manager) { m.messageIDs = prefix } }

// joinMode says what a join does about a missing or existing room.
type joinMode int

const (
	modeJoin   joinMode = iota // the room must exist
	modeCreate                 // the room must not exist
	modeEnter                  // either
)

// Create creates info's room and joins p to it; it fails with
// CodeRoomAlreadyExists when the room exists.
func (m *Manager) Create(p Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return m.joinLocked(p, info, cfg, modeCreate, "", protocol.PasscodeOf(cfg))
}

// Join joins p to an existing room, presenting passcode; CodeRoomNotExist
// when there is none.
func (m *Manager) Join(p Peer, roomID, passcode string) (protocol.RoomInfo, error) {
	return m.joinLocked(p, protocol.RoomInfo{RoomID: roomID}, nil, modeJoin, "", passcode)
}

// Enter joins p to the room, creating it with cfg first if needed.
func (m *Manager) Enter(p Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return m.joinLocked(p, info, cfg, modeEnter, "", protocol.PasscodeOf(cfg))
}

// Switch joins p to `to` (creating it when create is true) and then leaves
// `from`. On failure p stays in `from`.
func (m *Manager) Switch(p Peer, from string, to protocol.RoomInfo, create bool, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	if err := protocol.ValidateID("fromRoomID", from, protocol.MaxRoomIDBytes); err != nil {
		return protocol.RoomInfo{}, err
	}
	mode := modeJoin
	if create {
		mode = modeEnter
	}
	return m.joinLocked(p, to, cfg, mode, from, protocol.PasscodeOf(cfg))
}

// joinLocked is every join: it validates, finds or creates the room, checks
// the limits, the passcode and removals, and adds p. When leaving is set (a
// switch), p must be in that room and leaves it once the join has
// succeeded.
func (m *Manager) joinLocked(p Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig, mode joinMode, leaving, passcode string) (protocol.RoomInfo, error) {
	who := p.Who()
	if err := protocol.ValidateRoomInfo(info); err != nil {
		return protocol.RoomInfo{}, err
	}
	if mode != modeJoin {
		if err := m.validateConfig(cfg); err != nil {
			return protocol.RoomInfo{}, err
		}
	}
	if !who.AdmitsRoom(info.RoomID) {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeTokenRoomMismatch, "your token admits another room only, not %q", info.RoomID)
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeServerShutdown, "the server is shutting down; try again shortly")
	}
	mine := m.joined[who.Session]
	if leaving != "" && mine[leaving] == nil {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q, so you cannot switch from it", leaving)
	}
	if mine[info.RoomID] != nil {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeAlreadyInRoom, "you are already in room %q", info.RoomID)
	}
	if leaving == "" && len(mine) >= m.limits.MaxRoomsPerSession {
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeJoinedRoomsLimit, "this connection is in %d rooms, the most it may be in; leave one first", len(mine))
	}

	key := roomKey{who.App, info.RoomID}
	r := m.rooms[key]
	switch {
	case r != nil && mode == modeCreate:
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeRoomAlreadyExists, "room %q already exists; join or enter it instead", info.RoomID)
	case r == nil && mode == modeJoin:
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeRoomNotExist, "room %q does not exist; create or enter it instead", info.RoomID)
	case r == nil && m.limits.MaxRooms > 0 && len(m.rooms) >= m.limits.MaxRooms:
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeRoomLimitReached, "the server holds %d rooms, its limit; join an existing room", len(m.rooms))
	case r == nil && m.appRooms[key.app] >= m.limits.MaxRoomsPerApp:
		return protocol.RoomInfo{}, protocol.Errorf(protocol.CodeRoomLimitReached, "this app has %d rooms, its limit on this server; join an existing room", m.appRooms[key.app])
	case r == nil:
		usage := m.budget.app(key.app)
		var attrs map[string]string
		if cfg != nil {
			attrs = cfg.RoomAttributes
		}
		if err := usage.charge(int64(RoomOverheadBytes+attributesSize(attrs)), fmt.Sprintf("cannot create room %q", info.RoomID)); err != nil {
			return protocol.RoomInfo{}, err
		}
		r = newRoom(key.app, info, cfg, who.Member.UserID)
		r.usage, r.attrBytes = usage, attributesSize(attrs)
		r.clock, r.onIdle = m.clock, m.endIfIdle
		r.joinWindow = m.limits.JoinBatchWindow
		m.makeExtLocked(r, nil)
		if r.idleTimeout == 0 {
			r.idleTimeout = protocol.DefaultIdleTimeoutMins * time.Minute
		}
		m.rooms[key] = r
		m.appRooms[key.app]++
	}

	r.mu.Lock()
	if err := m.admitLocked(r, p, passcode); err != nil {
		r.mu.Unlock()
		return protocol.RoomInfo{}, err
	}
	r.add(p)
	r.checkIdleLocked()
	joined := r.info()
	r.mu.Unlock()

	if mine == nil {
		mine = map[string]*room{}
		m.joined[who.Session] = mine
	}
	mine[info.RoomID] = r
	if leaving != "" {
		m.leaveLocked(p, mine[leaving])
	}
	return joined, nil
}

// admitLocked checks that p may join r: not removed from it, with the
// right passcode, and within its capacity. A refusal leaves no trace in
// the room. Caller holds r.mu.
func (m *Manager) admitLocked(r *room, p Peer, passcode string) error {
	switch {
	case r.removed[p.Who().Member.UserID]:
		return protocol.Errorf(protocol.CodeRemovedFromRoom, "you were removed from room %q and may not join it again while it lasts", r.id)
	case r.passcode != "" && passcode == "":
		return protocol.Errorf(protocol.CodeWrongPasscode, "room %q needs a passcode; ask its host for it", r.id)
	case subtle.ConstantTimeCompare([]byte(r.passcode), []byte(passcode)) != 1:
		return protocol.Errorf(protocol.CodeWrongPasscode, "the passcode for room %q is wrong", r.id)
	case len(r.members) >= m.capacity(r):
		return protocol.Errorf(protocol.CodeRoomFull, "room %q is full (%d members)", r.id, m.capacity(r))
	}
	return nil
}

// validateConfig checks the advanced room config against the limits.
func (m *Manager) validateConfig(cfg *protocol.RoomConfig) error {
	if cfg == nil {
		return nil
	}
	maxDelay := int(m.limits.MaxDestroyDelay / time.Second)
	if cfg.MaxMembers < 0 {
		return protocol.Errorf(protocol.CodeInvalidParameter, "maxMembers is %d; use 0 (the server's limit) or more", cfg.MaxMembers)
	}
	if cfg.RoomDestroyDelayTime < 0 || cfg.RoomDestroyDelayTime > maxDelay {
		return protocol.Errorf(protocol.CodeInvalidParameter, "roomDestroyDelayTime is %d; use 0 to %d seconds", cfg.RoomDestroyDelayTime, maxDelay)
	}
	if cfg.SessionIdleTimeoutMins < 0 || cfg.SessionIdleTimeoutMins > protocol.MaxIdleTimeoutMins {
		return protocol.Errorf(protocol.CodeInvalidParameter, "sessionIdleTimeoutMins is %d; use 0 (the default, %d) to %d minutes", cfg.SessionIdleTimeoutMins, protocol.DefaultIdleTimeoutMins, protocol.MaxIdleTimeoutMins)
	}
	if err := protocol.ValidatePasscode("passcode", cfg.Passcode); err != nil {
		return err
	}
	return m.validateAttributes(cfg.RoomAttributes)
}

// validateAttributes checks the attributes a room is created with.
func (m *Manager) validateAttributes(attrs map[string]string) error {
	staged := make(map[string]*attribute, len(attrs))
	for k, v := range attrs {
		if err := m.validateAttribute(k, v); err != nil {
			return err
		}
		staged[k] = &attribute{value: v}
	}
	return m.checkAttributeTotals(staged)
}

// Leave removes p from roomID; CodeNotInRoom when p is not a member.
func (m *Manager) Leave(p Peer, roomID string) error {
	if err := protocol.ValidateID("roomID", roomID, protocol.MaxRoomIDBytes); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.joined[p.Who().Session][roomID]
	if r == nil {
		return protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q", roomID)
	}
	m.leaveLocked(p, r)
	return nil
}

// LeaveAll implements Engine.
func (m *Manager) LeaveAll(p Peer) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	// In room ID order, so the events it causes come in a predictable order.
	mine := m.joined[p.Who().Session]
	ids := sortedKeys(mine)
	for _, id := range ids {
		m.leaveLocked(p, mine[id])
	}
	return ids
}

// leaveLocked removes p from r. Caller holds m.mu.
func (m *Manager) leaveLocked(p Peer, r *room) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m.removeLocked(p, r)
}

// removeLocked removes p from r, and schedules r's end when it is empty.
// Caller holds m.mu and r.mu.
func (m *Manager) removeLocked(p Peer, r *room) {
	who := p.Who()
	mine := m.joined[who.Session]
	delete(mine, r.id)
	if len(mine) == 0 {
		delete(m.joined, who.Session)
	}
	empty := r.remove(p)
	r.checkIdleLocked()
	if !empty {
		return
	}
	if r.destroyDelay == 0 {
		m.destroyLocked(r)
		return
	}
	gen := r.emptyGen
	r.timer = m.clock.AfterFunc(r.destroyDelay, func() { m.destroyIfStillEmpty(r, gen) })
}

// destroyIfStillEmpty ends r if it has stayed empty since it became empty
// for the gen-th time.
func (m *Manager) destroyIfStillEmpty(r *room, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.emptyGen == gen && len(r.members) == 0 && !r.closed {
		m.destroyLocked(r)
	}
}

// destroyLocked removes r from the server. Caller holds m.mu and r.mu.
func (m *Manager) destroyLocked(r *room) {
	r.closed = true
	r.extClosed()
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.stopIdleLocked()
	_ = r.usage.charge(-int64(RoomOverheadBytes+r.attrBytes+r.historyBytes+r.memberAttrBytes), "")
	r.attrBytes, r.historyBytes, r.memberAttrBytes = 0, 0, 0
	if key := (roomKey{r.app, r.id}); m.rooms[key] == r {
		delete(m.rooms, key)
		if m.appRooms[r.app]--; m.appRooms[r.app] <= 0 {
			delete(m.appRooms, r.app)
		}
	}
}

// Rooms implements Engine.
func (m *Manager) Rooms(p Peer) []protocol.RoomInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	mine := m.joined[p.Who().Session]
	out := make([]protocol.RoomInfo, 0, len(mine))
	for _, id := range sortedKeys(mine) {
		out = append(out, mine[id].info())
	}
	return out
}

// MemberList returns a page of roomID's members in join order.
func (m *Manager) MemberList(p Peer, roomID string, count int, nextFlag string) (protocol.MemberListReply, error) {
	if count < 1 || count > m.limits.MaxMemberListPageSize {
		return protocol.MemberListReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "count is %d; use 1 to %d", count, m.limits.MaxMemberListPageSize)
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.MemberListReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[p.Who().Session]
	if me == nil {
		return protocol.MemberListReply{}, notInRoom(roomID)
	}
	return r.page(me.seq, count, nextFlag)
}

// MemberCount runs queryRoomOnlineMemberCount (ops.go): the members the asker has been told of,
// the same ones its member list pages through (a join still waiting to be
// announced counts once its roomMemberJoined is out).
func (m *Manager) MemberCount(p Peer, roomID string) (int, error) {
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return 0, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	me := r.members[p.Who().Session]
	if me == nil {
		return 0, notInRoom(roomID)
	}
	return r.visibleLocked(me.seq), nil
}

// memberRoom returns roomID's room when p is a member of it.
func (m *Manager) memberRoom(p Peer, roomID string) (*room, error) {
	if err := protocol.ValidateID("roomID", roomID, protocol.MaxRoomIDBytes); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.joined[p.Who().Session][roomID]
	if r == nil {
		return nil, notInRoom(roomID)
	}
	return r, nil
}

// Members returns how many places (sessions in rooms) there are in all
// rooms, for metrics.
func (m *Manager) Members() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, rooms := range m.joined {
		n += len(rooms)
	}
	return n
}

// Rebind makes p the peer of session p.Who().Session in every room that
// session is in, in place of the one it joined with (the session moved to
// another connection or server node): its place, role and attributes stay,
// and later events go to p. It returns the IDs of those rooms.
func (m *Manager) Rebind(p Peer) []string {
	who := p.Who()
	m.mu.Lock()
	defer m.mu.Unlock()
	mine := m.joined[who.Session]
	for _, r := range mine {
		r.mu.Lock()
		if mem := r.members[who.Session]; mem != nil {
			mem.peer = p
		}
		r.mu.Unlock()
	}
	return sortedKeys(mine)
}

// HasRoom reports whether app's room roomID exists here.
func (m *Manager) HasRoom(app, roomID string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rooms[roomKey{app, roomID}] != nil
}

// RoomCount returns how many rooms exist, for metrics and tests.
func (m *Manager) RoomCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rooms)
}

// Attributes returns a copy of app's room roomID's attributes and whether
// the room exists.
func (m *Manager) Attributes(app, roomID string) (map[string]string, bool) {
	m.mu.Lock()
	r := m.rooms[roomKey{app, roomID}]
	m.mu.Unlock()
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attributeValues(), true
}

// MemberUserIDs returns the user IDs of app's room roomID's members in
// join order (a user once per session), and whether the room exists: the
// server's side of a member list, for tests and tools.
func (m *Manager) MemberUserIDs(app, roomID string) ([]string, bool) {
	m.mu.Lock()
	r := m.rooms[roomKey{app, roomID}]
	m.mu.Unlock()
	if r == nil {
		return nil, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ids := make([]string, len(r.order))
	for i, mem := range r.order {
		ids[i] = mem.userID()
	}
	return ids, true
}

// Close implements Engine: it stops every destroy timer and forgets every
// room. Connections are told by the gateway, which closes them.
func (m *Manager) Close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	for _, r := range m.rooms {
		r.mu.Lock()
		m.destroyLocked(r)
		r.mu.Unlock()
	}
	m.joined = map[string]map[string]*room{}
}
