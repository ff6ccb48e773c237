package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The call kit's dialogs go with the call, its pages leave nothing behind,
// and it runs one call and one join at a time.

// trackRejections records, in window.rejections, every promise rejection
// p's page leaves unhandled.
func (p *page) trackRejections() {
	p.t.Helper()
	p.eval(`(() => {
		window.rejections = [];
		window.addEventListener('unhandledrejection', (e) => rejections.push(String(e.reason?.stack || e.reason)));
		return true;
	})()`)
}

func (p *page) rejections() []string {
	p.t.Helper()
	return evalAs[[]string](p, `window.rejections`)
}

// kitLeftovers are the testids of the call kit's roots and dialogs still
// on p's page.
func (p *page) kitLeftovers() []string {
	p.t.Helper()
	return evalAs[[]string](p, `[...document.querySelectorAll('.rk-call')].map((n) => n.dataset.testid || n.className)`)
}

// count is how many elements with testid p's page shows.
func (p *page) count(testid string) int {
	p.t.Helper()
	return evalAs[int](p, `document.querySelectorAll('[data-testid=`+testid+`]').length`)
}

// jsClick clicks the element with testid in the page's script (a dialog
// over the page may cover it for a pointer).
func (p *page) jsClick(testid string) {
	p.t.Helper()
	p.eval(`(document.querySelector('[data-testid=` + testid + `]').click(), true)`)
}

// hangUp while calling someone cancels that call and closes the waiting
// view; hangUp in a call closes the settings dialog and the Invite members
// list, and a device changed in a settings dialog after the end does
// nothing (no device error).
func TestCallKitHangUpClosesTheCallsDialogs(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.kit("ann", `canInvitingInCalling: true,
		onSetRoomConfigBeforeJoining: () => ({ autoLeaveRoomWhenOnlySelfInRoom: false, onMediaError: (e) => ev.push('mediaError ' + e.kind + ' ' + e.message) }),`)
	ben.kit("ben", "")
	ann.trackRejections()

	// Hanging up while ben is rung: the call is cancelled, the view goes.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ann.waitText(`[data-testid=outgoing-call]`, "Calling")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ann.eval(`zp.hangUp().then(() => true)`)
	assert.False(t, ann.visible("outgoing-call"), "the waiting view is closed by hangUp")
	ben.waitGone("incoming-call")
	ben.waitEv("incoming ann", "canceled")

	// In a call, with the settings dialog and the Invite members list open.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-accept")
	ann.waitMembers("ann", "ben")
	ann.eval(`zp.updateCallingInvitationListConfig({ waitingSelectUsers: [{ userID: 'cat', userName: 'CAT' }] }); true`)
	ann.jsClick("av-settings")
	ann.waitText(`[data-testid=av-settings-dialog]`, "Audio and video")
	ann.eval(`(window.camera = document.querySelector('[data-testid=select-camera]'), window.microphone = document.querySelector('[data-testid=select-microphone]'), true)`)
	ann.jsClick("more-button")
	ann.jsClick("menu-invite")
	ann.waitText(`[data-testid=invite-sidebar]`, "CAT")

	ann.eval(`zp.hangUp().then(() => true)`)
	ann.waitText(`[data-testid=left-view]`, "You left")
	assert.False(t, ann.visible("av-settings-dialog"), "the settings dialog closes with the call")
	assert.False(t, ann.visible("invite-sidebar"), "the Invite members list closes with the call")
	assert.Equal(t, []string{"call-root"}, ann.kitLeftovers(), "only the left view stays")

	// A change in the (closed) dialog after the end does nothing.
	ann.eval(`(camera.dispatchEvent(new Event('change')), microphone.dispatchEvent(new Event('change')), true)`)
	time.Sleep(500 * time.Millisecond)
	assert.NotContains(t, strings.Join(ann.ev(), ";"), "mediaError", "no device error after the call ended")
	assert.False(t, ann.visible("media-error"))
	assert.Empty(t, ann.rejections())
}

