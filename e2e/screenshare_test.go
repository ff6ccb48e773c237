package e2e

import (
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
	ben.joinCall("ben", room, "")
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
