package engine

import (
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// fakePeer records what the engine delivers to it.
type fakePeer struct {
	id, user string
	app      string
	room     string // token's room claim
	host     bool   // token's role claim asks for host
	mu       sync.Mutex
	frames   []protocol.Frame
}

func peer(id string) *fakePeer { return &fakePeer{id: id, user: "u-" + id} }

func (p *fakePeer) Who() Who {
	return Who{Session: p.id, App: p.app, Member: protocol.Member{UserID: p.user, UserName: "name " + p.user}, TokenRoom: p.room, Host: p.host}
}
func (p *fakePeer) Deliver(b []byte) {
	var f protocol.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		panic(err)
	}
	p.mu.Lock()
	p.frames = append(p.frames, f)
	p.mu.Unlock()
}

// events returns "event room user" lines for what p received, and forgets them.
func (p *fakePeer) events() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.frames {
		var ev protocol.MembersEvent
		_ = json.Unmarshal(f.Data, &ev)
		for _, m := range ev.MemberList {
			out = append(out, fmt.Sprintf("%s %s %s", f.Event, ev.RoomID, m.UserID))
		}
	}
	p.frames = nil
	return out
}

// newManager is NewManager announcing every join at once, so a test reads
// each event as soon as the call that made it returns. The batching of
// joins close together has tests of its own (joins_test.go).
func newManager(l Limits, opts ...Option) *Manager {
	if l.JoinBatchWindow == 0 {
		l.JoinBatchWindow = -1
	}
	return NewManager(l, opts...)
}

func code(t *testing.T, err error) protocol.Code {
	t.Helper()
	var pe *protocol.Error
	require.ErrorAs(t, err, &pe)
	assert.NotEmpty(t, pe.Message)
	return pe.Code
}

func info(id string) protocol.RoomInfo {
	return protocol.RoomInfo{RoomID: id, RoomName: "name of " + id}
}

func TestCreateJoinEnterCodes(t *testing.T) {
	m := newManager(Limits{})
	a, b, c := peer("a"), peer("b"), peer("c")

	got, err := m.Create(a, info("r1"), nil)
	require.NoError(t, err)
	assert.Equal(t, info("r1"), got)

	_, err = m.Create(b, info("r1"), nil)
	assert.Equal(t, protocol.CodeRoomAlreadyExists, code(t, err))
	_, err = m.Join(b, "missing", "")
	assert.Equal(t, protocol.CodeRoomNotExist, code(t, err))
	_, err = m.Join(a, "r1", "")
	assert.Equal(t, protocol.CodeAlreadyInRoom, code(t, err))

	got, err = m.Join(b, "r1", "")
	require.NoError(t, err)
	assert.Equal(t, "name of r1", got.RoomName, "a join reports the creator's room name")
	_, err = m.Enter(c, info("r1"), nil)
	require.NoError(t, err)
	_, err = m.Enter(c, info("r2"), nil)
	require.NoError(t, err)

	assert.Equal(t, []string{"roomMemberJoined r1 u-b", "roomMemberJoined r1 u-c"}, a.events())
	assert.Equal(t, []string{"roomMemberJoined r1 u-c"}, b.events())
	assert.Empty(t, c.events(), "a joiner is not told of its own join")

	require.NoError(t, m.Leave(b, "r1"))
	assert.Equal(t, protocol.CodeNotInRoom, code(t, m.Leave(b, "r1")))
	assert.Equal(t, []string{"roomMemberLeft r1 u-b"}, a.events())
	assert.Empty(t, b.events())
}

func TestRoomIDsAreExact(t *testing.T) {
	m := newManager(Limits{})
	_, err := m.Create(peer("a"), info("Room"), nil)
	require.NoError(t, err)
	_, err = m.Join(peer("b"), "room", "")
	assert.Equal(t, protocol.CodeRoomNotExist, code(t, err))
}

