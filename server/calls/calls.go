// Package calls keeps call invitations: a call has an initiator, a room,
// a state per invited user and a config fixed at creation. The server, not
// the browsers, times invitations out. Every change reaches every session
// of every party as one callStateChanged event, encoded once.
//
// Manager.mu guards every call. The events a change makes are queued under
// it, in order, and handed to Peer.Deliver after it is let go, by one
// sender at a time (finding a user's tabs may ask Redis), so each party
// sees the changes in order. The reply to a request may reach its sender
// before the events it made (another goroutine may be sending them).
package calls

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Directory finds the sessions of a user: every tab where they are logged
// in. User IDs are an app's own: app's "ann" is not another app's "ann".
type Directory interface {
	// Peers is app's user's tabs whose token admits roomID (every tab for
	// roomID ""): a tab whose token is for one room is not rung into a
	// call in another.
	Peers(app, userID, roomID string) []engine.Peer
}

// Manager holds the calls of one server. A call belongs to the app of the
// user who made it; only that app's users can be rung into it, answer it
// or learn it exists.
//
// mu guards the calls. Finding a user's tabs (Directory.Peers) may ask
// Redis, so it is never done under mu: callees are looked up before an
// invitation takes it, and the events a change makes are queued in out,
// in the order the changes were made, and sent once mu is let go by one
// sender at a time (send), so a slow lookup holds up later events but
// never the calls' state or the replies of other requests.
type Manager struct {
	dir    Directory
	limits Limits
	seq    atomic.Uint64

	mu         sync.Mutex
	calls      map[string]*call
	appCalls   map[string]int  // calls per app
	dirty      map[string]bool // apps whose calls changed since their last copy
	ringingBy  map[userKey]int // invitations ringing, by who sent them
	ringingFor map[userKey]int // invitations ringing, by who they ring
	out        []notice        // events made under mu, not yet sent

	sending sync.Mutex // held by the one goroutine sending out
}

// notice is one event for the tabs of some users: peers when they were
// found already (an invitation's callees), or else every tab of users.
type notice struct {
	app   string
	users []string
	peers []engine.Peer
	frame []byte
}

// userKey names a user: user IDs are an app's own.
type userKey struct{ app, id string }

// Limits bound what invitations can make the server hold. Zero fields
// take the defaults named.
type Limits struct {
	MaxCalls             int // calls on the server; 0 = 100,000
	MaxCallsPerApp       int // 0 = 10,000
	MaxRingingPerInviter int // invitations one user has ringing at once; 0 = 30
	MaxRingingPerCallee  int // invitations ringing one user at once (more are Busy); 0 = 10
	MaxDataBytes         int // an invitation's data; 0 = 4 KiB
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxCalls, 100_000)
	def(&l.MaxCallsPerApp, 10_000)
	def(&l.MaxRingingPerInviter, 30)
	def(&l.MaxRingingPerCallee, 10)
	def(&l.MaxDataBytes, 4<<10)
	return l
}

// call is one call. Its fields are guarded by Manager.mu.
type call struct {
	app       string
	id        string
	initiator string
	roomID    string
	callType  int
	data      string
	config    protocol.CallConfig
	users     []*party // in the order they were invited; the initiator first
	ended     bool
	reason    string
}

// party is one user's part in a call.
type party struct {
	userID, userName string
	state, reason    string
	inviter          string      // who rang this user, while Received
	timer            *time.Timer // rings out the invitation
	ringsUntil       time.Time   // when it rings out
}

// NewManager returns a Manager that rings users found in dir, within
// limits (zero fields take their defaults).
func NewManager(dir Directory, limits Limits) *Manager {
	return &Manager{dir: dir, limits: limits.withDefaults(), calls: map[string]*call{}, appCalls: map[string]int{},
		dirty: map[string]bool{}, ringingBy: map[userKey]int{}, ringingFor: map[userKey]int{}}
}

