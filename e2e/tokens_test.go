package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/wasm/client"
)

// tokenVectors are the (key, message) pairs the page's HMAC-SHA256 is
// checked on: empty ones, RFC 4231's first case, a key longer than a
// block, messages across the 55/56/64-byte padding edges, and UTF-8.
var tokenVectors = [][2]string{
	{"", ""},
	{"\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b\x0b", "Hi There"},
	{"key", "The quick brown fox jumps over the lazy dog"},
	{string(make([]byte, 131)), "a key longer than the block"},
	{"k", string(make([]byte, 55))},
	{"k", string(make([]byte, 56))},
	{"k", string(make([]byte, 64))},
	{"k", string(make([]byte, 1000))},
	{"sécret ключ", "héllo wörld ✓ 😀"},
}

// moduleLessPage opens a page of s that does not load the module
// itself (the package's JSON), where a test's script imports it as a
// page's first lines would.
func moduleLessPage(t *testing.T, s *server) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url()+"js/package.json")))
	return &page{t: t, ctx: ctx}
}

// The token helpers work before the wasm module has loaded (a call kit
// page's sample code calls them on its first line), and make what the Go
// code makes: HMAC-SHA256 on the vectors, a test token byte for byte at
// the same time, a kit token byte for byte; a kit token made and the call
// joined before init, the module loading itself for the join.
func TestTokensBeforeTheModuleLoads(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	p := moduleLessPage(t, s)

	vectors, err := json.Marshal(tokenVectors)
	require.NoError(t, err)
	type result struct {
		ReadyBefore bool              `json:"readyBefore"`
		HMACs       []string          `json:"hmacs"`
		Minted      string            `json:"minted"`
		Kit         string            `json:"kit"`
		Parsed      map[string]any    `json:"parsed"`
		Errors      map[string]string `json:"errors"`
		Joined      bool              `json:"joined"`
		ReadyAfter  bool              `json:"readyAfter"`
	}
	res := evalAs[result](p, `(async () => {
		const { RoomKit } = await import('/js/roomkit.js');
		const t = await import('/js/tokens.js');
		const readyBefore = RoomKit.isReady;
		const enc = new TextEncoder();
		const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
		const hmacs = `+string(vectors)+`.map(([k, m]) => hex(t.hmacSha256(enc.encode(k), enc.encode(m))));
		const minted = t.mintTestToken(1234, 'a-secret-of-16-chars', 'ann', 'Ann <&>', 'r1', 1, 3600, 1700000000);
		const kit = RoomKit.generateKitTokenForProduction(1234, minted, 'r1', 'ann', 'Ann');
		const parsed = RoomKit.parseKitToken(kit);
		const errors = {};
		const code = (f) => { try { f(); return 'none'; } catch (e) { return e.code + ' ' + e.message; } };
		errors.userID = code(() => RoomKit.generateKitTokenForTest(1, 's', 'r', 'bad id'));
		errors.ttl = code(() => RoomKit.generateKitTokenForTest(1, 's', 'r', 'u', 'U', 0));
		errors.parse = code(() => RoomKit.parseKitToken('rk1.%%%'));
		errors.notKit = code(() => RoomKit.parseKitToken('abc'));
		errors.jwt = code(() => RoomKit.generateKitTokenForProduction(1, 'not-a-jwt', 'r', 'u'));
		// The sample's first lines, with no init: a kit token, the kit, the join.
		const box = document.createElement('div');
		document.body.append(box);
		const zp = RoomKit.create(RoomKit.generateKitTokenForTest(`+jsString(app.DevAppID)+`, `+jsString(secret)+`, 'early', 'eve', 'Eve', 3600));
		await zp.joinRoom({ container: box, showPreJoinView: false, turnOnCameraWhenJoining: false, turnOnMicrophoneWhenJoining: false });
		return { readyBefore, hmacs, minted, kit, parsed, errors, joined: zp.getRoomID() === 'early', readyAfter: RoomKit.isReady };
	})()`)

	assert.False(t, res.ReadyBefore, "the module was loaded before the test asked")
	require.Len(t, res.HMACs, len(tokenVectors))
	for i, v := range tokenVectors {
		mac := hmac.New(sha256.New, []byte(v[0]))
		mac.Write([]byte(v[1]))
		assert.Equal(t, hex.EncodeToString(mac.Sum(nil)), res.HMACs[i], "vector %d", i)
	}
	want := client.MintTestToken("a-secret-of-16-chars", client.TestTokenClaims{AppID: "1234", UserID: "ann", UserName: "Ann <&>", Room: "r1", Role: 1},
		time.Unix(1700000000, 0), time.Hour)
	assert.Equal(t, want, res.Minted, "the test token, byte for byte")
	wantKit, err := client.KitToken{AppID: json.RawMessage("1234"), Token: want, RoomID: "r1", UserID: "ann", UserName: "Ann"}.Encode()
	require.NoError(t, err)
	assert.Equal(t, wantKit, res.Kit, "the kit token, byte for byte")
	assert.Equal(t, map[string]any{"appID": float64(1234), "token": want, "roomID": "r1", "userID": "ann", "userName": "Ann"}, res.Parsed)
	for name, e := range res.Errors {
		assert.Regexp(t, `^6000001 `, e, "%s is refused with InvalidParameter", name)
	}
	assert.Contains(t, res.Errors["userID"], `has the character " "`)
	assert.Contains(t, res.Errors["ttl"], "expirationSeconds is 0")
	assert.Contains(t, res.Errors["parse"], "damaged")
	assert.Contains(t, res.Errors["notKit"], "not a kit token")
	assert.True(t, res.Joined, "the call joined before init")
	assert.True(t, res.ReadyAfter, "the join loaded the module")
}

