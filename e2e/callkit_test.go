package e2e

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// callPage is the README's "call page in a dozen lines", as it runs in the
// page's module script. TestReadmeShowsTheCallPage keeps the two the same.
const callPage = `import { RoomKit } from '/js/roomkit.js';
await RoomKit.init();
const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
const userID = sessionStorage.getItem('userID') ?? 'user' + Math.floor(Math.random() * 1e6);
const roomID = sessionStorage.getItem('roomID') ?? 'call';
sessionStorage.setItem('userID', userID);
const zp = RoomKit.create(RoomKit.generateKitTokenForTest(appID, serverSecret, roomID, userID, userID, 3600));
zp.joinRoom({
  container: document.querySelector('#call'),
  showPreJoinView: !sessionStorage.getItem('roomID'),
  onJoinRoom: () => sessionStorage.setItem('roomID', zp.getRoomID()),
  onLeaveRoom: () => sessionStorage.removeItem('roomID'),
}).catch(() => sessionStorage.removeItem('roomID'));`

func TestReadmeShowsTheCallPage(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	assert.Contains(t, string(readme), callPage, "the README's call page is the code the e2e tests run")
}

// runCallPage runs the call page as user in p, as a page load would.
func (p *page) runCallPage(user string) {
	p.t.Helper()
	p.eval(`(() => {
		if (!sessionStorage.getItem('userID')) sessionStorage.setItem('userID', ` + jsString(user) + `);
		if (!document.querySelector('#call')) document.body.prepend(Object.assign(document.createElement('div'), { id: 'call' }));
		const s = document.createElement('script');
		s.type = 'module';
		s.textContent = ` + jsString(callPage) + `;
		document.body.append(s);
		return true;
	})()`)
}

func jsString(s string) string {
	r := strings.NewReplacer("\\", "\\\\", "`", "\\`", "$", "\\$")
	return "`" + r.Replace(s) + "`"
}

// joinCall joins room as user with the kit directly, recording the
// callbacks in window.calls.
func (p *page) joinCall(user, room, extra string) {
	p.t.Helper()
	p.eval(joinCallScript(user, room, extra))
}

// joinCallScript is the page script joinCall runs: it resolves true once
// the page is in the call.
func joinCallScript(user, room, extra string) string {
	return `(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		// A node of a cluster has no dev config: its app is the harness's.
		const dev = await fetch('/dev/config.json');
		const { appID, serverSecret } = dev.ok ? await dev.json() : { appID: ` + jsString(app.DevAppID) + `, serverSecret: ` + jsString(secret) + ` };
		window.calls = [];
		const box = document.createElement('div');
		box.id = 'call';
		document.body.prepend(box);
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(appID, serverSecret, ` + jsString(room) + `, ` + jsString(user) + `, ` + jsString(strings.ToUpper(user)) + `, 3600));
		await zp.joinRoom({
			container: box, showPreJoinView: false, ` + extra + `
			onJoinRoom: () => calls.push('joined'),
			onLeaveRoom: () => calls.push('left'),
			onUserJoin: (users) => calls.push('userJoin ' + users.map((u) => u.userID).join(',')),
			onUserLeave: (users) => calls.push('userLeave ' + users.map((u) => u.userID).join(',')),
			onInRoomMessageReceived: (m) => calls.push('message ' + m.fromUser.userID + ' ' + m.message),
		});
		return true;
	})()`
}

func (p *page) calls() []string {
	p.t.Helper()
	return evalAs[[]string](p, `window.calls ? calls.splice(0) : []`)
}

// members returns the user IDs in the call view's member list.
func (p *page) members() []string {
	p.t.Helper()
	return evalAs[[]string](p, `[...document.querySelectorAll('[data-testid=member-list] li')].map((li) => li.dataset.testid.slice(7))`)
}

// waitMembers waits until the member list holds exactly want, in any
// order (join order depends on who was quicker). The bound is generous: a
// page joining a call starts its camera and microphone, which on a loaded
// two-core machine has taken more than 15 s.
func (p *page) waitMembers(want ...string) {
	p.t.Helper()
	want = slices.Sorted(slices.Values(want))
	require.Eventually(p.t, func() bool { return slices.Equal(slices.Sorted(slices.Values(p.members())), want) }, 30*time.Second, 50*time.Millisecond,
		"members %v, want %v", p.members(), want)
}

func (p *page) reload() {
	p.t.Helper()
	p.do(chromedp.Reload())
}

