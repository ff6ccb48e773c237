package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sentLayers is, by rid, the bytes p's camera has sent of each simulcast
// layer to the media server.
func (p *page) sentLayers() map[string]float64 {
	p.t.Helper()
	return evalAs[map[string]float64](p, `(zp._media.sfu?.pc.getStats() ?? Promise.resolve(new Map())).then((s) => {
		const out = {};
		for (const r of s.values()) if (r.type === 'outbound-rtp' && r.kind === 'video' && r.rid) out[r.rid] = r.bytesSent;
		return out;
	})`)
}

// videoOf is what p decodes of user's camera now: the frame width and
// how often it froze so far.
func (p *page) videoOf(user string) (width, freezes float64) {
	p.t.Helper()
	v := evalAs[[]float64](p, `zp.getMediaStats().then((s) => {
		const x = s.find((x) => x.userID === '`+user+`');
		return x ? [x.frameWidth, x.freezeCount] : [0, 0];
	})`)
	return v[0], v[1]
}

// rising reports whether p's camera sends more of each of rids within
// half a second, and what it had sent by the end.
func (p *page) rising(rids ...string) (bool, map[string]float64) {
	p.t.Helper()
	before := p.sentLayers()
	time.Sleep(500 * time.Millisecond)
	after := p.sentLayers()
	for _, rid := range rids {
		if after[rid] <= before[rid] {
			return false, after
		}
	}
	return true, after
}

// A 720p camera through the media server sends three simulcast layers
// (its page's outbound-rtp shows q, h and f sent), and its viewer gets
// the one that fits its tile: the large layer for a large tile, a small
// one for a thumbnail. Seen only as a thumbnail, the camera stops sending
// its larger layers (dynacast: their bytesSent stops rising), and when
// the tile grows again they resume and the viewer switches up (the
// decoded frame width rises) without the video freezing.
func TestSimulcastLayerFollowsTheTile(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben := openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "simulcast", `videoResolutionDefault: '720p',`)
	ben.eval(`document.head.insertAdjacentHTML('beforeend', '<style>#call { width: 2600px }</style>')`)
	// The viewer's camera stays off: the fake camera is one device for the
	// whole browser, and opened first at a smaller size it would stay so.
	ben.joinCall("ben", "simulcast", `turnOnCameraWhenJoining: false,`)
	ben.waitMembers("ann", "ben")
	ann.waitTransport("sfu")
	ben.waitTransport("sfu")

	// A large tile: f. (The browser sends h before f, so h has been sent.)
	var sent map[string]float64
	if !assert.Eventually(t, func() bool {
		var up bool
		up, sent = ann.rising("f")
		return up && sent["q"] > 0 && sent["h"] > 0
	}, 30*time.Second, 200*time.Millisecond) {
		t.Fatalf("the camera does not send q, h and f (bytes sent: %v)", sent)
	}
	var width float64
	if !assert.Eventually(t, func() bool {
		width, _ = ben.videoOf("ann")
		return width > 640
	}, 20*time.Second, 200*time.Millisecond) {
		t.Fatalf("the large tile gets %v pixels wide", width)
	}

	// A thumbnail: the smallest layer, and the camera stops sending h and f.
	ben.eval(`document.getElementById('call').style.width = '240px'`)
	var small float64
	if !assert.Eventually(t, func() bool {
		small, _ = ben.videoOf("ann")
		return small > 0 && small <= 320
	}, 20*time.Second, 200*time.Millisecond) {
		t.Fatalf("the thumbnail gets %v pixels wide, not the smallest layer", small)
	}
	require.Eventually(t, func() bool {
		before := ann.sentLayers()
		time.Sleep(time.Second)
		after := ann.sentLayers()
		return after["f"] == before["f"] && after["h"] == before["h"] && after["q"] > before["q"]
	}, 20*time.Second, 200*time.Millisecond, "a camera seen as a thumbnail only still sends h or f")

	// Grown again: f resumes, and the viewer switches to it.
	_, frozen := ben.videoOf("ann")
	ben.eval(`document.getElementById('call').style.width = '2600px'`)
	var large float64
	if !assert.Eventually(t, func() bool {
		large, _ = ben.videoOf("ann")
		return large > small
	}, 20*time.Second, 200*time.Millisecond) {
		t.Fatalf("the grown tile still gets %v pixels wide", large)
	}
	up, sent := ann.rising("f")
	assert.True(t, up, "f is not sent again: %v", sent)
	frames := ben.frames("ann")
	require.Eventually(t, func() bool { return ben.frames("ann") > frames+30 }, 20*time.Second, 200*time.Millisecond)
	_, freezes := ben.videoOf("ann")
	assert.Equal(t, frozen, freezes, "the video froze at the switch")
	t.Logf("large tile %v px wide, thumbnail %v px, grown %v px", width, small, large)
}
