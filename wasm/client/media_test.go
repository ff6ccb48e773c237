//go:build !js

package client

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/protocol"
)

// pageMedia is a page's media connection as a browser would make it, on
// pion: it offers through the client, answers mediaRenegotiate with a new
// offer, and records the tracks it receives by their stream (the user).
type pageMedia struct {
	t      *testing.T
	c      *Client
	room   string
	pc     *webrtc.PeerConnection
	mu     sync.Mutex
	got    map[string]int // packets received, by stream ID (the publisher)
	offers chan struct{}
}

func newPageMedia(t *testing.T, c *Client, room string) *pageMedia {
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = pc.Close() })
	m := &pageMedia{t: t, c: c, room: room, pc: pc, got: map[string]int{}, offers: make(chan struct{}, 8)}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		for {
			if _, _, err := tr.ReadRTP(); err != nil {
				return
			}
			m.mu.Lock()
			m.got[tr.StreamID()]++
			m.mu.Unlock()
		}
	})
	return m
}

// offer makes an offer (candidates gathered in it), sends it and sets the
// server's answer.
func (m *pageMedia) offer() error {
	offer, err := m.pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(m.pc)
	if err := m.pc.SetLocalDescription(offer); err != nil {
		return err
	}
	<-gathered
	ans, err := m.c.MediaOffer(context.Background(), protocol.MediaOfferRequest{RoomID: m.room, SDP: m.pc.LocalDescription().SDP})
	if err != nil {
		return err
	}
	return m.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP})
}

func (m *pageMedia) received(from string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.got[from]
}

// mediaEvents forwards a client's mediaRenegotiate events for room to
// the page, which offers again.
func renegotiateOn(pages map[string]*pageMedia) func(Event) {
	return func(e Event) {
		if e.Name != protocol.EventMediaRenegotiate {
			return
		}
		var ev protocol.MediaRenegotiateEvent
		if json.Unmarshal(e.Data, &ev) != nil {
			return
		}
		if p := pages[ev.RoomID]; p != nil {
			select {
			case p.offers <- struct{}{}:
			default:
			}
		}
	}
}

// A member's camera reaches another member through the server's media
// server, with nothing but the room's operations on the WebSocket: offer,
// answer, and a new offer when the server asks for one.
func TestMediaGoesThroughTheServersSFU(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Media.Loopback = true })
	require.NotNil(t, srv.Media, "the media server runs by default")
	ctx := context.Background()

	pages := map[string]map[string]*pageMedia{"alice": {}, "bob": {}}
	var mu sync.Mutex
	clients := map[string]*Client{}
	for _, user := range []string{"alice", "bob"} {
		rec := &recorder{}
		on := renegotiateOn(pages[user])
		c, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, user, time.Hour), OnEvent: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			on(e)
			rec.on(e)
		}})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Logout(context.Background()) })
		_, err = c.EnterRoom(ctx, info("call"), nil)
		require.NoError(t, err)
		clients[user] = c
	}
	mu.Lock()
	alice, bob := newPageMedia(t, clients["alice"], "call"), newPageMedia(t, clients["bob"], "call")
	pages["alice"]["call"], pages["bob"]["call"] = alice, bob
	mu.Unlock()
	for _, p := range []*pageMedia{alice, bob} {
		go func() {
			for range p.offers {
				if err := p.offer(); err != nil {
					p.t.Logf("a renegotiation failed: %v", err)
				}
			}
		}()
	}

	camera, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", "alice")
	require.NoError(t, err)
	_, err = alice.pc.AddTransceiverFromTrack(camera, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	require.NoError(t, err)
	_, err = bob.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
	require.NoError(t, err)
	require.NoError(t, alice.offer())
	require.NoError(t, bob.offer())

	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for seq := uint16(1); ; seq++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			// A VP8 key frame's first bytes: the subscriber's track starts.
			_ = camera.WriteRTP(&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, Marker: true},
				Payload: []byte{0x10, 0x00, 0x9d, 0x01, 0x2a, 0x40, 0x01, 0xf0, 0x00}})
		}
	}()
	require.Eventually(t, func() bool { return bob.received("alice") >= 20 }, 10*time.Second, 50*time.Millisecond,
		"bob receives alice's camera through the server")
	assert.Zero(t, alice.received("bob"), "bob publishes nothing")
}

// The media operations' bad input gets the media server's codes over the
// wire, and a session outside the room is refused.
func TestMediaOperationsRefuseBadInput(t *testing.T) {
	srv := startServer(t, "127.0.0.1:0", nil)
	ctx := context.Background()
	alice, _ := login(t, srv, "alice")
	zed, _ := login(t, srv, "zed")
	_, err := alice.EnterRoom(ctx, info("call"), nil)
	require.NoError(t, err)

	_, err = alice.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: "call", SDP: "not sdp"})
	codeIs(t, protocol.CodeInvalidParameter, err)
	vp9 := "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\r\na=group:BUNDLE 0\r\n" +
		"m=video 9 UDP/TLS/RTP/SAVPF 98\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\na=setup:actpass\r\na=sendonly\r\na=rtpmap:98 VP9/90000\r\na=rtcp-mux\r\n"
	_, err = alice.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: "call", SDP: vp9})
	codeIs(t, protocol.CodeNoCodec, err)
	_, err = zed.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: "call", SDP: vp9})
	codeIs(t, protocol.CodeNotInRoom, err)
	_, err = alice.MediaCandidate(ctx, protocol.MediaCandidateRequest{RoomID: "call", Candidate: protocol.ICECandidate{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}})
	codeIs(t, protocol.CodeInvalidParameter, err) // before any offer
	_, err = alice.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: "", SDP: vp9})
	codeIs(t, protocol.CodeInvalidParameter, err)

	off := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.MediaOff = true })
	carol, _ := login(t, off, "carol")
	_, err = carol.EnterRoom(ctx, info("call"), nil)
	require.NoError(t, err)
	_, err = carol.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: "call", SDP: vp9})
	codeIs(t, protocol.CodeFailed, err)
	assert.Contains(t, err.Error(), "-media=false", "a server without media says so")
}
