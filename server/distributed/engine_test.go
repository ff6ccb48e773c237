package distributed

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/cluster"
	"roomkit/server/cluster/redistest"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// testPeer is a connection as the engine sees it; it keeps what it is sent.
type testPeer struct {
	id, user, app string
	host          bool // the token asks for host
	mu            sync.Mutex
	frames        []protocol.Frame
}

func newPeer(user string) *testPeer { return &testPeer{id: "s-" + user, user: user, app: "app1"} }

func (p *testPeer) Who() engine.Who {
	return engine.Who{Session: p.id, App: p.app, Member: protocol.Member{UserID: p.user, UserName: "name " + p.user}, Host: p.host}
}
func (p *testPeer) Deliver(b []byte) {
	var f protocol.Frame
	if err := json.Unmarshal(b, &f); err != nil {
		panic(err)
	}
	p.mu.Lock()
	p.frames = append(p.frames, f)
	p.mu.Unlock()
}

// lines returns "event room detail" for each frame received, and forgets
// them: member events name their users, messages their text.
func (p *testPeer) lines() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.frames {
		switch f.Event {
		case protocol.EventRoomMemberJoined, protocol.EventRoomMemberLeft:
			var ev protocol.MembersEvent
			_ = json.Unmarshal(f.Data, &ev)
			for _, m := range ev.MemberList {
				out = append(out, fmt.Sprintf("%s %s %s", f.Event, ev.RoomID, m.UserID))
			}
		case protocol.EventReceiveRoomMessage:
			var ev protocol.MessagesEvent
			_ = json.Unmarshal(f.Data, &ev)
			for _, raw := range ev.MessageList {
				var m protocol.Message
				_ = json.Unmarshal(raw, &m)
				out = append(out, fmt.Sprintf("%s %s %s", f.Event, ev.RoomID, strings.Trim(string(m.Message), `"`)))
			}
		default:
			out = append(out, f.Event)
		}
	}
	p.frames = nil
	return out
}

// waitLines waits until p has received want (exactly, in order).
func (p *testPeer) waitLines(t *testing.T, want ...string) {
	t.Helper()
	p.waitLinesWithin(t, 5*time.Second, want...)
}

func (p *testPeer) waitLinesWithin(t *testing.T, d time.Duration, want ...string) {
	t.Helper()
	var got []string
	require.Eventually(t, func() bool {
		got = append(got, p.lines()...)
		return len(got) >= len(want)
	}, d, 5*time.Millisecond, "%s got %v, want %v", p.user, got, want)
	assert.Equal(t, want, got, p.user)
}

func startEngines(t *testing.T, n int) []*Engine { return startEnginesEach(t, n, nil) }

// startEnginesEach is startEngines with the engine options of node i
// from opts (nil: none).
func startEnginesEach(t *testing.T, n int, opts func(i int) []engine.Option) []*Engine {
	return startEnginesTTL(t, n, 2*time.Second, opts)
}

// startEnginesTTL is startEnginesEach with a dead-node bound of ttl.
func startEnginesTTL(t *testing.T, n int, ttl time.Duration, opts func(i int) []engine.Option) []*Engine {
	t.Helper()
	r := redistest.Start(t)
	var out []*Engine
	for i := range n {
		var o []engine.Option
		if opts != nil {
			o = opts(i)
		}
		e, err := New(context.Background(), cluster.Config{RedisURL: r.URL(), NodeID: fmt.Sprint("node", i+1), Heartbeat: 100 * time.Millisecond, NodeTTL: ttl, RequestTimeout: 3 * time.Second},
			Config{Limits: engine.Limits{JoinBatchWindow: -1}, Sweep: 100 * time.Millisecond}, nil, o...)
		require.NoError(t, err)
		t.Cleanup(e.Close)
		out = append(out, e)
	}
	return out
}