// A page's first lines may turn invitations on before the module has
// loaded: setCallInvitationConfig starts the load and logs in after it,
// and the invitation then rings there; an invitation option the kit does
// not do yet is warned about by name.
func TestInvitationsBeforeTheModuleLoads(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann := openPage(t, s)
	ann.kit("ann", "")
	eve := moduleLessPage(t, s)
	eve.recordWarnings()
	eve.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js');
		window.readyBefore = RoomKit.isReady;
		window.ev = [];
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(` + jsString(app.DevAppID) + `, ` + jsString(secret) + `, '', 'eve', 'Eve', 3600));
		window.configured = zp.setCallInvitationConfig({
			onIncomingCallReceived: (id, caller) => ev.push('incoming ' + caller.userID),
			enableNotifyWhenAppRunningInBackgroundOrQuit: true,
		}).then(() => true);
		return true;
	})()`)
	assert.False(t, evalAs[bool](eve, `readyBefore`))
	require.True(t, evalAs[bool](eve, `configured`), "setCallInvitationConfig resolved")
	ann.invite(`[{ userID: 'eve' }]`, "")
	eve.waitEv("incoming ann")
	assert.Equal(t, []string{"roomkit: the call invitation option enableNotifyWhenAppRunningInBackgroundOrQuit is not supported yet; it is ignored"}, eve.warnings())
}

// A page may send an invitation in its first lines, before the module has
// loaded: the configuration and the invitation run in the order called
// once it is ready, the callee is rung, and the call comes up on both.
func TestSendCallInvitationBeforeTheModuleLoads(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann := openPage(t, s)
	ann.kit("ann", "")
	eve := moduleLessPage(t, s)
	eve.eval(`(async () => {
		const { RoomKit } = await import('/js/roomkit.js');
		window.readyBefore = RoomKit.isReady;
		window.ev = [];
		window.zp = RoomKit.create(RoomKit.generateKitTokenForTest(` + jsString(app.DevAppID) + `, ` + jsString(secret) + `, '', 'eve', 'Eve', 3600));
		zp.setCallInvitationConfig({ onOutgoingCallAccepted: (id, u) => ev.push('accepted ' + u.userID) });
		window.sent = zp.sendCallInvitation({ callees: [{ userID: 'ann', userName: 'ANN' }], callType: RoomKit.InvitationTypeVideoCall, timeout: 60 })
			.then((r) => 'sent ' + JSON.stringify(r), (e) => 'refused ' + e.code + ' ' + e.message);
		return true;
	})()`)
	assert.False(t, evalAs[bool](eve, `readyBefore`))
	assert.Equal(t, `sent {"errorInvitees":[]}`, evalAs[string](eve, `sent`))
	ann.waitText(`[data-testid=incoming-call]`, "Eve is calling you")
	ann.waitEv("incoming eve")
	ann.click("incoming-accept")
	eve.waitEv("accepted ann")
	ann.waitMembers("ann", "eve")
	eve.waitMembers("ann", "eve")
}
