package media

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// Every bad input gets its error code, and the room is as it was: the
// same members and tracks, no connection made for a member that had
// none, and the publisher's media still flowing to its subscriber.
func TestBadInput(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{Limits: Limits{ManualSubscribe: true}})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 100, nil)
	require.Eventually(t, func() bool { return len(r.Tracks()) == 1 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, r.Subscribe("sub", r.Tracks()[0].ID))
	require.NoError(t, r.Subscribe("sub", r.Tracks()[0].ID), "twice is once")
	tr := sub.nextTrack()
	readPackets(t, tr, 5, 10*time.Second)

	// A member with no connection yet, and pion offers to send.
	fresh := newClient(t, r, b, "fresh", clientOpts{bare: true})
	good, err := fresh.offer(Renegotiate{Tracks: []TrackInfo{{Kind: "video"}}})
	require.NoError(t, err)

	noCodec := newClient(t, r, b, "nocodec", clientOpts{noVP8: true, bare: true})
	_, err = noCodec.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	require.NoError(t, err)
	vp9Only, err := noCodec.offer(Renegotiate{})
	require.NoError(t, err)
	require.Contains(t, vp9Only, "VP9")

	many := newClient(t, r, b, "many", clientOpts{bare: true})
	for i := range 9 {
		lt, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "a"+string(rune('0'+i)), "many")
		require.NoError(t, err)
		_, err = many.pc.AddTransceiverFromTrack(lt, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		require.NoError(t, err)
	}
	nine, err := many.offer(Renegotiate{})
	require.NoError(t, err)

	members, tracks := r.Members(), r.Tracks()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	offerCases := []struct {
		name, session, sdp string
		sources            map[string]Source
		code               protocol.Code
	}{
		{"malformed", "fresh", "v=0\r\nthis is not SDP\r\n", nil, protocol.CodeInvalidParameter},
		{"empty", "fresh", "", nil, protocol.CodeInvalidParameter},
		{"too large", "fresh", good + "a=x-pad:" + strings.Repeat("x", 64<<10) + "\r\n", nil, protocol.CodeInvalidParameter},
		{"no mid", "fresh", strings.ReplaceAll(good, "a=mid:", "a=x-mid:"), nil, protocol.CodeInvalidParameter},
		{"no fingerprint", "fresh", strings.ReplaceAll(good, "a=fingerprint:", "a=x-fingerprint:"), nil, protocol.CodeInvalidParameter},
		{"bad source", "fresh", good, map[string]Source{"0": "webcam"}, protocol.CodeInvalidParameter},
		{"no codec we forward", "nocodec", vp9Only, nil, protocol.CodeNoCodec},
		{"nine tracks", "many", nine, nil, protocol.CodeTrackLimit},
		{"not a member", "stranger", good, nil, protocol.CodeNotInRoom},
		// A member with a connection: a bad re-offer leaves it working.
		{"malformed renegotiation", "pub", "v=0\r\nm=video\r\n", nil, protocol.CodeInvalidParameter},
		{"renegotiation without a codec", "pub", vp9Only, nil, protocol.CodeNoCodec},
	}
	for _, c := range offerCases {
		_, err := r.Offer(ctx, c.session, Offer{SDP: c.sdp, Sources: c.sources})
		assert.Equal(t, c.code, codeOf(err), "%s: %v", c.name, err)
	}
	for _, session := range []string{"fresh", "nocodec", "many"} {
		assert.Nil(t, memberPC(t, r, session), "%s got a connection from a bad offer", session)
	}

	assert.Equal(t, protocol.CodeNotInRoom, codeOf(r.Subscribe("stranger", tracks[0].ID)))
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(r.Unsubscribe("stranger", tracks[0].ID)))
	assert.Equal(t, protocol.CodeNoSuchTrack, codeOf(r.Subscribe("fresh", "t999")))
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(r.Subscribe("pub", tracks[0].ID)), "subscribing to your own track")
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(r.AddCandidate(ctx, "stranger", webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})))
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(r.AddCandidate(ctx, "fresh", webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})), "a candidate before an offer")
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(r.AddCandidate(ctx, "pub", webrtc.ICECandidateInit{Candidate: "not a candidate"})))

	// Another room's track is not this room's.
	other, _ := newTestRoom(t, s)
	other.Joined("pub", protocol.Member{UserID: "user-pub"})
	assert.Equal(t, protocol.CodeNoSuchTrack, codeOf(other.Subscribe("pub", tracks[0].ID)))

	assert.Equal(t, members, r.Members())
	assert.Equal(t, tracks, r.Tracks())
	readPackets(t, tr, 20, 10*time.Second) // still flowing

	// A good offer after all that still works.
	ans, err := r.Offer(ctx, "fresh", Offer{SDP: good})
	require.NoError(t, err)
	assert.Contains(t, ans, "a=candidate")
}

