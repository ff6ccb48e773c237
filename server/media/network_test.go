package media

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With ICE-TCP on, members whose network allows TCP only connect over
// the one TCP port, and media flows.
func TestICETCP(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{TCP: true, Networks: []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4}})
	require.NotNil(t, s.TCPAddr())
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{tcp: true})
	sub := newClient(t, r, b, "sub", clientOpts{tcp: true})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 200, nil)
	readPackets(t, sub.nextTrack(), 20, 10*time.Second)
	pair, err := pub.pc.GetTransceivers()[0].Sender().Transport().ICETransport().GetSelectedCandidatePair()
	require.NoError(t, err)
	require.NotNil(t, pair)
	assert.Equal(t, webrtc.ICEProtocolTCP, pair.Local.Protocol)
	assert.Equal(t, s.TCPAddr().(*net.TCPAddr).Port, int(pair.Remote.Port), "the server's one TCP port")
}

// A public IP replaces the host candidates' addresses in the answer,
// and mDNS is off (no .local candidates).
func TestPublicIPInAnswer(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{PublicIPs: []string{"203.0.113.7"}})
	r, b := newTestRoom(t, s)
	c := newClient(t, r, b, "c", clientOpts{bare: true})
	offer, err := c.offer(Renegotiate{Tracks: []TrackInfo{{Kind: "audio"}}})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := r.Offer(ctx, "c", Offer{SDP: offer})
	require.NoError(t, err)
	var cands []string
	for _, line := range strings.Split(answer, "\r\n") {
		if strings.HasPrefix(line, "a=candidate:") {
			cands = append(cands, line)
		}
	}
	require.NotEmpty(t, cands)
	for _, c := range cands {
		assert.Contains(t, c, " 203.0.113.7 ")
		assert.NotContains(t, c, "127.0.0.1")
		assert.NotContains(t, c, ".local")
	}
}

// A member whose page reloads offers from a new connection (another
// DTLS fingerprint): the server replaces its connection, and what it
// received comes again on the new one.
func TestNewConnectionReplacesOld(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 100, nil)
	readPackets(t, sub.nextTrack(), 5, 10*time.Second)
	old := memberPC(t, r, "sub")

	sub.close()
	b.mu.Lock()
	delete(b.clients, "sub")
	b.mu.Unlock()
	again := newClient(t, r, b, "sub", clientOpts{}) // the same session, a new page
	require.NoError(t, again.negotiate(Renegotiate{Tracks: r.Tracks()}))
	readPackets(t, again.nextTrack(), 20, 10*time.Second)
	assert.NotSame(t, old, memberPC(t, r, "sub"))
	assert.Equal(t, webrtc.PeerConnectionStateClosed, old.ConnectionState())
}

// A member that leaves stops publishing: its tracks leave the room and
// its subscribers' connections.
func TestLeftEndsTracks(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 100, nil)
	readPackets(t, sub.nextTrack(), 5, 10*time.Second)

	r.Left("pub", pub.pcMember())
	require.Eventually(t, func() bool { return len(r.Tracks()) == 0 }, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, []string{"sub"}, r.Members())
	require.Eventually(t, func() bool {
		return !strings.Contains(sub.pc.RemoteDescription().SDP, "a=sendonly")
	}, 10*time.Second, 20*time.Millisecond, "the server still sends on the subscriber's section after renegotiation")
}

// A publisher that sends transport-wide sequence numbers (as Chromium
// does) gets transport-wide congestion feedback, so its upload can ramp.
func TestTWCCFeedbackToPublisher(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{twcc: true})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 100, nil)
	require.Eventually(t, func() bool { return pub.twccs.Load() > 0 }, 10*time.Second, 20*time.Millisecond,
		"no transport-wide feedback")
}

// A client may trickle its candidates after its offer (AddCandidate).
func TestTrickledCandidates(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	c := newClient(t, r, b, "c", clientOpts{bare: true})
	cands := make(chan webrtc.ICECandidateInit, 16)
	c.pc.OnICECandidate(func(x *webrtc.ICECandidate) {
		if x != nil {
			cands <- x.ToJSON()
		}
	})
	_, err := c.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	require.NoError(t, err)
	offer, err := c.pc.CreateOffer(nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	answer, err := r.Offer(ctx, "c", Offer{SDP: offer.SDP}) // before any candidate
	require.NoError(t, err)
	require.NoError(t, c.pc.SetLocalDescription(offer))
	require.NoError(t, c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}))
	select {
	case x := <-cands:
		require.NoError(t, r.AddCandidate(ctx, "c", x))
	case <-time.After(5 * time.Second):
		t.Fatal("the client gathered no candidate")
	}
	c.connected()
}
