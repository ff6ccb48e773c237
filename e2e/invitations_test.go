package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// kit sets up user's call kit with invitations on; every callback is
// recorded in window.ev. extra is added to the invitation config. The
// token is minted with the dev config (window.devConfig when the page set
// it, else the dev server's).
func (p *page) kit(user, extra string) {
	p.t.Helper()
	p.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		const { appID, serverSecret } = window.devConfig ?? await (await fetch('/dev/config.json')).json();
		window.ev = [];
		const box = document.createElement('div');
		box.id = 'call';
		document.body.prepend(box);
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(appID, serverSecret, '', ` + jsString(user) + `, ` + jsString(strings.ToUpper(user)) + `, 3600));
		await zp.setCallInvitationConfig({
			container: box,
			onIncomingCallReceived: (id, caller) => ev.push('incoming ' + caller.userID),
			onIncomingCallCanceled: () => ev.push('canceled'),
			onIncomingCallTimeout: () => ev.push('incomingTimeout'),
			onCallInvitationEnded: (reason) => ev.push('ended ' + reason),
			onOutgoingCallAccepted: (id, u) => ev.push('accepted ' + u.userID),
			onOutgoingCallDeclined: (id, u) => ev.push('declined ' + u.userID),
			onOutgoingCallRejected: (id, u) => ev.push('rejected ' + u.userID),
			onOutgoingCallTimeout: (id, us) => ev.push('timeout ' + us.map((u) => u.userID).join(',')),
			` + extra + `
		});
		return true;
	})()`)
}

func (p *page) ev() []string {
	p.t.Helper()
	return evalAs[[]string](p, `ev.slice()`)
}

func (p *page) waitEv(want ...string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		got := p.ev()
		i := 0
		for _, e := range got {
			if i < len(want) && e == want[i] {
				i++
			}
		}
		return i == len(want)
	}, 15*time.Second, 50*time.Millisecond, "want %v", want)
	p.eval(`ev.splice(0)`)
}

func (p *page) invite(callees string, extra string) string {
	p.t.Helper()
	return p.call(`zp.sendCallInvitation({ callees: ` + callees + `, ` + extra + ` })`)
}

func (p *page) visible(testid string) bool {
	p.t.Helper()
	return evalAs[bool](p, `!!document.querySelector('[data-testid=`+testid+`]')`)
}

func (p *page) waitGone(testid string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return !p.visible(testid) }, 15*time.Second, 50*time.Millisecond, "%s still shown", testid)
}

func (p *page) click(testid string) {
	p.t.Helper()
	p.do(chromedp.Click(chromedp.CSS(`[data-testid=` + testid + `]`)))
}

func TestInviteAcceptDeclineOffline(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")

	// An offline or unknown callee comes back in errorInvitees.
	res := ann.invite(`[{ userID: 'ben' }, { userID: 'ghost' }]`, "")
	assert.JSONEq(t, `{"errorInvitees":[{"userID":"ghost"}]}`, strings.TrimPrefix(res, "ok "))
	ann.waitText(`[data-testid=outgoing-call]`, "Calling")
	ben.waitText(`[data-testid=incoming-call]`, "ANN is calling you")
	ben.waitEv("incoming ann")
	ben.click("incoming-accept")
	ben.waitMembers("ann", "ben")
	ann.waitMembers("ann", "ben")
	ann.waitEv("accepted ben")
	assert.False(t, ann.visible("outgoing-call"))
	ann.click("leave-button")
	ben.waitText(`[data-testid=left-view]`, "You left") // alone, so auto-left

	// Declined.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-decline")
	ann.waitEv("declined ben", "ended Declined")
	ann.waitGone("outgoing-call")
	ben.waitEv("incoming ann", "ended Declined")
}

func TestBusyCancelAndTimeout(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	cat.kit("cat", "")

	// Cancel before an answer.
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ann.click("outgoing-cancel")
	ben.waitGone("incoming-call")
	ben.waitEv("incoming ann", "canceled", "ended Canceled")
	ann.waitGone("outgoing-call")

	// Timeout, by the server.
	ann.invite(`[{ userID: 'ben' }]`, "timeout: 1")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.waitGone("incoming-call")
	ben.waitEv("incoming ann", "incomingTimeout", "ended Timeout")
	ann.waitEv("timeout ben", "ended Timeout")

	// Busy: ben is in a call with cat.
	cat.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-accept")
	cat.waitMembers("cat", "ben")
	ann.invite(`[{ userID: 'ben' }]`, "")
	ann.waitEv("rejected ben", "ended Busy")
	assert.False(t, ben.visible("incoming-call"), "a busy callee is not rung")
}

func TestTwoTabsRingAndTheFirstAnswerWins(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben1, ben2 := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben1.kit("ben", "")
	ben2.kit("ben", "")
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben1.waitText(`[data-testid=incoming-call]`, "calling you")
	ben2.waitText(`[data-testid=incoming-call]`, "calling you")
	ben2.click("incoming-accept")
	ben1.waitGone("incoming-call")
	ben2.waitMembers("ann", "ben")
	assert.False(t, ben1.visible("call-view"), "the other tab stays out of the call")
}

func TestInvitingIntoACallUnderWay(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat, dan := openPage(t, s), openPage(t, s), openPage(t, s), openPage(t, s)
	only := "canInvitingInCalling: true, onlyInitiatorCanInvite: true,"
	ann.kit("ann", only)
	ben.kit("ben", only)
	cat.kit("cat", "")
	dan.kit("dan", "")
	ann.eval(`zp._config.callingInvitationListConfig = null; zp.updateCallingInvitationListConfig({ waitingSelectUsers: [{ userID: 'cat', userName: 'CAT' }] }); true`)

	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-accept")
	ann.waitMembers("ann", "ben")

	// After joining, the list is updated: cat and dan, dan unchecked.
	ann.eval(`zp.updateCallingInvitationListConfig({ waitingSelectUsers: [{ userID: 'cat', userName: 'CAT' }, { userID: 'dan', userName: 'DAN' }], defaultChecked: false }); true`)
	ann.click("more-button")
	ann.click("menu-invite")
	ann.waitText(`[data-testid=invite-sidebar]`, "DAN")
	assert.Less(t, evalAs[float64](ann, `document.querySelector('[data-testid=invitee-dan]').getBoundingClientRect().width`), 30.0, "a checkbox, not a text field's width")
	assert.Equal(t, evalAs[float64](ann, `Math.round(document.querySelector('[data-testid=invitee-dan]').getBoundingClientRect().top / 10)`),
		evalAs[float64](ann, `Math.round(document.querySelector('label[for=rk-invitee-dan]').getBoundingClientRect().top / 10)`), "beside its name, not above it")
	assert.False(t, evalAs[bool](ann, `document.querySelector('[data-testid=invitee-dan]').checked`), "defaultChecked false")
	ann.do(chromedp.Click(chromedp.CSS(`[data-testid=invitee-cat]`)))
	ann.click("invite-send")
	ann.waitText(`[data-testid=pending-list]`, "CAT (calling")
	cat.waitText(`[data-testid=incoming-call]`, "ANN is calling you")
	assert.False(t, dan.visible("incoming-call"), "dan was not checked")
	cat.click("incoming-accept")
	cat.waitMembers("ann", "ben", "cat")
	ann.waitMembers("ann", "ben", "cat")
	ann.waitGone("pending-cat")

	// ben is not the initiator: no Invite item, and the server refuses even
	// a direct call that bypasses the UI.
	ben.click("more-button")
	assert.False(t, ben.visible("menu-invite"))
	assert.NotContains(t, evalAs[string](ben, `document.querySelector('[data-testid=more-menu]').textContent`), "null", "an item left out leaves nothing behind")
	// The arrow keys move through the menu's items, wrapping around.
	ben.do(chromedp.KeyEvent(kb.ArrowUp))
	assert.Equal(t, "menu-copy-room", evalAs[string](ben, `document.activeElement.dataset.testid`))
	ben.do(chromedp.KeyEvent(kb.ArrowDown))
	assert.Equal(t, "menu-toggle-chat", evalAs[string](ben, `document.activeElement.dataset.testid`))
	ben.do(chromedp.KeyEvent(kb.Escape))
	res := ben.call(`zp.sendCallInvitation({ callees: [{ userID: 'dan' }] })`)
	assert.True(t, strings.HasPrefix(res, "error 6000275 true only the call's initiator"), res)
	callID := evalAs[string](ben, `zp._call.callID`)
	res = ben.call(`(async () => { return zp._zim._rk.callAdd({ callID: ` + jsString(callID) + `, callees: [{ userID: 'dan' }] }); })()`)
	assert.True(t, strings.HasPrefix(res, "error 6000275 true "), "the raw wasm export is refused by the server too: %s", res)
	time.Sleep(200 * time.Millisecond)
	assert.False(t, dan.visible("incoming-call"))
}

func TestTenInviteesAreRefused(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann := openPage(t, s)
	ann.kit("ann", "canInvitingInCalling: true,")
	ten := `Array.from({ length: 10 }, (_, i) => ({ userID: 'u' + i }))`
	got := evalAs[string](ann, `(() => { try { zp.updateCallingInvitationListConfig({ waitingSelectUsers: `+ten+` }); return 'accepted'; } catch (e) { return e.code + ' ' + e.message; } })()`)
	assert.Equal(t, "6000001 waitingSelectUsers has 10 users; at most 9 may be listed", got)
	res := ann.call(`zp.sendCallInvitation({ callees: ` + ten + ` })`)
	assert.True(t, strings.HasPrefix(res, "error 6000271 true 10 callees"), res)
	res = ann.call(`zp.joinRoom({ roomID: 'r', showPreJoinView: false, callingInvitationListConfig: { waitingSelectUsers: ` + ten + ` } })`)
	assert.True(t, strings.HasPrefix(res, "error 6000001 true waitingSelectUsers has 10"), res)
}

// The call kit guide's "call with invitation" resume: the callee keeps the room in
// onSetRoomConfigBeforeJoining and turns auto-leave off, so after the
// caller hangs up and the callee reloads, the callee is back in the call,
// alone.
func TestInvitationCallResumesAfterReload(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", `onSetRoomConfigBeforeJoining: () => {
		sessionStorage.setItem('roomID', zp.getRoomID());
		return { autoLeaveRoomWhenOnlySelfInRoom: false };
	},`)
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-accept")
	ben.waitMembers("ann", "ben")
	room := evalAs[string](ben, `sessionStorage.getItem('roomID')`)
	require.NotEmpty(t, room)

	ann.click("leave-button")
	ben.waitMembers("ben")
	assert.True(t, ben.visible("call-view"), "auto-leave is off: ben stays")

	ben.reload()
	ben.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
		if (sessionStorage.getItem('roomID')) {
			const roomID = sessionStorage.getItem('roomID');
			const box = document.createElement('div');
			box.id = 'call';
			document.body.prepend(box);
			const token = RoomKit.parseKitToken(RoomKit.generateKitTokenForTest(appID, serverSecret, roomID, 'ben', 'BEN', 3600)).token;
			const kitToken = RoomKit.generateKitTokenForProduction(appID, token, roomID, 'ben', 'BEN');
			window.zp = RoomKit.create(kitToken);
			await zp.joinRoom({ container: box, showPreJoinView: false, autoLeaveRoomWhenOnlySelfInRoom: false });
		}
		return true;
	})()`)
	ben.waitMembers("ben")
	assert.Equal(t, room, evalAs[string](ben, `zp.getRoomID()`))
	assert.False(t, ben.visible("prejoin-view"))
}