func TestValidation(t *testing.T) {
	m := newManager(Limits{})
	tests := []struct {
		name  string
		call  func() error
		field string
	}{
		{"empty room id", func() error { _, err := m.Create(peer("a"), info(""), nil); return err }, "roomID is empty"},
		{"bad char", func() error { _, err := m.Join(peer("a"), "a/b", ""); return err }, "roomID"},
		{"long name", func() error {
			_, err := m.Enter(peer("a"), protocol.RoomInfo{RoomID: "x", RoomName: string(make([]byte, 300))}, nil)
			return err
		}, "roomName"},
		{"delay too long", func() error {
			_, err := m.Enter(peer("a"), info("x"), &protocol.RoomConfig{RoomDestroyDelayTime: 10801})
			return err
		}, "roomDestroyDelayTime"},
		{"negative delay", func() error {
			_, err := m.Enter(peer("a"), info("x"), &protocol.RoomConfig{RoomDestroyDelayTime: -1})
			return err
		}, "roomDestroyDelayTime"},
		{"bad from", func() error { _, err := m.Switch(peer("a"), "", info("x"), true, nil); return err }, "fromRoomID"},
		{"leave bad id", func() error { return m.Leave(peer("a"), "a b") }, "roomID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
			assert.Contains(t, err.Error(), tt.field)
		})
	}
	assert.Equal(t, 0, m.RoomCount(), "refused calls create nothing")
}

func TestAttributeLimitsAtCreation(t *testing.T) {
	m := newManager(Limits{MaxAttributes: 2, MaxAttributeKeyBytes: 3, MaxAttributeValBytes: 4, MaxAttributesBytes: 10})
	cases := map[protocol.Code]map[string]string{
		protocol.CodeAttributeKeyCount:    {"a": "", "b": "", "c": ""},
		protocol.CodeAttributeKeyLength:   {"abcd": ""},
		protocol.CodeAttributeValueLength: {"a": "12345"},
		protocol.CodeAttributesTotalSize:  {"abc": "1234", "b": "1234"},
	}
	for want, attrs := range cases {
		_, err := m.Create(peer("a"), info("r"), &protocol.RoomConfig{RoomAttributes: attrs})
		assert.Equal(t, want, code(t, err))
	}
	_, err := m.Create(peer("a"), info("r"), &protocol.RoomConfig{RoomAttributes: map[string]string{"k": "v"}})
	require.NoError(t, err)
	attrs, ok := m.Attributes("", "r")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"k": "v"}, attrs)
}

func TestConfigAppliesOnlyOnCreation(t *testing.T) {
	m := newManager(Limits{})
	_, err := m.Enter(peer("a"), info("r"), &protocol.RoomConfig{RoomAttributes: map[string]string{"k": "first"}})
	require.NoError(t, err)
	_, err = m.Enter(peer("b"), info("r"), &protocol.RoomConfig{RoomAttributes: map[string]string{"k": "second"}})
	require.NoError(t, err)
	attrs, _ := m.Attributes("", "r")
	assert.Equal(t, "first", attrs["k"])
}

func TestDestroyDelay(t *testing.T) {
	m := newManager(Limits{})
	a, b := peer("a"), peer("b")

	// Delay 0: the room ends when its last member leaves.
	_, err := m.Create(a, info("now"), nil)
	require.NoError(t, err)
	require.NoError(t, m.Leave(a, "now"))
	_, ok := m.Attributes("", "now")
	assert.False(t, ok)

	// Delay 1 s: a join during the delay keeps the room and its attributes.
	_, err = m.Create(a, info("later"), &protocol.RoomConfig{RoomDestroyDelayTime: 1, RoomAttributes: map[string]string{"k": "v"}})
	require.NoError(t, err)
	require.NoError(t, m.Leave(a, "later"))
	time.Sleep(500 * time.Millisecond)
	_, err = m.Join(b, "later", "")
	require.NoError(t, err, "the room lives during its destroy delay")
	time.Sleep(700 * time.Millisecond)
	attrs, ok := m.Attributes("", "later")
	require.True(t, ok, "the join cancelled the destroy")
	assert.Equal(t, "v", attrs["k"])

	// Left again: it ends after the delay, counted from the second leave.
	require.NoError(t, m.Leave(b, "later"))
	time.Sleep(600 * time.Millisecond)
	_, ok = m.Attributes("", "later")
	assert.True(t, ok, "not yet: the delay restarts when the room empties again")
	assert.Eventually(t, func() bool { _, ok := m.Attributes("", "later"); return !ok }, 2*time.Second, 20*time.Millisecond)
	_, err = m.Join(b, "later", "")
	assert.Equal(t, protocol.CodeRoomNotExist, code(t, err))
}

