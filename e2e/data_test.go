package e2e

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type message struct {
	Type         int             `json:"type"`
	Message      json.RawMessage `json:"message"`
	OrderKey     uint64          `json:"orderKey"`
	MessageID    string          `json:"messageID"`
	SenderUserID string          `json:"senderUserID"`
}

func TestThreeUsersSeeOneMessageOrder(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	users := []string{"ann", "ben", "cat"}
	pages := map[string]*page{}
	for _, u := range users {
		pages[u] = openPage(t, s)
		pages[u].login(u)
		pages[u].mustCall(`zim.enterRoom({ roomID: 'chat' })`)
	}
	// Everyone sends at once: text and custom messages, interleaved.
	for _, u := range users {
		pages[u].eval(fmt.Sprintf(`window.sent = []; window.sending = Promise.all(Array.from({ length: 10 }, (_, i) =>
			zim.sendRoomMessage(i %% 2 ? { type: 200, subType: 7, message: { from: %q, i } } : { type: 1, message: %q + '-' + i }, 'chat')
				.then(({ message }) => sent.push(message)))); true`, u, u))
	}
	for _, u := range users {
		pages[u].eval(`window.sending.then(() => true)`)
	}
	views := map[string][]message{}
	for _, u := range users {
		p := pages[u]
		var got []message
		require.Eventually(t, func() bool {
			got = evalAs[[]message](p, `received.concat(sent)`)
			return len(got) == 30
		}, 15*time.Second, 50*time.Millisecond, "%s got every message", u)
		received := evalAs[[]message](p, `received`)
		for i := 1; i < len(received); i++ {
			assert.Less(t, received[i-1].OrderKey, received[i].OrderKey, "%s receives in orderKey order", u)
		}
		for _, m := range received {
			assert.NotEqual(t, u, m.SenderUserID, "%s is not sent its own message back", u)
		}
		sort.Slice(got, func(i, j int) bool { return got[i].OrderKey < got[j].OrderKey })
		views[u] = got
	}
	ids := func(ms []message) []string {
		var out []string
		for _, m := range ms {
			out = append(out, fmt.Sprintf("%d:%s:%s", m.OrderKey, m.MessageID, m.Message))
		}
		return out
	}
	assert.Equal(t, ids(views["ann"]), ids(views["ben"]))
	assert.Equal(t, ids(views["ann"]), ids(views["cat"]))
	assert.Contains(t, string(views["ann"][1].Message)+string(views["ann"][0].Message), `"`, "text and custom payloads arrive as sent")
	custom := 0
	for _, m := range views["ann"] {
		if m.Type == 200 {
			custom++
			assert.Contains(t, string(m.Message), `"from"`)
		}
	}
	assert.Equal(t, 15, custom)

	// A late joiner reads the history, newest page first.
	late := openPage(t, s)
	late.login("dan")
	late.mustCall(`zim.joinRoom('chat')`)
	hist := late.mustCall(`(async () => {
		const a = await zim.queryHistoryRoomMessage('chat', { count: 20 });
		const b = await zim.queryHistoryRoomMessage('chat', { count: 20, nextMessage: a.messageList[0] });
		return b.messageList.concat(a.messageList).map((m) => m.orderKey);
	})()`)
	var keys []uint64
	require.NoError(t, json.Unmarshal([]byte(hist), &keys))
	require.Len(t, keys, 30)
	for i, k := range keys {
		assert.Equal(t, views["ann"][i].OrderKey, k)
	}
}