func TestCallPageResumesAfterReload(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "call", "autoLeaveRoomWhenOnlySelfInRoom: false,")
	assert.Equal(t, []string{"joined"}, ann.calls())

	// ben opens the call page: the pre-join view first.
	ben.runCallPage("ben")
	ben.waitText(`[data-testid=prejoin-view]`, "Join call")
	ben.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	ben.waitMembers("ann", "ben")
	ann.waitMembers("ann", "ben")
	assert.Equal(t, []string{"userJoin ben"}, ann.calls())
	assert.Equal(t, "call", evalAs[string](ben, `sessionStorage.getItem('roomID')`), "stored on onJoinRoom")

	// ben reloads; while his page is away, ann writes.
	ben.reload()
	ann.eval(`zp.sendInRoomMessage('sent during the reload').then(() => true)`)
	ben.runCallPage("ben")
	ben.waitMembers("ann", "ben")
	assert.False(t, evalAs[bool](ben, `!!document.querySelector('[data-testid=prejoin-view]')`), "no pre-join view on the rejoin")
	ben.waitText(`[data-testid=chat-list]`, "sent during the reload")
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 1, evalAs[int](ben, `[...document.querySelectorAll('[data-testid=chat-message]')].filter((li) => li.textContent.includes('sent during the reload')).length`),
		"the message sent during the reload arrives exactly once")
	assert.Empty(t, ann.calls(), "ann saw no leave and no join during ben's reload")
	assert.ElementsMatch(t, []string{"ann", "ben"}, ann.members(), "ben is listed once")
	assert.Equal(t, 1, s.Engine.RoomCount(), "one room")

	// Hanging up clears what was stored.
	ben.do(chromedp.Click(chromedp.CSS(`[data-testid=leave-button]`)))
	ben.waitText(`[data-testid=left-view]`, "You left the call")
	assert.True(t, evalAs[bool](ben, `sessionStorage.getItem('roomID') === null && sessionStorage.getItem('roomkit:call') === null`))
	ann.waitMembers("ann")
	assert.Equal(t, []string{"userLeave ben"}, ann.calls())
	assert.True(t, evalAs[bool](ann, `!!document.querySelector('[data-testid=call-view]')`), "autoLeaveRoomWhenOnlySelfInRoom false keeps ann in")
}

func TestCallReloadAfterGraceIsALeaveAndAJoin(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Gateway.ResumeGrace = time.Second })
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "call", "autoLeaveRoomWhenOnlySelfInRoom: false,")
	ben.runCallPage("ben")
	ben.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	ann.waitMembers("ann", "ben")
	ann.calls()

	ben.do(chromedp.Navigate("about:blank")) // away for longer than the grace period
	ann.waitMembers("ann")
	ben.do(chromedp.Navigate(s.url()))
	ben.runCallPage("ben")
	ben.waitMembers("ann", "ben")
	ann.waitMembers("ann", "ben")
	assert.Equal(t, []string{"userLeave ben", "userJoin ben"}, ann.calls())
}

func TestCallThatEndedDuringReloadIsNotMadeAgain(t *testing.T) {
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Gateway.ResumeGrace = time.Second })
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "call", "")
	ben.runCallPage("ben")
	ben.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	ann.waitMembers("ann", "ben")

	ben.do(chromedp.Navigate("about:blank"))
	ann.eval(`zp.hangUp().then(() => true)`)
	require.Eventually(t, func() bool { return s.Engine.RoomCount() == 0 }, 10*time.Second, 50*time.Millisecond, "the call ends once ben's grace passes")

	ben.do(chromedp.Navigate(s.url()))
	ben.runCallPage("ben")
	ben.waitText(`[data-testid=error-view]`, "The call in call has ended")
	assert.Equal(t, 0, s.Engine.RoomCount(), "the rejoin did not make the room again")
	assert.True(t, evalAs[bool](ben, `sessionStorage.getItem('roomkit:call') === null && sessionStorage.getItem('roomID') === null`), "the stored entries are cleared")
}

func TestAutoLeaveWhenAlone(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "solo", "") // autoLeaveRoomWhenOnlySelfInRoom defaults to true
	ben.joinCall("ben", "solo", "")
	ann.waitMembers("ann", "ben")
	ann.calls()
	ben.eval(`zp.hangUp().then(() => true)`)
	ann.waitText(`[data-testid=left-view]`, "You left the call")
	assert.Equal(t, []string{"userLeave ben", "left"}, ann.calls())
}

