package e2e

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

func TestCreateJoinLeaveAndMemberEvents(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	alice, bob := openPage(t, s), openPage(t, s)
	alice.login("alice")
	bob.login("bob")

	res := alice.mustCall(`zim.createRoom({ roomID: 'r1', roomName: 'Room one' })`)
	assert.JSONEq(t, `{"roomInfo":{"baseInfo":{"roomID":"r1","roomName":"Room one"}}}`, res)
	assert.Equal(t, []string{"room r1 1 4", "room r1 2 0"}, alice.waitEvents("room r1 2 0"))
	assert.Equal(t, "r1", evalAs[string](alice, `zim.getRoomID()`))

	// Creating an existing room is refused with a real Error carrying the code.
	assert.Equal(t, `error 6000323 true room "r1" already exists; join or enter it instead`, bob.call(`zim.createRoom({ roomID: 'r1', roomName: 'x' })`))
	assert.Equal(t, []string{"room r1 1 4", "room r1 0 5"}, bob.waitEvents("room r1 0 5"))

	// Joining a missing room.
	assert.True(t, strings.HasPrefix(bob.call(`zim.joinRoom('nope')`), "error 6000322 true "))
	assert.Equal(t, []string{"room nope 1 6", "room nope 0 7"}, bob.waitEvents("room nope 0 7"))

	// Joining: the other tab sees the member, the joiner does not see itself.
	res = bob.mustCall(`zim.joinRoom('r1')`)
	assert.Contains(t, res, `"roomName":"Room one"`)
	bob.waitEvents("room r1 1 6", "room r1 2 0")
	alice.waitEvents("joined r1 bob/BOB")
	members := alice.mustCall(`zim.queryRoomMemberList('r1', { count: 10, nextFlag: '' })`)
	assert.JSONEq(t, `{"roomID":"r1","memberList":[{"userID":"alice","userName":"ALICE","role":"participant"},{"userID":"bob","userName":"BOB","role":"participant"}],"nextFlag":""}`, members)

	// Leaving, and leaving twice.
	assert.JSONEq(t, `{"roomID":"r1"}`, bob.mustCall(`zim.leaveRoom('r1')`))
	bob.waitEvents("room r1 0 0")
	alice.waitEvents("left r1 bob")
	assert.True(t, strings.HasPrefix(bob.call(`zim.leaveRoom('r1')`), "error 6000321 true "))
	for _, e := range bob.takeEvents() {
		assert.NotContains(t, e, "joined r1 bob", "never told of its own join")
	}
}

func TestEnterWithAttributesAndDestroyDelay(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	alice, bob := openPage(t, s), openPage(t, s)
	alice.login("alice")
	bob.login("bob")

	alice.mustCall(`zim.enterRoom({ roomID: 'delayed', roomName: 'Delayed' }, { roomAttributes: { topic: 'go', lang: 'en' }, roomDestroyDelayTime: 2 })`)
	alice.waitEvents("room delayed 1 6", "room delayed 2 0")
	attrs, ok := s.Engine.Attributes(app.DevAppID, "delayed")
	require.True(t, ok)
	assert.Equal(t, map[string]string{"topic": "go", "lang": "en"}, attrs)

	alice.mustCall(`zim.leaveRoom('delayed')`)
	time.Sleep(time.Second)
	// Within the delay the room lives, attributes and all.
	bob.mustCall(`zim.joinRoom('delayed')`)
	attrs, ok = s.Engine.Attributes(app.DevAppID, "delayed")
	require.True(t, ok)
	assert.Equal(t, "go", attrs["topic"])

	// Entering again with another config does not change the existing room.
	alice.mustCall(`zim.enterRoom({ roomID: 'delayed', roomName: 'Other' }, { roomAttributes: { topic: 'changed' } })`)
	attrs, _ = s.Engine.Attributes(app.DevAppID, "delayed")
	assert.Equal(t, "go", attrs["topic"])

	// After everyone leaves and the delay passes, the room is gone.
	alice.mustCall(`zim.leaveAllRoom()`)
	bob.mustCall(`zim.leaveAllRoom()`)
	time.Sleep(2500 * time.Millisecond)
	assert.True(t, strings.HasPrefix(bob.call(`zim.joinRoom('delayed')`), "error 6000322 true "))

	// A bad config is refused with the field named.
	assert.Contains(t, alice.call(`zim.enterRoom({ roomID: 'x' }, { roomDestroyDelayTime: 99999 })`), "error 6000001 true roomDestroyDelayTime")
	assert.Contains(t, alice.call(`zim.enterRoom({ roomID: 'bad id' })`), "error 6000001 true roomID")
}

