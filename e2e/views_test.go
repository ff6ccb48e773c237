package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// notices is the text of the notices p's call view shows, oldest first.
func (p *page) notices() []string {
	p.t.Helper()
	return evalAs[[]string](p, `[...document.querySelectorAll('[data-testid=notice]')].map((n) => n.textContent)`)
}

func (p *page) waitLowerLeftNotice(want string) {
	p.t.Helper()
	require.Eventually(p.t, func() bool { return slices.Contains(p.notices(), want) }, 15*time.Second, 50*time.Millisecond,
		"no notice %q in %v", want, p.notices())
}

func (p *page) hidden(testid string) bool {
	p.t.Helper()
	return evalAs[bool](p, `document.querySelector('[data-testid=`+testid+`]').hidden`)
}

// A tiny image for an avatar (a 1×1 PNG).
const avatarPNG = `data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==`

// The views around the video, as the config sets them: the lower-left
// notices of members coming and going and of chat while the chat panel
// is hidden, the one panel rightPanelExpandedType opens, the member
// search, avatars set through onUserAvatarSetter, the controls hiding
// with autoHideFooter, and what the kit writes to the console.
func TestNoticesPanelsSearchAvatarsAndConsole(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cal := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.eval(`(() => { window.infos = []; const info = console.info; console.info = (...a) => { infos.push(a.join(' ')); info(...a); }; return true; })()`)
	ann.joinCall("ann", "views", `autoLeaveRoomWhenOnlySelfInRoom: false, rightPanelExpandedType: RoomKit.RightPanelExpandedType.RoomMembers,
		enableUserSearch: true, autoHideFooter: true, console: RoomKit.ConsoleInfo,
		onUserAvatarSetter: (users) => { window.avatarCalls = (window.avatarCalls ?? []).concat(users.map((u) => u.userID));
			for (const u of users) if (u.userID === 'ben') u.setUserAvatar(`+jsString(avatarPNG)+`); },`)
	assert.Contains(t, evalAs[[]string](ann, `infos`), "roomkit: joined the call in views", "console: Info writes the call's life")
	assert.False(t, ann.hidden("member-panel"), "RoomMembers: the member list is open")
	assert.True(t, ann.hidden("chat-panel"), "and the chat is not")

	ben.recordWarnings()
	ben.joinCall("ben", "views", `console: 'None', videoCodec: 'VP8', lowerLeftNotification: { showUserJoinAndLeave: false },`)
	ann.waitLowerLeftNotice("BEN joined")
	assert.Equal(t, []string{"ann", "ben"}, evalAs[[]string](ann, `avatarCalls`), "every member is offered, once, as they come")
	assert.Empty(t, ben.warnings(), "console: None writes nothing, not even the warning of an option not done")

	// Chat: a notice on ann's page (its chat panel is hidden), none on
	// ben's (its panel shows the message).
	ben.eval(`zp.sendInRoomMessage('hello there').then(() => true)`)
	ann.waitLowerLeftNotice("BEN: hello there")
	ann.eval(`zp.sendInRoomMessage('hi ben').then(() => true)`)
	ben.waitText(`[data-testid=chat-list]`, "hi ben")
	assert.Empty(t, ben.notices(), "no chat notice beside a shown chat, and showUserJoinAndLeave: false")
	// Notices go after a few seconds.
	require.Eventually(t, func() bool { return len(ann.notices()) == 0 }, 12*time.Second, 100*time.Millisecond, "notices stay: %v", ann.notices())

	// The member search.
	cal.joinCall("cal", "views", `rightPanelExpandedType: 'RoomDetails', showUserList: true,`)
	ann.waitLowerLeftNotice("CAL joined")
	ann.waitMembers("ann", "ben", "cal")
	ann.do(chromedp.SendKeys(chromedp.CSS(`[data-testid=member-search]`), "BE"))
	require.Eventually(t, func() bool { return slices.Equal(ann.members(), []string{"ben"}) }, 5*time.Second, 50*time.Millisecond, "search: %v", ann.members())
	ann.eval(`(() => { const s = document.querySelector('[data-testid=member-search]'); s.value = ''; s.dispatchEvent(new Event('input')); return true; })()`)
	ann.waitMembers("ann", "ben", "cal")

	// RoomDetails: the Details dialog open, neither panel; the More menu
	// opens the member list.
	assert.True(t, cal.visible("room-details-dialog"), "RoomDetails opens Room details")
	assert.True(t, cal.hidden("member-panel") && cal.hidden("chat-panel"), "and neither panel")
	cal.click("room-details-close")
	cal.click("more-button")
	cal.click("menu-toggle-members")
	assert.False(t, cal.hidden("member-panel"), "Show or hide members")

	// Avatars: ben's camera off shows the image set for him, on ann's page
	// only (cal set none).
	ben.eval(`zp.turnCameraOn(false).then(() => true)`)
	ann.waitAttr("tile-ben", "camera", "off")
	assert.Equal(t, avatarPNG, evalAs[string](ann, `document.querySelector('[data-testid=avatar-ben]')?.getAttribute('src') ?? ''`))
	assert.True(t, ann.visible("member-avatar-ben"), "and beside his name")
	cal.waitAttr("tile-ben", "camera", "off")
	assert.False(t, cal.visible("avatar-ben"), "an avatar is set for the page that set it")
	assert.Equal(t, "B", evalAs[string](cal, `document.querySelector('[data-testid=tile-ben] .rk-avatar').textContent`))

	// autoHideFooter: the controls fade with the pointer still, and come
	// back when it moves.
	controlsHidden := func() string {
		return evalAs[string](ann, `document.querySelector('[data-testid=media-controls]').dataset.hidden + ' ' + getComputedStyle(document.querySelector('[data-testid=media-controls]')).pointerEvents`)
	}
	require.Eventually(t, func() bool { return controlsHidden() == "true none" }, 10*time.Second, 100*time.Millisecond, "controls: %s", controlsHidden())
	assert.NotEqual(t, "true", ben.attr("media-controls", "hidden"), "without the option they stay")
	ann.do(chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 200, 200), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 220, 210))
	require.Eventually(t, func() bool { return controlsHidden() == "false auto" }, 5*time.Second, 50*time.Millisecond, "controls: %s", controlsHidden())
}