func TestMalformedKitTokenThrowsAtCreate(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	p := openPage(t, s)
	got := evalAs[string](p, `(async () => {
		const { RoomKit } = await import('/js/roomkit.js'); await RoomKit.init();
		try { RoomKit.create('rk1.not-base64!'); return 'created'; } catch (e) { return (e instanceof Error) + ' ' + e.code + ' ' + e.message; }
	})()`)
	assert.Equal(t, "true 6000001 the kit token is damaged: it does not decode", got)
}

// The prebuilt UI at desktop and phone widths, written as PNG files for a
// person to look at.
func TestCallScreenshots(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "design-review", "")
	ben.joinCall("ben", "design-review", "")
	ann.eval(`zp.sendInRoomMessage('Shall we start?').then(() => true)`)
	ben.waitText(`[data-testid=chat-list]`, "Shall we start?")
	ben.eval(`zp.sendInRoomMessage('Yes, sharing the agenda now.').then(() => true)`)
	ann.waitText(`[data-testid=chat-list]`, "sharing the agenda")

	// Each shot has the ⋯ menu open.
	ann.screenshotCall("call", func() func() {
		ann.do(chromedp.Click(chromedp.CSS(`[data-testid=more-button]`)))
		return func() { ann.do(chromedp.Click(chromedp.CSS(`[data-testid=more-button]`))) }
	})
}

// screenshotCall writes p's call UI at desktop and phone widths to
// ROOMKIT_SCREENSHOTS (default: a folder in the temp dir) as
// <prefix>-desktop.png and <prefix>-phone.png, and checks that each fits
// its width. prepare, when not nil, runs before each shot and returns what
// to run after it.
func (p *page) screenshotCall(prefix string, prepare func() (after func())) {
	t := p.t
	t.Helper()
	dir := os.Getenv("ROOMKIT_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "roomkit-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for _, size := range []struct {
		name          string
		width, height int64
		mobile        bool
	}{{"desktop", 1280, 800, false}, {"phone", 390, 844, true}} {
		ctx, cancel := context.WithTimeout(p.ctx, 20*time.Second)
		opts := []chromedp.EmulateViewportOption{}
		if size.mobile {
			opts = append(opts, chromedp.EmulateMobile)
		}
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(size.width, size.height, opts...)))
		after := func() {}
		if prepare != nil {
			after = prepare()
		}
		img, err := chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS(`[data-testid=call-root]`)))
		cancel()
		require.NoError(t, err)
		cfg, err := png.DecodeConfig(bytes.NewReader(img))
		require.NoError(t, err)
		assert.LessOrEqual(t, int64(cfg.Width), size.width, "the call UI fits the %s width", size.name)
		assert.Greater(t, cfg.Height, 200)
		file := filepath.Join(dir, prefix+"-"+size.name+".png")
		require.NoError(t, os.WriteFile(file, img, 0o644))
		t.Logf("screenshot: %s (%dx%d)", file, cfg.Width, cfg.Height)
		after()
	}
}

// Two tabs of one user are two places: reloading one leaves the other as
// it was.
func TestTwoTabsOfOneUserAreSeparate(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	tab1, tab2, ann := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "call", "autoLeaveRoomWhenOnlySelfInRoom: false,")
	tab1.runCallPage("ben") // the call page's room is "call"
	tab1.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	tab1.waitMembers("ann", "ben")
	tab2.joinCall("ben", "call", "")
	tab2.calls()
	ann.calls()

	tab1.reload()
	tab1.runCallPage("ben")
	tab1.waitMembers("ann", "ben")
	assert.Empty(t, tab2.calls(), "the other tab of ben saw nothing")
	assert.Empty(t, ann.calls())
	assert.True(t, evalAs[bool](tab2, `!!document.querySelector('[data-testid=call-view]')`))

	// Hanging up in one tab keeps the other tab in the call.
	tab1.do(chromedp.Click(chromedp.CSS(`[data-testid=leave-button]`)))
	tab1.waitText(`[data-testid=left-view]`, "You left")
	ann.waitMembers("ann", "ben")
	assert.ElementsMatch(t, []string{"ann", "ben"}, tab2.members())
}

