package engine

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

func text(s string) protocol.Message {
	b, _ := json.Marshal(s)
	return protocol.Message{Type: protocol.MessageTypeText, Message: b}
}

// received returns the orderKeys and texts of the messages p got, in order.
func (p *fakePeer) received() (keys []uint64, texts []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.frames {
		if f.Event != protocol.EventReceiveRoomMessage {
			continue
		}
		var ev struct {
			MessageList []protocol.Message `json:"messageList"`
		}
		_ = json.Unmarshal(f.Data, &ev)
		for _, m := range ev.MessageList {
			keys = append(keys, m.OrderKey)
			var s string
			_ = json.Unmarshal(m.Message, &s)
			texts = append(texts, s)
		}
	}
	return keys, texts
}

func (p *fakePeer) count(event string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, f := range p.frames {
		if f.Event == event {
			n++
		}
	}
	return n
}

func room3(t *testing.T, m *Manager) (a, b, c *fakePeer) {
	a, b, c = peer("a"), peer("b"), peer("c")
	for _, p := range []*fakePeer{a, b, c} {
		_, err := m.Enter(p, info("r"), nil)
		require.NoError(t, err)
	}
	a.events()
	b.events()
	return a, b, c
}

func TestMessagesReachEveryoneInOneOrder(t *testing.T) {
	m := newManager(Limits{})
	a, b, c := room3(t, m)
	peers := []*fakePeer{a, b, c}
	var wg sync.WaitGroup
	const each = 50
	for _, p := range peers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				msg, err := m.SendMessage(p, "r", text(fmt.Sprintf("%s-%d", p.id, i)))
				require.NoError(t, err)
				assert.NotZero(t, msg.OrderKey)
				assert.Equal(t, p.user, msg.SenderUserID)
			}
		}()
	}
	wg.Wait()
	require.Eventually(t, func() bool {
		for _, p := range peers {
			if k, _ := p.received(); len(k) != 2*each {
				return false
			}
		}
		return true
	}, 5e9, 1e6)
	// Each member gets the others' messages in increasing orderKey order;
	// merged with its own, everyone sees one sequence.
	for _, p := range peers {
		keys, texts := p.received()
		for i := 1; i < len(keys); i++ {
			assert.Less(t, keys[i-1], keys[i], "orderKey increases for %s", p.id)
		}
		for _, s := range texts {
			assert.False(t, strings.HasPrefix(s, p.id+"-"), "%s was sent its own message %s", p.id, s)
		}
	}
}

func TestMessageRulesAndHistory(t *testing.T) {
	m := newManager(Limits{HistorySize: 5, MaxMessageBytes: 100})
	a, b, _ := room3(t, m)
	_, err := m.SendMessage(peer("stranger"), "r", text("hi"))
	assert.Equal(t, protocol.CodeNotInRoom, code(t, err))
	_, err = m.SendMessage(a, "r", text(strings.Repeat("x", 200)))
	assert.Equal(t, protocol.CodeMessageTooLarge, code(t, err))
	_, err = m.SendMessage(a, "r", protocol.Message{Type: 1, Message: json.RawMessage(`{"not":"text"}`)})
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
	_, err = m.SendMessage(a, "r", protocol.Message{Type: 9, Message: json.RawMessage(`1`)})
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))

	for i := range 7 {
		_, err := m.SendMessage(a, "r", text(fmt.Sprint("m", i)))
		require.NoError(t, err)
	}
	cmd, err := m.SendMessage(a, "r", protocol.Message{Type: protocol.MessageTypeCommand, Message: json.RawMessage(`{"cmd":"wave"}`)})
	require.NoError(t, err)
	custom, err := m.SendMessage(a, "r", protocol.Message{Type: protocol.MessageTypeCustom, SubType: 3, Message: json.RawMessage(`{"x":[1,2]}`)})
	require.NoError(t, err)
	require.Eventually(t, func() bool { k, _ := b.received(); return len(k) == 9 }, 5e9, 1e6)

	texts := func(list []json.RawMessage) []string {
		var out []string
		for _, raw := range list {
			var msg protocol.Message
			require.NoError(t, json.Unmarshal(raw, &msg))
			out = append(out, string(msg.Message))
		}
		return out
	}
	// Newest first, pages going back; the command was delivered, not kept.
	page, err := m.History(b, protocol.HistoryRequest{RoomID: "r", Count: 3})
	require.NoError(t, err)
	assert.Equal(t, []string{`"m5"`, `"m6"`, `{"x":[1,2]}`}, texts(page.MessageList))
	page, err = m.History(b, protocol.HistoryRequest{RoomID: "r", Count: 3, NextOrderKey: page.NextOrderKey})
	require.NoError(t, err)
	assert.Equal(t, []string{`"m3"`, `"m4"`}, texts(page.MessageList), "only the last 5 are kept")
	assert.Zero(t, page.NextOrderKey)
	assert.NotContains(t, texts(page.MessageList), string(cmd.Message))

	forward := false
	page, err = m.History(b, protocol.HistoryRequest{RoomID: "r", Count: 2, Reverse: &forward})
	require.NoError(t, err)
	assert.Equal(t, []string{`"m3"`, `"m4"`}, texts(page.MessageList))
	page, err = m.History(b, protocol.HistoryRequest{RoomID: "r", Count: 10, Reverse: &forward, NextOrderKey: page.NextOrderKey})
	require.NoError(t, err)
	assert.Equal(t, []string{`"m5"`, `"m6"`, `{"x":[1,2]}`}, texts(page.MessageList))
	assert.Equal(t, uint64(9), custom.OrderKey, "commands take an orderKey too: one order for everything delivered")
}