// The app's own dialogs replace the built-in ones; a pending invitee can
// be cancelled from the member list; with endCallWhenInitiatorLeave the
// call ends for everyone when its initiator leaves.
func TestCustomDialogsPendingCancelAndInitiatorLeaving(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ends := "canInvitingInCalling: true, endCallWhenInitiatorLeave: true, enableCustomCallInvitationDialog: true, enableCustomCallInvitationWaitingPage: true,"
	ann.kit("ann", ends+` onWaitingPageWhenSending: (type, callees, cancel) => { ev.push('waiting ' + callees.map((c) => c.userID).join(',')); window.cancelCall = cancel; },`)
	ben.kit("ben", ends+` onConfirmDialogWhenReceiving: (type, caller, refuse, accept) => { ev.push('confirm ' + caller.userID); window.acceptCall = accept; },
		onSetRoomConfigBeforeJoining: () => ({ autoLeaveRoomWhenOnlySelfInRoom: false }),`)
	cat.kit("cat", ends)

	ann.invite(`[{ userID: 'ben' }]`, "")
	ann.waitEv("waiting ben")
	ben.waitEv("incoming ann", "confirm ann")
	assert.False(t, ann.visible("outgoing-call"), "the app's waiting page replaces the built-in one")
	assert.False(t, ben.visible("incoming-call"), "the app's dialog replaces the built-in one")
	ben.eval(`acceptCall(); true`)
	ann.waitMembers("ann", "ben")

	// cat is rung from the call; ann cancels from the pending list.
	ann.invite(`[{ userID: 'cat' }]`, "")
	cat.waitText(`[data-testid=incoming-call]`, "calling you")
	ann.waitText(`[data-testid=pending-cat]`, "calling")
	ann.click("cancel-cat")
	cat.waitGone("incoming-call")
	cat.waitEv("incoming ann", "canceled", "ended Canceled")
	ann.waitGone("pending-cat")

	// ann leaves: the call ends for ben too (whose auto-leave is off).
	ann.click("leave-button")
	ben.waitText(`[data-testid=left-view]`, "You left")
	ben.waitEv("ended LeaveRoom")
}

