package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// fakeClock is a Clock that moves only when told.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Duration
	timers []*fakeTimer
}

type fakeTimer struct {
	c       *fakeClock
	at      time.Duration
	f       func()
	stopped bool
}

// Now is the clock's start (the Unix epoch) plus the time it was moved on.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Unix(0, 0).Add(c.now)
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{c: c, at: c.now + d, f: f}
	c.timers = append(c.timers, t)
	return t
}

func (t *fakeTimer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	was := !t.stopped
	t.stopped = true
	return was
}

// advance moves time on by d and runs the timers that come due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now += d
	var due []*fakeTimer
	for _, t := range c.timers {
		if !t.stopped && t.at <= c.now {
			t.stopped = true
			due = append(due, t)
		}
	}
	c.mu.Unlock()
	for _, t := range due {
		t.f()
	}
}

func hostPeer(id string) *fakePeer {
	p := peer(id)
	p.host = true
	return p
}

// kicks returns the (Disconnected, KickedOut) p was sent, as "room reason".
func (p *fakePeer) kicks() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.frames {
		if f.Event != protocol.EventRoomStateChanged {
			continue
		}
		var ev protocol.RoomStateEvent
		_ = json.Unmarshal(f.Data, &ev)
		var why protocol.KickedOut
		_ = json.Unmarshal([]byte(ev.ExtendedData), &why)
		if ev.State == protocol.RoomStateDisconnected && ev.Event == protocol.RoomEventKickedOut {
			out = append(out, ev.RoomID+" "+why.Reason)
		}
	}
	return out
}

// roles returns each member's role in roomID, as p sees it in a query.
func roles(t *testing.T, m *Manager, p Peer, roomID string) map[string]string {
	t.Helper()
	page, err := m.MemberList(p, roomID, 100, "")
	require.NoError(t, err)
	out := map[string]string{}
	for _, mem := range page.MemberList {
		out[mem.UserID] = mem.Role
	}
	return out
}

