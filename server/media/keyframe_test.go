package media

import (
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A subscriber starting to receive a track gets its publisher asked for
// a key frame, and again once its first packet is written; a
// subscriber's PLIs reach the publisher, at most one per
// 500 ms: a burst of 20 within 200 ms becomes one.
func TestPLIReachesPublisherThrottled(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})

	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 20*time.Millisecond, 100, nil)
	tr := sub.nextTrack()
	readPackets(t, tr, 5, 10*time.Second)

	require.Eventually(t, func() bool { return pub.plis.Load() >= 1 }, 5*time.Second, 10*time.Millisecond,
		"no key frame request when the subscriber started")
	// The request made when the track is bound goes before the
	// subscriber's SRTP is up, so the key frame it brings is lost; the
	// first packet written asks again (throttled: within 500 ms of the
	// first it is deferred, not dropped).
	require.Eventually(t, func() bool { return pub.plis.Load() >= 2 }, 5*time.Second, 10*time.Millisecond,
		"no key frame request when the subscriber's first packet was written")
	time.Sleep(600 * time.Millisecond) // out of the start's throttle window
	before := pub.plis.Load()

	start := time.Now()
	for range 20 {
		require.NoError(t, sub.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(tr.SSRC())}}))
		time.Sleep(10 * time.Millisecond)
	}
	burst := time.Since(start)
	require.Eventually(t, func() bool { return pub.plis.Load() > before }, 5*time.Second, 10*time.Millisecond,
		"the subscriber's PLI never reached the publisher")
	time.Sleep(700 * time.Millisecond) // anything throttled would be out by now
	got := pub.plis.Load() - before
	allowed := 1 + int64(burst/(500*time.Millisecond)) // a slow machine may spread the burst over more windows
	assert.LessOrEqual(t, got, allowed, "%d PLIs in %v reached the publisher as %d", 20, burst, got)
	if burst < 450*time.Millisecond {
		assert.Equal(t, int64(1), got)
	}
}
