package e2e

import (
	"bytes"
	"encoding/binary"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// toneWAV is a second of a sine tone at hz, as a WAV file (8 kHz, mono,
// 16 bits).
func toneWAV(hz float64) []byte {
	const rate, n = 8000, 8000
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + 2*n))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(1))
	w(uint32(rate))
	w(uint32(2 * rate))
	w(uint16(2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(2 * n))
	for i := 0; i < n; i++ {
		w(int16(8000 * math.Sin(2*math.Pi*hz*float64(i)/rate)))
	}
	return b.Bytes()
}

// A custom call-invitation page in the hosted call kit's style, moved
// over by its script tag: classic scripts, the kit token on the first
// lines, addPlugins({ ZIM }) with no ZIM script, its own waiting page and
// incoming-call dialog (enableCustomCallInvitationWaitingPage,
// enableCustomCallInvitationDialog) with buttons of its own, and
// ringtones. Accept joins both into the call; refuse and cancel close the
// other side's page; each ringtone plays while ringing and stops at the
// answer.
func TestCustomInvitationPage(t *testing.T) {
	var callPage atomic.Pointer[string]
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ring-in.wav", "/ring-out.wav":
			w.Header().Set("Content-Type", "audio/wav")
			_, _ = w.Write(toneWAV(440))
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(*callPage.Load()))
		}
	}))
	t.Cleanup(site.Close)
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) {
		c.Gateway.OriginPatterns = []string{strings.TrimPrefix(site.URL, "http://")}
	})
	html := `<html><head><style>#root { width: 100vw; height: 100vh; }</style></head>
<body>
<div id="root">
  <div id="waitingPage" style="display: none"><div id="calleesBox"></div><button id="cancelButton">Cancel</button></div>
  <div id="confirmDialog" style="display: none"><div id="callerBox"></div><button id="acceptButton">Accept</button><button id="refuseButton">Refuse</button></div>
  <input id="userID" placeholder="callee's user ID"><button id="inviteButton" onclick="invite()">invite</button>
  <div id="log"></div>
</div>
</body>
<script src="` + s.url() + `js/roomkit.global.js"></script>
<script>
  var ZegoUIKitPrebuilt = RoomKit;
  const userID = new URLSearchParams(location.search).get('userID');
  const userName = 'user_' + userID;
  const appID = ` + app.DevAppID + `;
  const serverSecret = ` + jsString(secret) + `;
  const TOKEN = ZegoUIKitPrebuilt.generateKitTokenForTest(appID, serverSecret, null, userID, userName);
  const zp = ZegoUIKitPrebuilt.create(TOKEN);
  zp.addPlugins({ ZIM });
  function log(text) { document.querySelector('#log').append(text + ';'); }
  zp.setCallInvitationConfig({
    enableCustomCallInvitationWaitingPage: true,
    enableCustomCallInvitationDialog: true,
    ringtoneConfig: { incomingCallUrl: '/ring-in.wav', outgoingCallUrl: '/ring-out.wav' },
    onWaitingPageWhenSending: (callType, callees, cancel) => {
      document.querySelector('#waitingPage').style.display = 'block';
      document.querySelector('#calleesBox').textContent = callees.map((c) => c.userName).join(', ');
      document.querySelector('#cancelButton').onclick = () => { cancel(); document.querySelector('#waitingPage').style.display = 'none'; };
    },
    onConfirmDialogWhenReceiving: (callType, caller, refuse, accept, data) => {
      document.querySelector('#confirmDialog').style.display = 'block';
      document.querySelector('#callerBox').textContent = caller.userName + ' is calling';
      document.querySelector('#acceptButton').onclick = () => { accept(); document.querySelector('#confirmDialog').style.display = 'none'; };
      document.querySelector('#refuseButton').onclick = () => { refuse(); document.querySelector('#confirmDialog').style.display = 'none'; };
    },
    onOutgoingCallAccepted: (callID, callee) => { document.querySelector('#waitingPage').style.display = 'none'; log('accepted ' + callee.userID); },
    onOutgoingCallDeclined: (callID, callee) => { document.querySelector('#waitingPage').style.display = 'none'; log('declined ' + callee.userID); },
    onIncomingCallCanceled: (callID, caller) => { document.querySelector('#confirmDialog').style.display = 'none'; log('canceled ' + caller.userID); },
    onSetRoomConfigBeforeJoining: (callType) => ({ showPreJoinView: false, turnOnCameraWhenJoining: false, onJoinRoom: () => log('joined') }),
  });
  function invite() {
    const targetUser = { userID: document.querySelector('#userID').value, userName: 'user_' + document.querySelector('#userID').value };
    zp.sendCallInvitation({ callees: [targetUser], callType: ZegoUIKitPrebuilt.InvitationTypeVideoCall, timeout: 60 })
      .then((res) => log('sent ' + res.errorInvitees.length));
  }
</script></html>`
	callPage.Store(&html)
	pages := map[string]*page{}
	for _, u := range []string{"ann", "ben", "cal"} {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		pages[u] = &page{t: t, ctx: ctx}
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/?"+url.Values{"userID": {u}}.Encode())))
		require.Eventually(t, func() bool { return evalAs[bool](pages[u], `typeof zp === 'object' && RoomKit.isReady`) }, 30*time.Second, 100*time.Millisecond)
	}
	ann, ben, cal := pages["ann"], pages["ben"], pages["cal"]
	shown := func(p *page, id string) bool {
		return evalAs[bool](p, `document.querySelector('#`+id+`').style.display === 'block'`)
	}
	waitShown := func(p *page, id string, want bool) {
		t.Helper()
		require.Eventually(t, func() bool { return shown(p, id) == want }, 15*time.Second, 50*time.Millisecond, "#%s shown: want %v", id, want)
	}
	// playing waits until p's ringtone of kind plays (its time moving), and
	// keeps the element as window.tone_<kind> for stopped.
	playing := func(p *page, kind string) {
		t.Helper()
		require.Eventually(t, func() bool {
			return evalAs[bool](p, `(() => { const a = document.querySelector('[data-testid=ringtone-`+kind+`]'); if (a) window.tone_`+kind+` = a; return !!a && !a.paused && a.currentTime > 0.1; })()`)
		}, 15*time.Second, 50*time.Millisecond, "no %s ringtone playing", kind)
	}
	stopped := func(p *page, kind string) {
		t.Helper()
		require.Eventually(t, func() bool {
			return evalAs[bool](p, `window.tone_`+kind+`.paused && !document.querySelector('[data-testid^=ringtone-]')`)
		}, 15*time.Second, 50*time.Millisecond, "the %s ringtone still plays", kind)
	}
	call := func(from *page, to string) {
		t.Helper()
		from.eval(`(() => { document.querySelector('#userID').value = ''; return true; })()`)
		from.do(chromedp.SendKeys(chromedp.CSS(`#userID`), to), chromedp.Click(chromedp.CSS(`#inviteButton`)))
	}
	logOf := func(p *page) string { return evalAs[string](p, `document.querySelector('#log').textContent`) }
	waitLog := func(p *page, want string) {
		t.Helper()
		require.Eventually(t, func() bool { return strings.Contains(logOf(p), want) }, 15*time.Second, 50*time.Millisecond, "log %q, want %q", logOf(p), want)
	}

	// Accept.
	call(ann, "ben")
	waitShown(ann, "waitingPage", true)
	assert.Equal(t, "user_ben", evalAs[string](ann, `document.querySelector('#calleesBox').textContent`))
	waitShown(ben, "confirmDialog", true)
	assert.Equal(t, "user_ann is calling", evalAs[string](ben, `document.querySelector('#callerBox').textContent`))
	assert.False(t, ann.visible("outgoing-call") || ben.visible("incoming-call"), "the page's own views, none of the kit's")
	playing(ann, "outgoing")
	playing(ben, "incoming")
	ben.do(chromedp.Click(chromedp.CSS(`#acceptButton`)))
	stopped(ben, "incoming")
	stopped(ann, "outgoing")
	waitLog(ann, "accepted ben")
	waitShown(ann, "waitingPage", false)
	waitLog(ben, "joined")
	waitLog(ann, "joined")
	ann.waitMembers("ann", "ben")
	ben.eval(`zp.hangUp().then(() => true)`)
	ann.eval(`zp.hangUp().then(() => true)`)

	// Refuse.
	call(ann, "cal")
	waitShown(cal, "confirmDialog", true)
	playing(cal, "incoming")
	playing(ann, "outgoing")
	cal.do(chromedp.Click(chromedp.CSS(`#refuseButton`)))
	stopped(cal, "incoming")
	stopped(ann, "outgoing")
	waitLog(ann, "declined cal")
	waitShown(ann, "waitingPage", false)

	// Cancel.
	call(ann, "cal")
	waitShown(cal, "confirmDialog", true)
	playing(cal, "incoming")
	ann.do(chromedp.Click(chromedp.CSS(`#cancelButton`)))
	waitLog(cal, "canceled ann")
	waitShown(cal, "confirmDialog", false)
	stopped(cal, "incoming")
	stopped(ann, "outgoing")
	assert.NotContains(t, logOf(cal), "joined", "a refused or cancelled call joins nobody")
}