func TestSwitch(t *testing.T) {
	m := newManager(Limits{MaxRooms: 3})
	a, b, c := peer("a"), peer("b"), peer("c")
	_, err := m.Create(a, info("from"), nil)
	require.NoError(t, err)
	_, err = m.Join(b, "from", "")
	require.NoError(t, err)
	_, err = m.Create(c, info("to"), nil)
	require.NoError(t, err)
	a.events()
	b.events()

	got, err := m.Switch(a, "from", info("to"), false, nil)
	require.NoError(t, err)
	assert.Equal(t, "to", got.RoomID)
	assert.Equal(t, []string{"roomMemberLeft from u-a"}, b.events())
	assert.Equal(t, []string{"roomMemberJoined to u-a"}, c.events())

	// Not in from, already in to, missing to without create.
	_, err = m.Switch(a, "from", info("x"), true, nil)
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
	_, err = m.Switch(a, "to", info("to"), true, nil)
	assert.Equal(t, protocol.CodeAlreadyInRoom, code(t, err))
	_, err = m.Switch(a, "to", info("nope"), false, nil)
	assert.Equal(t, protocol.CodeRoomNotExist, code(t, err))

	// Creating: allowed up to the room limit, then refused; a stays put.
	_, err = m.Switch(a, "to", info("new"), true, &protocol.RoomConfig{RoomAttributes: map[string]string{"x": "1"}})
	require.NoError(t, err)
	attrs, _ := m.Attributes("", "new")
	assert.Equal(t, "1", attrs["x"])
	// "from" lives through b, "to" through c, "new" through a: a fourth is one too many.
	_, err = m.Switch(a, "new", info("fourth"), true, nil)
	assert.Equal(t, protocol.CodeRoomLimitReached, code(t, err))
	n, err := m.MemberCount(a, "new")
	require.NoError(t, err)
	assert.Equal(t, 1, n, "after a failed switch the user is still in from")
}

func TestLimits(t *testing.T) {
	m := newManager(Limits{MaxRooms: 2, MaxRoomsPerSession: 2, MaxMembersPerRoom: 2})
	a, b, c := peer("a"), peer("b"), peer("c")
	_, err := m.Create(a, info("r1"), nil)
	require.NoError(t, err)
	_, err = m.Create(a, info("r2"), nil)
	require.NoError(t, err)
	_, err = m.Enter(b, info("r3"), nil)
	assert.Equal(t, protocol.CodeRoomLimitReached, code(t, err))
	_, err = m.Join(b, "r1", "")
	require.NoError(t, err)
	_, err = m.Join(c, "r1", "")
	assert.Equal(t, protocol.CodeRoomFull, code(t, err))
	require.NoError(t, m.Leave(a, "r2"))
	_, err = m.Create(a, info("r3"), nil)
	require.NoError(t, err)
	_, err = m.Create(a, info("r4"), nil)
	assert.Equal(t, protocol.CodeJoinedRoomsLimit, code(t, err))
}

func TestPerRoomCapacity(t *testing.T) {
	m := newManager(Limits{})
	_, err := m.Create(peer("a"), info("two"), &protocol.RoomConfig{MaxMembers: 2})
	require.NoError(t, err)
	_, err = m.Join(peer("b"), "two", "")
	require.NoError(t, err)
	_, err = m.Join(peer("c"), "two", "")
	assert.Equal(t, protocol.CodeRoomFull, code(t, err))
	_, err = m.Create(peer("d"), info("bad"), &protocol.RoomConfig{MaxMembers: -1})
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
}

func TestTokenRoomClaim(t *testing.T) {
	m := newManager(Limits{})
	p := peer("a")
	p.room = "only"
	_, err := m.Enter(p, info("other"), nil)
	assert.Equal(t, protocol.CodeTokenRoomMismatch, code(t, err))
	_, err = m.Enter(p, info("only"), nil)
	require.NoError(t, err)
}

