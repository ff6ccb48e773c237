package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// screenPlays reports whether p plays user's shared screen: its tile's
// video has the captured screen's width (Chromium's fake screen is 800
// wide, the fake camera 640) and decodes new frames.
func (p *page) screenPlays(user string) bool {
	p.t.Helper()
	return evalAs[bool](p, `(async () => {
		const v = document.querySelector('[data-testid=screen-video-`+user+`]');
		if (!v || v.videoWidth !== 800 || v.readyState < 2) return false;
		const a = v.getVideoPlaybackQuality().totalVideoFrames;
		await new Promise((r) => setTimeout(r, 400));
		return v.getVideoPlaybackQuality().totalVideoFrames > a;
	})()`)
}

func (p *page) waitScreen(user string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return p.screenPlays(user) }, 30*time.Second, 200*time.Millisecond, "%s's screen never played", user)
}

// Screen sharing through the media server: a member's shared screen is
// the large tile on the others' pages (decoded, the cameras in the strip
// beside it) and they are told; a second share is refused while one is
// under way (one at a time); the host's lock stops a participant's share
// and refuses the next with its code; Stop sharing, and the browser's own
// stop, give the gallery back.
func TestScreenSharing(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	room := ann.hostSession("ann", "screens")
	ben.joinCall("ben", room, "turnOnMicrophoneWhenJoining: false,") // what ann hears of ben is his screen's
	cat.joinCall("cat", room, "")
	for _, p := range []*page{ann, ben, cat} {
		p.waitMembers("ann", "ben", "cat")
	}
	ann.waitVideo("ben")
	ben.waitText(`[data-testid=share-button]`, "Share screen")

	ben.click("share-button")
	ben.waitText(`[data-testid=share-button]`, "Stop sharing")
	for _, p := range []*page{ann, cat} {
		p.waitScreen("ben")
		p.waitAttr("screen-ben", "main", "true")
		assert.Equal(t, "sidebar", evalAs[string](p, `document.querySelector('[data-testid=video-grid]').dataset.layout`))
		assert.True(t, evalAs[bool](p, `!!document.querySelector('[data-testid=video-strip] [data-testid=tile-ben]')`), "the cameras go in the strip")
	}
	ann.waitText(`[data-testid=notices]`, "BEN is sharing a screen")
	ann.screenshotCall("screenshare", nil)
	ann.waitVideo("ben") // the camera goes on beside the screen
	ann.waitAudio("ben") // and the screen's audio plays

	// One screen at a time.
	cat.click("share-button")
	cat.waitText(`[data-testid=media-notes]`, "You cannot share your screen now (6100022)")
	assert.Equal(t, "Share screen", evalAs[string](cat, `document.querySelector('[data-testid=share-button]').textContent`))

	// The host locks sharing: ben's share stops, and cat's is refused.
	assert.Equal(t, "locked", evalAs[string](ann, `zp._zim.setShareLock(true, zp.getRoomID()).then(() => 'locked', (e) => String(e.code))`))
	ben.waitText(`[data-testid=media-notes]`, "the host locked screen sharing")
	ben.waitText(`[data-testid=share-button]`, "Share screen")
	ann.waitGone("screen-ben")
	cat.waitGone("screen-ben")
	require.Eventually(t, func() bool {
		before := ann.audioBytes("ben")
		time.Sleep(500 * time.Millisecond)
		return ann.audioBytes("ben") == before
	}, 10*time.Second, 100*time.Millisecond, "ben's screen's audio still arrives after the lock")
	cat.click("share-button")
	cat.waitText(`[data-testid=media-notes]`, "You cannot share your screen now (6100013)")
	assert.False(t, ann.visible("screen-cat"))

	// Unlocked, cat shares and stops; then shares and stops from the
	// browser's own bar (the captured track ends).
	assert.Equal(t, "unlocked", evalAs[string](ann, `zp._zim.setShareLock(false, zp.getRoomID()).then(() => 'unlocked', (e) => String(e.code))`))
	cat.click("share-button")
	ben.waitScreen("cat")
	cat.click("share-button")
	ben.waitGone("screen-cat")
	assert.NotEqual(t, "sidebar", evalAs[string](ben, `document.querySelector('[data-testid=video-grid]').dataset.layout`), "the gallery is back")
	cat.click("share-button")
	ann.waitScreen("cat")
	cat.eval(`(() => { const [t] = zp._media.share.stream.getVideoTracks(); t.stop(); t.dispatchEvent(new Event('ended')); return true; })()`)
	ann.waitGone("screen-cat")
	cat.waitText(`[data-testid=share-button]`, "Share screen")
	// The room saw every share end: cat's state is not sharing.
	assert.Equal(t, false, evalAs[bool](ann, `zp._zim.queryRoomMembers(['cat'], zp.getRoomID()).then((r) => !!r.memberList[0].share)`))
}

