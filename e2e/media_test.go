package e2e

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// videoChanges reports whether user's video in p's grid plays frames that
// differ: two frames, 400 ms apart, drawn to a canvas and compared.
func (p *page) videoChanges(user string) bool {
	p.t.Helper()
	return evalAs[bool](p, `(async () => {
		const v = document.querySelector('[data-testid=video-`+user+`]');
		if (!v || !v.videoWidth || v.readyState < 2) return false;
		const c = Object.assign(document.createElement('canvas'), { width: 64, height: 36 });
		const g = c.getContext('2d', { willReadFrequently: true });
		const shot = () => { g.drawImage(v, 0, 0, 64, 36); return g.getImageData(0, 0, 64, 36).data; };
		const a = shot();
		await new Promise((r) => setTimeout(r, 400));
		const b = shot();
		let diff = 0;
		for (let i = 0; i < a.length; i++) diff += Math.abs(a[i] - b[i]);
		return diff > 0;
	})()`)
}

// waitVideo waits until user's video plays and changes on p.
func (p *page) waitVideo(user string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return p.videoChanges(user) }, 30*time.Second, 200*time.Millisecond, "%s's video never played", user)
}

// audioBytes is how many audio bytes p has received from user so far.
func (p *page) audioBytes(user string) float64 {
	p.t.Helper()
	return evalAs[float64](p, `zp.getMediaStats().then((s) => s.filter((x) => x.userID === '`+user+`').reduce((n, x) => n + x.audioBytesReceived, 0))`)
}

// waitAudio waits until p's audio from user grows.
func (p *page) waitAudio(user string) {
	p.t.Helper()
	first := p.audioBytes(user)
	require.Eventually(p.t, func() bool { return p.audioBytes(user) > first }, 20*time.Second, 200*time.Millisecond, "no audio from %s", user)
}

// attr is the data-attr of the element with testid on p ("" when absent).
func (p *page) attr(testid, name string) string {
	p.t.Helper()
	return evalAs[string](p, `document.querySelector('[data-testid=`+testid+`]')?.dataset.`+name+` ?? ''`)
}

func (p *page) waitAttr(testid, name, want string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return p.attr(testid, name) == want }, 15*time.Second, 50*time.Millisecond,
		"%s data-%s is %q, want %q", testid, name, p.attr(testid, name), want)
}

// Three people in a call see and hear each other; a camera turned off
// shows as off everywhere; a reload brings the video back; a member who
// leaves loses their tile everywhere.
func TestThreePeopleSeeAndHearEachOther(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	users := []string{"ann", "ben", "cal"}
	pages := map[string]*page{}
	for _, u := range users {
		pages[u] = openPage(t, s)
		pages[u].joinCall(u, "media", "")
	}
	for _, u := range users {
		pages[u].waitMembers(users...)
		pages[u].waitTransport("sfu") // the server runs a media server: media goes through it
	}
	for _, u := range users {
		for _, other := range users {
			if other == u {
				continue
			}
			pages[u].waitVideo(other)
			pages[u].waitAudio(other)
		}
		assert.Equal(t, 2, evalAs[int](pages[u], `document.querySelectorAll('[data-testid=video-grid] video[data-remote]').length`), "%s sees two remote videos", u)
	}

	// Ben turns his camera off: the others show it off; on again, it plays.
	pages["ben"].click("toggle-camera")
	for _, u := range []string{"ann", "cal"} {
		pages[u].waitAttr("tile-ben", "camera", "off")
	}
	assert.Equal(t, "false", evalAs[string](pages["ben"], `document.querySelector('[data-testid=toggle-camera]').getAttribute('aria-pressed')`))
	pages["ben"].click("toggle-camera")
	pages["ann"].waitAttr("tile-ben", "camera", "on")
	pages["ann"].waitVideo("ben")

	// Cal mutes: the others see the badge.
	pages["cal"].click("toggle-microphone")
	pages["ann"].waitAttr("tile-cal", "microphone", "off")
	pages["ben"].waitText(`[data-testid=tile-cal]`, "muted")

	// Ben reloads inside the grace period: no leave, and his video comes
	// back on the others' pages over new connections.
	pages["ann"].eval(`window.calls.splice(0), true`)
	pages["ben"].reload()
	pages["ben"].runCallPageAs("ben", "media")
	pages["ben"].waitMembers(users...)
	for _, u := range []string{"ann", "cal"} {
		pages[u].waitVideo("ben")
		pages["ben"].waitVideo(u)
	}
	assert.NotContains(t, strings.Join(pages["ann"].calls(), ";"), "userLeave", "nobody saw ben leave")

	// Cal leaves: the tile goes on every page.
	pages["cal"].eval(`zp.hangUp().then(() => true)`)
	for _, u := range []string{"ann", "ben"} {
		pages[u].waitGone("tile-cal")
	}
}

