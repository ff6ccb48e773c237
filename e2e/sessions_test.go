package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// sessionPage is what a page using the session client (the video SDK's shape) does: it
// binds the global name, creates and inits the client, and shows the
// users with their role and audio, and any notice the session gives.
const sessionPage = `
const ZoomVideo = RK.RoomKit;
const client = ZoomVideo.createClient();
window.client = client;
window.ZoomVideo = ZoomVideo;
window.notices = [];
window.audioChanges = [];
const list = document.body.appendChild(document.createElement('ul'));
list.id = 'users';
const render = () => list.replaceChildren(...client.getAllUser().map((u) => {
  const li = document.createElement('li');
  li.dataset.user = u.userId;
  li.textContent = u.displayName + ' ' + (u.isHost ? 'host' : u.isManager ? 'manager' : 'participant') + ' ' + (u.muted ? 'muted' : 'unmuted');
  return li;
}));
window.render = render;
client.on('user-added', render);
client.on('user-removed', render);
client.on('user-updated', render);
client.on('current-audio-change', (p) => audioChanges.push(p.action + ' ' + p.source));
client.on('connection-change', (p) => {
  if (p.state === 'Closed') notices.push(p.reason === 'ended by host' ? 'the host ended the session' : p.reason);
  render();
});
await client.init('en-US', 'Global', window.initOptions ?? { patchJsMedia: true });
`

// startSession runs sessionPage in p and joins the session as user with
// a role (1 host) and passcode; it returns the join's outcome.
func (p *page) startSession(user string, role int, passcode, extra string) string {
	p.t.Helper()
	return evalAs[string](p, fmt.Sprintf(`(async () => {
		%s
		const token = ZoomVideo.generateSessionTokenForTest(%q, %q, 'Team Sync', %q, %d, 3600);
		try {
			await client.join('Team Sync', token, %q, %q%s);
			render();
			return 'joined';
		} catch (err) {
			return 'error ' + err.code + ' ' + err.message;
		}
	})()`, sessionPage, app.DevAppID, secret, user, role, strings.ToUpper(user), passcode, extra))
}

// users returns the rendered user list, sorted.
func (p *page) users() []string {
	p.t.Helper()
	return slices.Sorted(slices.Values(evalAs[[]string](p, `[...document.querySelectorAll('#users li')].map((li) => li.textContent)`)))
}

func (p *page) waitUsers(want ...string) {
	p.t.Helper()
	want = slices.Sorted(slices.Values(want))
	require.Eventually(p.t, func() bool { return slices.Equal(p.users(), want) }, 15*time.Second, 50*time.Millisecond, "users %q, want %q", p.users(), want)
}

func (p *page) waitNotice(want string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return slices.Contains(evalAs[[]string](p, `notices`), want) }, 15*time.Second, 50*time.Millisecond,
		"notices %q, want %q", evalAs[[]string](p, `notices`), want)
}

func TestSessionRolesAndLifeCycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)

	// join before init resolves fails clearly.
	assert.Contains(t, evalAs[string](ann, `(async () => {
		const c = RK.RoomKit.createClient();
		try { await c.join('Team Sync', 'x', 'A'); return 'joined'; } catch (err) { return err.code + ' ' + err.message; }
	})()`), "6000001 call init")

	require.Equal(t, "joined", ann.startSession("ann", 1, "pw123", ""))
	assert.True(t, evalAs[bool](ann, `client.isHost()`))
	assert.Equal(t, "error 6100014 the passcode for room \"team%20sync\" is wrong", ben.startSession("ben", 0, "nope", ""), "wrong passcode refused")
	require.Equal(t, "joined", ben.eval2(`client.join('Team Sync', ZoomVideo.generateSessionTokenForTest(`+fmt.Sprintf("%q, %q", app.DevAppID, secret)+`, 'team sync', 'ben', 0, 3600), 'BEN', 'pw123').then(() => { render(); return 'joined'; })`))
	require.Equal(t, "joined", cat.startSession("cat", 0, "pw123", ""))
	ann.waitUsers("ANN host muted", "BEN participant muted", "CAT participant muted")
	assert.Equal(t, "team%20sync", evalAs[string](cat, `client.getSessionInfo().sessionId`))
	assert.Equal(t, "ann", evalAs[string](cat, `client.getSessionInfo().hostUserId`))

	// ben unmutes; the host mutes him, and ben's own page shows it.
	ben.eval(`client.getMediaStream().unmuteAudio().then(() => true)`)
	cat.waitUsers("ANN host muted", "BEN participant unmuted", "CAT participant muted")
	ann.eval(`client.getMediaStream().muteAudio('ben').then(() => true)`)
	ben.waitUsers("ANN host muted", "BEN participant muted", "CAT participant muted")
	assert.Equal(t, []string{"unmuted active", "muted passive"}, evalAs[[]string](ben, `audioChanges`))
	assert.True(t, evalAs[bool](ben, `client.getMediaStream().isAudioMuted()`))

	// A participant cannot remove anyone, even calling the wasm export directly.
	assert.Equal(t, "error 6100013 true a participant may not remove a member who is a participant (\"cat\"); ask the host",
		ben.call(`client._zim._rk.removeMember({ roomID: 'team%20sync', userID: 'cat' })`))
	assert.Equal(t, "error 6100013 true", ben.call(`client.removeUser('cat')`)[:len("error 6100013 true")])

	// The host makes ben a manager, who removes cat.
	ann.eval(`client.makeManager('ben').then(() => true)`)
	ben.waitUsers("ANN host muted", "BEN manager muted", "CAT participant muted")
	assert.True(t, evalAs[bool](ben, `client.isManager()`))
	ben.eval(`client.removeUser('cat').then(() => true)`)
	cat.waitNotice("kicked by host")
	ann.waitUsers("ANN host muted", "BEN manager muted")
	assert.Contains(t, cat.startSession2(), "6100015", "a removed user cannot come back")

	// The host hands the role to ben, then ben ends the session for all.
	ann.eval(`client.makeHost('ben').then(() => true)`)
	ann.waitUsers("ANN manager muted", "BEN host muted")
	assert.False(t, evalAs[bool](ann, `client.isHost()`))
	assert.Equal(t, "error 6100013 true only the host can end the session for everyone", ann.call(`client.leave(true)`))
	ben.eval(`client.leave(true).then(() => true)`)
	ann.waitNotice("the host ended the session")
	ben.waitNotice("the host ended the session")
	assert.False(t, evalAs[bool](ann, `client.getSessionInfo().isInMeeting`))
}