// shareButton gives p (a session page) a button whose click shares the
// screen through the session client (the picker needs the click), and
// keeps the session's share events and each start's outcome in
// shareLog.
func (p *page) shareButton() {
	p.t.Helper()
	p.eval(`(() => {
		window.shareLog = [];
		const stream = client.getMediaStream();
		client.on('active-share-change', (e) => shareLog.push('share ' + e.state + ' ' + e.userId));
		client.on('share-privilege-change', (e) => shareLog.push('privilege ' + e.privilege));
		client.on('passively-stop-share', (e) => shareLog.push('stopped ' + e.reason));
		const b = document.body.appendChild(document.createElement('button'));
		b.dataset.testid = 'start-share';
		b.textContent = 'Share';
		b.onclick = () => stream.startShareScreen().then(() => shareLog.push('started'), (e) => shareLog.push('refused ' + (e.code ?? e.name)));
		return true;
	})()`)
}

func (p *page) waitShareLog(want string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return slices.Contains(evalAs[[]string](p, `shareLog`), want) }, 20*time.Second, 50*time.Millisecond,
		"%q never in %v", want, evalAs[[]string](p, `shareLog`))
}

// The session client shares a screen through the media server: a
// participant's startShareScreen (in a click) reaches the host's
// attachShareView element, decoded at the screen's size, and everyone is
// told (active-share-change); a second share is refused with 6100022;
// the host's lock stops the participant's share (passively-stop-share,
// share-privilege-change) and refuses the next with 6100013;
// stopShareScreen and the browser's own stop end a share for everyone.
func TestSessionScreenSharing(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	require.Equal(t, "joined", ann.startSession("ann", 1, "", ""))
	require.Equal(t, "joined", ben.startSession("ben", 0, "", ""))
	ann.waitUsers("ANN host muted", "BEN participant muted")
	ann.shareButton()
	ben.shareButton()
	ann.eval(`client.getMediaStream().attachShareView('ben').then((v) => { v.dataset.testid = 'screen-video-ben'; document.body.append(v); return true; })`)

	ben.click("start-share")
	ben.waitShareLog("started")
	ann.waitScreen("ben")
	ann.waitShareLog("share Active ben")
	assert.Equal(t, "ben", evalAs[string](ann, `client.getMediaStream().getActiveShareUserId()`))

	// One screen at a time: the host's own share is refused.
	ann.click("start-share")
	ann.waitShareLog("refused 6100022")

	// The lock stops ben's share and refuses the next.
	assert.Equal(t, "locked", evalAs[string](ann, `client.getMediaStream().lockShare(true).then(() => 'locked', (e) => String(e.code))`))
	ben.waitShareLog("privilege 1")
	ben.waitShareLog("stopped PrivilegeChange")
	ann.waitShareLog("share Inactive ben")
	require.Eventually(t, func() bool { return !ann.screenPlays("ben") }, 15*time.Second, 200*time.Millisecond, "ben's screen still plays after the lock")
	assert.Equal(t, "", evalAs[string](ann, `client.getMediaStream().getActiveShareUserId()`))
	ben.click("start-share")
	ben.waitShareLog("refused 6100013")
	assert.True(t, evalAs[bool](ben, `client.getMediaStream().isShareLocked()`))

	// Unlocked: ben shares again and stops; then shares and stops from
	// the browser's own bar (the captured track ends).
	assert.Equal(t, "unlocked", evalAs[string](ann, `client.getMediaStream().lockShare(false).then(() => 'unlocked', (e) => String(e.code))`))
	ben.waitShareLog("privilege 0")
	ben.eval(`(() => { shareLog = []; return true; })()`)
	ben.click("start-share")
	ben.waitShareLog("started")
	ann.waitScreen("ben")
	ben.eval(`client.getMediaStream().stopShareScreen().then(() => true)`)
	require.Eventually(t, func() bool { return !ann.screenPlays("ben") }, 15*time.Second, 200*time.Millisecond, "ben's screen still plays after stopShareScreen")
	ben.click("start-share")
	require.Eventually(t, func() bool { return len(evalAs[[]string](ben, `shareLog.filter((e) => e === 'started')`)) == 2 }, 20*time.Second, 50*time.Millisecond)
	ann.waitScreen("ben")
	ben.eval(`(() => { const [t] = client._screen.getVideoTracks(); t.stop(); t.dispatchEvent(new Event('ended')); return true; })()`)
	ben.waitShareLog("stopped StopScreenCapture")
	require.Eventually(t, func() bool { return !ann.screenPlays("ben") }, 15*time.Second, 200*time.Millisecond, "ben's screen still plays after the browser's stop")
	require.Eventually(t, func() bool { return evalAs[string](ann, `client.getMediaStream().getActiveShareUserId()`) == "" }, 10*time.Second, 50*time.Millisecond)
	assert.Len(t, evalAs[[]any](ann, `client.getMediaStream().detachShareView('ben')`), 1, "the element attachShareView made")
}