func TestRolesComeFromTheTokenInJoinOrder(t *testing.T) {
	m := newManager(Limits{})
	p1, h1, h2, p2 := peer("p1"), hostPeer("h1"), hostPeer("h2"), peer("p2")
	for _, p := range []*fakePeer{p1, h1, h2, p2} {
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	assert.Equal(t, map[string]string{"u-p1": "participant", "u-h1": "host", "u-h2": "manager", "u-p2": "participant"}, roles(t, m, p1, "r"),
		"the first member whose token asks for host is host, later ones managers")
	info, err := m.SessionInfo(p2, "r")
	require.NoError(t, err)
	assert.Equal(t, "u-h1", info.HostUserID)
	assert.Equal(t, protocol.DefaultIdleTimeoutMins, info.IdleTimeoutMins)
	assert.Equal(t, 5000, info.MaxMembers)

	// A second session of the host is the same member, still host.
	h1b := hostPeer("h1b")
	h1b.user = "u-h1"
	_, err = m.Join(h1b, "r", "")
	require.NoError(t, err)
	assert.Equal(t, "host", roles(t, m, p1, "r")["u-h1"])
}

// The privilege matrix, written out: every action by every role on every
// role, done through the engine's operations.
func TestPrivilegeMatrix(t *testing.T) {
	const (
		host, manager, participant = protocol.RoleHost, protocol.RoleManager, protocol.RoleParticipant
	)
	allowed := map[string]map[string][]string{ // action -> actor role -> target roles allowed ("room" for room-wide)
		"rename":     {host: {manager, participant}, manager: {manager, participant}},
		"mute":       {host: {manager, participant}, manager: {manager, participant}},
		"makeHost":   {host: {manager, participant}},
		"setManager": {host: {manager, participant}},
		"remove":     {host: {manager, participant}, manager: {participant}},
		"lockShare":  {host: {"room"}, manager: {"room"}},
		"end":        {host: {"room"}},
	}
	f := false
	do := map[string]func(m *Manager, actor *fakePeer, target string, targetRole string) error{
		"rename": func(m *Manager, a *fakePeer, target, _ string) error {
			_, err := m.RenameMember(a, "r", target, "renamed")
			return err
		},
		"mute": func(m *Manager, a *fakePeer, target, _ string) error {
			_, err := m.SetMemberState(a, protocol.SetMemberStateRequest{RoomID: "r", UserID: target, Audio: &f})
			return err
		},
		"makeHost": func(m *Manager, a *fakePeer, target, _ string) error {
			_, err := m.SetMemberRole(a, "r", target, host)
			return err
		},
		"setManager": func(m *Manager, a *fakePeer, target, role string) error {
			to := manager
			if role == manager {
				to = participant // revoke
			}
			_, err := m.SetMemberRole(a, "r", target, to)
			return err
		},
		"remove":    func(m *Manager, a *fakePeer, target, _ string) error { return m.RemoveMember(a, "r", target) },
		"lockShare": func(m *Manager, a *fakePeer, _, _ string) error { _, err := m.SetShareLock(a, "r", true); return err },
		"end":       func(m *Manager, a *fakePeer, _, _ string) error { return m.EndRoom(a, "r") },
	}
	// A fresh room for each case: host h; managers m1, m2; participants p1, p2.
	room := func(t *testing.T) (*Manager, map[string][]*fakePeer) {
		m := newManager(Limits{})
		byRole := map[string][]*fakePeer{host: {hostPeer("h")}, manager: {hostPeer("m1"), hostPeer("m2")}, participant: {peer("p1"), peer("p2")}}
		for _, role := range []string{host, manager, participant} {
			for _, p := range byRole[role] {
				_, err := m.Enter(p, info("r"), nil)
				require.NoError(t, err)
			}
		}
		require.Equal(t, map[string]string{"u-h": host, "u-m1": manager, "u-m2": manager, "u-p1": participant, "u-p2": participant}, roles(t, m, byRole[host][0], "r"))
		return m, byRole
	}
	actions := make([]string, 0, len(do))
	for a := range do {
		actions = append(actions, a)
	}
	sort.Strings(actions)
	for _, act := range actions {
		for _, actorRole := range []string{host, manager, participant} {
			targets := []string{host, manager, participant}
			if act == "lockShare" || act == "end" {
				targets = []string{"room"}
			}
			for _, targetRole := range targets {
				if actorRole == host && targetRole == host {
					continue // the host acting on itself is not an action
				}
				t.Run(fmt.Sprintf("%s by %s on %s", act, actorRole, targetRole), func(t *testing.T) {
					m, byRole := room(t)
					actor := byRole[actorRole][0]
					target := ""
					if targetRole != "room" {
						candidates := byRole[targetRole]
						if candidates[0] == actor {
							candidates = candidates[1:]
						}
						target = candidates[0].user
					}
					err := do[act](m, actor, target, targetRole)
					want := false
					for _, r := range allowed[act][actorRole] {
						want = want || r == targetRole
					}
					if want {
						assert.NoError(t, err)
					} else {
						assert.Equal(t, protocol.CodeNotPermitted, code(t, err))
					}
				})
			}
		}
	}
}

func TestHostSuccession(t *testing.T) {
	m := newManager(Limits{})
	p1, h, mgr, p2 := peer("p1"), hostPeer("h"), hostPeer("m"), peer("p2")
	for _, p := range []*fakePeer{p1, h, mgr, p2} {
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	p1.events()
	require.NoError(t, m.Leave(h, "r"))
	assert.Equal(t, []string{"roomMemberLeft r u-h", "roomMemberUpdated r u-m"}, p1.events(), "everyone is told who is host now")
	assert.Equal(t, map[string]string{"u-p1": "participant", "u-m": "host", "u-p2": "participant"}, roles(t, m, p1, "r"), "a manager first")

	require.NoError(t, m.Leave(mgr, "r"))
	assert.Equal(t, "host", roles(t, m, p1, "r")["u-p1"], "else the member present longest")

	// Handing the role over keeps the old host as a manager.
	got, err := m.SetMemberRole(p1, "r", "u-p2", protocol.RoleHost)
	require.NoError(t, err)
	assert.Equal(t, protocol.RoleHost, got.Role)
	assert.Equal(t, map[string]string{"u-p1": "manager", "u-p2": "host"}, roles(t, m, p1, "r"))
	_, err = m.SetMemberRole(p1, "r", "u-p2", protocol.RoleParticipant)
	assert.Equal(t, protocol.CodeNotPermitted, code(t, err), "a manager cannot demote the host")
}

func TestRemovedMemberCannotComeBack(t *testing.T) {
	m := newManager(Limits{})
	h, p, other := hostPeer("h"), peer("p"), peer("o")
	pTab := peer("p-tab2")
	pTab.user = "u-p"
	for _, x := range []*fakePeer{h, p, pTab, other} {
		_, err := m.Enter(x, info("r"), nil)
		require.NoError(t, err)
	}
	other.events()
	require.NoError(t, m.RemoveMember(h, "r", "u-p"))
	assert.Equal(t, []string{"r removed"}, p.kicks())
	assert.Equal(t, []string{"r removed"}, pTab.kicks(), "every session of the user")
	assert.Equal(t, []string{"roomMemberLeft r u-p", "roomMemberLeft r u-p"}, other.events())
	assert.Empty(t, m.Rooms(p))
	_, err := m.Join(p, "r", "")
	assert.Equal(t, protocol.CodeRemovedFromRoom, code(t, err))
	_, err = m.Enter(pTab, info("r"), nil)
	assert.Equal(t, protocol.CodeRemovedFromRoom, code(t, err))
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, m.RemoveMember(h, "r", "u-h")), "the host leaves instead")
	assert.Equal(t, protocol.CodeUserNotInRoom, code(t, m.RemoveMember(h, "r", "u-p")))
}

