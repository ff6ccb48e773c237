package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// recorder is an extension that writes down what it is told; its state
// (what it exports) is how many calls it has had.
type recorder struct {
	mu      sync.Mutex
	room    string
	from    string // the state it was made with
	calls   []string
	members Members
}

func (r *recorder) note(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, fmt.Sprintf(format, args...))
}
func (r *recorder) Joined(s string, m protocol.Member) {
	r.note("joined %s %s %s", s, m.UserID, m.Role)
}
func (r *recorder) Left(s string, m protocol.Member) { r.note("left %s %s", s, m.UserID) }
func (r *recorder) Updated(m protocol.Member) {
	r.note("updated %s %s audio=%v name=%s", m.UserID, m.Role, m.Audio, m.UserName)
}
func (r *recorder) Closed() { r.note("closed") }
func (r *recorder) Export() json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()
	return json.RawMessage(fmt.Sprintf(`"%d calls"`, len(r.calls)))
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.calls
	r.calls = nil
	return out
}

// recorders makes a recorder for each room, and keeps them by room ID.
type recorders struct {
	mu    sync.Mutex
	rooms map[string]*recorder
}

func (rs *recorders) make(app, roomID string, state json.RawMessage, members Members) Extension {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.rooms == nil {
		rs.rooms = map[string]*recorder{}
	}
	r := &recorder{room: roomID, from: string(state), members: members}
	rs.rooms[roomID] = r
	return r
}

func (rs *recorders) of(room string) *recorder {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.rooms[room]
}

// testExtOp is an operation of the test extension, through the table.
const testExtOp = "testExtension"

type testExtRequest struct {
	RoomID string `json:"roomID"`
}

func (r testExtRequest) Room() string { return r.RoomID }

func init() {
	Define(testExtOp, KindChange, roomID[testExtRequest], func(r *testExtRequest) error { return validRoomID(r.RoomID) },
		func(m *Manager, p Peer, req *testExtRequest) (any, error) {
			return m.WithExtension(p, req.RoomID, func(ext Extension, me protocol.Member) (any, error) {
				rec := ext.(*recorder)
				rec.note("op from %s %s", me.UserID, me.Role)
				return map[string]string{"room": rec.room, "from": me.UserID}, nil
			})
		})
}

// A room's extension is told of every way its members come and go and
// change, in the room's order, and of the room's end.
func TestARoomsExtensionIsToldWhatHappensToItsMembers(t *testing.T) {
	var rs recorders
	m := newManager(Limits{}, WithExtensions(rs.make))
	ann, ben, cal := peer("a"), peer("b"), peer("c")
	ann.host = true
	_, err := m.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Join(ben, "r", "")
	require.NoError(t, err)
	_, err = m.Join(cal, "r", "")
	require.NoError(t, err)
	rec := rs.of("r")
	require.NotNil(t, rec)
	assert.Equal(t, "", rec.from, "a new room's extension starts empty")
	assert.Equal(t, []string{"joined a u-a host", "joined b u-b participant", "joined c u-c participant"}, rec.take())

	on := true
	_, err = m.SetMemberState(ben, protocol.SetMemberStateRequest{RoomID: "r", Audio: &on})
	require.NoError(t, err)
	_, err = m.RenameMember(ben, "r", "u-b", "Ben")
	require.NoError(t, err)
	_, err = m.SetMemberRole(ann, "r", "u-b", protocol.RoleManager)
	require.NoError(t, err)
	assert.Equal(t, []string{"updated u-b participant audio=true name=name u-b", "updated u-b participant audio=true name=Ben", "updated u-b manager audio=true name=Ben"}, rec.take())

	require.NoError(t, m.RemoveMember(ann, "r", "u-c"))
	require.NoError(t, m.Leave(ann, "r"))
	assert.Equal(t, []string{"left c u-c", "left a u-a", "updated u-b host audio=true name=Ben"}, rec.take(), "a removal and a leave; the host role passes on")

	require.NoError(t, m.EndRoom(ben, "r"))
	assert.Equal(t, []string{"closed"}, rec.take())
}

