package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// text waits for the element to be visible and returns its text.
func (p *page) waitText(sel, want string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	for {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector(`+"`"+sel+"`"+`) || {}).textContent || ''`))
		require.NoError(p.t, err)
		if strings.Contains(got, want) {
			return
		}
		select {
		case <-ctx.Done():
			p.t.Fatalf("%s never showed %q (last: %q)", sel, want, got)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (p *page) do(actions ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 15*time.Second)
	defer cancel()
	require.NoError(p.t, chromedp.Do(ctx, actions...))
}

// The demo page as a person uses it: two tabs log in, enter a room, see
// each other come and go.
func TestDemoPageInTwoTabs(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	tabs := map[string]*page{"ann": openPage(t, s), "ben": openPage(t, s)}
	for user, p := range tabs {
		p.waitReady()
		p.do(
			chromedp.SetValue(chromedp.CSS(`[data-testid=user-id]`), user),
			chromedp.SetValue(chromedp.CSS(`[data-testid=user-name]`), strings.ToUpper(user[:1])+user[1:]),
			chromedp.Click(chromedp.CSS(`[data-testid=login]`)),
		)
		p.waitText(`[data-testid=status]`, "logged in as")
		p.do(
			chromedp.SetValue(chromedp.CSS(`[data-testid=room-id]`), "demo"),
			chromedp.Click(chromedp.CSS(`[data-testid=enter]`)),
		)
	}
	ann, ben := tabs["ann"], tabs["ben"]
	ann.waitText(`[data-testid=room-demo]`, "Ben (ben)")
	ben.waitText(`[data-testid=room-demo]`, "Ann (ann)")
	ann.waitText(`[data-testid=log]`, "demo: Connected Success")

	// Chat and attributes from the room boxes.
	ann.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=chat-input-demo]`), "hello ben"),
		chromedp.Click(chromedp.CSS(`[data-testid=chat-send-demo]`)),
	)
	ben.waitText(`[data-testid=chat-demo]`, "Ann: hello ben")
	ann.waitText(`[data-testid=chat-demo]`, "Ann: hello ben")
	ben.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=attr-input-demo]`), "topic=demo day"),
		chromedp.Click(chromedp.CSS(`[data-testid=attr-send-demo]`)),
	)
	ann.waitText(`[data-testid=attrs-demo]`, "topicdemo day")

	ben.do(chromedp.Click(chromedp.CSS(`[data-testid=leave-all]`)))
	ann.waitText(`[data-testid=log]`, "demo: left ben")
	ann.waitText(`[data-testid=room-demo]`, "demo (1)")

	// A refused operation shows its code in the log.
	ben.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=room-id]`), "nowhere"),
		chromedp.Click(chromedp.CSS(`[data-testid=join]`)),
	)
	ben.waitText(`[data-testid=log]`, "join failed (6000322)")
}

// demoLogin logs the demo page in as user and enters room.
func (p *page) demoLogin(user, room string) {
	p.t.Helper()
	p.waitReady()
	p.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=user-id]`), user),
		chromedp.SetValue(chromedp.CSS(`[data-testid=user-name]`), strings.ToUpper(user[:1])+user[1:]),
		chromedp.Click(chromedp.CSS(`[data-testid=login]`)),
	)
	p.waitText(`[data-testid=status]`, "logged in as")
	p.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=room-id]`), room),
		chromedp.Click(chromedp.CSS(`[data-testid=enter]`)),
	)
}