// eval2 evaluates a Promise expression in p and returns its string result.
func (p *page) eval2(expr string) string {
	p.t.Helper()
	return evalAs[string](p, `(`+expr+`).catch((err) => 'error ' + err.code + ' ' + err.message)`)
}

// startSession2 joins again in a page that already ran sessionPage.
func (p *page) startSession2() string {
	p.t.Helper()
	return p.eval2(fmt.Sprintf(`client.join('Team Sync', RK.RoomKit.generateSessionTokenForTest(%q, %q, 'Team Sync', 'cat', 0, 3600), 'CAT', 'pw123').then(() => 'joined')`, app.DevAppID, secret))
}

func TestSessionCapacity(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	require.Equal(t, "joined", ann.startSession("ann", 1, "", ", undefined, { maxUsers: 2 }"))
	require.Equal(t, "joined", ben.startSession("ben", 0, "", ""))
	assert.Equal(t, "error 6100008 room \"team%20sync\" is full (2 members)", cat.startSession("cat", 0, "", ""))
	ann.waitUsers("ANN host muted", "BEN participant muted")
}

// With leaveOnPageUnload, a page going away leaves the session at once:
// the others see it go although the server would hold a silent page's
// place for a long grace period.
func TestLeaveOnPageUnload(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Gateway.ResumeGrace = 5 * time.Minute })
	ann, ben := openPage(t, s), openPage(t, s)
	ann.eval(`window.initOptions = { leaveOnPageUnload: true }`)
	require.Equal(t, "joined", ann.startSession("ann", 1, "", ""))
	require.Equal(t, "joined", ben.startSession("ben", 0, "", ""))
	ben.waitUsers("ANN host muted", "BEN participant muted")
	ann.reload()
	ben.waitUsers("BEN host muted")
}