// A 1-on-1 call (scenario.mode OneONoneCall) holds two: the server keeps
// a third out, who is told why, and the two see only each other. The
// options roomkit does not do yet are warned about in the console once
// each, by name; the ones it does are not.
func TestOneOnOneCallKeepsAThirdOut(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cal := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.recordWarnings()
	oneOnOne := `scenario: { mode: RoomKit.OneONoneCall }, layout: 'Grid', videoCodec: 'VP8', language: 'en', showRoomTimer: true,`
	ann.joinCall("ann", "one-on-one", oneOnOne)
	ben.joinCall("ben", "one-on-one", oneOnOne)
	ann.waitMembers("ann", "ben")
	// A 1-on-1 call's controls, as the hosted kit's: no layouts, no pin.
	ann.waitShape("grid", "", "ann", "ben")
	assert.False(t, ann.visible("layout-button"), "no Layout button in a 1-on-1 call")
	assert.False(t, ann.visible("pin-ben"), "no Pin button in a 1-on-1 call")
	got := evalAs[string](cal, `(`+joinCallScript("cal", "one-on-one", oneOnOne)+`).then(() => 'joined', (e) => e.code + ' ' + document.querySelector('[data-testid=error-view]').textContent)`)
	assert.Equal(t, "6100008 This is a 1-on-1 call, and it has its two members already.", got)
	ann.waitMembers("ann", "ben")
	ben.waitMembers("ann", "ben")
	warnings := ann.warnings()
	assert.ElementsMatch(t, []string{
		"roomkit: the call kit option videoCodec is not supported yet; it is ignored",
		"roomkit: the call kit option language is not supported yet; it is ignored",
	}, warnings)
}

// In-room commands reach the members they are sent to, or everyone else
// when none are listed, and are not chat; chat also reaches
// onInRoomTextMessageReceived. A command to a user not in the call is
// refused with its code.
func TestInRoomCommands(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	users := []string{"ann", "ben", "cal"}
	pages := map[string]*page{}
	extra := `turnOnCameraWhenJoining: false, turnOnMicrophoneWhenJoining: false,
		onInRoomCommandReceived: (u, c) => calls.push('command ' + u.userID + ' ' + c),
		onInRoomTextMessageReceived: (ms) => calls.push('text ' + ms.map((m) => m.senderUserID + ':' + m.text).join(',')),`
	for _, u := range users {
		pages[u] = openPage(t, s)
		pages[u].joinCall(u, "commands", extra)
	}
	for _, u := range users {
		pages[u].waitMembers(users...)
		pages[u].calls() // the joins
	}
	ann := pages["ann"]
	assert.True(t, evalAs[bool](ann, `zp.sendInRoomCommand('to ben', ['ben'])`))
	assert.True(t, evalAs[bool](ann, `zp.sendInRoomCommand('to all', [])`))
	ann.eval(`zp.sendInRoomMessage('hello').then(() => true)`)
	want := map[string][]string{
		"ben": {"command ann to ben", "command ann to all", "message ann hello", "text ann:hello"},
		"cal": {"command ann to all", "message ann hello", "text ann:hello"},
	}
	for u, w := range want {
		var got []string
		require.Eventually(t, func() bool { got = append(got, pages[u].calls()...); return len(got) >= len(w) }, 10*time.Second, 50*time.Millisecond, "%s got %v", u, got)
		assert.ElementsMatch(t, w, got, u)
	}
	assert.Equal(t, "6100016", evalAs[string](ann, `zp.sendInRoomCommand('x', ['nobody']).then(() => 'sent', (e) => String(e.code))`))
	assert.Empty(t, ann.calls(), "the sender gets nothing back")
}