// Three users, each connected to another node, in one room: they see each
// other come and go, and one order of messages, as on one node.
func TestOneRoomAcrossThreeNodes(t *testing.T) {
	es := startEngines(t, 3)
	ann, ben, cat := newPeer("ann"), newPeer("ben"), newPeer("cat")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "lobby", RoomName: "Lobby"}, nil)
	require.NoError(t, err)
	info, err := es[1].Join(ben, "lobby", "")
	require.NoError(t, err)
	assert.Equal(t, "Lobby", info.RoomName, "the room as its owner has it")
	_, err = es[2].Join(cat, "lobby", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined lobby ben", "roomMemberJoined lobby cat")
	ben.waitLines(t, "roomMemberJoined lobby cat")

	n, err := es[2].MemberCount(cat, "lobby")
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	list, err := es[1].MemberList(ben, "lobby", 10, "")
	require.NoError(t, err)
	var users []string
	for _, m := range list.MemberList {
		users = append(users, m.UserID)
	}
	assert.Equal(t, []string{"ann", "ben", "cat"}, users, "join order")

	for i, p := range []*testPeer{ben, cat, ann, ben} {
		_, err := es[[]int{1, 2, 0, 1}[i]].SendMessage(p, "lobby", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(fmt.Sprintf(`"m%d"`, i))})
		require.NoError(t, err)
	}
	ann.waitLines(t, "receiveRoomMessage lobby m0", "receiveRoomMessage lobby m1", "receiveRoomMessage lobby m3")
	ben.waitLines(t, "receiveRoomMessage lobby m1", "receiveRoomMessage lobby m2")
	cat.waitLines(t, "receiveRoomMessage lobby m0", "receiveRoomMessage lobby m2", "receiveRoomMessage lobby m3")
	hist, err := es[2].History(cat, protocol.HistoryRequest{RoomID: "lobby", Count: 10})
	require.NoError(t, err)
	require.Len(t, hist.MessageList, 4)

	_, err = es[1].SetAttributes(ben, "lobby", map[string]string{"topic": "launch"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	attrs, err := es[2].QueryAttributes(cat, "lobby")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"topic": "launch"}, attrs)
	ann.lines()
	cat.lines()

	require.NoError(t, es[1].Leave(ben, "lobby"))
	ann.waitLines(t, "roomMemberLeft lobby ben")
	cat.waitLines(t, "roomMemberLeft lobby ben")
	assert.Empty(t, es[1].Rooms(ben))
	assert.Equal(t, []string{"lobby"}, es[2].LeaveAll(cat))
	ann.waitLines(t, "roomMemberLeft lobby cat")

	err = es[1].Leave(ben, "lobby")
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(err), "errors keep their code across nodes")
	_, err = es[1].Join(ben, "nowhere", "")
	assert.Equal(t, protocol.CodeRoomNotExist, codeOf(err))
}

func codeOf(err error) protocol.Code {
	if pe, ok := err.(*protocol.Error); ok {
		return pe.Code
	}
	return 0
}

// A switch between rooms owned by two nodes joins first and leaves after;
// the others see the same events as on one node.
func TestSwitchAcrossOwners(t *testing.T) {
	es := startEngines(t, 2)
	ann, ben, cat := newPeer("ann"), newPeer("ben"), newPeer("cat")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "a"}, nil) // node1 owns a
	require.NoError(t, err)
	_, err = es[1].Enter(ben, protocol.RoomInfo{RoomID: "b"}, nil) // node2 owns b
	require.NoError(t, err)
	_, err = es[0].Join(cat, "a", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined a cat")

	_, err = es[0].Switch(cat, "a", protocol.RoomInfo{RoomID: "b"}, false, nil)
	require.NoError(t, err)
	ben.waitLines(t, "roomMemberJoined b cat")
	ann.waitLines(t, "roomMemberLeft a cat")
	rooms := es[0].Rooms(cat)
	require.Len(t, rooms, 1)
	assert.Equal(t, "b", rooms[0].RoomID)

	_, err = es[0].Switch(cat, "a", protocol.RoomInfo{RoomID: "c"}, true, nil)
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(err))
}

