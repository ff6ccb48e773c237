package distributed

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/cluster/redistest"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// bigRoom is a room of n members, with attributes and a full history.
func bigRoom(n, history int) engine.RoomState {
	st := engine.RoomState{App: "app1", ID: "big", Name: "Big", Seq: uint64(n), OrderKey: uint64(history)}
	for i := range n {
		user := fmt.Sprint("user", i)
		st.Members = append(st.Members, engine.MemberState{SessionID: "s" + user, UserID: user, Seq: uint64(i + 1)})
		st.Users = append(st.Users, engine.UserState{Member: protocol.Member{UserID: user, UserName: "User " + user}})
	}
	for i := range 20 {
		st.Attributes = append(st.Attributes, engine.AttributeState{Key: fmt.Sprint("k", i), Value: "v", Owner: "user0"})
	}
	// As the engine lists them: users and attributes by key.
	slices.SortFunc(st.Users, func(a, b engine.UserState) int { return strings.Compare(a.Member.UserID, b.Member.UserID) })
	slices.SortFunc(st.Attributes, func(a, b engine.AttributeState) int { return strings.Compare(a.Key, b.Key) })
	for i := range history {
		st.History = append(st.History, engine.HistoryEntry{OrderKey: uint64(i + 1), Message: json.RawMessage(fmt.Sprintf(`{"orderKey":%d,"message":"m%d"}`, i+1, i+1))})
	}
	return st
}

// write queues st's copy over prev, runs it, and returns what was written
// and how many commands it took.
func write(t *testing.T, rdb *redis.Client, st engine.RoomState, prev *roomCopy) (*roomCopy, int) {
	t.Helper()
	ctx := context.Background()
	p := rdb.Pipeline()
	c, err := queueCopy(ctx, p, roomKey{st.App, st.ID}, 1, st, prev)
	require.NoError(t, err)
	n := p.Len()
	_, err = p.Exec(ctx)
	require.NoError(t, err)
	return c, n
}

// The copy of a room costs what its change costs: after the first write,
// one message is one list entry and the room's settings; a join is one
// member's and one user's fields; a leave deletes them; and what is read
// back is the room as it is, history trimmed to what the room keeps.
func TestARoomsCopyIsWrittenByWhatChanged(t *testing.T) {
	r := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rdb.Close()
	ctx := context.Background()
	key := roomKey{"app1", "big"}
	st := bigRoom(500, 100)
	st.Extension = json.RawMessage(`{"tracks":2}`) // an extension's state goes with the room's settings
	c, _ := write(t, rdb, st, nil)
	got, ok, err := readCopy(ctx, rdb, key)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, st, got)

	// One message: the oldest drops out of the history kept.
	st.OrderKey++
	st.History = append(st.History[1:], engine.HistoryEntry{OrderKey: st.OrderKey, Message: json.RawMessage(`{"orderKey":101,"message":"new"}`)})
	c, n := write(t, rdb, st, c)
	assert.Equal(t, 3, n, "the settings (HSET), the message (RPUSH) and the trim (LTRIM), not 500 members")
	stored, _ := rdb.HLen(ctx, stateKey(key)).Result()
	assert.Equal(t, int64(3+500+500+20), stored, "settings, counters and the extension's state; members, users, attributes")

	// A join, a leave and an attribute deleted.
	st.Seq++
	st.Members = append(st.Members[1:], engine.MemberState{SessionID: "snew", UserID: "new", Seq: st.Seq})
	st.Users = slices.DeleteFunc(append(st.Users, engine.UserState{Member: protocol.Member{UserID: "new", UserName: "New"}}), func(u engine.UserState) bool { return u.Member.UserID == "user0" })
	slices.SortFunc(st.Users, func(a, b engine.UserState) int { return strings.Compare(a.Member.UserID, b.Member.UserID) })
	st.Attributes = st.Attributes[1:]
	_, n = write(t, rdb, st, c)
	assert.Equal(t, 2, n, "one HSET of the settings, the member and the user; one HDEL of the member, user and attribute gone")
	got, ok, err = readCopy(ctx, rdb, key)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, st, got, "read back as it is")

	// A copy under another lease's generation is written whole.
	p := rdb.Pipeline()
	_, err = queueCopy(ctx, p, key, 2, st, c)
	require.NoError(t, err)
	assert.Greater(t, p.Len(), 3, "written whole: the old copy is deleted first")
	p.Discard()
}

// A room ended and made again between two rounds, under the same lease,
// is written whole: its counters began again, and the old room's members
// and messages do not stay in its copy.
func TestARoomMadeAgainIsWrittenWhole(t *testing.T) {
	r := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rdb.Close()
	ctx := context.Background()
	old := bigRoom(50, 20)
	c, _ := write(t, rdb, old, nil)
	again := bigRoom(2, 1)
	_, n := write(t, rdb, again, c)
	assert.Greater(t, n, 3, "written whole")
	got, ok, err := readCopy(ctx, rdb, roomKey{again.App, again.ID})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, again, got)
}

// A copy written whole as one string, as an earlier version did, is read.
func TestACopyOfTheEarlierFormatIsRead(t *testing.T) {
	r := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: r.Addr})
	defer rdb.Close()
	ctx := context.Background()
	st := bigRoom(3, 2)
	raw, _ := json.Marshal(st)
	key := roomKey{"app1", "big"}
	require.NoError(t, rdb.Set(ctx, stateKey(key), raw, 0).Err())
	got, ok, err := readCopy(ctx, rdb, key)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, st, got)
	_, ok, err = readCopy(ctx, rdb, roomKey{"app1", "none"})
	require.NoError(t, err)
	assert.False(t, ok, "no copy")
}

// A change is in the room's copy in Redis by the time its requester is
// answered, from the owner's node or another: a crash of the owner right
// after the reply loses nothing the requester was told had succeeded.
func TestAChangeIsInTheCopyBeforeItsReply(t *testing.T) {
	es := startEngines(t, 2)
	ann, ben := newPeer("ann"), newPeer("ben")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	_, err = es[1].Join(ben, "r", "")
	require.NoError(t, err)
	ctx := context.Background()
	key := roomKey{"app1", "r"}
	for i := range 10 {
		e, p := es[i%2], []*testPeer{ann, ben}[i%2]
		v := fmt.Sprint(i)
		_, err := e.SetAttributes(p, "r", map[string]string{"k" + p.user: v}, protocol.AttributesConfig{})
		require.NoError(t, err)
		st, ok, err := readCopy(ctx, es[0].node.Redis(), key)
		require.NoError(t, err)
		require.True(t, ok)
		attrs := map[string]string{}
		for _, a := range st.Attributes {
			attrs[a.Key] = a.Value
		}
		assert.Equal(t, v, attrs["k"+p.user], "change %d is in the copy when %s is answered", i, p.user)

		_, err = e.SendMessage(p, "r", protocol.Message{Type: protocol.MessageTypeText, Message: json.RawMessage(fmt.Sprintf(`"m%d"`, i))})
		require.NoError(t, err)
		st, _, err = readCopy(ctx, es[0].node.Redis(), key)
		require.NoError(t, err)
		require.Len(t, st.History, i+1, "message %d is in the copy's history when it is answered", i)
	}
}