// mediaTransport is what carries p's call media: "sfu" (one connection to
// the server's media server), "mesh" (a connection per other page) or "".
func (p *page) mediaTransport() string {
	p.t.Helper()
	return evalAs[string](p, `zp._media.sfu ? 'sfu' : zp._media.mesh ? 'mesh' : ''`)
}

// waitTransport waits until p's call media is carried by want.
func (p *page) waitTransport(want string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return p.mediaTransport() == want }, 15*time.Second, 50*time.Millisecond,
		"the call's media is carried by %q, want %q", p.mediaTransport(), want)
}

// frames is how many video frames p has decoded from user so far.
func (p *page) frames(user string) float64 {
	p.t.Helper()
	return evalAs[float64](p, `zp.getMediaStats().then((s) => s.filter((x) => x.userID === '`+user+`').reduce((n, x) => n + x.framesDecoded, 0))`)
}

// energy is the total audio energy p has received from user so far.
func (p *page) energy(user string) float64 {
	p.t.Helper()
	return evalAs[float64](p, `zp.getMediaStats().then((s) => s.filter((x) => x.userID === '`+user+`').reduce((n, x) => n + x.audioEnergy, 0))`)
}

// A call of four through the server's media server: every page decodes
// video frames from each of the three others, and hears them (the audio's
// energy grows); each page has its one connection to the server, not one
// per member.
func TestFourPeopleThroughTheMediaServer(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	users := []string{"ann", "ben", "cal", "dee"}
	pages := map[string]*page{}
	for _, u := range users {
		pages[u] = openPage(t, s)
		pages[u].joinCall(u, "sfu4", "")
	}
	for _, u := range users {
		pages[u].waitMembers(users...)
	}
	for _, u := range users {
		p := pages[u]
		p.waitTransport("sfu")
		for _, other := range users {
			if other == u {
				continue
			}
			first := p.frames(other)
			require.Eventually(t, func() bool { return p.frames(other) > first+10 }, 30*time.Second, 200*time.Millisecond,
				"%s decodes no frames from %s", u, other)
			heard := p.energy(other)
			require.Eventually(t, func() bool { return p.energy(other) > heard }, 20*time.Second, 200*time.Millisecond,
				"%s hears nothing from %s", u, other)
		}
		assert.Equal(t, 3, evalAs[int](p, `document.querySelectorAll('[data-testid=video-grid] video[data-remote]').length`), "%s sees three remote videos", u)
	}
}

// The speaking outline follows what the media server hears: a member's
// fake microphone beeps, so the others' pages outline its tile; muted, it
// is outlined no more.
func TestTheSpeakingOutlineFollowsTheMediaServer(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "speak", "")
	ben.joinCall("ben", "speak", "")
	ann.waitMembers("ann", "ben")
	ann.waitTransport("sfu")
	ann.waitAttr("tile-ben", "speaking", "true")
	ben.click("toggle-microphone")
	ann.waitAttr("tile-ben", "microphone", "off")
	ann.waitAttr("tile-ben", "speaking", "false")
	require.Never(t, func() bool { return ann.attr("tile-ben", "speaking") == "true" }, 2*time.Second, 100*time.Millisecond,
		"a muted member is outlined")
}

// runCallPageAs rejoins after a reload: the kit finds the stored call and
// rejoins with no pre-join view.
func (p *page) runCallPageAs(user, room string) {
	p.t.Helper()
	p.loadModule()
	p.joinCall(user, room, "")
}

// The signalling channel refuses a user who is not in the room, and a
// recipient who is not.
func TestPeerMessagesNeedMembership(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, eve := openPage(t, s), openPage(t, s)
	ann.login("ann")
	eve.login("eve")
	ann.mustCall(`zim.enterRoom({ roomID: 'sig' })`)
	res := eve.call(`zim.sendPeerMessage({ sdp: 'x' }, 'ann', 'sig')`)
	assert.True(t, strings.HasPrefix(res, "error 6000321 true "), res)
	res = ann.call(`zim.sendPeerMessage({ sdp: 'x' }, 'eve', 'sig')`)
	assert.True(t, strings.HasPrefix(res, "error 6100016 true "), res)
	eve.mustCall(`zim.enterRoom({ roomID: 'sig' })`)
	eve.eval(`(window.peer = [], zim.on('peerMessageReceived', (z, d) => peer.push(d.fromUserID + ' ' + JSON.stringify(d.data))), true)`)
	ann.mustCall(`zim.sendPeerMessage({ sdp: 'x' }, 'eve', 'sig')`)
	require.Eventually(t, func() bool { return len(evalAs[[]string](eve, `peer`)) == 1 }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{`ann {"sdp":"x"}`}, evalAs[[]string](eve, `peer`))
}