// joinCallAs joins the call kit into room as user, whose token asks for
// host when host is set.
func (p *page) joinCallAs(user, room string, host bool) {
	p.t.Helper()
	role := 0
	if host {
		role = 1
	}
	p.eval(fmt.Sprintf(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
		const box = document.createElement('div');
		document.body.prepend(box);
		const jwt = RoomKit.wasm.mintTestToken(appID, serverSecret, %q, %q, '', %d, 3600);
		window.zp = RoomKit.create(RoomKit.generateKitTokenForProduction(appID, jwt, %q, %q, %q));
		await zp.joinRoom({ container: box, showPreJoinView: false, autoLeaveRoomWhenOnlySelfInRoom: false });
		return true;
	})()`, user, strings.ToUpper(user), role, room, user, strings.ToUpper(user)))
}

// The call kit lists roles and offers moderation only to those whose role
// allows it; the host removes a member, who is told.
func TestCallKitModeration(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCallAs("ann", "mod", true)
	ben.keepTracks()
	ben.joinCallAs("ben", "mod", false)
	ann.waitMembers("ann", "ben")
	ben.waitMembers("ann", "ben")
	ben.waitMediaPeers("ann")
	assert.Equal(t, "host", evalAs[string](ben, `document.querySelector('[data-testid=member-ann]').dataset.role`))
	ann.waitText(`[data-testid=member-ann]`, "host")
	ann.waitText(`[data-testid=remove-ben]`, "Remove")
	assert.False(t, evalAs[bool](ben, `!!document.querySelector('[data-testid^=remove-]')`), "a participant is offered no removal")

	ann.eval(`(document.querySelector('[data-testid=remove-ben]').click(), true)`)
	ben.waitText(`[data-testid=removed-view]`, "You were removed from the call.")
	ann.waitMembers("ann")
	ben.waitTracksEnded()
	assert.Empty(t, ben.mediaPeers(), "the removed page's connections are closed")

	// Only the host's menu offers to end the call for everyone.
	cat := openPage(t, s)
	cat.keepTracks()
	cat.joinCallAs("cat", "mod", false)
	ann.waitMembers("ann", "cat")
	cat.eval(`(document.querySelector('[data-testid=more-button]').click(), true)`)
	assert.False(t, evalAs[bool](cat, `!!document.querySelector('[data-testid=menu-end-all]')`))
	ann.eval(`(document.querySelector('[data-testid=more-button]').click(), document.querySelector('[data-testid=menu-end-all]').click(), true)`)
	cat.waitText(`[data-testid=removed-view]`, "The host ended the session.")
	ann.waitText(`[data-testid=removed-view]`, "The host ended the session.")
	cat.waitTracksEnded()
}

// keepTracks has p remember every camera and microphone track its page
// is given, for waitTracksEnded.
func (p *page) keepTracks() {
	p.t.Helper()
	p.eval(`(() => {
		window.tracks = [];
		const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = async (c) => { const s = await real(c); tracks.push(...s.getTracks()); return s; };
		return true;
	})()`)
}

// waitTracksEnded waits until every track p's page was given has stopped:
// its camera and microphone are off.
func (p *page) waitTracksEnded() {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return evalAs[bool](p, `tracks.length > 0 && tracks.every((t) => t.readyState === 'ended')`)
	}, 10*time.Second, 50*time.Millisecond, "the camera or microphone is still on: %d tracks", evalAs[int](p, `tracks.filter((t) => t.readyState !== 'ended').length`))
}

// waitMediaPeers waits until p has media connections with exactly users.
func (p *page) waitMediaPeers(users ...string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return slices.Equal(p.mediaPeers(), users) }, 20*time.Second, 100*time.Millisecond,
		"media peers %v, want %v", p.mediaPeers(), users)
}

// A reload (without leaveOnPageUnload) resumes the session: the host is
// still host, and the others never saw it leave.
func TestHostKeepsTheRoleAcrossAReload(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	require.Equal(t, "joined", ann.startSession("ann", 1, "pw", ""))
	require.Equal(t, "joined", ben.startSession("ben", 0, "pw", ""))
	ben.eval(`window.removed = []; client.on('user-removed', (us) => removed.push(...us.map((u) => u.userId))); true`)
	ann.reload()
	ann.loadModule()
	require.Equal(t, "joined", ann.startSession("ann", 1, "pw", ""))
	assert.True(t, evalAs[bool](ann, `client.isHost()`))
	ann.waitUsers("ANN host muted", "BEN participant muted")
	assert.Empty(t, evalAs[[]string](ben, `removed`), "nobody saw the host leave")
	ben.waitUsers("ANN host muted", "BEN participant muted")
	assert.Equal(t, 2, evalAs[int](ben, `client._zim.queryRoomOnlineMemberCount(client.getSessionInfo().sessionId).then((r) => r.count)`),
		"the reloaded page took its old place back: no second place for ann")
}

// A session's media goes through the server's media server: ann turns her
// camera and microphone on; ben's page is told her video started, shows
// it with attachVideo (frames change), hears her as the active speaker;
// when she stops her camera, ben is told it stopped.
func TestSessionVideoThroughTheMediaServer(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	require.Equal(t, "joined", ann.startSession("ann", 1, "", ""))
	require.Equal(t, "joined", ben.startSession("ben", 0, "", ""))
	ben.eval(`(() => {
		window.videoChanges = [];
		window.speakers = [];
		client.on('peer-video-state-change', (p) => videoChanges.push(p.action + ' ' + p.userId));
		client.on('active-speaker', (list) => speakers.push(list.map((s) => s.userId).join(',')));
		return true;
	})()`)
	ann.eval(`client.getMediaStream().startVideo().then(() => client.getMediaStream().startAudio()).then(() => client.getMediaStream().unmuteAudio()).then(() => true)`)
	require.Eventually(t, func() bool { return slices.Contains(evalAs[[]string](ben, `videoChanges`), "Start ann") }, 15*time.Second, 50*time.Millisecond,
		"ben is not told ann's video started: %v", evalAs[[]string](ben, `videoChanges`))
	ben.eval(`client.getMediaStream().attachVideo('ann', 2).then((v) => { v.dataset.testid = 'video-ann'; document.body.append(v); return true; })`)
	ben.waitVideo("ann")
	require.Eventually(t, func() bool { return slices.Contains(evalAs[[]string](ben, `speakers`), "ann") }, 15*time.Second, 100*time.Millisecond,
		"ann is never the active speaker on ben's page: %v", evalAs[[]string](ben, `speakers`))

	ann.eval(`client.getMediaStream().stopVideo().then(() => true)`)
	require.Eventually(t, func() bool { return slices.Contains(evalAs[[]string](ben, `videoChanges`), "Stop ann") }, 15*time.Second, 50*time.Millisecond)
	assert.Len(t, evalAs[[]any](ben, `client.getMediaStream().detachVideo('ann')`), 1, "the element attachVideo made")
}