// When a node dies, the members it carried leave the rooms on the other
// nodes, and its rooms can be taken by another node.
func TestMembersOfADeadNodeLeave(t *testing.T) {
	// A dead-node bound of 5 s: on a loaded machine (the race detector,
	// browsers beside) a live node's heartbeat was seen 2 s late, and the
	// others took it for dead.
	es := startEnginesTTL(t, 3, 5*time.Second, nil)
	ann, ben := newPeer("ann"), newPeer("ben")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	_, err = es[2].Join(ben, "r", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined r ben")

	es[2].node.Close() // as if killed: no leave, no heartbeat
	// Within the dead bound (5 s here), the check's second and some slack.
	ann.waitLinesWithin(t, 20*time.Second, "roomMemberLeft r ben")
	n, err := es[0].MemberCount(ann, "r")
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// The lease of a room that ended goes back, so another node may own the
// room when it is made again.
func TestEndedRoomsGiveTheirLeaseBack(t *testing.T) {
	es := startEngines(t, 2)
	ann := newPeer("ann")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "short"}, nil)
	require.NoError(t, err)
	holder, err := es[0].node.Holder(context.Background(), roomKey{"app1", "short"}.lease())
	require.NoError(t, err)
	assert.Equal(t, "node1", holder)
	require.NoError(t, es[0].Leave(ann, "short"))
	require.Eventually(t, func() bool {
		h, err := es[0].node.Holder(context.Background(), roomKey{"app1", "short"}.lease())
		return err == nil && h == ""
	}, 3*time.Second, 20*time.Millisecond)
	ben := newPeer("ben")
	_, err = es[1].Enter(ben, protocol.RoomInfo{RoomID: "short"}, nil)
	require.NoError(t, err)
	holder, err = es[1].node.Holder(context.Background(), roomKey{"app1", "short"}.lease())
	require.NoError(t, err)
	assert.Equal(t, "node2", holder)
}

// A user is gone everywhere only when no live node has a session of
// theirs: a dead node's count does not keep them.
func TestPresenceAcrossNodes(t *testing.T) {
	es := startEngines(t, 3)
	es[0].UserOnline("app1", "ann", "Ann")
	es[1].UserOnline("app1", "ann", "Ann")
	nodes, name := es[2].userNodes("app1", "ann")
	assert.ElementsMatch(t, []string{"node1", "node2"}, nodes)
	assert.Equal(t, "Ann", name)
	assert.False(t, es[0].UserOffline("app1", "ann"), "still on node2")
	assert.True(t, es[1].UserOffline("app1", "ann"), "gone everywhere")

	es[2].UserOnline("app1", "ben", "Ben")
	es[2].node.Close()                  // node3 dies...
	time.Sleep(2200 * time.Millisecond) // ...past its NodeTTL
	es[0].UserOnline("app1", "ben", "Ben")
	assert.True(t, es[0].UserOffline("app1", "ben"), "a dead node's sessions do not count")
}

