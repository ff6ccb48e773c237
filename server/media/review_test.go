package media

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// A subscriber that receives H.264 only, in a room where the publisher
// sends VP8, does not get that track (its section is answered
// inactive), and the rest of its connection works: it connects and
// publishes its own audio to a third member.
func TestSubscriberWithoutTheCodec(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	video := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, video, 20*time.Millisecond, 100, nil)
	require.Eventually(t, func() bool { return len(r.Tracks()) == 1 }, 10*time.Second, 10*time.Millisecond)
	third := newClient(t, r, b, "third", clientOpts{})
	h264 := newClient(t, r, b, "h264", clientOpts{h264Only: true})

	// The renegotiation for pub's video comes first: h264 offers a
	// receiving video section with H.264 only.
	require.Eventually(t, func() bool {
		h264.negMu.Lock()
		defer h264.negMu.Unlock()
		d := h264.pc.RemoteDescription()
		return d != nil && strings.Contains(d.SDP, "m=video")
	}, 10*time.Second, 10*time.Millisecond, "h264 never negotiated its video section")
	h264.negMu.Lock()
	answer := h264.pc.RemoteDescription().SDP
	h264.negMu.Unlock()
	assert.Contains(t, answer[strings.Index(answer, "m=video"):], "a=inactive", "the server sends on a section without its codec")

	audio := h264.publish(webrtc.RTPCodecTypeAudio, SourceMicrophone)
	h264.connected()
	startSending(t, audio, 20*time.Millisecond, 40, nil)

	var got *webrtc.TrackRemote
	for got == nil {
		tr := third.nextTrack()
		if tr.StreamID() == "user-h264" {
			got = tr
		}
	}
	assert.Equal(t, webrtc.RTPCodecTypeAudio, got.Kind())
	readPackets(t, got, 10, 10*time.Second)
	select {
	case tr := <-h264.tracks:
		t.Errorf("h264 received %s %s", tr.Kind(), tr.Codec().MimeType)
	default:
	}
	for _, st := range r.Stats() {
		if st.Kind == "video" {
			for _, sub := range st.Subscribers {
				assert.NotEqual(t, "h264", sub.Session, "h264 is still subscribed to the VP8 track")
			}
		}
	}
}

// Padding-only packets (bandwidth probes) are not forwarded, and take no
// sequence number: the subscriber sees contiguous numbers.
func TestPaddingLeavesNoGap(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()

	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for i := 0; ; i++ {
			p := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: uint16(firstSeq + i),
				Timestamp: uint32(i / 3 * 3000), SSRC: 1234, Marker: true,
			}}
			if i%3 == 1 || i%7 == 5 {
				p.Header.Padding, p.Header.PaddingSize = true, 40 // padding only
			} else {
				p.Payload = payload(i, 100)
			}
			if err := track.WriteRTP(p); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(func() { close(stop); <-done })

	pkts := readPackets(t, sub.nextTrack(), 40, 10*time.Second)
	for i, p := range pkts {
		require.NotEmpty(t, p.Payload, "packet %d is padding only", i)
		idx := payloadIndex(p.Payload)
		assert.False(t, idx%3 == 1 || idx%7 == 5, "packet %d carries a padding packet's index %d", i, idx)
		assert.Equal(t, pkts[0].SequenceNumber+uint16(i), p.SequenceNumber, "packet %d (index %d) not contiguous", i, idx)
	}
}

