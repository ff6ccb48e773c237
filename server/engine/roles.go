package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"roomkit/server/protocol"
)

// Clock is the time as the rooms read it: their timers (destroy delays,
// idle timeouts, the flush of pending events), the batching of joins and
// the timestamps of messages. Tests can move it on instead of waiting.
type Clock interface {
	// Now is the time now.
	Now() time.Time
	// AfterFunc calls f in its own goroutine once d has passed.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a timer a Clock made.
type Timer interface {
	// Stop keeps the timer from firing; it reports whether it did.
	Stop() bool
}

// realClock is the wall clock.
type realClock struct{}

func (realClock) Now() time.Time                            { return time.Now() }
func (realClock) AfterFunc(d time.Duration, f func()) Timer { return time.AfterFunc(d, f) }

// action is something a member does to another member or to the room,
// which its role must allow.
type action int

const (
	actRename     action = iota // change another member's display name
	actMute                     // turn another member's audio off or on
	actMakeHost                 // hand the host role to another member
	actSetManager               // make another member manager, or revoke it
	actRemove                   // remove another member from the room
	actLockShare                // lock or unlock screen sharing
	actEnd                      // end the room for everyone
)

var actionNames = map[action]string{
	actRename: "rename a member", actMute: "mute or unmute a member", actMakeHost: "make a member host",
	actSetManager: "make or revoke a manager", actRemove: "remove a member", actLockShare: "lock screen sharing", actEnd: "end the room",
}

// permitted is the privilege matrix (the video SDK's roles): whether a member of role
// actor may do act to a member of role target ("" for what acts on the
// room). The host may do everything; a manager may rename and mute anyone
// but the host, remove participants, and lock sharing; a participant may
// do none of it. What a member does to itself is not an action.
func permitted(actor string, act action, target string) bool {
	switch actor {
	case protocol.RoleHost:
		return true
	case protocol.RoleManager:
		switch act {
		case actRename, actMute:
			return target != protocol.RoleHost
		case actRemove:
			return target == protocol.RoleParticipant
		case actLockShare:
			return true
		}
	}
	return false
}

// rank orders roles for attribute ownership: isForce overrides the owner
// of a key only when the caller's rank is at least the owner's (a
// participant cannot force-change a host's or manager's key; in a room
// without roles, everyone is a participant and isForce works as before).
func rank(role string) int {
	switch role {
	case protocol.RoleHost:
		return 2
	case protocol.RoleManager:
		return 1
	}
	return 0
}

// roleOf is user's role in the room; an absent user counts as participant.
// Caller holds r.mu.
func (r *room) roleOf(user string) string {
	if u := r.users[user]; u != nil {
		return u.member.Role
	}
	return protocol.RoleParticipant
}

// refused is the error of an action the caller's role does not allow.
func refused(actor string, act action, target, targetRole string) *protocol.Error {
	if target == "" {
		return protocol.Errorf(protocol.CodeNotPermitted, "a %s may not %s; ask the host", actor, actionNames[act])
	}
	return protocol.Errorf(protocol.CodeNotPermitted, "a %s may not %s who is %s (%q); ask the host", actor, actionNames[act], article(targetRole), target)
}

func article(role string) string {
	if role == protocol.RoleHost {
		return "the host"
	}
	return "a " + role
}

// session is the room a privileged operation acts on, with the caller's
// place and the target's, all under r.mu. Only an operation that changes
// membership (a removal, the end) holds m.mu too: the others let the
// server's lock go once the room is found, so a microphone toggle's
// broadcast holds up only its own room.
type session struct {
	r      *room
	me     *userPlace
	target *userPlace // nil when the operation names no user
}

// sessionRoom finds p's room roomID under m.mu, lets m.mu go, locks the
// room, and checks that p is still in it (a room ended or moved meanwhile
// has no members) and that target (if not "") is. Unlock with
// r.mu.Unlock.
func (m *Manager) sessionRoom(p Peer, roomID, target string) (session, error) {
	if err := validRoomID(roomID); err != nil {
		return session{}, err
	}
	if err := validateTarget(target); err != nil {
		return session{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return session{}, err
	}
	return lockSession(r, p, roomID, target)
}

// sessionRoomLocked is sessionRoom for a caller that holds m.mu.
func (m *Manager) sessionRoomLocked(p Peer, roomID, target string) (session, error) {
	if err := protocol.ValidateID("roomID", roomID, protocol.MaxRoomIDBytes); err != nil {
		return session{}, err
	}
	if err := validateTarget(target); err != nil {
		return session{}, err
	}
	r := m.joined[p.Who().Session][roomID]
	if r == nil {
		return session{}, notInRoom(roomID)
	}
	return lockSession(r, p, roomID, target)
}

func validateTarget(target string) error {
	if target == "" {
		return nil
	}
	if err := protocol.ValidateID("userID", target, protocol.MaxUserIDBytes); err != nil {
		return err
	}
	return nil
}

// lockSession locks r and finds p's place and target's in it.
func lockSession(r *room, p Peer, roomID, target string) (session, error) {
	r.mu.Lock()
	mem := r.members[p.Who().Session]
	if mem == nil {
		r.mu.Unlock()
		return session{}, notInRoom(roomID)
	}
	s := session{r: r, me: mem.user}
	if target != "" {
		if s.target = r.users[target]; s.target == nil {
			r.mu.Unlock()
			return session{}, protocol.Errorf(protocol.CodeUserNotInRoom, "user %q is not in room %q", target, roomID)
		}
	}
	return s, nil
}

// check fails unless the caller's role allows act on the target.
func (s session) check(act action) error {
	targetRole, target := "", ""
	if s.target != nil {
		targetRole, target = s.target.member.Role, s.target.member.UserID
	}
	if !permitted(s.me.member.Role, act, targetRole) {
		return refused(s.me.member.Role, act, target, targetRole)
	}
	return nil
}

// updated tells everyone in the room how the given users now look.
// Caller holds r.mu.
func (r *room) updated(users ...*userPlace) {
	list := make([]protocol.Member, len(users))
	for i, u := range users {
		list[i] = u.member
	}
	r.broadcast(protocol.EventRoomMemberUpdated, protocol.MembersEvent{RoomID: r.id, MemberList: list}, "")
	r.extUpdated(users)
}

// passHostLocked gives the host role, after the host left, to the manager
// present longest, or else to the member present longest, and tells
// everyone. Caller holds r.mu.
func (r *room) passHostLocked() {
	var next *userPlace
	for _, m := range r.order {
		if m.user.member.Role == protocol.RoleManager {
			next = m.user
			break
		}
	}
	if next == nil && len(r.order) > 0 {
		next = r.order[0].user
	}
	if next == nil {
		return
	}
	next.member.Role, r.hostUser = protocol.RoleHost, next.member.UserID
	r.updated(next)
}

// SetMemberRole runs setMemberRole (ops.go): role host hands the host role over (the
// caller becomes a manager), manager and participant make or revoke a
// manager. Only the host may.
func (m *Manager) SetMemberRole(p Peer, roomID, userID, role string) (protocol.Member, error) {
	s, err := m.sessionRoom(p, roomID, userID)
	if err != nil {
		return protocol.Member{}, err
	}
	r := s.r
	defer r.mu.Unlock()
	act := actSetManager
	switch role {
	case protocol.RoleHost:
		act = actMakeHost
	case protocol.RoleManager, protocol.RoleParticipant:
	default:
		return protocol.Member{}, protocol.Errorf(protocol.CodeInvalidParameter, "role is %q; use %q, %q or %q", role, protocol.RoleHost, protocol.RoleManager, protocol.RoleParticipant)
	}
	if s.target == s.me {
		return protocol.Member{}, protocol.Errorf(protocol.CodeInvalidParameter, "you cannot change your own role; the host hands the role to another member")
	}
	if err := s.check(act); err != nil {
		return protocol.Member{}, err
	}
	if s.target.member.Role == role {
		return s.target.member, nil
	}
	if role == protocol.RoleHost {
		s.me.member.Role = protocol.RoleManager
		s.target.member.Role, r.hostUser = protocol.RoleHost, userID
		r.updated(s.target, s.me)
		r.checkIdleLocked()
		return s.target.member, nil
	}
	s.target.member.Role = role
	r.updated(s.target)
	return s.target.member, nil
}

// RenameMember runs renameMember (ops.go): a member may rename itself; the host
// and managers may rename others (a manager not the host). An empty name
// shows as the user ID. The name is the room's: messages sent in it carry
// it.
func (m *Manager) RenameMember(p Peer, roomID, userID, name string) (protocol.Member, error) {
	if err := protocol.ValidateName("userName", name, protocol.MaxUserNameBytes); err != nil {
		return protocol.Member{}, err
	}
	s, err := m.sessionRoom(p, roomID, userID)
	if err != nil {
		return protocol.Member{}, err
	}
	defer s.r.mu.Unlock()
	if s.target != s.me {
		if err := s.check(actRename); err != nil {
			return protocol.Member{}, err
		}
	}
	if name == "" {
		name = userID
	}
	if s.target.member.UserName != name {
		s.target.member.UserName = name
		s.r.updated(s.target)
	}
	return s.target.member, nil
}

// SetMemberState runs setMemberState (ops.go): a member publishes its own audio,
// video and share flags (share only while sharing is not locked, or as
// host or manager); the host and managers may turn another's audio off
// or on and another's camera off (never on: a camera is its owner's to
// turn on), and nothing else of it.
func (m *Manager) SetMemberState(p Peer, req protocol.SetMemberStateRequest) (protocol.Member, error) {
	target := req.UserID
	if target == "" {
		target = p.Who().Member.UserID
	}
	s, err := m.sessionRoom(p, req.RoomID, target)
	if err != nil {
		return protocol.Member{}, err
	}
	defer s.r.mu.Unlock()
	if s.target != s.me {
		if req.Share != nil || (req.Video != nil && *req.Video) {
			return protocol.Member{}, protocol.Errorf(protocol.CodeNotPermitted, "only %q may turn its camera on and change its share; a host or manager may turn another's audio off or on and camera off only", target)
		}
		if err := s.check(actMute); err != nil {
			return protocol.Member{}, err
		}
	}
	if req.Share != nil && *req.Share && !s.target.member.Share && s.r.shareLocked && s.me.member.Role == protocol.RoleParticipant {
		return protocol.Member{}, protocol.Errorf(protocol.CodeNotPermitted, "screen sharing in room %q is locked by the host; only the host and managers may share", req.RoomID)
	}
	if req.Share != nil && *req.Share && !s.target.member.Share {
		var sharing []string
		for _, mem := range s.r.order {
			if u := mem.user; u.member.Share && !slices.Contains(sharing, u.member.UserID) {
				sharing = append(sharing, u.member.UserID)
			}
		}
		if len(sharing) >= m.limits.MaxShares {
			return protocol.Member{}, protocol.Errorf(protocol.CodeShareLimit, "%s is sharing a screen in room %q already; %d may share at once", strings.Join(sharing, ", "), req.RoomID, m.limits.MaxShares)
		}
	}
	before := s.target.member
	set := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	set(&s.target.member.Audio, req.Audio)
	set(&s.target.member.Video, req.Video)
	set(&s.target.member.Share, req.Share)
	if s.target.member != before {
		s.r.updated(s.target)
	}
	return s.target.member, nil
}

// RemoveMember runs removeMember (ops.go): the host may remove anyone else, a
// manager participants only. Every session of the user gets
// (Disconnected, KickedOut); the rest see it leave; the user may not come
// back while the room lasts.
func (m *Manager) RemoveMember(p Peer, roomID, userID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.sessionRoomLocked(p, roomID, userID)
	if err != nil {
		return err
	}
	r := s.r
	defer r.mu.Unlock()
	if s.target == s.me {
		return protocol.Errorf(protocol.CodeInvalidParameter, "you cannot remove yourself; leave the room instead")
	}
	if err := s.check(actRemove); err != nil {
		return err
	}
	if len(r.removed) < m.limits.MaxMembersPerRoom {
		r.removed[userID] = true
	}
	r.flushLocked() // what the room said before the removal reaches the removed user too
	kick := kickedOut(r.id, protocol.KickedOut{Reason: protocol.KickReasonRemoved, Operator: s.me.member.UserID,
		Message: fmt.Sprintf("%s removed you from the room", s.me.member.UserName)})
	for _, mem := range r.sessionsOf(userID) {
		mem.peer.Deliver(kick)
		m.removeLocked(mem.peer, r)
	}
	return nil
}

// sessionsOf returns user's places in the room in join order. Caller
// holds r.mu.
func (r *room) sessionsOf(user string) []*member {
	var out []*member
	for _, mem := range r.order {
		if mem.userID() == user {
			out = append(out, mem)
		}
	}
	return out
}

// EndRoom runs endRoom (ops.go): the host ends the room for everyone, who
// get (Disconnected, KickedOut) saying so. The room and all it holds are
// gone at once.
func (m *Manager) EndRoom(p Peer, roomID string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, err := m.sessionRoomLocked(p, roomID, "")
	if err != nil {
		return err
	}
	defer s.r.mu.Unlock()
	if err := s.check(actEnd); err != nil {
		return err
	}
	m.endLocked(s.r, protocol.KickedOut{Reason: protocol.KickReasonEnded, Operator: s.me.member.UserID,
		Message: fmt.Sprintf("the host (%s) ended the session", s.me.member.UserName)})
	return nil
}

// endLocked tells every member why the room ends, takes them out without
// the usual roomMemberLeft, and destroys it. Caller holds m.mu and r.mu.
func (m *Manager) endLocked(r *room, why protocol.KickedOut) {
	r.flushLocked()
	kick := kickedOut(r.id, why)
	for _, mem := range r.order {
		mem.peer.Deliver(kick)
		mine := m.joined[mem.session]
		delete(mine, r.id)
		if len(mine) == 0 {
			delete(m.joined, mem.session)
		}
	}
	r.members, r.order, r.users = map[string]*member{}, nil, map[string]*userPlace{}
	r.stopIdleLocked()
	m.destroyLocked(r)
	if f := m.onEnded.Load(); f != nil {
		go (*f)(r.app, r.id)
	}
}

// kickedOut encodes the (Disconnected, KickedOut) a member is sent when
// the server takes it out of roomID.
func kickedOut(roomID string, why protocol.KickedOut) []byte {
	extended, _ := json.Marshal(why)
	frame, _ := protocol.EncodeEvent(protocol.EventRoomStateChanged, protocol.RoomStateEvent{RoomID: roomID,
		State: protocol.RoomStateDisconnected, Event: protocol.RoomEventKickedOut, ExtendedData: string(extended)})
	return frame
}

// SetShareLock runs setShareLock (ops.go): the host or a manager locks or unlocks
// screen sharing for participants; everyone gets roomSessionUpdated, and
// participants sharing when it locks stop (roomMemberUpdated).
func (m *Manager) SetShareLock(p Peer, roomID string, locked bool) (protocol.SessionInfo, error) {
	s, err := m.sessionRoom(p, roomID, "")
	if err != nil {
		return protocol.SessionInfo{}, err
	}
	defer s.r.mu.Unlock()
	if err := s.check(actLockShare); err != nil {
		return protocol.SessionInfo{}, err
	}
	if s.r.shareLocked != locked {
		s.r.shareLocked = locked
		s.r.broadcast(protocol.EventRoomSessionUpdated, m.sessionInfoLocked(s.r), "")
		if locked {
			// Participants sharing now stop: the lock is on sharing, not
			// only on starting to.
			var stopped []*userPlace
			for _, mem := range s.r.order {
				if u := mem.user; u.member.Share && u.member.Role == protocol.RoleParticipant && !slices.Contains(stopped, u) {
					u.member.Share = false
					stopped = append(stopped, u)
				}
			}
			if len(stopped) > 0 {
				s.r.updated(stopped...)
			}
		}
	}
	return m.sessionInfoLocked(s.r), nil
}

// SessionInfo returns the room's session settings.
func (m *Manager) SessionInfo(p Peer, roomID string) (protocol.SessionInfo, error) {
	s, err := m.sessionRoom(p, roomID, "")
	if err != nil {
		return protocol.SessionInfo{}, err
	}
	defer s.r.mu.Unlock()
	return m.sessionInfoLocked(s.r), nil
}

// sessionInfoLocked describes r's session settings. Caller holds r.mu.
func (m *Manager) sessionInfoLocked(r *room) protocol.SessionInfo {
	return protocol.SessionInfo{RoomID: r.id, RoomName: r.name, HostUserID: r.hostUser, Passcode: r.passcode,
		ShareLocked: r.shareLocked, IdleTimeoutMins: int(r.idleTimeout / time.Minute), MaxMembers: m.capacity(r)}
}

// capacity is how many members r may hold.
func (m *Manager) capacity(r *room) int {
	if r.maxMembers > 0 {
		return min(m.limits.MaxMembersPerRoom, r.maxMembers)
	}
	return m.limits.MaxMembersPerRoom
}

// checkIdleLocked arms the idle timeout while the host is alone in the
// room and stops it otherwise. Caller holds r.mu.
func (r *room) checkIdleLocked() {
	alone := r.hostUser != "" && len(r.users) == 1
	switch {
	case alone && r.idleTimer == nil && !r.closed:
		r.idleGen++
		gen := r.idleGen
		r.idleTimer = r.clock.AfterFunc(r.idleTimeout, func() { r.onIdle(r, gen) })
	case !alone:
		r.stopIdleLocked()
	}
}

// stopIdleLocked stops the idle timeout. Caller holds r.mu.
func (r *room) stopIdleLocked() {
	if r.idleTimer != nil {
		r.idleTimer.Stop()
		r.idleTimer = nil
		r.idleGen++
	}
}

// endIfIdle ends r when the idle timeout armed gen-th is still the one
// running: the host has been alone all that time.
func (m *Manager) endIfIdle(r *room, gen uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.idleGen != gen || r.closed {
		return
	}
	r.idleTimer = nil
	m.endLocked(r, protocol.KickedOut{Reason: protocol.KickReasonIdleTimeout,
		Message: fmt.Sprintf("the session ended after the host was alone in it for %s", r.idleTimeout)})
}