// The room's details around the call: the pre-join view's title and the
// shared links with their copy buttons, the logo, the room timer
// counting, the Details dialog with the room ID and the links, and the
// leaving view's Rejoin, which joins the room again. None of these
// options is warned about.
func TestRoomDetailsAndTheLeavingView(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann := openPage(t, s)
	ann.recordWarnings()
	ann.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js');
		const { appID, serverSecret } = await (await fetch('/dev/config.json')).json();
		window.calls = [];
		const box = document.createElement('div');
		document.body.prepend(box);
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(appID, serverSecret, 'details', 'ann', 'Ann', 3600));
		zp.joinRoom({
			container: box, turnOnCameraWhenJoining: false, turnOnMicrophoneWhenJoining: false,
			preJoinViewConfig: { title: 'Standup' },
			sharedLinks: [{ name: 'Personal link', url: 'https://example.com/call?room=details' }],
			branding: { logoURL: 'data:image/gif;base64,R0lGODlhAQABAAAAACw=' },
			showRoomTimer: true,
			onJoinRoom: () => calls.push('joined'),
		});
		return true;
	})()`)
	ann.waitText(`[data-testid=prejoin-title]`, "Standup")
	ann.waitText(`[data-testid=shared-link-0]`, "Personal link https://example.com/call?room=details")
	require.Equal(t, 1, evalAs[int](ann, `document.querySelectorAll('[data-testid=prejoin-view] [data-testid=copy-link-0]').length`))
	ann.click("prejoin-join")
	ann.waitText(`[data-testid=room-title]`, "details")
	assert.Equal(t, "data:image/gif;base64,R0lGODlhAQABAAAAACw=", evalAs[string](ann, `document.querySelector('[data-testid=brand-logo]').src`))
	ann.waitText(`[data-testid=room-timer]`, "00:02")
	ann.click("room-details-button")
	ann.waitText(`[data-testid=details-room-id]`, "details")
	ann.waitText(`[data-testid=room-details-dialog] [data-testid=shared-link-0]`, "https://example.com/call?room=details")
	ann.click("room-details-close")
	assert.Zero(t, evalAs[int](ann, `document.querySelectorAll('[data-testid=room-details-dialog]').length`))

	ann.click("leave-button")
	ann.waitText(`[data-testid=left-view]`, "You left the call.")
	ann.calls()
	ann.click("rejoin-button")
	ann.waitText(`[data-testid=room-title]`, "details")
	require.Eventually(t, func() bool { return slices.Contains(ann.calls(), "joined") }, 15*time.Second, 50*time.Millisecond, "Rejoin did not join")
	assert.Empty(t, ann.warnings())
}

// The view and device options: no chat panel and no member list when
// the config says so; a host offered Mute but not Remove with
// showRemoveUserButton false; the camera asked for facing away and the
// microphone in stereo.
func TestViewAndDeviceOptions(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCallAs("ann", "options", true)
	ann.eval(`zp.hangUp().then(() => true)`)
	ann.eval(`(async () => {
		const box = document.querySelector('[data-testid=call-root]').parentNode;
		await zp.joinRoom({ container: box, showPreJoinView: false, autoLeaveRoomWhenOnlySelfInRoom: false,
			showTextChat: false, showUserList: false, showRemoveUserButton: false,
			useFrontFacingCamera: false, enableStereo: true });
		return true;
	})()`)
	ben.joinCall("ben", "options", "")
	ann.waitMembers("ann", "ben")
	assert.True(t, evalAs[bool](ann, `document.querySelector('[data-testid=chat-panel]').hidden`), "no chat panel")
	assert.True(t, evalAs[bool](ann, `document.querySelector('[data-testid=member-panel]').hidden`), "no member list")
	ann.waitAttr("member-ben", "audio", "true")
	assert.Equal(t, 1, evalAs[int](ann, `document.querySelectorAll('[data-testid=mute-ben]').length`), "the host is offered Mute")
	assert.Zero(t, evalAs[int](ann, `document.querySelectorAll('[data-testid=remove-ben]').length`), "but not Remove")
	assert.Equal(t, 1, evalAs[int](ben, `document.querySelectorAll('[data-testid=chat-panel]:not([hidden])').length`), "ben's defaults show chat")
	require.Eventually(t, func() bool { return evalAs[bool](ann, `!!zp._media.local?.video && !!zp._media.local?.audio`) }, 10*time.Second, 50*time.Millisecond)
	assert.Equal(t, `"environment"`, evalAs[string](ann, `JSON.stringify(zp._media.local.video.getConstraints().facingMode)`))
	assert.Equal(t, `2`, evalAs[string](ann, `JSON.stringify(zp._media.local.audio.getConstraints().channelCount)`))
	assert.False(t, evalAs[bool](ann, `zp._media.local.audio.getConstraints().echoCancellation`))
}

// recordWarnings keeps what the page's console.warn is given from now on
// (it still reaches the console), for warnings.
func (p *page) recordWarnings() {
	p.t.Helper()
	p.eval(`(() => { window.warnings = []; const warn = console.warn; console.warn = (...a) => { warnings.push(a.join(' ')); warn(...a); }; return true; })()`)
}

// warnings is what the page's console.warn was given since recordWarnings.
func (p *page) warnings() []string {
	p.t.Helper()
	return evalAs[[]string](p, `window.warnings`)
}