func TestLeaveAllLeavesOnlyThisSession(t *testing.T) {
	m := newManager(Limits{})
	tab1, tab2 := peer("tab1"), peer("tab2")
	tab2.user = tab1.user // same user, two tabs
	for _, id := range []string{"r1", "r2"} {
		_, err := m.Enter(tab1, info(id), nil)
		require.NoError(t, err)
	}
	_, err := m.Enter(tab2, info("r1"), nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"r1", "r2"}, m.LeaveAll(tab1))
	assert.Empty(t, m.LeaveAll(tab1))
	n, err := m.MemberCount(tab2, "r1")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 1, m.RoomCount(), "r2 emptied and ended; r1 lives through tab2")
}

func TestMemberListPaging(t *testing.T) {
	m := newManager(Limits{})
	var peers []*fakePeer
	for i := range 25 {
		p := peer(fmt.Sprintf("p%02d", i))
		peers = append(peers, p)
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	seen := map[string]int{}
	flag := ""
	for page := 0; ; page++ {
		res, err := m.MemberList(peers[0], "r", 10, flag)
		require.NoError(t, err)
		for _, mem := range res.MemberList {
			seen[mem.UserID]++
		}
		if page == 0 {
			// Churn during paging: one already seen leaves, one not yet seen
			// leaves, a newcomer joins at the end.
			require.NoError(t, m.Leave(peers[3], "r"))
			require.NoError(t, m.Leave(peers[20], "r"))
			_, err := m.Enter(peer("late"), info("r"), nil)
			require.NoError(t, err)
		}
		if res.NextFlag == "" {
			break
		}
		flag = res.NextFlag
	}
	for i, p := range peers {
		if i == 20 {
			assert.Zero(t, seen[p.user], "left before its page")
			continue
		}
		assert.Equal(t, 1, seen[p.user], p.user)
	}
	assert.Equal(t, 1, seen["u-late"])

	_, err := m.MemberList(peers[0], "r", 0, "")
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
	_, err = m.MemberList(peers[0], "r", 10, "garbage")
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
	_, err = m.MemberList(peer("stranger"), "r", 10, "")
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
}

func TestCloseRefusesJoins(t *testing.T) {
	m := newManager(Limits{})
	_, err := m.Create(peer("a"), info("r"), &protocol.RoomConfig{RoomDestroyDelayTime: 60})
	require.NoError(t, err)
	m.Close()
	assert.Equal(t, 0, m.RoomCount())
	_, err = m.Enter(peer("b"), info("r"), nil)
	assert.Equal(t, protocol.CodeServerShutdown, code(t, err))
}

func TestConcurrentMembership(t *testing.T) {
	m := newManager(Limits{})
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := peer(fmt.Sprintf("p%d", i))
			for j := range 50 {
				id := fmt.Sprintf("r%d", j%4)
				if _, err := m.Enter(p, info(id), nil); err == nil {
					_ = m.Leave(p, id)
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, 0, m.RoomCount())
}

// A rebound session keeps its place and gets the room's events at its new
// peer; the old one gets nothing more.
func TestRebindMovesDeliveryToTheNewPeer(t *testing.T) {
	m := newManager(Limits{})
	a, b := peer("a"), peer("b")
	_, err := m.Enter(a, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Enter(b, info("r"), nil)
	require.NoError(t, err)
	a.events()
	moved := &fakePeer{id: "a", user: "u-a"}
	assert.Equal(t, []string{"r"}, m.Rebind(moved))
	c := peer("c")
	_, err = m.Enter(c, info("r"), nil)
	require.NoError(t, err)
	assert.Empty(t, a.events(), "the old peer hears nothing more")
	assert.Equal(t, []string{"roomMemberJoined r u-c"}, moved.events())
	ids, _ := m.MemberUserIDs("", "r")
	assert.Equal(t, []string{"u-a", "u-b", "u-c"}, ids, "its place in the order stays")
	assert.Empty(t, m.Rebind(peer("nobody")))
}