// A server that stops ends the calls under way and both pages are told
// why (onCallInvitationEnded), before their connections close.
func TestCallsEndWithAReasonWhenTheServerStops(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	ann.invite(`[{ userID: 'ben' }]`, "")
	ben.waitText(`[data-testid=incoming-call]`, "calling you")
	ben.click("incoming-accept")
	ann.waitMembers("ann", "ben")
	ann.waitEv("accepted ben")
	ben.waitEv("incoming ann")

	s.stop(t)
	ann.waitEv("ended ServerShutdown")
	ben.waitEv("ended ServerShutdown")
}

// The leaving view's Rejoin after an invitation call takes the user back
// into that call while it is under way (the others see them back); once
// the call has ended, Rejoin says so and makes no room.
func TestRejoinAnInvitationCall(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.kit("ann", "")
	ben.kit("ben", "")
	cat.kit("cat", "")
	ann.invite(`[{ userID: 'ben' }, { userID: 'cat' }]`, "")
	ben.click("incoming-accept")
	cat.click("incoming-accept")
	ann.waitMembers("ann", "ben", "cat")

	ben.click("leave-button")
	ben.waitText(`[data-testid=left-view]`, "You left the call.")
	ann.waitMembers("ann", "cat")
	ben.click("rejoin-button")
	ann.waitMembers("ann", "ben", "cat")
	ben.waitMembers("ann", "ben", "cat")
	assert.True(t, evalAs[bool](ben, `!!zp._call && zp._call.users.some((u) => u.userID === 'ben' && u.state === 'Accepted')`), "back in the call, not only its room")

	ben.click("leave-button")
	ben.waitText(`[data-testid=left-view]`, "You left the call.")
	ann.click("leave-button")
	cat.waitText(`[data-testid=left-view]`, "You left") // alone, so auto-left: the call ended
	ben.click("rejoin-button")
	ben.waitText(`[data-testid=left-view]`, "The call has ended.")
	assert.Empty(t, evalAs[[]string](ben, `zp._zim.getRooms()`), "no room made again")
}