// Screenshots of a three-person call at desktop and phone widths, written
// to ROOMKIT_SCREENSHOTS (default: a folder in the temp dir).
func TestMediaCallScreenshots(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	users := []string{"ann", "ben", "cal"}
	pages := map[string]*page{}
	for _, u := range users {
		pages[u] = openPage(t, s)
		pages[u].joinCall(u, "standup", "")
	}
	ann := pages["ann"]
	ann.waitMembers(users...)
	ann.waitVideo("ben")
	ann.waitVideo("cal")
	pages["cal"].click("toggle-camera")
	ann.waitAttr("tile-cal", "camera", "off")

	ann.screenshotCall("media-call", func() func() {
		ann.waitVideo("ben")
		return func() {}
	})
}

// A camera the browser refuses is explained on the page and to
// onMediaError; the call goes on with the microphone. (Chromium's fake
// media UI grants every request, whatever the permission setting, so the
// page's getUserMedia answers for video as a refusal does.)
func TestBlockedCameraIsExplainedAndTheCallGoesOn(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.eval(`(() => {
		const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
		navigator.mediaDevices.getUserMedia = (c) => c.video ? Promise.reject(new DOMException('Permission denied', 'NotAllowedError')) : real(c);
		return true;
	})()`)
	ben.joinCall("ben", "blocked", "")
	ann.joinCall("ann", "blocked", "onMediaError: (e) => calls.push('mediaError ' + e.kind + ' ' + e.name),")
	ann.waitText(`[data-testid=media-notes]`, "The browser blocked the camera")
	require.Eventually(t, func() bool { return slices.Contains(ann.calls(), "mediaError video NotAllowedError") }, 10*time.Second, 50*time.Millisecond)
	ann.waitMembers("ann", "ben")
	ben.waitAttr("tile-ann", "camera", "off")
	ben.waitAudio("ann")
	ann.waitVideo("ben")
	assert.Equal(t, "false", evalAs[string](ann, `document.querySelector('[data-testid=toggle-camera]').getAttribute('aria-pressed')`))
	assert.Equal(t, "true", evalAs[string](ann, `document.querySelector('[data-testid=toggle-microphone]').getAttribute('aria-pressed')`))
}