func TestEndRoomForEveryone(t *testing.T) {
	m := newManager(Limits{})
	h, a, b := hostPeer("h"), peer("a"), peer("b")
	for _, x := range []*fakePeer{h, a, b} {
		_, err := m.Enter(x, info("r"), &protocol.RoomConfig{RoomDestroyDelayTime: 600, RoomAttributes: map[string]string{"k": "v"}})
		require.NoError(t, err)
	}
	a.events()
	require.NoError(t, m.EndRoom(h, "r"))
	for _, x := range []*fakePeer{h, a, b} {
		assert.Equal(t, []string{"r ended"}, x.kicks())
		assert.Empty(t, m.Rooms(x))
	}
	assert.Empty(t, a.events(), "no one is told of the others leaving: everyone is out")
	assert.Equal(t, 0, m.RoomCount(), "gone at once, whatever its destroy delay")
	_, err := m.Join(a, "r", "")
	assert.Equal(t, protocol.CodeRoomNotExist, code(t, err))
}

func TestPasscode(t *testing.T) {
	m := newManager(Limits{})
	h, a := hostPeer("h"), peer("a")
	for _, bad := range []string{"elevenchars", "tab\there", "héllo"} {
		_, err := m.Create(h, info("r"), &protocol.RoomConfig{Passcode: bad})
		assert.Equal(t, protocol.CodeInvalidParameter, code(t, err), bad)
	}
	_, err := m.Create(h, info("r"), &protocol.RoomConfig{Passcode: "s3cret ~!"})
	require.NoError(t, err)
	h.events()
	_, err = m.Join(a, "r", "")
	assert.Equal(t, protocol.CodeWrongPasscode, code(t, err))
	_, err = m.Join(a, "r", "wrong")
	assert.Equal(t, protocol.CodeWrongPasscode, code(t, err))
	_, err = m.Enter(a, info("r"), nil)
	assert.Equal(t, protocol.CodeWrongPasscode, code(t, err))
	assert.Empty(t, h.events(), "a refused join leaves no trace")
	n, err := m.MemberCount(h, "r")
	require.NoError(t, err)
	assert.Equal(t, 1, n)

	_, err = m.Join(a, "r", "s3cret ~!")
	require.NoError(t, err)
	_, err = m.Enter(peer("b"), info("r"), &protocol.RoomConfig{Passcode: "s3cret ~!"})
	require.NoError(t, err)
	got, err := m.SessionInfo(a, "r")
	require.NoError(t, err)
	assert.Equal(t, "s3cret ~!", got.Passcode)
}

