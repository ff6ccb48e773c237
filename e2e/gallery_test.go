package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/media"
	"roomkit/server/protocol"
)

// shownTiles lists the users whose tiles p's video grid shows, in order.
func (p *page) shownTiles() []string {
	p.t.Helper()
	return evalAs[[]string](p, `[...document.querySelectorAll('[data-testid=video-grid] [data-testid^=tile-]')].map((t) => t.dataset.testid.slice(5))`)
}

// decoding is what p decodes video from now: the users whose frames
// decoded rise over a second (as getMediaStats attributes them), and how
// many of the connection's inbound video streams rise (as the browser
// counts them, whoever they are from).
type decoding struct {
	Users   []string `json:"users"`
	Streams int      `json:"streams"`
}

func (p *page) decoding() decoding {
	p.t.Helper()
	return evalAs[decoding](p, `(async () => {
		const raw = async () => {
			const out = new Map();
			for (const r of (await zp._media.sfu.pc.getStats()).values()) if (r.type === 'inbound-rtp' && r.kind === 'video') out.set(r.id, r.framesDecoded ?? 0);
			return out;
		};
		const users = async () => new Map((await zp.getMediaStats()).map((s) => [s.userID, s.framesDecoded]));
		const [r0, u0] = [await raw(), await users()];
		await new Promise((r) => setTimeout(r, 1000));
		const [r1, u1] = [await raw(), await users()];
		return {
			users: [...u1].filter(([u, n]) => n > (u0.get(u) ?? 0)).map(([u]) => u).sort(),
			streams: [...r1].filter(([id, n]) => n > (r0.get(id) ?? 0)).length,
		};
	})()`)
}

// waitDecodingShown waits until p decodes the video of exactly the other
// users its grid shows, and nobody else's, and returns those users.
func (p *page) waitDecodingShown(self string) []string {
	p.t.Helper()
	var want []string
	var got decoding
	ok := assert.Eventually(p.t, func() bool {
		want = slices.DeleteFunc(p.shownTiles(), func(u string) bool { return u == self })
		slices.Sort(want)
		got = p.decoding()
		return slices.Equal(got.Users, want) && got.Streams == len(want)
	}, 45*time.Second, 300*time.Millisecond)
	if !ok {
		p.t.Logf("%s's media connection: %s", self, evalAs[string](p, `JSON.stringify({ video: zp._media.sfu.video, mids: [...zp._media.sfu.midUsers], tr: zp._media.sfu.pc.getTransceivers().map((t) => [t.mid, t.direction, t.currentDirection, t.receiver.track.kind, t.receiver.track.muted]), state: zp._media.sfu.pc.signalingState, notes: [...document.querySelectorAll('[data-testid=media-error]')].map((e) => e.textContent), sdp: (zp._media.sfu.pc.remoteDescription?.sdp ?? '').split('\n').filter((l) => /^(m=|a=mid|a=msid|a=send|a=recv|a=inac)/.test(l)) })`))
	}
	require.True(p.t, ok, "%s shows %v, decodes %v (%d inbound video streams rising)", self, want, got.Users, got.Streams)
	return want
}