func TestOversizedMessageIsRefusedAndNothingDelivered(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.login("ann")
	ben.login("ben")
	ann.mustCall(`zim.enterRoom({ roomID: 'big' })`)
	ben.mustCall(`zim.enterRoom({ roomID: 'big' })`)
	res := ann.call(`zim.sendRoomMessage({ type: 1, message: 'x'.repeat(40000) }, 'big')`)
	assert.True(t, strings.HasPrefix(res, "error 6100009 true the message is 40002 bytes as JSON; at most 32768"), res)
	ann.mustCall(`zim.sendRoomMessage({ type: 1, message: 'small' }, 'big')`)
	require.Eventually(t, func() bool { return evalAs[int](ben, `received.length`) >= 1 }, 10*time.Second, 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	assert.Equal(t, []string{`"small"`}, evalAs[[]string](ben, `received.map((m) => JSON.stringify(m.message))`), "only the message within the limit arrived")
	assert.True(t, strings.HasPrefix(ben.call(`zim.sendRoomMessage({ type: 1, message: 'hi' }, 'elsewhere')`), "error 6000321 true "), "only members may send")
}

func TestRoomAttributesOwnershipAndOwnerLeaving(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	for u, p := range map[string]*page{"ann": ann, "ben": ben, "cat": cat} {
		p.login(u)
		p.mustCall(`zim.enterRoom({ roomID: 'attrs' })`)
	}
	ann.takeEvents()
	ben.takeEvents()
	cat.takeEvents()

	assert.JSONEq(t, `{"roomID":"attrs","errorKeys":[]}`, ann.mustCall(`zim.setRoomAttributes({ topic: 'go', temp: 'yes' }, 'attrs', { isDeleteAfterOwnerLeft: true })`))
	ben.waitEvents(`attrs attrs 0{"temp":"yes","topic":"go"}`)
	// Without isForce ben cannot overwrite ann's key.
	assert.JSONEq(t, `{"roomID":"attrs","errorKeys":["topic"]}`, ben.mustCall(`zim.setRoomAttributes({ topic: 'rust' }, 'attrs')`))
	assert.JSONEq(t, `{"roomID":"attrs","roomAttributes":{"topic":"go","temp":"yes"}}`, cat.mustCall(`zim.queryRoomAllAttributes('attrs')`))
	// With isForce it can; isUpdateOwner makes the key ben's, so it stays
	// when ann leaves.
	assert.JSONEq(t, `{"roomID":"attrs","errorKeys":[]}`, ben.mustCall(`zim.setRoomAttributes({ topic: 'rust' }, 'attrs', { isForce: true, isUpdateOwner: true })`))
	cat.waitEvents(`attrs attrs 0{"temp":"yes","topic":"go"}`, `attrs attrs 0{"topic":"rust"}`)

	// A batch: one event for all of it.
	ben.mustCall(`zim.beginRoomAttributesBatchOperation('attrs', { isForce: false })`)
	ben.mustCall(`zim.setRoomAttributes({ b1: '1', b2: '2' }, 'attrs')`)
	ben.mustCall(`zim.deleteRoomAttributes(['b1'], 'attrs')`)
	assert.JSONEq(t, `{"roomID":"attrs","errorKeys":[]}`, ben.mustCall(`zim.endRoomAttributesBatchOperation('attrs')`))
	cat.waitEvents(`batch attrs 0{"b1":"1","b2":"2"} 1{"b1":""}`)

	// ann leaves: the keys she set with isDeleteAfterOwnerLeft go.
	ann.mustCall(`zim.leaveRoom('attrs')`)
	cat.waitEvents(`attrs attrs 1{"temp":""}`)
	assert.JSONEq(t, `{"roomID":"attrs","roomAttributes":{"topic":"rust","b2":"2"}}`, cat.mustCall(`zim.queryRoomAllAttributes('attrs')`))

	// A late joiner reads the attributes.
	dan := openPage(t, s)
	dan.login("dan")
	dan.mustCall(`zim.joinRoom('attrs')`)
	assert.JSONEq(t, `{"roomID":"attrs","roomAttributes":{"topic":"rust","b2":"2"}}`, dan.mustCall(`zim.queryRoomAllAttributes('attrs')`))

	// Member attributes and member queries.
	res := dan.mustCall(`zim.setRoomMembersAttributes({ seat: '3' }, ['dan', 'cat'], 'attrs')`)
	assert.JSONEq(t, `{"roomID":"attrs","infos":[{"attributesInfo":{"userID":"dan","attributes":{"seat":"3"}}}],"errorUserList":["cat"]}`, res)
	assert.JSONEq(t, `{"roomID":"attrs","infos":[{"userID":"dan","attributes":{"seat":"3"}}]}`, cat.mustCall(`zim.queryRoomMembersAttributes(['dan'], 'attrs')`))
	assert.JSONEq(t, `{"roomID":"attrs","memberList":[{"userID":"ben","userName":"BEN","role":"participant"}],"errorUserList":["ann"]}`, cat.mustCall(`zim.queryRoomMembers(['ben', 'ann'], 'attrs')`))
	assert.JSONEq(t, `{"roomID":"attrs","count":3}`, cat.mustCall(`zim.queryRoomOnlineMemberCount('attrs')`))
}