func TestCapacityAtTheLimit(t *testing.T) {
	m := newManager(Limits{MaxMembersPerRoom: 3})
	_, err := m.Create(peer("a"), info("small"), &protocol.RoomConfig{MaxMembers: 2})
	require.NoError(t, err)
	_, err = m.Join(peer("b"), "small", "")
	require.NoError(t, err)
	_, err = m.Join(peer("c"), "small", "")
	assert.Equal(t, protocol.CodeRoomFull, code(t, err), "the room's own maxMembers")

	for _, id := range []string{"a", "b", "c"} {
		_, err = m.Enter(peer(id), info("big"), &protocol.RoomConfig{MaxMembers: 10})
		require.NoError(t, err)
	}
	_, err = m.Join(peer("d"), "big", "")
	assert.Equal(t, protocol.CodeRoomFull, code(t, err), "the server's limit holds over a room's larger one")
}

func TestIdleTimeoutEndsARoomWithItsHostAlone(t *testing.T) {
	clock := &fakeClock{}
	m := newManager(Limits{}, WithClock(clock))
	h, a := hostPeer("h"), peer("a")
	_, err := m.Create(h, info("r"), &protocol.RoomConfig{SessionIdleTimeoutMins: 5})
	require.NoError(t, err)
	clock.advance(4 * time.Minute)
	_, err = m.Join(a, "r", "")
	require.NoError(t, err)
	clock.advance(10 * time.Minute)
	assert.Empty(t, h.kicks(), "not alone: the timeout stopped")

	require.NoError(t, m.Leave(a, "r"))
	clock.advance(4 * time.Minute)
	assert.Empty(t, h.kicks())
	clock.advance(time.Minute)
	assert.Equal(t, []string{"r idleTimeout"}, h.kicks())
	assert.Empty(t, m.Rooms(h))
	assert.Equal(t, 0, m.RoomCount())

	// A room without a host never idles out, and the default is 40 minutes.
	_, err = m.Create(peer("p"), info("plain"), nil)
	require.NoError(t, err)
	_, err = m.Create(hostPeer("h2"), info("default"), nil)
	require.NoError(t, err)
	clock.advance(39 * time.Minute)
	assert.Equal(t, 2, m.RoomCount())
	clock.advance(time.Minute)
	assert.Equal(t, 1, m.RoomCount())
}