// hostSession has p join the call of session as user, with a token asking
// for the host role (role 1) for the session's room; it returns the room.
func (p *page) hostSession(user, session string) string {
	p.t.Helper()
	p.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
		const roomID = RoomKit.sessionRoomID(` + jsString(session) + `);
		const token = RoomKit.generateSessionTokenForTest(appID, serverSecret, ` + jsString(session) + `, ` + jsString(user) + `, 1, 3600);
		const box = document.createElement('div');
		document.body.prepend(box);
		window.calls = [];
		window.zp = RoomKit.create(RoomKit.generateKitTokenForProduction(appID, token, roomID, ` + jsString(user) + `, ` + jsString(strings.ToUpper(user)) + `));
		await zp.joinRoom({ container: box, showPreJoinView: false });
		return true;
	})()`)
	return evalAs[string](p, `zp.getRoomID()`)
}

// The host mutes a member: the member's microphone goes off on their own
// page (the track stops being sent, the toggle shows off, a message says
// why) and the others see the muted badge.
func TestHostMuteTurnsTheMicrophoneOff(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	room := ann.hostSession("ann", "standup")
	ben.joinCall("ben", room, "")
	ann.waitMembers("ann", "ben")
	ann.waitAudio("ben")
	require.Equal(t, "host", ann.attr("member-ann", "role"))

	ann.click("mute-ben")
	ben.waitAttr("tile-ben", "microphone", "off")
	ben.waitText(`[data-testid=media-notes]`, "muted by the host")
	assert.Equal(t, "false", evalAs[string](ben, `document.querySelector('[data-testid=toggle-microphone]').getAttribute('aria-pressed')`))
	ann.waitAttr("tile-ben", "microphone", "off")
	// ann no longer receives ben's audio.
	require.Eventually(t, func() bool {
		before := ann.audioBytes("ben")
		time.Sleep(500 * time.Millisecond)
		return ann.audioBytes("ben") == before
	}, 10*time.Second, 100*time.Millisecond, "ben's audio still arrives after the mute")
	// Ben may turn it on again himself, and is heard again.
	ben.click("toggle-microphone")
	ann.waitAttr("tile-ben", "microphone", "on")
	ann.waitAudio("ben")
}

// The host turns a member's camera off: it goes off on the member's own
// page (no more frames reach the others, the toggle shows off, a message
// says why) and the others see the camera-off tile; only the member turns
// it on again, and a participant is offered nothing of the kind.
func TestHostTurnsACameraOff(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	room := ann.hostSession("ann", "review")
	ben.joinCall("ben", room, "")
	ann.waitMembers("ann", "ben")
	ann.waitVideo("ben")
	assert.False(t, ben.visible("camera-stop-ann"), "a participant is not offered another's camera")

	ann.click("camera-stop-ben")
	ben.waitAttr("tile-ben", "camera", "off")
	ben.waitText(`[data-testid=media-notes]`, "camera was turned off by the host")
	assert.Equal(t, "false", evalAs[string](ben, `document.querySelector('[data-testid=toggle-camera]').getAttribute('aria-pressed')`))
	ann.waitAttr("tile-ben", "camera", "off")
	assert.False(t, ann.visible("camera-stop-ben"), "nothing to turn off now")
	require.Eventually(t, func() bool {
		before := ann.frames("ben")
		time.Sleep(500 * time.Millisecond)
		return ann.frames("ben") == before
	}, 10*time.Second, 100*time.Millisecond, "ben's video still arrives after the host turned it off")
	// The host may not turn it on; ben may.
	got := evalAs[string](ann, `zp._zim.setMemberState({ video: true }, zp.getRoomID(), 'ben').then(() => 'done', (e) => String(e.code))`)
	assert.Equal(t, "6100013", got)
	ben.click("toggle-camera")
	ann.waitAttr("tile-ben", "camera", "on")
	ann.waitVideo("ben")
}

// mediaPeers are the users p has a media connection with.
func (p *page) mediaPeers() []string {
	p.t.Helper()
	return evalAs[[]string](p, `zp.getMediaStats().then((s) => [...new Set(s.map((x) => x.userID))].sort())`)
}

// On a server without a media server (-media=false) the call kit's media
// is a browser-to-browser mesh with maxMediaUsers places. Two pages
// joining at once for the call's last place: the server gives it to one,
// the other is told it has chat only and is connected to nobody; when the
// one with the place leaves, the other gets it and sees and is seen.
func TestTheLastMediaPlaceGoesToOneOfTwoJoiningAtOnce(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.MediaOff = true })
	const places = "maxMediaUsers: 2, onMediaError: (e) => calls.push('mediaError ' + e.kind),"
	ann := openPage(t, s)
	ann.joinCall("ann", "places", places)
	ann.waitTransport("mesh")
	pages := map[string]*page{"ben": openPage(t, s), "cal": openPage(t, s)}
	for u, p := range pages { // both start joining before either is in
		p.eval(`(() => { window.joining = ` + joinCallScript(u, "places", places) + `; return true; })()`)
	}
	for _, p := range pages {
		p.eval(`window.joining`)
		p.waitMembers("ann", "ben", "cal")
	}
	var placed, waiting string
	require.Eventually(t, func() bool {
		for u, p := range pages {
			if slices.Contains(p.calls(), "mediaError limit") {
				waiting = u
			}
		}
		return waiting != ""
	}, 20*time.Second, 100*time.Millisecond, "neither page was told the places are taken")
	placed = map[string]string{"ben": "cal", "cal": "ben"}[waiting]
	pages[waiting].waitText(`[data-testid=media-notes]`, "places for audio and video in this call are taken")
	ann.waitVideo(placed)
	pages[placed].waitVideo("ann")
	assert.Equal(t, []string{placed}, ann.mediaPeers(), "ann connects only to the page with the place")
	assert.Equal(t, []string{"ann"}, pages[placed].mediaPeers())
	assert.Empty(t, pages[waiting].mediaPeers(), "the page without a place connects to nobody")
	assert.NotContains(t, pages[placed].calls(), "mediaError limit")

	pages[placed].eval(`zp.hangUp().then(() => true)`)
	pages[waiting].waitText(`[data-testid=media-notes]`, "A place for audio and video freed up")
	ann.waitVideo(waiting)
	pages[waiting].waitVideo("ann")
	assert.Equal(t, []string{waiting}, ann.mediaPeers())
}