func TestSwitchRoomSequences(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	alice, bob, carol := openPage(t, s), openPage(t, s), openPage(t, s)
	alice.login("alice")
	bob.login("bob")
	carol.login("carol")
	alice.mustCall(`zim.createRoom({ roomID: 'from', roomName: 'From' })`)
	bob.mustCall(`zim.joinRoom('from')`)
	carol.mustCall(`zim.createRoom({ roomID: 'to', roomName: 'To' })`)
	alice.waitEvents("joined from bob/BOB")
	alice.takeEvents()

	// Success into an existing room: the room-messaging SDK's documented sequence.
	res := alice.mustCall(`zim.switchRoom('from', { roomID: 'to', roomName: 'To' }, false)`)
	assert.Contains(t, res, `"roomID":"to"`)
	assert.Equal(t, []string{"room to 1 11", "room to 2 0", "room from 0 0"}, alice.waitEvents("room from 0 0"))
	bob.waitEvents("left from alice")
	carol.waitEvents("joined to alice/ALICE")
	assert.Equal(t, "to", evalAs[string](alice, `zim.getRoomID()`))

	// Failure: the target does not exist and may not be created.
	assert.True(t, strings.HasPrefix(alice.call(`zim.switchRoom('to', { roomID: 'missing', roomName: 'M' }, false)`), "error 6000322 true "))
	assert.Equal(t, []string{"room missing 1 11", "room missing 0 12"}, alice.waitEvents("room missing 0 12"))
	assert.Equal(t, []string{"to"}, evalAs[[]string](alice, `zim.getRooms()`), "the user stays in from")

	// Success creating the target with a config.
	alice.mustCall(`zim.switchRoom('to', { roomID: 'fresh', roomName: 'Fresh' }, true, { roomAttributes: { a: '1' } })`)
	assert.Equal(t, []string{"room fresh 1 11", "room fresh 2 0", "room to 0 0"}, alice.waitEvents("room to 0 0"))
	carol.waitEvents("left to alice")
	attrs, _ := s.Engine.Attributes(app.DevAppID, "fresh")
	assert.Equal(t, "1", attrs["a"])
}

func TestLeaveAllAndSessionStorage(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	alice, bob := openPage(t, s), openPage(t, s)
	alice.login("alice")
	bob.login("bob")
	for _, id := range []string{"a1", "a2"} {
		bob.mustCall(`zim.enterRoom({ roomID: '` + id + `' })`)
		alice.mustCall(`zim.enterRoom({ roomID: '` + id + `' })`)
	}
	stored := evalAs[string](alice, `sessionStorage.getItem('roomkit:rooms')`)
	assert.JSONEq(t, `{"rooms":["a1","a2"],"current":"a2"}`, stored)
	assert.JSONEq(t, stored, evalAs[string](alice, `JSON.stringify(RK.RoomKit.storedRooms())`))

	assert.JSONEq(t, `{"roomIDs":["a1","a2"]}`, alice.mustCall(`zim.leaveAllRoom()`))
	alice.waitEvents("room a1 0 0", "room a2 0 0")
	bob.waitEvents("left a1 alice", "left a2 alice")
	assert.Equal(t, "", evalAs[string](alice, `zim.getRoomID()`))
	assert.True(t, evalAs[bool](alice, `sessionStorage.getItem('roomkit:rooms') === null`))
}

// leaveAllRoom with a list leaves those rooms; with an empty list, as the
// room-messaging SDK's sample passes, every room. The SDK's enum names are
// there too.
func TestLeaveAllRoomWithAList(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	p := openPage(t, s)
	p.login("alice")
	for _, id := range []string{"b1", "b2", "b3"} {
		p.mustCall(`zim.enterRoom({ roomID: '` + id + `' })`)
	}
	assert.JSONEq(t, `{"roomIDs":["b1","b3"]}`, p.mustCall(`zim.leaveAllRoom(['b1', 'b3'])`))
	assert.Equal(t, []string{"b2"}, evalAs[[]string](p, `RK.RoomKit.storedRooms().rooms`))
	assert.True(t, strings.HasPrefix(p.call(`zim.leaveAllRoom(['b1'])`), "error 6000321 true "), "b1 was left already")
	assert.True(t, strings.HasPrefix(p.call(`zim.leaveAllRoom('b2')`), "error 6000001 true "), "not a list")
	assert.JSONEq(t, `{"roomIDs":["b2"]}`, p.mustCall(`zim.leaveAllRoom([])`))
	assert.Equal(t, 0, evalAs[int](p, `RK.ZIMErrorCode.SUCCESS`))
	assert.Equal(t, 2, evalAs[int](p, `RK.ZIMRoomState.Connected`))
}