// Invite starts a call from p and rings the callees.
func (m *Manager) Invite(p engine.Peer, req protocol.CallInviteRequest) (protocol.CallInviteReply, error) {
	who := p.Who()
	timeout, err := checkInvitation(req.Callees, req.Timeout)
	if err != nil {
		return protocol.CallInviteReply{}, err
	}
	if len(req.Data) > m.limits.MaxDataBytes {
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "data is %d bytes; at most %d are allowed", len(req.Data), m.limits.MaxDataBytes)
	}
	me := who.Member
	roomID := req.RoomID
	n := m.seq.Add(1)
	if roomID == "" {
		roomID = fmt.Sprintf("call_%s_%d", me.UserID, n)
	}
	if err := protocol.ValidateID("roomID", roomID, protocol.MaxRoomIDBytes); err != nil {
		return protocol.CallInviteReply{}, err
	}
	if !who.AdmitsRoom(roomID) {
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeTokenRoomMismatch, "your token admits one room only, not %q: pass that room as roomID", roomID)
	}
	c := &call{
		app: who.App, id: fmt.Sprintf("%d_%d", time.Now().UnixMilli(), n), initiator: me.UserID, roomID: roomID,
		callType: req.CallType, data: req.Data, config: req.Config,
		users: []*party{{userID: me.UserID, userName: me.UserName, state: protocol.CallStateInviting}},
	}
	tabs := m.find(c.app, c.roomID, req.Callees)
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case len(m.calls) >= m.limits.MaxCalls:
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeCallInvitationLimit, "the server has %d calls, its limit; try again later", m.limits.MaxCalls)
	case m.appCalls[c.app] >= m.limits.MaxCallsPerApp:
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeCallInvitationLimit, "this app has %d calls on this server, its limit; try again later", m.limits.MaxCallsPerApp)
	}
	if err := m.checkRingingLocked(c.app, me.UserID, len(req.Callees)); err != nil {
		return protocol.CallInviteReply{}, err
	}
	m.calls[c.id] = c
	m.appCalls[c.app]++
	errs := m.ringLocked(c, me, req.Callees, tabs, timeout)
	if c.ended {
		m.forgetLocked(c)
	}
	return protocol.CallInviteReply{CallID: c.id, RoomID: c.roomID, ErrorInvitees: errs}, nil
}

// Add invites more users into a call under way. The call's config decides
// who may: canInvitingInCalling must be set, and with onlyInitiatorCanInvite
// only the initiator may.
func (m *Manager) Add(p engine.Peer, req protocol.CallAddRequest) (protocol.CallInviteReply, error) {
	who := p.Who()
	timeout, err := checkInvitation(req.Callees, req.Timeout)
	if err != nil {
		return protocol.CallInviteReply{}, err
	}
	me := who.Member
	tabs := m.find(who.App, m.roomOf(req.CallID), req.Callees)
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c, self, err := m.partyLocked(req.CallID, p)
	if err != nil {
		return protocol.CallInviteReply{}, err
	}
	switch {
	case !c.config.CanInvitingInCalling:
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeCallInviteNotPermitted, "this call does not allow inviting while it is under way (canInvitingInCalling is off)")
	case c.config.OnlyInitiatorCanInvite && me.UserID != c.initiator:
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeCallInviteNotPermitted, "only the call's initiator, %s, may invite in this call", c.initiator)
	case self.state != protocol.CallStateAccepted && self.state != protocol.CallStateInviting:
		return protocol.CallInviteReply{}, protocol.Errorf(protocol.CodeCallStateInvalid, "you are %s in this call; only members of the call may invite", self.state)
	}
	if err := m.checkRingingLocked(c.app, me.UserID, len(req.Callees)); err != nil {
		return protocol.CallInviteReply{}, err
	}
	errs := m.ringLocked(c, me, req.Callees, tabs, timeout)
	return protocol.CallInviteReply{CallID: c.id, RoomID: c.roomID, ErrorInvitees: errs}, nil
}

// roomOf is the room of call id ("" when there is no such call: the
// caller's own check under m.mu says so).
func (m *Manager) roomOf(id string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if c := m.calls[id]; c != nil {
		return c.roomID
	}
	return ""
}

// find looks up the tabs of each callee whose token admits roomID, the
// call's room (before m.mu is taken: it may ask Redis). A user who logs
// in or out meanwhile is as if a moment later.
func (m *Manager) find(app, roomID string, callees []protocol.Callee) map[string][]engine.Peer {
	tabs := make(map[string][]engine.Peer, len(callees))
	for _, c := range callees {
		if _, done := tabs[c.UserID]; !done {
			tabs[c.UserID] = m.dir.Peers(app, c.UserID, roomID)
		}
	}
	return tabs
}