func TestNoHistoryWhenDisabled(t *testing.T) {
	m := newManager(Limits{HistorySize: -1})
	a, _, _ := room3(t, m)
	_, err := m.SendMessage(a, "r", text("gone"))
	require.NoError(t, err)
	page, err := m.History(a, protocol.HistoryRequest{RoomID: "r", Count: 10})
	require.NoError(t, err)
	assert.Empty(t, page.MessageList)
}

func TestAMessageReachesOnlyMembersPresentWhenSent(t *testing.T) {
	m := newManager(Limits{})
	a, _, _ := room3(t, m)
	_, err := m.SendMessage(a, "r", text("before"))
	require.NoError(t, err)
	late := peer("late")
	_, err = m.Join(late, "r", "")
	require.NoError(t, err)
	_, err = m.SendMessage(a, "r", text("after"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { k, _ := late.received(); return len(k) == 1 }, 5e9, 1e6)
	_, texts := late.received()
	assert.Equal(t, []string{"after"}, texts)
}

func attrEvents(p *fakePeer, event string) []protocol.AttributesEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []protocol.AttributesEvent
	for _, f := range p.frames {
		if f.Event == event {
			var ev protocol.AttributesEvent
			_ = json.Unmarshal(f.Data, &ev)
			out = append(out, ev)
		}
	}
	return out
}

