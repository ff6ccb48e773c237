package engine

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// A room detached from one engine and imported into another goes on as it
// was: members in their order with their roles and attributes, room
// attributes with their owners, history, passcode and removals; nobody is
// told anything, except that members whose peer is gone left.
func TestDetachAndImportCarryTheRoom(t *testing.T) {
	from, to := newManager(Limits{}), newManager(Limits{})
	a, b, c := peer("a"), peer("b"), peer("c")
	a.host = true
	_, err := from.Enter(a, info("r"), &protocol.RoomConfig{Passcode: "pw", RoomAttributes: map[string]string{"topic": "go"}})
	require.NoError(t, err)
	_, err = from.Join(b, "r", "pw")
	require.NoError(t, err)
	_, err = from.Join(c, "r", "pw")
	require.NoError(t, err)
	_, err = from.SetMemberAttributes(b, "r", []string{"u-b"}, map[string]string{"mood": "ok"})
	require.NoError(t, err)
	_, err = from.SendMessage(a, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"hello"`)})
	require.NoError(t, err)
	a.events()
	b.events()
	c.events()

	st, ok := from.Detach("", "r")
	require.True(t, ok)
	assert.False(t, from.HasRoom("", "r"))
	assert.Empty(t, from.Rooms(a))
	assert.Empty(t, b.events(), "nobody is told of a detach")

	// On the new engine, c's peer is gone: the others are told c left.
	a2, b2 := &fakePeer{id: "a", user: "u-a", host: true}, &fakePeer{id: "b", user: "u-b"}
	require.NoError(t, to.Import(st, func(session, user string) Peer {
		return map[string]Peer{"a": a2, "b": b2}[session]
	}))
	assert.Equal(t, []string{"roomMemberLeft r u-c"}, b2.events())
	ids, _ := to.MemberUserIDs("", "r")
	assert.Equal(t, []string{"u-a", "u-b"}, ids)
	attrs, _ := to.Attributes("", "r")
	assert.Equal(t, map[string]string{"topic": "go"}, attrs)
	hist, err := to.History(b2, protocol.HistoryRequest{RoomID: "r", Count: 10})
	require.NoError(t, err)
	require.Len(t, hist.MessageList, 1)
	ma, err := to.QueryMemberAttributes(a2, "r", []string{"u-b"})
	require.NoError(t, err)
	require.Len(t, ma.Infos, 1)
	assert.Equal(t, "ok", ma.Infos[0].Attributes["mood"])
	si, err := to.SessionInfo(a2, "r")
	require.NoError(t, err)
	assert.Equal(t, "u-a", si.HostUserID, "the host stays host")
	_, err = to.Join(peer("d"), "r", "")
	assert.Equal(t, protocol.CodeWrongPasscode, code(t, err), "the passcode came along")

	// The room works as before: a message reaches the other member.
	_, err = to.SendMessage(a2, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"again"`)})
	require.NoError(t, err)
	require.Eventually(t, func() bool { b2.mu.Lock(); defer b2.mu.Unlock(); return len(b2.frames) > 0 }, time.Second, 5*time.Millisecond)
	assert.Error(t, to.Import(st, func(string, string) Peer { return nil }), "a room of that ID is here already")
}

// A room made again from its copy after its owner node died, with the
// host's session gone, goes on as after the host left: the others are
// told the host left, the attributes it owned with isDeleteAfterOwnerLeft
// are deleted, and the host role passes to the manager; its other
// attributes stay.
func TestImportWithTheHostGoneFollowsTheLeaveRules(t *testing.T) {
	from, to := newManager(Limits{}), newManager(Limits{})
	a, b, c := peer("a"), peer("b"), peer("c")
	a.host, b.host = true, true // a is host, b a manager
	for _, p := range []*fakePeer{a, b, c} {
		_, err := from.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	_, err := from.SetAttributes(a, "r", map[string]string{"hosts-slide": "3"}, protocol.AttributesConfig{IsDeleteAfterOwnerLeft: true})
	require.NoError(t, err)
	_, err = from.SetAttributes(a, "r", map[string]string{"topic": "go"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	st, ok := from.Detach("", "r")
	require.True(t, ok)

	b2, c2 := &fakePeer{id: "b", user: "u-b", host: true}, &fakePeer{id: "c", user: "u-c"}
	require.NoError(t, to.Import(st, func(session, user string) Peer {
		return map[string]Peer{"b": b2, "c": c2}[session]
	}))
	for _, p := range []*fakePeer{b2, c2} {
		p.mu.Lock()
		var got []string
		for _, f := range p.frames {
			switch f.Event {
			case protocol.EventRoomMemberLeft, protocol.EventRoomMemberUpdated:
				var ev protocol.MembersEvent
				require.NoError(t, json.Unmarshal(f.Data, &ev))
				got = append(got, f.Event+" "+ev.MemberList[0].UserID+" "+ev.MemberList[0].Role)
			case protocol.EventRoomAttributesUpdated:
				var ev protocol.AttributesEvent
				require.NoError(t, json.Unmarshal(f.Data, &ev))
				got = append(got, fmt.Sprint(f.Event, " ", ev.Infos[0].Action, " ", ev.Infos[0].RoomAttributes))
			default:
				got = append(got, f.Event)
			}
		}
		p.frames = nil
		p.mu.Unlock()
		assert.Equal(t, []string{
			"roomMemberLeft u-a ",
			"roomAttributesUpdated 1 map[hosts-slide:]",
			"roomMemberUpdated u-b host",
		}, got, p.id)
	}
	si, err := to.SessionInfo(c2, "r")
	require.NoError(t, err)
	assert.Equal(t, "u-b", si.HostUserID, "the manager is host now")
	attrs, _ := to.Attributes("", "r")
	assert.Equal(t, map[string]string{"topic": "go"}, attrs)
	_, err = to.SetMemberRole(b2, "r", "u-c", protocol.RoleManager)
	require.NoError(t, err, "the new host has the host's rights")
}