// A call of twelve through the media server, where a page receives video
// for the tiles it shows only: a page of four tiles decodes three others,
// the speaker among them (brought onto the first page), and paging
// changes whose video arrives; a page with the default page of 25 decodes
// all eleven others and hears the speaker; pages of two decode their one.
// The cameras ask for 180p, so that twelve fit on one test machine.
func TestACallOfTwelveShowsTheVideoOfItsTiles(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	var users []string
	for i := 1; i <= 12; i++ {
		users = append(users, fmt.Sprintf("u%02d", i))
	}
	const speaker = "u09"
	pages := map[string]*page{}
	for _, u := range users {
		extra := `videoResolutionDefault: RoomKit.VideoResolution_180P, turnOnMicrophoneWhenJoining: ` + fmt.Sprint(u == speaker) + `,`
		switch u {
		case "u01":
			extra += ` galleryPageSize: 4,`
		case "u12": // the default page of 25
		default:
			extra += ` galleryPageSize: 2,`
		}
		pages[u] = openPage(t, s)
		pages[u].joinCall(u, "twelve", extra)
	}
	for _, u := range users {
		pages[u].waitMembers(users...)
	}

	// The default page shows everyone, and the page decodes all eleven.
	big := pages["u12"]
	big.waitTransport("sfu")
	assert.Len(t, big.shownTiles(), 12)
	assert.Len(t, big.waitDecodingShown("u12"), 11)
	// Its offer names only the codecs the server takes, so that the
	// largest a page makes (its four sending sections, the most videos
	// it may choose and a screen, the loudest few's audio) fits in one
	// request.
	offer := evalAs[[]int](big, `(() => { const sdp = zp._media.sfu.pc.localDescription.sdp; return [sdp.length, sdp.split(/\r?\nm=/).length - 1]; })()`)
	require.Greater(t, offer[1], 14)
	largest := 4 + media.DefaultMaxVideoStreams + 1 + media.DefaultMaxAudioStreams + 1
	assert.Less(t, offer[0]/offer[1]*largest, protocol.MaxFrameBytes-2048,
		"an offer of %d sections is %d bytes", offer[1], offer[0])
	heard := big.energy(speaker)
	require.Eventually(t, func() bool { return big.energy(speaker) > heard }, 20*time.Second, 200*time.Millisecond, "u12 does not hear the speaker")

	// A page of four: the speaker is brought onto the first page, and
	// the page decodes the three others it shows.
	four := pages["u01"]
	require.Eventually(t, func() bool { return slices.Contains(four.shownTiles(), speaker) }, 20*time.Second, 200*time.Millisecond,
		"the speaker is not on the first page: %v", four.shownTiles())
	first := four.waitDecodingShown("u01")
	assert.Len(t, first, 3)
	assert.Equal(t, "Page 1 of 3", evalAs[string](four, `document.querySelector('[data-testid=gallery-page]').textContent`))

	// The next page: four others, none of the first page's; their video
	// comes, the first page's stops.
	four.click("gallery-next")
	second := four.waitDecodingShown("u01")
	assert.Len(t, second, 4)
	for _, u := range second {
		assert.NotContains(t, first, u)
	}
	four.click("gallery-prev")
	assert.Equal(t, first, four.waitDecodingShown("u01"))

	// Choices the server refuses, each with its code; the page's video
	// goes on as it was.
	refused := evalAs[[]float64](four, `Promise.all([
		zp._zim.mediaSubscribe('twelve', Array.from({ length: 26 }, (_, i) => 'u' + i)),
		zp._zim.mediaSubscribe('twelve', ['']),
		zp._zim.mediaSubscribe('elsewhere', ['u02']),
	].map((p) => p.then(() => 0, (err) => err.code)))`)
	assert.Equal(t, []float64{6100020, 6000001, 6000321}, refused)
	assert.Equal(t, first, four.waitDecodingShown("u01"))

	// Pages of two: each decodes the one other it shows.
	for _, u := range users[1:11] {
		got := pages[u].waitDecodingShown(u)
		assert.Len(t, got, 1, "%s", u)
	}
}

// A page that never asked for a camera or a microphone has no device
// permission, so Chromium hides its host addresses behind mDNS names
// (.local). The media server resolves no mDNS (it is off), yet connects
// the page: it learns the page's address from the page's own checks (a
// peer-reflexive candidate), and the page receives the others' video and
// audio. (Chromium runs without --disable-features=WebRtcHideLocalIpsWithMdns;
// ben's runs without the flag that grants the devices, which the tests'
// shared Chromium has.)
func TestAPageWithoutDevicePermissionConnects(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openURLIn(t, startBrowser(t, false), s.url())
	require.Equal(t, "prompt", evalAs[string](ben, `navigator.permissions.query({ name: 'camera' }).then((p) => p.state)`), "ben's page has no camera permission")
	ann.joinCall("ann", "mdns", "")
	ben.joinCall("ben", "mdns", "turnOnCameraWhenJoining: false, turnOnMicrophoneWhenJoining: false,")
	ben.waitMembers("ann", "ben")
	ben.waitTransport("sfu")
	var hosts []string
	require.Eventually(t, func() bool {
		hosts = evalAs[[]string](ben, `(zp._media.sfu.pc.localDescription?.sdp ?? '').split('\n').filter((l) => l.startsWith('a=candidate:') && / typ host/.test(l)).map((l) => l.split(' ')[4])`)
		return len(hosts) > 0
	}, 15*time.Second, 100*time.Millisecond, "ben gathered no host candidate")
	for _, h := range hosts {
		assert.True(t, strings.HasSuffix(h, ".local"), "ben's host candidate %q is not an mDNS name", h)
	}
	first := ben.frames("ann")
	require.Eventually(t, func() bool { return ben.frames("ann") > first+10 }, 30*time.Second, 200*time.Millisecond, "ben decodes no video from ann")
	heard := ben.energy("ann")
	require.Eventually(t, func() bool { return ben.energy("ann") > heard }, 20*time.Second, 200*time.Millisecond, "ben hears nothing from ann")
}