func TestAttributeOwnership(t *testing.T) {
	m := newManager(Limits{})
	a, b, c := room3(t, m)
	keys, err := m.SetAttributes(a, "r", map[string]string{"topic": "go", "mine": "a"}, protocol.AttributesConfig{IsDeleteAfterOwnerLeft: true})
	require.NoError(t, err)
	assert.Empty(t, keys)
	assert.Len(t, attrEvents(b, protocol.EventRoomAttributesUpdated), 1)
	assert.Empty(t, attrEvents(a, protocol.EventRoomAttributesUpdated), "the setter's own session is not told")

	// b may not overwrite a's key without force; its own new key goes in.
	keys, err = m.SetAttributes(b, "r", map[string]string{"topic": "rust", "bs": "b"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	assert.Equal(t, []string{"topic"}, keys)
	got, _ := m.QueryAttributes(c, "r")
	assert.Equal(t, map[string]string{"topic": "go", "mine": "a", "bs": "b"}, got)

	// With force it may; the owner stays a unless isUpdateOwner.
	keys, err = m.SetAttributes(b, "r", map[string]string{"topic": "rust"}, protocol.AttributesConfig{IsForce: true})
	require.NoError(t, err)
	assert.Empty(t, keys)
	keys, err = m.DeleteAttributes(b, "r", []string{"topic", "missing"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	assert.Equal(t, []string{"topic", "missing"}, keys, "still a's key; missing keys are reported too")
	_, err = m.SetAttributes(b, "r", map[string]string{"topic": "zig"}, protocol.AttributesConfig{IsForce: true, IsUpdateOwner: true})
	require.NoError(t, err)
	keys, err = m.DeleteAttributes(b, "r", []string{"topic"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	assert.Empty(t, keys, "b owns topic now")

	// a leaves: its isDeleteAfterOwnerLeft key goes, and the others are told.
	c.frames = nil
	require.NoError(t, m.Leave(a, "r"))
	got, _ = m.QueryAttributes(c, "r")
	assert.Equal(t, map[string]string{"bs": "b"}, got)
	evs := attrEvents(c, protocol.EventRoomAttributesUpdated)
	require.Len(t, evs, 1)
	assert.Equal(t, protocol.AttributesActionDelete, evs[0].Infos[0].Action)
	assert.Equal(t, map[string]string{"mine": ""}, evs[0].Infos[0].RoomAttributes)
}

func TestAttributeLimitsRollBack(t *testing.T) {
	m := newManager(Limits{MaxAttributes: 2, MaxAttributeKeyBytes: 4, MaxAttributeValBytes: 4, MaxAttributesBytes: 12})
	a, b, _ := room3(t, m)
	_, err := m.SetAttributes(a, "r", map[string]string{"k1": "v"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	_, err = m.SetAttributes(a, "r", map[string]string{"k2": "v", "k3": "v"}, protocol.AttributesConfig{})
	assert.Equal(t, protocol.CodeAttributeKeyCount, code(t, err))
	_, err = m.SetAttributes(a, "r", map[string]string{"toolong": "v"}, protocol.AttributesConfig{})
	assert.Equal(t, protocol.CodeAttributeKeyLength, code(t, err))
	_, err = m.SetAttributes(a, "r", map[string]string{"k": "12345"}, protocol.AttributesConfig{})
	assert.Equal(t, protocol.CodeAttributeValueLength, code(t, err))
	_, err = m.SetAttributes(a, "r", map[string]string{"k1": "1234", "k222": "1234"}, protocol.AttributesConfig{})
	assert.Equal(t, protocol.CodeAttributesTotalSize, code(t, err))
	got, _ := m.QueryAttributes(a, "r")
	assert.Equal(t, map[string]string{"k1": "v"}, got, "a refused change leaves everything as it was")
	assert.Len(t, attrEvents(b, protocol.EventRoomAttributesUpdated), 1)
}

func TestAttributesBatchIsOneEvent(t *testing.T) {
	m := newManager(Limits{})
	a, b, _ := room3(t, m)
	_, err := m.SetAttributes(b, "r", map[string]string{"theirs": "b"}, protocol.AttributesConfig{})
	require.NoError(t, err)
	keys, err := m.AttributesBatch(a, "r", []protocol.AttributesOperation{
		{Action: protocol.AttributesActionSet, Attributes: map[string]string{"x": "1", "y": "2", "theirs": "a"}},
		{Action: protocol.AttributesActionDelete, Keys: []string{"x"}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"theirs"}, keys)
	evs := attrEvents(b, protocol.EventRoomAttributesBatchUpdated)
	require.Len(t, evs, 1)
	assert.Len(t, evs[0].Infos, 2)
	got, _ := m.QueryAttributes(a, "r")
	assert.Equal(t, map[string]string{"y": "2", "theirs": "b"}, got)
}

func TestMemberAttributesAndQueries(t *testing.T) {
	m := newManager(Limits{})
	a, b, _ := room3(t, m)
	res, err := m.SetMemberAttributes(a, "r", []string{"u-a", "u-b", "u-nobody"}, map[string]string{"mic": "on"})
	require.NoError(t, err)
	assert.Equal(t, []string{"u-b", "u-nobody"}, res.ErrorUserList, "only one's own, and only members")
	require.Len(t, res.Infos, 1)
	assert.Eventually(t, func() bool { return b.count(protocol.EventRoomMemberAttributesUpdated) == 1 }, 2*time.Second, 5*time.Millisecond)

	got, err := m.QueryMemberAttributes(b, "r", []string{"u-a", "u-b"})
	require.NoError(t, err)
	assert.Equal(t, []protocol.MemberAttributes{{UserID: "u-a", Attributes: map[string]string{"mic": "on"}}, {UserID: "u-b", Attributes: map[string]string{}}}, got.Infos)

	list, err := m.MemberAttributesList(b, "r", 2, "")
	require.NoError(t, err)
	assert.Len(t, list.Infos, 2)
	assert.NotEmpty(t, list.NextFlag)

	q, err := m.QueryMembers(b, "r", []string{"u-c", "u-zz"})
	require.NoError(t, err)
	assert.Equal(t, []protocol.Member{{UserID: "u-c", UserName: "name u-c", Role: protocol.RoleParticipant}}, q.MemberList)
	assert.Equal(t, []string{"u-zz"}, q.ErrorUserList)

	require.NoError(t, m.Leave(a, "r"))
	_, err = m.Join(a, "r", "")
	require.NoError(t, err)
	got, _ = m.QueryMemberAttributes(b, "r", []string{"u-a"})
	assert.Empty(t, got.Infos[0].Attributes, "member attributes end when the member leaves")
}

// quietPeer drops what it is sent: for rooms too big to record.
type quietPeer struct{ id, user string }

func (p quietPeer) Who() Who {
	return Who{Session: p.id, Member: protocol.Member{UserID: p.user, UserName: p.user}}
}
func (p quietPeer) Deliver([]byte) {}

func TestPagingFiveThousandMembersUnderChurn(t *testing.T) {
	m := newManager(Limits{})
	const n = 5000
	peers := make([]quietPeer, n)
	for i := range peers {
		peers[i] = quietPeer{id: fmt.Sprint("s", i), user: fmt.Sprint("u", i)}
		_, err := m.Enter(peers[i], info("big"), nil)
		require.NoError(t, err)
	}
	_, err := m.Enter(peer("extra"), info("big"), nil)
	assert.Equal(t, protocol.CodeRoomFull, code(t, err), "the 5,001st join")

	seen := map[string]int{}
	left, rejoined := map[string]bool{}, map[string]bool{}
	flag := ""
	for page := 0; ; page++ {
		res, err := m.MemberList(peers[0], "big", 100, flag)
		require.NoError(t, err)
		for _, mem := range res.MemberList {
			seen[mem.UserID]++
		}
		// Churn between pages: a member not yet listed leaves; one already
		// listed leaves and comes back (to the end of the order).
		ahead := peers[n-1-page]
		require.NoError(t, m.Leave(ahead, "big"))
		left[ahead.user] = true
		back := peers[page+1]
		require.NoError(t, m.Leave(back, "big"))
		_, err = m.Join(back, "big", "")
		require.NoError(t, err)
		rejoined[back.user] = true
		if res.NextFlag == "" {
			break
		}
		flag = res.NextFlag
	}
	for _, p := range peers {
		switch {
		case left[p.user]:
			assert.LessOrEqual(t, seen[p.user], 1, p.user)
		case rejoined[p.user]:
			// Listed at its first place, and again at its new one when that
			// came before the last page.
			assert.Contains(t, []int{1, 2}, seen[p.user], p.user)
		default:
			assert.Equal(t, 1, seen[p.user], "no gaps, no duplicates: %s", p.user)
		}
	}
}

// A burst of one member's attribute changes reaches the others as one
// event carrying the final state; a message sent between two changes keeps
// its place, so the order every member sees is the order they were made.
func TestMemberAttributeBurstsCoalesce(t *testing.T) {
	m := newManager(Limits{MemberAttributesDelay: 100 * time.Millisecond})
	a, b, _ := room3(t, m)
	for i := range 50 {
		_, err := m.SetMemberAttributes(a, "r", []string{"u-a"}, map[string]string{"n": fmt.Sprint(i)})
		require.NoError(t, err)
	}
	_, err := m.SendMessage(a, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(`"between"`)})
	require.NoError(t, err)
	_, err = m.SetMemberAttributes(a, "r", []string{"u-a"}, map[string]string{"n": "last"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return b.count(protocol.EventRoomMemberAttributesUpdated) == 2 }, 2*time.Second, 5*time.Millisecond)
	time.Sleep(150 * time.Millisecond)

	b.mu.Lock()
	defer b.mu.Unlock()
	var seen []string
	for _, f := range b.frames {
		switch f.Event {
		case protocol.EventRoomMemberAttributesUpdated:
			var ev protocol.MemberAttributesEvent
			require.NoError(t, json.Unmarshal(f.Data, &ev))
			seen = append(seen, "n="+ev.Infos[0].AttributesInfo.Attributes["n"])
		case protocol.EventReceiveRoomMessage:
			seen = append(seen, "message")
		}
	}
	assert.Equal(t, []string{"n=49", "message", "n=last"}, seen)
}

// A member's attributes are capped in bytes as well as keys, and so are a
// room's in all; a refused change leaves what was set.
func TestMemberAttributeBytesAreCapped(t *testing.T) {
	m := newManager(Limits{MaxMemberAttributesBytes: 100, MaxRoomMemberAttributesBytes: 150})
	a, b, _ := room3(t, m)
	_, err := m.SetMemberAttributes(a, "r", []string{"u-a"}, map[string]string{"k": strings.Repeat("<", 80)})
	require.NoError(t, err)
	_, err = m.SetMemberAttributes(a, "r", []string{"u-a"}, map[string]string{"k2": strings.Repeat("x", 30)})
	assert.Equal(t, protocol.CodeAttributesTotalSize, code(t, err), "the member's own cap")
	_, err = m.SetMemberAttributes(b, "r", []string{"u-b"}, map[string]string{"k": strings.Repeat("y", 80)})
	assert.Equal(t, protocol.CodeAttributesTotalSize, code(t, err), "the room's cap")
	got, err := m.QueryMemberAttributes(b, "r", []string{"u-a", "u-b"})
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("<", 80), got.Infos[0].Attributes["k"], "'<' counts one byte: it is not escaped")
	assert.Empty(t, got.Infos[1].Attributes)

	// a leaves: the room's budget is free again.
	require.NoError(t, m.Leave(a, "r"))
	_, err = m.SetMemberAttributes(b, "r", []string{"u-b"}, map[string]string{"k": strings.Repeat("y", 80)})
	require.NoError(t, err)
}

// History pages stop at the reply budget as well as the count: a late
// joiner asking for 20 pages of big messages gets what fits, and the rest
// page by page, none lost.
func TestHistoryPagesAreBoundedInBytes(t *testing.T) {
	m := newManager(Limits{MaxReplyBytes: 100 << 10})
	a, b, _ := room3(t, m)
	big := strings.Repeat("<", 30<<10)
	raw, _ := protocol.Marshal(big)
	for range 20 {
		_, err := m.SendMessage(a, "r", protocol.Message{Type: protocol.MessageTypeText, Message: raw})
		require.NoError(t, err)
	}
	var all int
	next := uint64(0)
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20)
		h, err := m.History(b, protocol.HistoryRequest{RoomID: "r", Count: 20, NextOrderKey: next})
		require.NoError(t, err)
		size := 0
		for _, msg := range h.MessageList {
			size += len(msg)
		}
		assert.LessOrEqual(t, size, 100<<10, "page %d", pages)
		assert.NotEmpty(t, h.MessageList)
		all += len(h.MessageList)
		if next = h.NextOrderKey; next == 0 {
			break
		}
	}
	assert.Equal(t, 20, all)
}

// What rooms hold is bounded per app and per server: past the bound a
// change is refused with CodeStorageLimit and what was kept stays intact;
// another app is not charged for it; ending rooms gives the bytes back.
func TestStoredBytesAreBoundedPerAppAndServer(t *testing.T) {
	m := newManager(Limits{MaxStoredBytesPerApp: 200 << 10, MaxStoredBytes: 300 << 10})
	text, _ := protocol.Marshal(strings.Repeat("x", 10<<10))
	fill := func(app string) (kept int, err error) {
		for i := 0; ; i++ {
			p := &fakePeer{id: fmt.Sprint(app, i), user: "u", app: app}
			_, err := m.Enter(p, info(fmt.Sprint("room", i)), &protocol.RoomConfig{RoomDestroyDelayTime: 10800})
			if err != nil {
				return kept, err
			}
			for range 5 {
				if _, err := m.SendMessage(p, fmt.Sprint("room", i), protocol.Message{Type: protocol.MessageTypeText, Message: text}); err != nil {
					return kept, err
				}
				kept++
			}
			require.NoError(t, m.Leave(p, fmt.Sprint("room", i)), "the room stays, empty, for 3 hours")
		}
	}
	kept, err := fill("a")
	assert.Equal(t, protocol.CodeStorageLimit, code(t, err))
	assert.Contains(t, err.Error(), "this app's rooms hold")
	appBytes, all := m.StoredBytes("a")
	assert.LessOrEqual(t, appBytes, int64(200<<10))
	assert.Greater(t, appBytes, int64(180<<10))
	assert.Equal(t, appBytes, all)

	// What app a kept is intact: its first room still has all five.
	p := &fakePeer{id: "reader", user: "r", app: "a"}
	_, err = m.Join(p, "room0", "")
	require.NoError(t, err)
	h, err := m.History(p, protocol.HistoryRequest{RoomID: "room0", Count: 100})
	require.NoError(t, err)
	assert.Len(t, h.MessageList, 5)
	assert.Greater(t, kept, 15)

	// App b has its own budget, until the server's runs out.
	_, err = fill("b")
	assert.Equal(t, protocol.CodeStorageLimit, code(t, err))
	assert.Contains(t, err.Error(), "the server holds")
	_, all = m.StoredBytes("b")
	assert.LessOrEqual(t, all, int64(300<<10))

	// Rooms that end give their bytes back.
	m.Close()
	appBytes, all = m.StoredBytes("a")
	assert.Zero(t, appBytes)
	assert.Zero(t, all)
}