// An offer whose simulcast the server does not take is refused with
// the reason, and so is one with a data channel section; the member gets
// no connection from either. Simulcast is taken as q, h and f sent in
// a video section.
func TestBadSimulcastAndDataChannelsRefused(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// videoOffer is the offer of a new client of session sending one
	// video track (mid 0), not sent.
	videoOffer := func(session string) string {
		c := newClient(t, r, b, session, clientOpts{bare: true})
		lt, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "v", session)
		require.NoError(t, err)
		_, err = c.pc.AddTransceiverFromTrack(lt, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		require.NoError(t, err)
		o, err := c.offer(Renegotiate{})
		require.NoError(t, err)
		require.Contains(t, o, "a=mid:0\r\n")
		return o
	}
	plain := videoOffer("sim")
	with := func(lines string) string { return strings.Replace(plain, "a=mid:0\r\n", "a=mid:0\r\n"+lines, 1) }
	for name, c := range map[string]struct{ sdp, says string }{
		"unknown rid":      {with("a=rid:h send\r\na=rid:l send\r\na=simulcast:send h;l\r\n"), `simulcast layer "l"`},
		"receive":          {with("a=rid:q recv\r\na=simulcast:recv q\r\n"), `is "recv"`},
		"alternatives":     {with("a=rid:q send\r\na=rid:h send\r\na=simulcast:send q,h\r\n"), "alternatives"},
		"paused":           {with("a=rid:q send\r\na=rid:h send\r\na=simulcast:send ~q;h\r\n"), "paused"},
		"no rid line":      {with("a=rid:q send\r\na=simulcast:send q;h\r\n"), `"h" has no a=rid`},
		"rid not listed":   {with("a=rid:q send\r\na=rid:h send\r\na=simulcast:send q\r\n"), "does not list"},
		"rid twice":        {with("a=rid:q send\r\na=rid:q send\r\na=simulcast:send q\r\n"), "twice"},
		"rids only":        {with("a=rid:q send\r\n"), "a=simulcast:"},
		"four layers":      {with("a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f;q\r\n"), "4 simulcast layers, over the limit of 3"},
		"listed twice":     {with("a=rid:q send\r\na=rid:h send\r\na=simulcast:send q;h;h\r\n"), "listed twice"},
		"two a=simulcast":  {with("a=rid:q send\r\na=simulcast:send q\r\na=simulcast:send q\r\n"), "more than one"},
		"simulcast no rid": {with("a=simulcast:send q\r\n"), `"q" has no a=rid`},
	} {
		_, err := r.Offer(ctx, "sim", Offer{SDP: c.sdp})
		assert.Equal(t, protocol.CodeInvalidParameter, codeOf(err), "%s: %v", name, err)
		assert.ErrorContains(t, err, c.says, name)
	}

	dc := newClient(t, r, b, "dc", clientOpts{bare: true})
	_, err := dc.pc.CreateDataChannel("chat", nil)
	require.NoError(t, err)
	withData, err := dc.offer(Renegotiate{Tracks: []TrackInfo{{Kind: "audio"}}})
	require.NoError(t, err)
	require.Contains(t, withData, "m=application")
	_, err = r.Offer(ctx, "dc", Offer{SDP: withData})
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(err), "data channel: %v", err)

	assert.Nil(t, memberPC(t, r, "sim"))
	assert.Nil(t, memberPC(t, r, "dc"))

	// The same offer is taken without them, and with q, h and f sent.
	_, err = r.Offer(ctx, "sim", Offer{SDP: plain})
	require.NoError(t, err)
	answer, err := r.Offer(ctx, "sim2", Offer{SDP: strings.Replace(videoOffer("sim2"), "a=mid:0\r\n", "a=mid:0\r\na=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n", 1)})
	require.NoError(t, err, "q, h and f sent")
	assert.Contains(t, answer, "a=simulcast:recv q;h;f", "the answer takes the three layers")
}

// A connection takes at most MaxCandidates (32) trickled candidates;
// the next fails with CodeInvalidParameter. The sources kept are the
// last offer's mids only.
func TestCandidateLimit(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	c := newClient(t, r, b, "c", clientOpts{bare: true})
	offer, err := c.offer(Renegotiate{Tracks: []TrackInfo{{Kind: "audio"}}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err = r.Offer(ctx, "c", Offer{SDP: offer, Sources: map[string]Source{"0": SourceScreenAudio, "not-a-mid": SourceScreen}})
	require.NoError(t, err)

	mid := "0"
	cand := func(i int) webrtc.ICECandidateInit {
		return webrtc.ICECandidateInit{Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 40000+i), SDPMid: &mid}
	}
	for i := range DefaultMaxCandidates {
		require.NoError(t, r.AddCandidate(ctx, "c", cand(i)), "candidate %d", i)
	}
	err = r.AddCandidate(ctx, "c", cand(DefaultMaxCandidates))
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(err), "%v", err)
	assert.ErrorContains(t, err, "too many candidates")

	m, err := r.member("c")
	require.NoError(t, err)
	res := make(chan map[string]Source, 1)
	require.True(t, m.q.push(func() { res <- m.sources }))
	assert.Equal(t, map[string]Source{"0": SourceScreenAudio}, <-res)
}