// A page holds a room client and a call at once, each with its own
// connection: joining a call from the demo keeps the user in their room,
// and logging the room client out leaves the call going.
func TestDemoRoomClientAndCallInOnePage(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ben.demoLogin("ben", "demo")
	ann.demoLogin("ann", "demo")
	ben.waitText(`[data-testid=room-demo]`, "Ann (ann)")

	for _, p := range []*page{ann, ben} {
		p.do(
			chromedp.SetValue(chromedp.CSS(`[data-testid=call-room]`), "demo-call"),
			chromedp.Click(chromedp.CSS(`[data-testid=start-call]`)),
		)
		p.waitText(`[data-testid=prejoin-view]`, "Join demo-call")
		p.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	}
	ann.waitMembers("ann", "ben")
	ben.waitMembers("ann", "ben")

	// The room client is still logged in and in its room.
	assert.Contains(t, evalAs[string](ann, `document.querySelector('[data-testid=status]').textContent`), "logged in as")
	ann.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=chat-input-demo]`), "on a call"),
		chromedp.Click(chromedp.CSS(`[data-testid=chat-send-demo]`)),
	)
	ben.waitText(`[data-testid=chat-demo]`, "Ann: on a call")
	assert.NotContains(t, evalAs[string](ben, `document.querySelector('[data-testid=log]').textContent`), "left ann",
		"ben never saw ann leave the room")

	// Logging the room client out leaves the room; the call goes on.
	ann.do(chromedp.Click(chromedp.CSS(`[data-testid=logout]`)))
	ben.waitText(`[data-testid=log]`, "demo: left ann")
	time.Sleep(300 * time.Millisecond)
	ben.waitMembers("ann", "ben")
	ann.waitMembers("ann", "ben")
}

// The demo page's call section: join with the pre-join view, reload, and
// the page rejoins by itself with no pre-join view.
func TestDemoCallSurvivesReload(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ben.joinCall("ben", "demo-call", "autoLeaveRoomWhenOnlySelfInRoom: false,")
	ann.waitReady()
	ann.do(
		chromedp.SetValue(chromedp.CSS(`[data-testid=user-id]`), "ann"),
		chromedp.SetValue(chromedp.CSS(`[data-testid=call-room]`), "demo-call"),
		chromedp.Click(chromedp.CSS(`[data-testid=start-call]`)),
	)
	ann.waitText(`[data-testid=prejoin-view]`, "Join demo-call")
	ann.do(chromedp.Click(chromedp.CSS(`[data-testid=prejoin-join]`)))
	ann.waitMembers("ben", "ann")
	ben.calls()

	ann.reload()
	ann.waitMembers("ben", "ann")
	require.False(t, evalAs[bool](ann, `!!document.querySelector('[data-testid=prejoin-view]')`))
	require.Empty(t, ben.calls(), "ben saw nothing of ann's reload")
}

// waitReady waits until the demo's controls are enabled: the module is
// loaded and the page's handlers are in place.
func (p *page) waitReady() {
	p.t.Helper()
	require.Eventually(p.t, func() bool {
		return evalAs[bool](p, `!!document.querySelector('[data-testid=controls]') && !document.querySelector('[data-testid=controls]').disabled`)
	}, 60*time.Second, 50*time.Millisecond, "the demo's controls were never enabled")
}

// openThrottled opens a tab whose network is slowed (or with the wasm
// blocked) and starts loading the demo page without waiting for it.
func openThrottled(t *testing.T, s *server, blockWasm bool) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx)) // the tab, for the context's life
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	// 400 KB/s and 100 ms: the bundle takes seconds, as on a slow link.
	_, err = chromedp.Call(ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
		MatchedNetworkConditions: []*network.Conditions{{Latency: 100, DownloadThroughput: 400 << 10, UploadThroughput: 400 << 10}},
	})
	require.NoError(t, err)
	if blockWasm {
		_, err = chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
			URLPatterns: []*network.BlockPattern{{URLPattern: "*://*:*/js/roomkit.wasm", Block: true}},
		})
		require.NoError(t, err)
	}
	_, err = chromedp.Call(ctx, cdppage.Navigate, cdppage.NavigateParams{URL: s.url()})
	require.NoError(t, err)
	return &page{t: t, ctx: ctx}
}

// While the module loads over a slow link the demo's buttons are disabled
// and it says it is loading; then they work.
func TestDemoControlsWaitForTheModule(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	p := openThrottled(t, s, false)
	require.Eventually(t, func() bool {
		return evalAs[bool](p, `!!document.querySelector('[data-testid=login]')`)
	}, 15*time.Second, 20*time.Millisecond)
	assert.True(t, evalAs[bool](p, `document.querySelector('[data-testid=login]').matches(':disabled')`), "Log in is disabled while loading")
	assert.True(t, evalAs[bool](p, `!document.querySelector('[data-testid=loading]').hidden`), "the page says it is loading")
	// The bar shows the download's progress (RoomKit.init's onProgress).
	require.Eventually(t, func() bool {
		return evalAs[bool](p, `(() => { const bar = document.querySelector('[data-testid=loading] progress'); return bar.value > 0 && bar.value < bar.max; })()`)
	}, 15*time.Second, 20*time.Millisecond, "the progress bar moves while the module downloads")
	assert.True(t, evalAs[bool](p, `document.querySelector('[data-testid=login]').matches(':disabled')`), "still disabled part way")
	p.waitReady()
	assert.True(t, evalAs[bool](p, `document.querySelector('[data-testid=loading]').hidden`))
	p.do(chromedp.SetValue(chromedp.CSS(`[data-testid=user-id]`), "ann"), chromedp.Click(chromedp.CSS(`[data-testid=login]`)))
	p.waitText(`[data-testid=status]`, "logged in as")
}

// A bundle that cannot load is said so on the page, not a blank failure.
func TestDemoSaysWhenTheModuleCannotLoad(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	p := openThrottled(t, s, true)
	p.waitText(`[data-testid=loading]`, "roomkit could not load")
	assert.Equal(t, "alert", evalAs[string](p, `document.querySelector('[data-testid=loading]').getAttribute('role')`))
	assert.True(t, evalAs[bool](p, `document.querySelector('[data-testid=controls]').disabled`))
}
