package engine

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// joinedFrames returns the members of each roomMemberJoined p received,
// one list per frame, and forgets them.
func (p *fakePeer) joinedFrames() [][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out [][]string
	for _, f := range p.frames {
		if f.Event != protocol.EventRoomMemberJoined {
			continue
		}
		var ev protocol.MembersEvent
		_ = json.Unmarshal(f.Data, &ev)
		var users []string
		for _, m := range ev.MemberList {
			users = append(users, m.UserID)
		}
		out = append(out, users)
	}
	p.frames = nil
	return out
}

// allMembers pages p's member list of roomID to the end.
func allMembers(t *testing.T, m *Manager, p Peer, roomID string) []string {
	t.Helper()
	var out []string
	next := ""
	for {
		page, err := m.MemberList(p, roomID, 3, next)
		require.NoError(t, err)
		for _, mem := range page.MemberList {
			out = append(out, mem.UserID)
		}
		if next = page.NextFlag; next == "" {
			return out
		}
	}
}

// A crowd entering at once is announced in few events: the first join at
// once, the ones that follow within the window together. Whoever was in
// before gets every join; each joiner gets the joins after its own and
// finds the earlier ones in the member list, so everyone learns everyone
// exactly once.
func TestJoinsCloseTogetherGoOutTogether(t *testing.T) {
	m := NewManager(Limits{JoinBatchWindow: 200 * time.Millisecond})
	host, first := peer("host"), peer("first")
	_, err := m.Enter(host, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Enter(first, info("r"), nil)
	require.NoError(t, err)
	assert.Equal(t, [][]string{{"u-first"}}, host.joinedFrames(), "a join in a quiet room goes out at once")

	crowd := make([]*fakePeer, 5)
	lists := make([][]string, len(crowd))
	for i := range crowd {
		crowd[i] = peer(fmt.Sprint("c", i))
		_, err := m.Enter(crowd[i], info("r"), nil)
		require.NoError(t, err)
		lists[i] = allMembers(t, m, crowd[i], "r")
	}
	assert.Empty(t, host.joinedFrames(), "the crowd waits for the window")
	assert.Equal(t, []string{"u-host", "u-first"}, allMembers(t, m, host, "r"), "nor is it listed to the others before it is announced")
	for i := range crowd {
		want := []string{"u-host", "u-first"}
		for j := range i + 1 {
			want = append(want, crowd[j].user)
		}
		assert.Equal(t, want, lists[i], "c%d is listed itself and those who came before it", i)
	}

	crowdIDs := []string{"u-c0", "u-c1", "u-c2", "u-c3", "u-c4"}
	require.Eventually(t, func() bool {
		host.mu.Lock()
		defer host.mu.Unlock()
		return len(host.frames) > 0
	}, 2*time.Second, time.Millisecond)
	assert.Equal(t, [][]string{crowdIDs}, host.joinedFrames(), "one event for the crowd")
	assert.Equal(t, [][]string{crowdIDs}, first.joinedFrames())
	for i, c := range crowd {
		var want [][]string
		if i < len(crowd)-1 {
			want = [][]string{crowdIDs[i+1:]}
		}
		assert.Equal(t, want, c.joinedFrames(), "c%d gets the joins after its own", i)
		assert.Equal(t, append([]string{"u-host", "u-first"}, crowdIDs...), allMembers(t, m, c, "r"))
	}
}

// Whatever the room says after a join (a message, a leave, an attribute)
// announces the waiting joins first: every member sees the events in the
// order they were made.
func TestWaitingJoinsAreAnnouncedBeforeWhatFollows(t *testing.T) {
	m := NewManager(Limits{JoinBatchWindow: time.Hour})
	a, b, c := peer("a"), peer("b"), peer("c")
	for _, p := range []*fakePeer{a, b} {
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	a.joinedFrames()
	_, err := m.Enter(c, info("r"), nil) // waits: b's join was just announced
	require.NoError(t, err)
	assert.Empty(t, a.events())

	_, err = m.SetAttributes(c, "r", map[string]string{"k": "v"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	a.mu.Lock()
	var got []string
	for _, f := range a.frames {
		got = append(got, f.Event)
	}
	a.frames = nil
	a.mu.Unlock()
	assert.Equal(t, []string{protocol.EventRoomMemberJoined, protocol.EventRoomAttributesUpdated}, got)

	d := peer("d")
	_, err = m.Enter(d, info("r"), nil)
	require.NoError(t, err)
	require.NoError(t, m.Leave(d, "r"))
	assert.Equal(t, []string{"roomMemberJoined r u-d", "roomMemberLeft r u-d"}, a.events())
}

// A joiner's wait is bounded by the batch size as well as the window.
func TestAFullBatchGoesOutAtOnce(t *testing.T) {
	m := NewManager(Limits{JoinBatchWindow: time.Hour})
	host := peer("host")
	_, err := m.Enter(host, info("r"), nil)
	require.NoError(t, err)
	_, err = m.Enter(peer("first"), info("r"), nil)
	require.NoError(t, err)
	host.joinedFrames()
	for i := range joinBatchMax {
		_, err := m.Enter(peer(fmt.Sprint("p", i)), info("r"), nil)
		require.NoError(t, err)
	}
	frames := host.joinedFrames()
	require.Len(t, frames, 1)
	assert.Len(t, frames[0], joinBatchMax)
	assert.True(t, slices.Contains(frames[0], "u-p0"))
}

// The member count is what the asker has been told of: a join still
// waiting to be announced is counted by the joiner and those after it,
// and by the others once its roomMemberJoined is out, so a count and the
// member list always agree.
func TestMemberCountIsWhatTheAskerWasTold(t *testing.T) {
	m := NewManager(Limits{JoinBatchWindow: time.Hour})
	a, b, c, d := peer("a"), peer("b"), peer("c"), peer("d")
	for _, p := range []*fakePeer{a, b, c, d} { // b's join is announced, c's and d's wait
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	count := func(p *fakePeer) int {
		n, err := m.MemberCount(p, "r")
		require.NoError(t, err)
		return n
	}
	for p, want := range map[*fakePeer]int{a: 2, b: 2, c: 3, d: 4} {
		assert.Equal(t, want, count(p), p.id)
		assert.Len(t, allMembers(t, m, p, "r"), want, "%s's member list agrees", p.id)
	}
	_, err := m.SetAttributes(a, "r", map[string]string{"k": "v"}, protocol.AttributesConfig{}) // announces the waiting joins first
	require.NoError(t, err)
	for _, p := range []*fakePeer{a, b, c, d} {
		assert.Equal(t, 4, count(p), p.id)
	}
}