// A member's requests waiting for its connection's goroutine are
// bounded (MaxPendingTasks, 64): beyond them requests fail with
// CodeRateLimited. An offer whose caller gave up is not applied late.
func TestPendingRequestLimit(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	c := newClient(t, r, b, "c", clientOpts{bare: true})
	offer, err := c.offer(Renegotiate{Tracks: []TrackInfo{{Kind: "audio"}}})
	require.NoError(t, err)
	m, err := r.member("c")
	require.NoError(t, err)
	unblock := make(chan struct{})
	require.True(t, m.q.push(func() { <-unblock })) // the actor is busy
	released := false
	release := func() {
		if !released {
			released = true
			close(unblock)
		}
	}
	t.Cleanup(release)

	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = r.Offer(short, "c", Offer{SDP: offer})
	assert.Equal(t, protocol.CodeRequestTimeout, codeOf(err), "%v", err)
	for i := range DefaultMaxPendingTasks - 1 { // the offer waits too
		require.NoError(t, r.Unsubscribe("c", fmt.Sprintf("t%d", i)), "request %d", i)
	}
	err = r.Unsubscribe("c", "t999")
	assert.Equal(t, protocol.CodeRateLimited, codeOf(err), "%v", err)
	ctx, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	_, err = r.Offer(ctx, "c", Offer{SDP: offer})
	assert.Equal(t, protocol.CodeRateLimited, codeOf(err), "%v", err)
	err = r.AddCandidate(ctx, "c", webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"})
	assert.Equal(t, protocol.CodeRateLimited, codeOf(err), "%v", err)

	release()
	assert.True(t, memberPC(t, r, "c") == nil, "the offer that timed out was applied late")
	require.NoError(t, r.Unsubscribe("c", "t1"), "the queue drained")
	_, err = r.Offer(ctx, "c", Offer{SDP: offer})
	require.NoError(t, err)
}

// A publisher whose connection stays down (disconnected, then failed)
// past the grace has its tracks taken out of the room; when it offers
// again (an ICE restart) they are published again and reach the
// subscriber.
func TestDownConnectionUnpublishes(t *testing.T) {
	noLeaks(t)
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "1.2.3.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	require.NoError(t, err)
	nets := map[string]*vnet.Net{}
	for _, ip := range []string{"1.2.3.4", "1.2.3.5", "1.2.3.6"} {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		require.NoError(t, err)
		require.NoError(t, wan.AddNet(n))
		nets[ip] = n
	}
	var cut atomic.Bool // everything the publisher sends is lost
	wan.AddChunkFilter(func(c vnet.Chunk) bool {
		src, _, _ := net.SplitHostPort(c.SourceAddr().String())
		return !cut.Load() || src != "1.2.3.5"
	})
	require.NoError(t, wan.Start())
	t.Cleanup(func() { _ = wan.Stop() })

	s := newTestServer(t, Config{
		Net: nets["1.2.3.4"], UnpublishGrace: 300 * time.Millisecond,
		ICEDisconnectedTimeout: time.Second, ICEFailedTimeout: 2 * time.Second, ICEKeepaliveInterval: 200 * time.Millisecond,
	})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{net: nets["1.2.3.5"]})
	sub := newClient(t, r, b, "sub", clientOpts{net: nets["1.2.3.6"]})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 20*time.Millisecond, 100, nil)
	readPackets(t, sub.nextTrack(), 5, 10*time.Second)

	cut.Store(true)
	require.Eventually(t, func() bool { return len(r.Tracks()) == 0 }, 10*time.Second, 20*time.Millisecond,
		"the down connection's track stayed in the room")
	assert.Equal(t, webrtc.PeerConnectionStateDisconnected, memberPC(t, r, "pub").ConnectionState(), "unpublished before the grace")
	require.Eventually(t, func() bool {
		sub.negMu.Lock()
		defer sub.negMu.Unlock()
		return !strings.Contains(sub.pc.RemoteDescription().SDP, "a=sendonly")
	}, 10*time.Second, 20*time.Millisecond, "the subscriber still has the track")

	cut.Store(false)
	pub.negMu.Lock()
	o, err := pub.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: true})
	require.NoError(t, err)
	gathered := webrtc.GatheringCompletePromise(pub.pc)
	require.NoError(t, pub.pc.SetLocalDescription(o))
	<-gathered
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := r.Offer(ctx, "pub", Offer{SDP: pub.pc.LocalDescription().SDP})
	require.NoError(t, err)
	require.NoError(t, pub.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}))
	pub.negMu.Unlock()

	require.Eventually(t, func() bool { return len(r.Tracks()) == 1 }, 10*time.Second, 20*time.Millisecond, "not published again")
	readPackets(t, sub.nextTrack(), 5, 10*time.Second)
}

// The renumbering keeps a late packet (a retransmission) at its place:
// it gets the offset that held there, not the current one, and a
// repeat of a dropped packet or one too old is dropped.
func TestSeqMungerLatePackets(t *testing.T) {
	var m seqMunger
	type step struct {
		seq  uint16
		drop bool
		out  uint16
		ok   bool
	}
	steps := []step{
		{65534, false, 65534, true},
		{65535, true, 0, false}, // padding: dropped, offset 1
		{0, false, 65535, true},
		{2, false, 1, true}, // 1 lost on the way: a gap at 0
		{3, true, 0, false}, // offset 2
		{4, false, 2, true},
		{1, false, 0, true},      // the retransmission of 1 fills the gap
		{3, false, 0, false},     // a repeat of a dropped packet
		{65535, false, 0, false}, // likewise
		{5, false, 3, true},
		{uint16(65536 + 5 - seqWindow), false, 0, false}, // too old
	}
	for i, st := range steps {
		out, ok := m.next(st.seq, st.drop)
		assert.Equal(t, st.ok, ok, "step %d (seq %d)", i, st.seq)
		if ok {
			assert.Equal(t, st.out, out, "step %d (seq %d)", i, st.seq)
		}
	}
}