// ringLocked adds the callees to c and rings those who can be rung (tabs:
// their tabs, from find); it returns those who cannot. Caller holds m.mu.
func (m *Manager) ringLocked(c *call, inviter protocol.Member, callees []protocol.Callee, tabs map[string][]engine.Peer, timeout time.Duration) []protocol.Callee {
	errs := []protocol.Callee{}
	var changed []*party
	for _, callee := range callees {
		if existing := c.party(callee.UserID); existing != nil && !final(existing.state) || callee.UserID == inviter.UserID {
			errs = append(errs, callee)
			continue
		}
		pt := c.party(callee.UserID)
		if pt == nil {
			pt = &party{userID: callee.UserID, userName: callee.UserName}
			c.users = append(c.users, pt)
		}
		pt.reason = ""
		peers := tabs[callee.UserID]
		switch {
		case len(peers) == 0:
			pt.state = protocol.CallStateOffline
			errs = append(errs, callee)
		case m.busyLocked(callee.UserID, c) || m.ringingFor[userKey{c.app, callee.UserID}] >= m.limits.MaxRingingPerCallee:
			pt.state, pt.reason = protocol.CallStateRejected, protocol.CallReasonBusy
		default:
			pt.state, pt.inviter = protocol.CallStateReceived, inviter.UserID
			m.ringingBy[userKey{c.app, pt.inviter}]++
			m.ringingFor[userKey{c.app, pt.userID}]++
			if pt.userName == "" {
				pt.userName = peers[0].Who().Member.UserName
			}
			userID := pt.userID
			pt.ringsUntil = time.Now().Add(timeout)
			pt.timer = time.AfterFunc(timeout, func() { m.timeout(c.id, userID) })
		}
		changed = append(changed, pt)
	}
	// The invitation first, so a ringing tab knows the call before its
	// state events.
	seconds := int(timeout / time.Second)
	for _, pt := range changed {
		if pt.state == protocol.CallStateReceived {
			m.queueLocked(notice{app: c.app, peers: tabs[pt.userID]}, protocol.EventCallInvitationReceived, protocol.CallInvitationEvent{
				Call: c.info(), Inviter: protocol.CallUser{UserID: inviter.UserID, UserName: inviter.UserName}, Timeout: seconds})
		}
	}
	m.changedLocked(c, changed...)
	return errs
}

// Accept answers a ringing invitation from p's user; the user's other tabs
// stop ringing. A user who quit a call still under way accepts to come
// back into it (the leaving view's Rejoin), unless they are in another
// call meanwhile.
func (m *Manager) Accept(p engine.Peer, callID string) (protocol.CallInfo, error) {
	return m.answer(p, callID, protocol.CallStateAccepted, "")
}

// Reject declines a ringing invitation (busy: the callee is in another
// call).
func (m *Manager) Reject(p engine.Peer, callID string, busy bool) (protocol.CallInfo, error) {
	reason := protocol.CallReasonDeclined
	if busy {
		reason = protocol.CallReasonBusy
	}
	return m.answer(p, callID, protocol.CallStateRejected, reason)
}

func (m *Manager) answer(p engine.Peer, callID, state, reason string) (protocol.CallInfo, error) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c, pt, err := m.partyLocked(callID, p)
	if err != nil {
		return protocol.CallInfo{}, err
	}
	if state == protocol.CallStateAccepted && !p.Who().AdmitsRoom(c.roomID) {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeTokenRoomMismatch, "this tab's token admits another room only, not the call's room %q", c.roomID)
	}
	if state == protocol.CallStateAccepted && pt.state == protocol.CallStateQuit && !c.ended {
		if m.busyLocked(pt.userID, c) {
			return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallStateInvalid, "you are in another call now; leave it to come back into this one")
		}
		pt.state, pt.reason = protocol.CallStateAccepted, ""
		m.changedLocked(c, pt)
		return c.info(), nil
	}
	if pt.state != protocol.CallStateReceived {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallStateInvalid, "the invitation is not ringing: you are %s in this call (it was answered, cancelled or timed out)", pt.state)
	}
	m.stopRingingLocked(c, pt)
	pt.state, pt.reason = state, reason
	changed := []*party{pt}
	if state == protocol.CallStateAccepted {
		if ini := c.party(c.initiator); ini.state == protocol.CallStateInviting {
			ini.state = protocol.CallStateAccepted
			changed = append(changed, ini)
		}
	}
	m.changedLocked(c, changed...)
	return c.info(), nil
}