// destroy leaves nothing of the kit on the page: not the waiting view,
// not a ringing invitation, not the settings dialog; destroyed in the
// pre-join view before the devices start, it leaves no error and no
// camera or microphone on.
func TestCallKitDestroyLeavesNothingBehind(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	cat.kit("cat", "")

	// The caller destroys the kit while the waiting view is up.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ann.waitText(`[data-testid=outgoing-call]`, "Calling")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ann.eval(`zp.destroy().then(() => true)`)
	assert.Empty(t, ann.kitLeftovers(), "nothing of the kit stays after destroy")
	ben.waitGone("incoming-call")

	// The callee destroys the kit while an invitation rings.
	cat.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "CAT is calling you")
	ben.eval(`zp.destroy().then(() => true)`)
	assert.Empty(t, ben.kitLeftovers(), "nothing of the kit stays after destroy")
	cat.eval(`zp.destroy().then(() => true)`)
	assert.Empty(t, cat.kitLeftovers())

	// In a call with the settings dialog open.
	dan := openPage(t, s)
	dan.joinCall("dan", "solo", "")
	dan.jsClick("av-settings")
	dan.waitText(`[data-testid=av-settings-dialog]`, "Audio and video")
	dan.eval(`zp.destroy().then(() => true)`)
	assert.Empty(t, dan.kitLeftovers(), "the settings dialog goes with the kit")

	// In the pre-join view, before the devices have started.
	eve := openPage(t, s)
	eve.keepTracks()
	eve.trackRejections()
	eve.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
		const box = document.createElement('div');
		document.body.prepend(box);
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(appID, serverSecret, 'early', 'eve', 'EVE', 3600));
		zp.joinRoom({ container: box, showPreJoinView: true });
		window.shown = !!document.querySelector('[data-testid=prejoin-view]');
		await zp.destroy();
		return true;
	})()`)
	require.True(t, evalAs[bool](eve, `shown`), "the pre-join view was shown")
	eve.waitTracksEnded()
	time.Sleep(500 * time.Millisecond)
	assert.Empty(t, eve.rejections(), "no unhandled rejection")
	assert.Empty(t, eve.kitLeftovers())
}

// A second sendCallInvitation while the first call still rings is refused
// with a clear error: one waiting view, nobody else rung; once the first
// is cancelled, calling again works.
func TestCallKitRefusesASecondCallWhileOneRings(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	cat.kit("cat", "")

	ann.invite(`[{ userID: 'ben' }]`, "")
	ann.waitText(`[data-testid=outgoing-call]`, "Calling ben")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	res := ann.invite(`[{ userID: 'cat' }]`, "")
	assert.Equal(t, "error 6000001 true a call is ringing already; cancel it or wait for an answer before calling again", res)
	assert.Equal(t, 1, ann.count("outgoing-call"), "one waiting view")
	ann.waitText(`[data-testid=outgoing-call]`, "Calling ben")
	time.Sleep(500 * time.Millisecond)
	assert.False(t, cat.visible("incoming-call"), "cat is not rung")

	ann.click("outgoing-cancel")
	ann.waitGone("outgoing-call")
	ben.waitGone("incoming-call")
	assert.Equal(t, 0, ann.count("outgoing-call"), "no waiting view is left behind")

	ann.invite(`[{ userID: 'cat' }]`, "")
	cat.waitText(`[data-testid=incoming-call]`, "ANN is calling you")
	cat.click("incoming-accept")
	ann.waitMembers("ann", "cat")
	assert.Equal(t, 0, ann.count("outgoing-call"))
}

// Muted by the host, on a page where turning the microphone off fails
// part way (here: sessionStorage refuses to keep the call): the media
// notes say so, and no rejection is left unhandled.
func TestCallKitHostMuteThatFailsIsShown(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	room := ann.hostSession("ann", "standup")
	ben.joinCall("ben", room, "")
	ann.waitMembers("ann", "ben")
	ann.waitAttr("tile-ben", "microphone", "on") // ben's microphone is on, and published
	ben.trackRejections()
	ben.eval(`(Storage.prototype.setItem = function () { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); }, true)`)

	ann.click("mute-ben")
	ben.waitText(`[data-testid=media-notes]`, "muted by the host")
	ben.waitText(`[data-testid=media-notes]`, "The quota has been exceeded.")
	assert.Equal(t, "false", evalAs[string](ben, `document.querySelector('[data-testid=toggle-microphone]').getAttribute('aria-pressed')`), "the toggle shows the microphone off")
	time.Sleep(300 * time.Millisecond)
	assert.Empty(t, ben.rejections(), "no unhandled rejection")
}

// One join at a time: a second joinRoom while the pre-join view waits is
// refused with a clear error, and the first goes on; an invitation
// answered in the pre-join view is answered busy, not joined beside it.
func TestCallKitRefusesASecondJoin(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	ben.trackRejections()

	ben.eval(`(window.first = zp.joinRoom({ container: document.querySelector('#call'), roomID: 'lobby', showPreJoinView: true }).then(() => 'joined', (e) => 'error ' + e.message), true)`)
	ben.waitText(`[data-testid=prejoin-view]`, "Join lobby")
	res := ben.call(`zp.joinRoom({ container: document.querySelector('#call'), roomID: 'other', showPreJoinView: false })`)
	assert.Equal(t, "error 6000001 true a join is under way (the pre-join view or entering the room); wait for it to end first", res)
	assert.True(t, ben.visible("prejoin-view"), "the first join's pre-join view stays")
	assert.Equal(t, 1, ben.count("call-root"))

	// ann calls ben, who answers in the pre-join view: busy.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "ANN is calling you")
	ben.click("incoming-accept")
	ann.waitEv("rejected ben", "ended Busy")
	ben.waitEv("incoming ann", "ended Busy")
	ann.waitGone("outgoing-call")
	assert.True(t, ben.visible("prejoin-view"), "ben is still in the pre-join view")
	assert.False(t, ben.visible("call-view"))

	// The first join goes on.
	ben.click("prejoin-join")
	ben.waitMembers("ben")
	assert.Equal(t, "joined", evalAs[string](ben, `first`))
	assert.Equal(t, "lobby", evalAs[string](ben, `zp.getRoomID()`))
	assert.Equal(t, 1, ben.count("call-root"))
	assert.Empty(t, ben.rejections())
}