func TestMemberStateAndShareLock(t *testing.T) {
	m := newManager(Limits{})
	h, mgr, p := hostPeer("h"), hostPeer("m"), peer("p")
	for _, x := range []*fakePeer{h, mgr, p} {
		_, err := m.Enter(x, info("r"), nil)
		require.NoError(t, err)
	}
	h.events()
	p.events()
	on, off := true, false
	me, err := m.SetMemberState(p, protocol.SetMemberStateRequest{RoomID: "r", Audio: &on, Video: &on})
	require.NoError(t, err)
	assert.True(t, me.Audio && me.Video && !me.Share)
	assert.Equal(t, []string{"roomMemberUpdated r u-p"}, h.events())
	assert.Equal(t, []string{"roomMemberUpdated r u-p"}, p.events(), "the member is told too")

	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", UserID: "u-p", Audio: &off})
	require.NoError(t, err)
	page, err := m.QueryMembers(p, "r", []string{"u-p"})
	require.NoError(t, err)
	assert.False(t, page.MemberList[0].Audio, "muted by the host")
	assert.True(t, page.MemberList[0].Video)
	h.events()
	p.events()
	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", UserID: "u-p", Video: &on})
	assert.Equal(t, protocol.CodeNotPermitted, code(t, err), "another's camera is theirs to turn on")
	assert.Empty(t, p.events(), "a refused change changes nothing")
	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", UserID: "u-p", Share: &off})
	assert.Equal(t, protocol.CodeNotPermitted, code(t, err), "another's share is theirs")
	_, err = m.SetMemberState(p, protocol.SetMemberStateRequest{RoomID: "r", UserID: "u-h", Video: &off})
	assert.Equal(t, protocol.CodeNotPermitted, code(t, err), "a participant turns nobody's camera off")
	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", UserID: "u-p", Video: &off})
	require.NoError(t, err, "the host turns another's camera off")
	page, err = m.QueryMembers(p, "r", []string{"u-p"})
	require.NoError(t, err)
	assert.False(t, page.MemberList[0].Video, "camera off by the host")
	assert.Equal(t, []string{"roomMemberUpdated r u-p"}, p.events(), "the member is told")

	_, err = m.SetMemberState(p, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	require.NoError(t, err, "sharing is open until locked")
	_, err = m.SetShareLock(mgr, "r", true)
	require.NoError(t, err)
	page, err = m.QueryMembers(h, "r", []string{"u-p"})
	require.NoError(t, err)
	assert.False(t, page.MemberList[0].Share, "locking stops a participant sharing")
	_, err = m.SetMemberState(p, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	assert.Equal(t, protocol.CodeNotPermitted, code(t, err))
	_, err = m.SetMemberState(mgr, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	assert.NoError(t, err, "managers share while locked")
	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	assert.Equal(t, protocol.CodeShareLimit, code(t, err), "one screen at a time (MaxShares 1)")
	assert.Contains(t, err.Error(), "u-m is sharing")
	_, err = m.SetMemberState(mgr, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	assert.NoError(t, err, "sharing again is no new share")
	_, err = m.SetMemberState(mgr, protocol.SetMemberStateRequest{RoomID: "r", Share: &off})
	require.NoError(t, err)
	_, err = m.SetMemberState(h, protocol.SetMemberStateRequest{RoomID: "r", Share: &on})
	assert.NoError(t, err, "the next shares once the screen is free")
	info, err := m.SessionInfo(p, "r")
	require.NoError(t, err)
	assert.True(t, info.ShareLocked)

	renamed, err := m.RenameMember(p, "r", "u-p", "Pat")
	require.NoError(t, err, "anyone renames themselves")
	assert.Equal(t, "Pat", renamed.UserName)
	msg, err := m.SendMessage(p, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"hi"`)})
	require.NoError(t, err)
	assert.Equal(t, "Pat", msg.SenderUserName, "messages carry the room's name")
}

func TestForceRespectsRoles(t *testing.T) {
	m := newManager(Limits{})
	h, p, q := hostPeer("h"), peer("p"), peer("q")
	for _, x := range []*fakePeer{h, p, q} {
		_, err := m.Enter(x, info("r"), nil)
		require.NoError(t, err)
	}
	_, err := m.SetAttributes(h, "r", map[string]string{"topic": "rules"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	_, err = m.SetAttributes(q, "r", map[string]string{"q": "mine"}, protocol.AttributesConfig{})
	require.NoError(t, err)

	failed, err := m.DeleteAttributes(p, "r", []string{"topic"}, protocol.AttributesConfig{IsForce: true})
	require.NoError(t, err)
	assert.Equal(t, []string{"topic"}, failed, "a participant cannot force a host's key")
	failed, err = m.SetAttributes(p, "r", map[string]string{"q": "forced"}, protocol.AttributesConfig{IsForce: true})
	require.NoError(t, err)
	assert.Empty(t, failed, "a participant may force another participant's key, as without roles")
	failed, err = m.DeleteAttributes(h, "r", []string{"q"}, protocol.AttributesConfig{IsForce: true})
	require.NoError(t, err)
	assert.Empty(t, failed, "the host forces anyone's")
	attrs, _ := m.Attributes("", "r")
	assert.Equal(t, map[string]string{"topic": "rules"}, attrs)
}

// gatePeer is a member whose deliveries stop at a gate while it is shut,
// as a member whose queue takes its time would.
type gatePeer struct {
	quietPeer
	shut    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (p *gatePeer) Deliver([]byte) {
	if p.shut.Load() {
		p.entered <- struct{}{}
		<-p.release
	}
}

// A change inside one room (member state, role, name, share lock) holds
// that room's lock only while it is broadcast: a join into another room,
// which takes the server's lock, goes on while the broadcast is held up.
func TestAChangeInsideARoomDoesNotHoldTheServersLock(t *testing.T) {
	m := newManager(Limits{})
	host := peer("h")
	host.host = true
	slow := &gatePeer{quietPeer: quietPeer{id: "s", user: "slow"}, entered: make(chan struct{}), release: make(chan struct{})}
	_, err := m.Enter(host, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Join(slow, "r", "")
	require.NoError(t, err)

	on := true
	changes := map[string]func() error{
		"member state": func() error {
			_, err := m.SetMemberState(host, protocol.SetMemberStateRequest{RoomID: "r", Audio: &on})
			return err
		},
		"rename":     func() error { _, err := m.RenameMember(host, "r", "slow", "Slow"); return err },
		"role":       func() error { _, err := m.SetMemberRole(host, "r", "slow", protocol.RoleManager); return err },
		"share lock": func() error { _, err := m.SetShareLock(host, "r", true); return err },
	}
	for name, change := range changes {
		slow.shut.Store(true)
		done := make(chan error, 1)
		go func() { done <- change() }()
		<-slow.entered // the change is broadcasting, held up at slow
		joined := make(chan error, 1)
		other := peer("o-" + name)
		go func() { _, err := m.Enter(other, info("elsewhere"), nil); joined <- err }()
		var joinErr error
		waited := false
		select {
		case joinErr = <-joined:
		case <-time.After(10 * time.Second):
			waited = true
			t.Errorf("%s: a join into another room waited for the broadcast", name)
		}
		slow.shut.Store(false)
		close(slow.release)
		require.NoError(t, <-done, name)
		if waited {
			joinErr = <-joined
		}
		require.NoError(t, joinErr, name)
		slow.release = make(chan struct{})
	}
}

// A room reads the time from its engine's clock: a message's timestamp,
// and the batching of joins close together (held until the clock, not the
// wall, passes the window).
func TestARoomReadsTheTimeFromItsClock(t *testing.T) {
	clock := &fakeClock{}
	clock.advance(90 * time.Second)
	m := NewManager(Limits{JoinBatchWindow: 100 * time.Millisecond}, WithClock(clock))
	ann, ben, cal := peer("a"), peer("b"), peer("c")
	_, err := m.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Join(ben, "r", "")
	require.NoError(t, err)
	assert.Equal(t, []string{"roomMemberJoined r u-b"}, ann.events(), "a join in a quiet room goes out at once")
	_, err = m.Join(cal, "r", "")
	require.NoError(t, err)
	time.Sleep(300 * time.Millisecond) // past the window on the wall clock
	assert.Empty(t, ann.events(), "the next join waits for the window on the room's clock")
	clock.advance(100 * time.Millisecond)
	require.Eventually(t, func() bool {
		ann.mu.Lock()
		defer ann.mu.Unlock()
		return len(ann.frames) > 0
	}, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, []string{"roomMemberJoined r u-c"}, ann.events())

	msg, err := m.SendMessage(ann, "r", text("hi"))
	require.NoError(t, err)
	assert.Equal(t, int64(90_100), msg.Timestamp, "the clock's time, in ms")
}