// Cancel stops ringing the listed invitees (all ringing ones when none are
// listed); only the user who started the call may.
func (m *Manager) Cancel(p engine.Peer, callID string, userIDs []string) (protocol.CallInfo, error) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c, _, err := m.partyLocked(callID, p)
	if err != nil {
		return protocol.CallInfo{}, err
	}
	if p.Who().Member.UserID != c.initiator {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallInviteNotPermitted, "only the call's initiator may cancel its invitations")
	}
	var changed []*party
	for _, pt := range c.users {
		if pt.state == protocol.CallStateReceived && (len(userIDs) == 0 || slices.Contains(userIDs, pt.userID)) {
			m.stopRingingLocked(c, pt)
			pt.state, pt.reason = protocol.CallStateCancelled, protocol.CallReasonCanceled
			changed = append(changed, pt)
		}
	}
	if len(changed) == 0 {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallStateInvalid, "no invitation of this call is ringing")
	}
	m.changedLocked(c, changed...)
	return c.info(), nil
}

// Quit takes p's user out of the call. When the initiator quits a call
// made with endCallWhenInitiatorLeave, the call ends for everyone.
func (m *Manager) Quit(p engine.Peer, callID string) (protocol.CallInfo, error) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c, pt, err := m.partyLocked(callID, p)
	if err != nil {
		return protocol.CallInfo{}, err
	}
	if pt.state != protocol.CallStateAccepted && pt.state != protocol.CallStateInviting {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallStateInvalid, "you are %s in this call, not in it", pt.state)
	}
	m.quitLocked(c, pt)
	return c.info(), nil
}

// quitLocked takes pt out of c; when pt is the initiator of a call made
// with endCallWhenInitiatorLeave, the call ends for everyone. Caller holds
// m.mu.
func (m *Manager) quitLocked(c *call, pt *party) {
	if pt.userID == c.initiator && c.config.EndCallWhenInitiatorLeave {
		m.endLocked(c, protocol.CallReasonLeaveRoom)
		return
	}
	pt.state, pt.reason = protocol.CallStateQuit, protocol.CallReasonLeaveRoom
	m.changedLocked(c, pt)
}

// End ends the call for everyone; only its initiator may.
func (m *Manager) End(p engine.Peer, callID string) (protocol.CallInfo, error) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c, _, err := m.partyLocked(callID, p)
	if err != nil {
		return protocol.CallInfo{}, err
	}
	if p.Who().Member.UserID != c.initiator {
		return protocol.CallInfo{}, protocol.Errorf(protocol.CodeCallInviteNotPermitted, "only the call's initiator may end it for everyone")
	}
	m.endLocked(c, protocol.CallReasonLeaveRoom)
	return c.info(), nil
}

// timeout rings out userID's invitation, if it is still ringing.
func (m *Manager) timeout(callID, userID string) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.calls[callID]
	if c == nil {
		return
	}
	if pt := c.party(userID); pt != nil && pt.state == protocol.CallStateReceived {
		m.stopRingingLocked(c, pt)
		pt.state, pt.reason = protocol.CallStateTimeout, protocol.CallReasonTimeout
		m.changedLocked(c, pt)
	}
}

// endLocked ends c: ringing invitations are cancelled, members quit.
func (m *Manager) endLocked(c *call, reason string) {
	var changed []*party
	for _, pt := range c.users {
		switch pt.state {
		case protocol.CallStateReceived:
			m.stopRingingLocked(c, pt)
			pt.state, pt.reason = protocol.CallStateCancelled, protocol.CallReasonCanceled
		case protocol.CallStateAccepted, protocol.CallStateInviting:
			pt.state, pt.reason = protocol.CallStateQuit, reason
		default:
			continue
		}
		changed = append(changed, pt)
	}
	c.ended, c.reason = true, reason
	m.changedLocked(c, changed...)
}

// changedLocked tells every party of c what changed, and forgets c once no
// one is in it or being rung. Caller holds m.mu.
func (m *Manager) changedLocked(c *call, changed ...*party) {
	m.dirty[c.app] = true
	if !c.ended {
		in, ringing := 0, 0
		for _, pt := range c.users {
			switch pt.state {
			case protocol.CallStateReceived:
				ringing++
			case protocol.CallStateAccepted, protocol.CallStateInviting:
				in++
			}
		}
		// A call goes on while two are in it, or one is in it and someone
		// is being rung; otherwise no one is left to talk to.
		if in == 0 || (in == 1 && ringing == 0) {
			c.ended = true
			if c.reason == "" && len(changed) > 0 {
				c.reason = changed[len(changed)-1].reason
			}
			for _, pt := range c.users {
				switch pt.state {
				case protocol.CallStateAccepted, protocol.CallStateInviting:
					pt.state = protocol.CallStateQuit
				case protocol.CallStateReceived:
					m.stopRingingLocked(c, pt)
					pt.state, pt.reason = protocol.CallStateCancelled, protocol.CallReasonCanceled
				default:
					continue
				}
				if pt.reason == "" {
					pt.reason = c.reason
				}
				changed = append(changed, pt)
			}
		}
	}
	if len(changed) > 0 {
		ev := protocol.CallStateEvent{Call: c.info()}
		for _, pt := range changed {
			ev.Changed = append(ev.Changed, pt.user())
		}
		users := make([]string, len(c.users))
		for i, pt := range c.users {
			users[i] = pt.userID
		}
		m.queueLocked(notice{app: c.app, users: users}, protocol.EventCallStateChanged, ev)
	}
	if c.ended {
		m.forgetLocked(c)
	}
}