// RTP beyond a track's bitrate bound is dropped, not forwarded: a
// publisher flooding at many times the bound gets through only the
// burst and the bound's rate.
func TestBitrateBound(t *testing.T) {
	noLeaks(t)
	const bitrate, size = 200_000, 1000 // 25 kB/s, a 5 kB burst
	s := newTestServer(t, Config{Limits: Limits{VideoBitrate: bitrate, BitrateWindow: 200 * time.Millisecond}})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()

	start := time.Now()
	flood := startSending(t, track, time.Millisecond, size, nil) // ~8 Mbit/s
	tr := sub.nextTrack()
	readPackets(t, tr, 1, 10*time.Second)
	time.Sleep(500 * time.Millisecond)
	flood.halt()
	var st TrackStats
	require.Eventually(t, func() bool {
		all := r.Stats()
		if len(all) != 1 {
			return false
		}
		st = all[0]
		return st.Received > 0
	}, 5*time.Second, 10*time.Millisecond)
	elapsed := time.Since(start)
	forwarded := st.Received - st.RateDropped
	bound := (bitrate/8*0.2 + bitrate/8*elapsed.Seconds()) / (size + 12)
	t.Logf("sent %d, received %d, dropped %d, forwarded %d in %v (bound %.0f)", flood.sent.Load(), st.Received, st.RateDropped, forwarded, elapsed, bound)
	assert.Greater(t, st.RateDropped, uint64(0))
	assert.LessOrEqual(t, float64(forwarded), bound+1)
	assert.Greater(t, st.Received, 2*forwarded, "the flood was not many times the bound")
}

// A mediaSubscribe's sizes are checked before they reach the room:
// each a user ID, within the pixel bound, a layer q, h, f or none, and
// not more users than a choice may list.
func TestBadVideoSizesRefused(t *testing.T) {
	ok := &protocol.MediaSubscribeRequest{RoomID: "r", Video: []string{"ann"}, Sizes: map[string]protocol.VideoSize{"ann": {Width: 640, Height: 360}, "ben": {Layer: "q"}}}
	require.NoError(t, validSubscribe(ok))
	many := map[string]protocol.VideoSize{}
	for i := range protocol.MaxVideoChoice + 1 {
		many[fmt.Sprintf("u%d", i)] = protocol.VideoSize{}
	}
	for name, c := range map[string]struct {
		sizes map[string]protocol.VideoSize
		says  string
	}{
		"negative":      {map[string]protocol.VideoSize{"ann": {Width: -1}}, "0 to 16384"},
		"too wide":      {map[string]protocol.VideoSize{"ann": {Width: 20000, Height: 10}}, "0 to 16384"},
		"unknown layer": {map[string]protocol.VideoSize{"ann": {Layer: "x"}}, "the layers are q, h and f"},
		"bad user":      {map[string]protocol.VideoSize{"": {}}, "sizes userID"},
		"too many":      {many, "at most 256"},
	} {
		err := validSubscribe(&protocol.MediaSubscribeRequest{RoomID: "r", Sizes: c.sizes})
		assert.Equal(t, protocol.CodeInvalidParameter, codeOf(err), "%s: %v", name, err)
		assert.ErrorContains(t, err, c.says, name)
	}
}