// An extension's state moves with its room: the engine that takes the
// room over makes the extension from what the old one exported, then
// says which members are here and which are gone.
func TestARoomsExtensionMovesWithIt(t *testing.T) {
	var fromExt, toExt recorders
	from := newManager(Limits{}, WithExtensions(fromExt.make))
	to := newManager(Limits{}, WithExtensions(toExt.make))
	ann, ben := peer("a"), peer("b")
	_, err := from.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	_, err = from.Join(ben, "r", "")
	require.NoError(t, err)

	st, ok := from.Detach("", "r")
	require.True(t, ok)
	assert.Equal(t, []string{"joined a u-a participant", "joined b u-b participant", "closed"}, fromExt.of("r").take())
	require.NoError(t, to.Import(st, func(session, user string) Peer { return map[string]Peer{"a": peer("a")}[session] }))
	rec := toExt.of("r")
	assert.Equal(t, `"2 calls"`, rec.from, "made from what the old one exported")
	assert.Equal(t, []string{"joined a u-a participant", "left b u-b"}, rec.take())
}

// An extension's own operation goes through the table: it runs on the
// room's extension for a member, and is refused, with a code, to a
// non-member and in a room without one.
func TestAnExtensionsOperationRunsThroughTheTable(t *testing.T) {
	var rs recorders
	m := newManager(Limits{}, WithExtensions(rs.make))
	ann := peer("a")
	_, err := m.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	req, err := NewRequest(testExtOp, testExtRequest{RoomID: "r"})
	require.NoError(t, err)
	assert.Equal(t, "r", req.Room)
	v, err := m.Do(ann, req)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"room": "r", "from": "u-a"}, v)
	assert.Contains(t, rs.of("r").take(), "op from u-a participant")

	_, err = m.Do(peer("z"), req)
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
	plain := newManager(Limits{})
	_, err = plain.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	_, err = plain.Do(ann, req)
	assert.Equal(t, protocol.CodeFailed, code(t, err))
	assert.True(t, strings.Contains(err.Error(), "room \"r\""), err.Error())
	assert.Panics(t, func() {
		Define(testExtOp, KindRead, roomID[testExtRequest], nil, func(*Manager, Peer, *testExtRequest) (any, error) { return nil, nil })
	}, "an operation is defined once")
}

// ExtensionOf gives a member its room's extension (and itself as the room
// shows it) to work on outside the room's lock, refuses a non-member, and
// gives nil for a room without one.
func TestExtensionOfGivesAMemberItsRoomsExtension(t *testing.T) {
	var rs recorders
	m := newManager(Limits{}, WithExtensions(rs.make))
	ann := peer("a")
	_, err := m.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	ext, me, err := m.ExtensionOf(ann, "r")
	require.NoError(t, err)
	assert.Same(t, rs.of("r"), ext)
	assert.Equal(t, "u-a", me.UserID)
	assert.Equal(t, protocol.RoleParticipant, me.Role)

	_, _, err = m.ExtensionOf(peer("z"), "r")
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
	_, _, err = m.ExtensionOf(ann, "nope")
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
	plain := newManager(Limits{})
	_, err = plain.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	ext, _, err = plain.ExtensionOf(ann, "r")
	require.NoError(t, err)
	assert.Nil(t, ext)
}

// An extension reaches a member of its room through Members (from its own
// goroutines), and nobody else: not a session outside the room, and no
// one once the room has ended.
func TestAnExtensionSendsToItsRoomsMembers(t *testing.T) {
	var rs recorders
	m := newManager(Limits{}, WithExtensions(rs.make))
	ann, ben, zed := peer("a"), peer("b"), peer("z")
	ann.host = true
	_, err := m.Enter(ann, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Join(ben, "r", "")
	require.NoError(t, err)
	_, err = m.Enter(zed, info("other"), nil)
	require.NoError(t, err)
	ann.events()
	ben.events()
	frame, err := protocol.EncodeEvent(protocol.EventRoomStateChanged, protocol.RoomStateEvent{RoomID: "r", State: 2})
	require.NoError(t, err)
	members := rs.of("r").members
	zedBefore := len(zed.frameList())
	assert.True(t, members.Send("b", frame))
	assert.Equal(t, []string{protocol.EventRoomStateChanged}, eventNames(ben.frameList()))
	assert.Empty(t, ann.frameList(), "to that member alone")
	assert.False(t, members.Send("z", frame), "not to another room's member")
	assert.Len(t, zed.frameList(), zedBefore)

	require.NoError(t, m.EndRoom(ann, "r"))
	n := len(ben.frameList())
	assert.False(t, members.Send("b", frame), "the room has ended")
	assert.Len(t, ben.frameList(), n)
}

// frameList is what p was sent, without forgetting it.
func (p *fakePeer) frameList() []protocol.Frame {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]protocol.Frame(nil), p.frames...)
}

func eventNames(frames []protocol.Frame) []string {
	var out []string
	for _, f := range frames {
		out = append(out, f.Event)
	}
	return out
}