// forgetLocked drops an ended call. Caller holds m.mu.
func (m *Manager) forgetLocked(c *call) {
	if m.calls[c.id] != c {
		return
	}
	delete(m.calls, c.id)
	if m.appCalls[c.app]--; m.appCalls[c.app] == 0 {
		delete(m.appCalls, c.app)
	}
}

// checkRingingLocked refuses an invitation that would have more of
// inviter's invitations ringing than one user may. Caller holds m.mu.
func (m *Manager) checkRingingLocked(app, inviter string, callees int) error {
	if n := m.ringingBy[userKey{app, inviter}]; n+callees > m.limits.MaxRingingPerInviter {
		return protocol.Errorf(protocol.CodeCallInvitationLimit, "you have %d invitations ringing; at most %d may ring at once: cancel some or wait for answers", n, m.limits.MaxRingingPerInviter)
	}
	return nil
}

// stopRingingLocked ends pt's ringing: its timer stops and it no longer
// counts against its inviter or itself. The caller sets the new state.
// Caller holds m.mu.
func (m *Manager) stopRingingLocked(c *call, pt *party) {
	pt.timer.Stop()
	decrement(m.ringingBy, userKey{c.app, pt.inviter})
	decrement(m.ringingFor, userKey{c.app, pt.userID})
	pt.inviter = ""
}

func decrement(counts map[userKey]int, k userKey) {
	if counts[k]--; counts[k] <= 0 {
		delete(counts, k)
	}
}

// partyLocked finds call id and p's user's part in it. Another app's call
// does not exist for p.
func (m *Manager) partyLocked(id string, p engine.Peer) (*call, *party, error) {
	who := p.Who()
	c := m.calls[id]
	if c == nil || c.app != who.App {
		return nil, nil, protocol.Errorf(protocol.CodeCallNotExist, "call %q does not exist or has ended", id)
	}
	pt := c.party(who.Member.UserID)
	if pt == nil {
		return nil, nil, protocol.Errorf(protocol.CodeCallNotParty, "you are not part of call %q", id)
	}
	return c, pt, nil
}

// busyLocked reports whether userID is in a call other than c.
func (m *Manager) busyLocked(userID string, c *call) bool {
	for _, other := range m.calls {
		if other == c || other.ended || other.app != c.app {
			continue
		}
		if pt := other.party(userID); pt != nil && (pt.state == protocol.CallStateAccepted || pt.state == protocol.CallStateInviting) {
			return true
		}
	}
	return false
}

func (c *call) party(userID string) *party {
	for _, pt := range c.users {
		if pt.userID == userID {
			return pt
		}
	}
	return nil
}

func (c *call) info() protocol.CallInfo {
	info := protocol.CallInfo{CallID: c.id, RoomID: c.roomID, CallType: c.callType, Data: c.data, Config: c.config, Ended: c.ended, Reason: c.reason}
	for _, pt := range c.users {
		if pt.userID == c.initiator {
			info.Initiator = pt.user()
		}
		info.Users = append(info.Users, pt.user())
	}
	return info
}

func (pt *party) user() protocol.CallUser {
	return protocol.CallUser{UserID: pt.userID, UserName: pt.userName, State: pt.state, Reason: pt.reason}
}

// final reports whether a state is an ended part (the user may be invited
// again).
func final(state string) bool {
	switch state {
	case protocol.CallStateRejected, protocol.CallStateCancelled, protocol.CallStateTimeout, protocol.CallStateQuit, protocol.CallStateOffline:
		return true
	}
	return false
}