func TestRefusedToken(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	p := openPage(t, s)
	res := evalAs[string](p, `(async () => {
		const kit = RK.RoomKit.generateKitTokenForTest('1', 'not-the-secret-at-all', '', 'mallory', '', 3600);
		try { await RK.RoomKit.login({ token: kit }); return 'logged in'; }
		catch (e) { return (e instanceof Error) + ' ' + e.code + ' ' + e.message; }
	})()`)
	assert.Contains(t, res, "true 6000103 the token was refused")
	// A malformed kit token throws at once with a clear code.
	res = evalAs[string](p, `(async () => { try { await RK.RoomKit.login({ token: 'rk1.@@@' }); return 'no'; } catch (e) { return e.code + ' ' + e.message; } })()`)
	assert.Equal(t, "6000001 the kit token is damaged: it does not decode", res)
}

func TestServerRestartUnderAConnectedPage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	s := startServer(t, addr)
	alice := openPage(t, s)
	alice.login("alice")
	alice.mustCall(`zim.enterRoom({ roomID: 'stay1' })`)
	alice.mustCall(`zim.createRoom({ roomID: 'stay2' })`)
	alice.takeEvents()

	s.stop(t)
	alice.waitEvents("room stay1 1 1", "room stay2 1 1", "conn 3 3")
	assert.True(t, strings.HasPrefix(alice.call(`zim.enterRoom({ roomID: 'other' })`), "error 6000104 true "), "operations while down fail fast with the network code")

	s2 := startServer(t, addr)
	alice.waitEvents("conn 2 0", "room stay1 2 0", "room stay2 2 0")
	bob := openPage(t, s2)
	bob.login("bob")
	bob.mustCall(`zim.joinRoom('stay2')`)
	members := bob.mustCall(`zim.queryRoomMemberList('stay2', { count: 10, nextFlag: '' })`)
	assert.Contains(t, members, `"userID":"alice"`, "alice is back in her room on the restarted server")
	alice.waitEvents("joined stay2 bob/BOB")
}

// Two users in one page, as a test page has them: each login is a client
// with its own connection, and they see each other as any two users do.
func TestTwoUsersInOnePage(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	p := openPage(t, s)
	got := evalAs[[]string](p, fmt.Sprintf(`(async () => {
		const mint = (user) => RK.RoomKit.generateKitTokenForTest(%q, %q, '', user, user.toUpperCase(), 3600);
		const ann = await RK.RoomKit.login({ token: mint('ann'), name: 'ann' });
		const ben = await RK.RoomKit.login({ token: mint('ben'), name: 'ben' });
		const seen = [];
		ann.on('roomMemberJoined', (z, d) => seen.push('ann saw ' + d.memberList.map((m) => m.userID).join(',') + ' join'));
		ann.on('receiveRoomMessage', (z, d) => seen.push('ann got ' + d.messageList.map((m) => m.message).join(',')));
		ben.on('roomMemberLeft', (z, d) => seen.push('ben saw ' + d.memberList.map((m) => m.userID).join(',') + ' leave'));
		await ann.enterRoom({ roomID: 'one-page', roomName: 'One page' });
		await ben.enterRoom({ roomID: 'one-page', roomName: 'One page' });
		await ben.sendRoomMessage({ type: 1, message: 'hi ann' }, 'one-page');
		const count = (await ann.queryRoomOnlineMemberCount('one-page')).count;
		while (seen.length < 2) await new Promise((r) => setTimeout(r, 20));
		await ann.logout();
		while (seen.length < 3) await new Promise((r) => setTimeout(r, 20));
		const after = await ann.enterRoom({ roomID: 'x' }).then(() => 'ok', (e) => String(e.code));
		return [...seen, 'count ' + count, 'ann after logout ' + after, 'ben rooms ' + ben.getRooms().join(',')];
	})()`, app.DevAppID, secret))
	assert.Equal(t, []string{"ann saw ben join", "ann got hi ann", "ben saw ann leave", "count 2", "ann after logout 6000121", "ben rooms one-page"}, got)
}

// Importing the module and loading it adds one global name, the wasm
// module's namespace; nothing of Go's runtime (fs, process, path, Go) is
// left on the page.
func TestModuleAddsOneGlobalName(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url()+"js/")))
	got := evalAs[[]string](p, `(async () => {
		const before = new Set(Object.getOwnPropertyNames(globalThis));
		const added = () => Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
		const m = await import('/js/roomkit.js');
		const atImport = added().join(',') || 'none';
		const ready = m.RoomKit.isReady;
		let early;
		try { m.RoomKit.sessionRoomID('x'); } catch (e) { early = e.code; } // the kit token helpers work before init; this one needs the module
		await m.RoomKit.init();
		return ['import ' + atImport, 'ready ' + ready, 'before init ' + early, 'after init ' + added().join(','), 'ready ' + m.RoomKit.isReady];
	})()`)
	assert.Equal(t, []string{"import none", "ready false", "before init 6100018", "after init roomkit", "ready true"}, got)
}