// Draining hands a node's rooms to another live node, whole: the members
// there keep receiving, nobody is told anything, and the lease moves.
func TestDrainHandsRoomsToAnotherNode(t *testing.T) {
	es := startEngines(t, 2)
	ann, ben := newPeer("ann"), newPeer("ben")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, &protocol.RoomConfig{RoomAttributes: map[string]string{"k": "v"}})
	require.NoError(t, err)
	_, err = es[1].Join(ben, "r", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined r ben")

	require.NoError(t, es[0].Drain(context.Background()))
	holder, err := es[1].node.Holder(context.Background(), roomKey{"app1", "r"}.lease())
	require.NoError(t, err)
	assert.Equal(t, "node2", holder)
	assert.False(t, es[0].local.HasRoom("app1", "r"))
	assert.True(t, es[1].local.HasRoom("app1", "r"))

	_, err = es[1].SendMessage(ben, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"after"`)})
	require.NoError(t, err)
	ann.waitLines(t, "receiveRoomMessage r after")
	attrs, err := es[0].QueryAttributes(ann, "r")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"k": "v"}, attrs)
	assert.Empty(t, ben.lines(), "ben was told nothing")
}

// The owner of a busy room dies: a node with members in it takes the room
// over from its copy in Redis; the members on live nodes stay (told only
// that the dead node's member left), with the attributes and history.
func TestRoomOfADeadOwnerIsTakenOver(t *testing.T) {
	es := startEngines(t, 3)
	ann, ben, cat := newPeer("ann"), newPeer("ben"), newPeer("cat")
	for i, p := range []*testPeer{ann, ben, cat} {
		es[i].SessionStarted(p.id) // as each node's gateway records its sessions
	}
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "busy"}, nil) // node1 owns it
	require.NoError(t, err)
	_, err = es[1].Join(ben, "busy", "")
	require.NoError(t, err)
	_, err = es[2].Join(cat, "busy", "")
	require.NoError(t, err)
	_, err = es[1].SetAttributes(ben, "busy", map[string]string{"topic": "kept"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	_, err = es[2].SendMessage(cat, "busy", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"before"`)})
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined busy ben", "roomMemberJoined busy cat", "roomAttributesUpdated", "receiveRoomMessage busy before")
	ben.waitLines(t, "roomMemberJoined busy cat", "receiveRoomMessage busy before")
	cat.waitLines(t, "roomAttributesUpdated")
	time.Sleep(3 * snapshotEvery) // the copy is written

	es[0].node.Close() // node1 dies: no goodbye
	ben.waitLinesWithin(t, 10*time.Second, "roomMemberLeft busy ann")
	cat.waitLinesWithin(t, 10*time.Second, "roomMemberLeft busy ann")

	_, err = es[1].SendMessage(ben, "busy", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"after"`)})
	require.NoError(t, err)
	cat.waitLines(t, "receiveRoomMessage busy after")
	attrs, err := es[2].QueryAttributes(cat, "busy")
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"topic": "kept"}, attrs)
	hist, err := es[2].History(cat, protocol.HistoryRequest{RoomID: "busy", Count: 10})
	require.NoError(t, err)
	assert.Len(t, hist.MessageList, 2, "before and after")
	n, err := es[1].MemberCount(ben, "busy")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

// A node the others took for dead (its entry dropped from the live list)
// steps down at its next heartbeat: it lets go of its rooms, whose leases
// go back, so another node can own them.
func TestANodeTakenForDeadStepsDown(t *testing.T) {
	es := startEngines(t, 2)
	ann := newPeer("ann")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	require.True(t, es[0].local.HasRoom("app1", "r"))
	require.NoError(t, es[1].node.Forget(context.Background(), "node1"))
	require.Eventually(t, func() bool { return !es[0].local.HasRoom("app1", "r") }, 3*time.Second, 10*time.Millisecond, "node1 let go of its room")
	require.Eventually(t, func() bool {
		holder, err := es[1].node.Holder(context.Background(), roomKey{"app1", "r"}.lease())
		return err == nil && holder == ""
	}, 3*time.Second, 10*time.Millisecond, "its lease went back")
}

// A session's rules hold for members on any node: the passcode, the host's
// privileges, removal.
func TestSessionRulesAcrossNodes(t *testing.T) {
	es := startEngines(t, 2)
	host, ben := newPeer("host"), newPeer("ben")
	host.host = true
	_, err := es[0].Enter(host, protocol.RoomInfo{RoomID: "s"}, &protocol.RoomConfig{Passcode: "pw"})
	require.NoError(t, err)
	_, err = es[1].Join(ben, "s", "nope")
	assert.Equal(t, protocol.CodeWrongPasscode, codeOf(err))
	_, err = es[1].Join(ben, "s", "pw")
	require.NoError(t, err)
	info, err := es[1].SessionInfo(ben, "s")
	require.NoError(t, err)
	assert.Equal(t, "host", info.HostUserID)
	assert.Equal(t, protocol.CodeNotPermitted, codeOf(es[1].RemoveMember(ben, "s", "host")), "a participant may not remove the host")
	host.lines()
	require.NoError(t, es[0].RemoveMember(host, "s", "ben"))
	require.Eventually(t, func() bool { return len(es[1].Rooms(ben)) == 0 }, 5*time.Second, 20*time.Millisecond, "ben is out")
	_, err = es[1].Join(ben, "s", "pw")
	assert.Equal(t, protocol.CodeRemovedFromRoom, codeOf(err), "and may not come back")
}

// roomStates returns the roomStateChanged events p has received, as
// "room state event", and forgets every frame.
func (p *testPeer) roomStates() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, f := range p.frames {
		if f.Event == protocol.EventRoomStateChanged {
			var ev protocol.RoomStateEvent
			_ = json.Unmarshal(f.Data, &ev)
			out = append(out, fmt.Sprintf("%s %d %d", ev.RoomID, ev.State, ev.Event))
		}
	}
	p.frames = nil
	return out
}

// When the bus finds that chunks from a room's owner never arrived, the
// members here are told to read the room again (Connecting, then
// Connected, as after their own reconnection); a member the owner removed
// meanwhile, the event saying so lost, is told it is out.
func TestAMemberIsToldWhenItsRoomsEventsWereLost(t *testing.T) {
	es := startEngines(t, 2)
	ann, ben, cat := newPeer("ann"), newPeer("ben"), newPeer("cat")
	for _, room := range []string{"r", "gone", "mine"} {
		_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: room}, nil)
		require.NoError(t, err)
	}
	_, err := es[1].Enter(ben, protocol.RoomInfo{RoomID: "elsewhere"}, nil)
	require.NoError(t, err)
	_, err = es[1].Join(ben, "r", "")
	require.NoError(t, err)
	_, err = es[1].Join(cat, "gone", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined r ben", "roomMemberJoined gone cat")
	ben.lines()
	cat.lines()

	// cat is removed at the owner; nothing tells node2 (a member leaving
	// is not told of it itself: here it stands for the lost event).
	es[0].mu.Lock()
	standIn := es[0].remotes[cat.id]
	es[0].mu.Unlock()
	require.NotNil(t, standIn)
	es[0].local.LeaveAll(standIn)

	es[1].gap(es[0].node.ID(), 3) // as the bus reports it
	for _, p := range []*testPeer{ben, cat} {
		require.Eventually(t, func() bool {
			p.mu.Lock()
			defer p.mu.Unlock()
			return len(p.frames) >= 2
		}, 10*time.Second, 10*time.Millisecond, p.user)
	}
	time.Sleep(50 * time.Millisecond)
	assert.Equal(t, []string{"r 1 1", "r 2 0"}, ben.roomStates(), "ben: r Connecting (interrupted), then Connected; its own room elsewhere untouched")
	assert.Equal(t, []string{"gone 1 1", "gone 0 2"}, cat.roomStates(), "cat: gone Connecting, then Disconnected: it was removed")
	assert.Empty(t, es[1].Rooms(cat))
	assert.Equal(t, []string{"elsewhere", "r"}, roomIDs(es[1].Rooms(ben)))
	assert.Empty(t, ann.roomStates(), "nobody on the owner's node is told anything")
}

func roomIDs(rooms []protocol.RoomInfo) []string {
	var ids []string
	for _, r := range rooms {
		ids = append(ids, r.RoomID)
	}
	return ids
}

// A session's leaving that a room's owner refuses for now (its worker
// full) is asked again: the member does not stay behind as a ghost the
// others see for good.
func TestALeavingRefusedForNowIsAskedAgain(t *testing.T) {
	r := redistest.Start(t)
	var es []*Engine
	for i := range 2 {
		e, err := New(context.Background(), cluster.Config{RedisURL: r.URL(), NodeID: fmt.Sprint("node", i+1), Heartbeat: 100 * time.Millisecond, NodeTTL: 2 * time.Second, RequestTimeout: 3 * time.Second, Workers: 1, WorkerQueue: 1},
			Config{Limits: engine.Limits{JoinBatchWindow: -1}, Sweep: 100 * time.Millisecond}, nil)
		require.NoError(t, err)
		t.Cleanup(e.Close)
		es = append(es, e)
	}
	ann, ben, cat := newPeer("ann"), newPeer("ben"), newPeer("cat")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	for _, p := range []*testPeer{ben, cat} {
		_, err = es[1].Join(p, "r", "")
		require.NoError(t, err)
	}
	ann.waitLines(t, "roomMemberJoined r ben", "roomMemberJoined r cat")

	// The owner's one worker is held, with one more request waiting.
	es[0].mu.Lock()
	held := make(chan struct{})
	for range 2 {
		go func() {
			_, _ = es[1].MemberCount(cat, "r")
			held <- struct{}{}
		}()
		time.Sleep(100 * time.Millisecond)
	}
	assert.Empty(t, es[1].LeaveAll(ben), "refused as busy for now")
	es[0].mu.Unlock()
	<-held
	<-held
	ann.waitLinesWithin(t, 5*time.Second, "roomMemberLeft r ben")
	n, err := es[0].MemberCount(ann, "r")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}

// A dead node is forgotten by the first node to find it dead: the others,
// which never see it among the dead, find it by its absence from the live
// list, and its members leave their rooms all the same.
func TestMembersOfANodeAnotherForgotLeave(t *testing.T) {
	es := startEngines(t, 3)
	ann, ben := newPeer("ann"), newPeer("ben")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	_, err = es[2].Join(ben, "r", "")
	require.NoError(t, err)
	ann.waitLines(t, "roomMemberJoined r ben")

	es[2].node.Close()                                                   // killed...
	require.NoError(t, es[1].node.Forget(context.Background(), "node3")) // ...and forgotten by node2 first
	ann.waitLinesWithin(t, 15*time.Second, "roomMemberLeft r ben")
}