// checkInvitation checks an invitation's callees and timeout and returns
// the timeout to use.
func checkInvitation(callees []protocol.Callee, timeoutSeconds int) (time.Duration, error) {
	if len(callees) == 0 {
		return 0, protocol.Errorf(protocol.CodeInvalidParameter, "callees is empty: name at least one user to invite")
	}
	if len(callees) > protocol.MaxInvitees {
		return 0, protocol.Errorf(protocol.CodeCallTooManyInvitees, "%d callees named; one invitation may name at most %d", len(callees), protocol.MaxInvitees)
	}
	for _, c := range callees {
		if err := protocol.ValidateID("callees.userID", c.UserID, protocol.MaxUserIDBytes); err != nil {
			return 0, err
		}
		if err := protocol.ValidateName("callees.userName", c.UserName, protocol.MaxUserNameBytes); err != nil {
			return 0, err
		}
	}
	switch {
	case timeoutSeconds == 0:
		return 60 * time.Second, nil
	case timeoutSeconds < 1 || timeoutSeconds > 600:
		return 0, protocol.Errorf(protocol.CodeInvalidParameter, "timeout is %d; use 1 to 600 seconds", timeoutSeconds)
	}
	return time.Duration(timeoutSeconds) * time.Second, nil
}

// queueLocked encodes one event once, for n's tabs, to be sent by send.
// Caller holds m.mu.
func (m *Manager) queueLocked(n notice, event string, data any) {
	if n.users == nil && len(n.peers) == 0 {
		return
	}
	frame, err := protocol.EncodeEvent(event, data)
	if err != nil {
		return // plain protocol structs always encode
	}
	n.frame = frame
	m.out = append(m.out, n)
}

// sendOut sends what is queued now, holding m.sending (let go however
// it ends).
func (m *Manager) sendOut() {
	defer m.sending.Unlock()
	m.mu.Lock()
	out := m.out
	m.out = nil
	m.mu.Unlock()
	for _, n := range out {
		peers := n.peers
		for _, u := range n.users {
			peers = append(peers, m.dir.Peers(n.app, u, "")...)
		}
		for _, p := range peers {
			p.Deliver(n.frame)
		}
	}
}

// maxQueued bounds the events queued for the sender: past it, a request
// that queued more waits for the sender instead of leaving it its events.
var maxQueued = 10_000 // a variable for the tests

// send sends the queued events, in order. Every method that may queue
// calls it once it has let m.mu go. When another goroutine is sending, it
// returns at once: that one sends these too, as it looks for more before
// it stops.
func (m *Manager) send() {
	for {
		m.mu.Lock()
		long := len(m.out) >= maxQueued
		m.mu.Unlock()
		switch {
		case long:
			// The sender is slow (lookups waiting on Redis): this request
			// waits its turn, which bounds the queue.
			m.sending.Lock()
		case !m.sending.TryLock():
			return
		}
		m.sendOut()
		m.mu.Lock()
		more := len(m.out) > 0
		m.mu.Unlock()
		if !more {
			return
		}
	}
}

// EndAll ends every call with reason, telling every party, and refuses
// nothing after: it is the last thing a stopping server does with calls.
func (m *Manager) EndAll(reason string) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.calls {
		m.endLocked(c, reason)
	}
}

// RoomEnded ends app's calls in roomID, which has ended: ringing
// invitations into it are cancelled and its members quit, with reason
// RoomEnded.
func (m *Manager) RoomEnded(app, roomID string) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.calls {
		if c.app == app && c.roomID == roomID && !c.ended {
			m.endLocked(c, protocol.CallReasonRoomEnded)
		}
	}
}

// UserGone takes app's user whose last session has ended out of their
// calls, as if they had quit them.
func (m *Manager) UserGone(app, userID string) {
	defer m.send() // after m.mu is let go
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.calls {
		if c.app != app {
			continue
		}
		pt := c.party(userID)
		if pt == nil || (pt.state != protocol.CallStateAccepted && pt.state != protocol.CallStateInviting) {
			continue
		}
		m.quitLocked(c, pt)
	}
}

// ActiveUsers returns, by app, the users who are in a call or inviting:
// those UserGone would take out.
func (m *Manager) ActiveUsers() map[string][]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]string{}
	for _, c := range m.calls {
		for _, pt := range c.users {
			if pt.state == protocol.CallStateAccepted || pt.state == protocol.CallStateInviting {
				if !slices.Contains(out[c.app], pt.userID) {
					out[c.app] = append(out[c.app], pt.userID)
				}
			}
		}
	}
	return out
}

// Count returns the calls under way and the invitations ringing.
func (m *Manager) Count() (calls, ringing int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range m.ringingBy {
		ringing += n
	}
	return len(m.calls), ringing
}
