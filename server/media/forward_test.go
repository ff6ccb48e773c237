package media

import (
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// A publisher's track reaches two subscribers, each with its own SSRC
// and payload type (the publisher sends VP8 at payload type 100, the
// subscribers receive it at 96 and 98), in contiguous sequence numbers
// carrying the publisher's payloads; the same with the server's writes
// batched (WriteBatch: sendmmsg), which must neither lose, reorder nor
// hold back a packet.
func TestForwardToTwoSubscribers(t *testing.T) {
	t.Run("a packet a write", func(t *testing.T) { forwardToTwoSubscribers(t, Config{}) })
	t.Run("batched writes", func(t *testing.T) { forwardToTwoSubscribers(t, Config{WriteBatch: 16}) })
}

func forwardToTwoSubscribers(t *testing.T, cfg Config) {
	noLeaks(t)
	s := newTestServer(t, cfg)
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{vp8PT: 100})
	sub1 := newClient(t, r, b, "sub1", clientOpts{})
	sub2 := newClient(t, r, b, "sub2", clientOpts{vp8PT: 98})

	r.Updated(protocol.Member{UserID: "user-pub", Share: true}) // a screen goes out while shared
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceScreen)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 200, nil)

	ssrcs := map[uint32]string{}
	for _, c := range []*client{sub1, sub2} {
		tr := c.nextTrack()
		assert.Equal(t, "user-pub", tr.StreamID())
		pkts := readPackets(t, tr, 40, 10*time.Second)
		wantPT := uint8(96)
		if c == sub2 {
			wantPT = 98
		}
		first := pkts[0]
		for i, p := range pkts {
			assert.Equal(t, uint32(tr.SSRC()), p.SSRC, "%s packet %d SSRC", c.session, i)
			assert.Equal(t, wantPT, p.PayloadType, "%s packet %d payload type", c.session, i)
			assert.Equal(t, first.SequenceNumber+uint16(i), p.SequenceNumber, "%s packet %d not contiguous", c.session, i)
			assert.Equal(t, payloadIndex(first.Payload)+i, payloadIndex(p.Payload), "%s packet %d payload", c.session, i)
			assert.Equal(t, uint16(firstSeq+payloadIndex(p.Payload)), p.SequenceNumber, "%s packet %d keeps the publisher's numbering", c.session, i)
			assert.False(t, p.Extension, "%s packet %d carries the publisher's extensions", c.session, i)
		}
		assert.NotEqual(t, uint32(1234), first.SSRC)
		ssrcs[first.SSRC] = c.session
	}
	assert.Len(t, ssrcs, 2, "each subscriber has its own SSRC")

	tracks := r.Tracks()
	require.Len(t, tracks, 1)
	assert.Equal(t, TrackInfo{ID: tracks[0].ID, UserID: "user-pub", Kind: "video", Source: SourceScreen}, tracks[0])
	st := r.Stats()
	require.Len(t, st, 1)
	require.Len(t, st[0].Subscribers, 2)
	assert.Zero(t, st[0].Subscribers[0].Dropped+st[0].Subscribers[1].Dropped)
}

// The audio level (RFC 6464) reaches a subscriber under the ID the
// subscriber's connection negotiated for it, not the publisher's; other
// extensions are dropped.
func TestAudioLevelRewritten(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{midFirst: true})

	track := pub.publish(webrtc.RTPCodecTypeAudio, SourceMicrophone)
	pub.connected()
	var pubID uint8
	for _, tr := range pub.pc.GetTransceivers() {
		for _, e := range tr.Sender().GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				pubID = uint8(e.ID)
			}
		}
	}
	require.NotZero(t, pubID)
	startSending(t, track, 20*time.Millisecond, 40, func(h *rtp.Header, i int) {
		_ = h.SetExtension(pubID, []byte{byte(i % 127)})
		_ = h.SetExtension(pubID+5, []byte{0xAA, 0xBB}) // an extension the subscriber never negotiated
	})

	tr := sub.nextTrack()
	var subID uint8
	for _, x := range sub.pc.GetTransceivers() {
		if x.Receiver() != nil && x.Receiver().Track() == tr {
			for _, e := range x.Receiver().GetParameters().HeaderExtensions {
				if e.URI == sdp.AudioLevelURI {
					subID = uint8(e.ID)
				}
			}
		}
	}
	require.NotZero(t, subID)
	require.NotEqual(t, pubID, subID, "the test wants different IDs on the two connections")
	for _, p := range readPackets(t, tr, 10, 10*time.Second) {
		assert.Equal(t, []byte{byte(payloadIndex(p.Payload) % 127)}, p.GetExtension(subID))
		assert.Equal(t, []uint8{subID}, p.GetExtensionIDs())
	}
}
