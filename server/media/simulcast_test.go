package media

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// simPublisher is a pion client sending a camera in simulcast layers q,
// h and f, as a browser does: each layer its own SSRC, sequence numbers,
// timestamps and VP8 picture numbering, one packet a frame (every
// 20 ms), a key frame when the server asks for one on that layer
// (after keyDelay) and at the start.
type simPublisher struct {
	c        *client
	tracks   [maxLayers]*webrtc.TrackLocalStaticRTP
	plis     [maxLayers]atomic.Int64
	wantKey  [maxLayers]atomic.Bool
	sending  [maxLayers]atomic.Bool
	keyDelay time.Duration
	stop     chan struct{}
	wg       sync.WaitGroup
}

// Where a test frame's fields are: the VP8 descriptor (X, S; I with a
// 15-bit picture ID; L), the VP8 frame header (10 bytes, a key frame's
// with its size), then the layer index and the frame's number.
const (
	simPicPos   = 2
	simTl0Pos   = 4
	simLayerPos = 15
)

// layerSizes are the sizes the test layers' key frames give.
var layerSizes = [maxLayers][2]int{{320, 180}, {640, 360}, {1280, 720}}

func publishSimulcast(t *testing.T, c *client, keyDelay time.Duration) *simPublisher {
	t.Helper()
	p := &simPublisher{c: c, keyDelay: keyDelay, stop: make(chan struct{})}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	for i, rid := range layerRIDs {
		tr, err := webrtc.NewTrackLocalStaticRTP(codec, "video", c.session, webrtc.WithRTPStreamID(rid))
		require.NoError(t, err)
		p.tracks[i] = tr
		p.sending[i].Store(true)
		p.wantKey[i].Store(true)
	}
	tr, err := c.pc.AddTransceiverFromTrack(p.tracks[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	require.NoError(t, err)
	require.NoError(t, tr.Sender().AddEncoding(p.tracks[1]))
	require.NoError(t, tr.Sender().AddEncoding(p.tracks[2]))
	var midID, ridID uint8
	for _, e := range tr.Sender().GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(e.ID)
		}
	}
	require.NotZero(t, midID)
	require.NotZero(t, ridID)
	c.negMu.Lock()
	c.sources[tr] = SourceCamera
	c.negMu.Unlock()
	require.NoError(t, c.negotiate(Renegotiate{}))
	mid := tr.Mid()
	for i, rid := range layerRIDs {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			for {
				pkts, _, err := tr.Sender().ReadSimulcastRTCP(rid)
				if err != nil {
					return
				}
				for _, pk := range pkts {
					if _, ok := pk.(*rtcp.PictureLossIndication); ok {
						p.plis[i].Add(1)
						if p.keyDelay == 0 {
							p.wantKey[i].Store(true)
						} else {
							time.AfterFunc(p.keyDelay, func() { p.wantKey[i].Store(true) })
						}
					}
				}
			}
		}()
	}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for n := 0; ; n++ {
			for i := range layerRIDs {
				if !p.sending[i].Load() {
					continue
				}
				key := p.wantKey[i].Swap(false)
				pkt := &rtp.Packet{Header: rtp.Header{
					Version: 2, PayloadType: 96, Marker: true,
					SequenceNumber: uint16(65000 + 7000*i + n), // q wraps during a test
					Timestamp:      uint32(1e9*i + 1800*n),
				}, Payload: simFrame(i, n, key)}
				_ = pkt.Header.SetExtension(midID, []byte(mid))
				_ = pkt.Header.SetExtension(ridID, []byte(layerRIDs[i]))
				if err := p.tracks[i].WriteRTP(pkt); err != nil {
					return
				}
			}
			select {
			case <-p.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(p.halt)
	return p
}

func (p *simPublisher) halt() {
	select {
	case <-p.stop:
	default:
		close(p.stop)
	}
	p.c.close()
	p.wg.Wait()
}

// simFrame is frame n of layer i: each layer numbers its pictures from
// its own start (32700 + 1000i: the picture ID wraps for f).
func simFrame(i, n int, key bool) []byte {
	pic := uint16(32700+1000*i+n) & 0x7fff
	b := []byte{0x90, 0xc0, 0x80 | byte(pic>>8), byte(pic), byte(50*i + n)}
	if key {
		w, h := layerSizes[i][0], layerSizes[i][1]
		b = append(b, 0x00, 0, 0, 0x9d, 0x01, 0x2a, byte(w), byte(w>>8), byte(h), byte(h>>8))
	} else {
		b = append(b, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	}
	return append(b, byte(i), byte(n>>8), byte(n))
}

// seen is a packet as a subscriber got it, with the layer and frame it
// carries.
type seen struct {
	p            *rtp.Packet
	layer, frame int
	key          bool
}

// simulcastCall is a room where pub publishes a simulcast camera
// (keyDelay as publishSimulcast's) and sub receives it on tr.
func simulcastCall(t *testing.T, keyDelay time.Duration) (*Room, *simPublisher, *webrtc.TrackRemote) {
	t.Helper()
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{})
	sp := publishSimulcast(t, pub, keyDelay)
	return r, sp, sub.nextTrack()
}

// untilLayer reads from tr onto got until a packet of layer i comes
// (the subscriber starts on the first layer that arrives, and goes up
// to the best one once it has been seen).
func untilLayer(t *testing.T, tr *webrtc.TrackRemote, got []seen, i int) []seen {
	t.Helper()
	for len(got) == 0 || got[len(got)-1].layer != i {
		got = append(got, readSeen(t, tr, 1)...)
		require.Less(t, len(got), 2000, "layer %d never came", i)
	}
	return got
}

func readSeen(t *testing.T, tr *webrtc.TrackRemote, n int) []seen {
	t.Helper()
	var out []seen
	for _, p := range readPackets(t, tr, n, 10*time.Second) {
		require.Greater(t, len(p.Payload), simLayerPos+2)
		out = append(out, seen{p: p, layer: int(p.Payload[simLayerPos]), frame: int(p.Payload[simLayerPos+1])<<8 | int(p.Payload[simLayerPos+2]), key: vp8Keyframe(p.Payload)})
	}
	return out
}

// assertOneStream checks that what a subscriber got reads as one
// stream: each packet's sequence number, picture ID and TL0PICIDX one
// more than the last's, its timestamp later; and each change of layer
// at a key frame.
func assertOneStream(t *testing.T, got []seen) {
	t.Helper()
	for k := 1; k < len(got); k++ {
		a, b := got[k-1], got[k]
		assert.Equal(t, a.p.SequenceNumber+1, b.p.SequenceNumber, "packet %d (layer %d frame %d after layer %d frame %d): sequence gap", k, b.layer, b.frame, a.layer, a.frame)
		assert.Greater(t, int32(b.p.Timestamp-a.p.Timestamp), int32(0), "packet %d: timestamp goes back or stands", k)
		pa := uint16(a.p.Payload[simPicPos]&0x7f)<<8 | uint16(a.p.Payload[simPicPos+1])
		pb := uint16(b.p.Payload[simPicPos]&0x7f)<<8 | uint16(b.p.Payload[simPicPos+1])
		assert.Equal(t, (pa+1)&0x7fff, pb, "packet %d: picture ID", k)
		assert.Equal(t, a.p.Payload[simTl0Pos]+1, b.p.Payload[simTl0Pos], "packet %d: TL0PICIDX", k)
		if a.layer != b.layer {
			assert.True(t, b.key, "packet %d: switched from %d to %d on a delta frame", k, a.layer, b.layer)
		}
	}
}

// A simulcast camera (q, h and f on one section) is one track in the
// room: a subscriber receives one stream of it, by default its best
// layer (f), starting at a key frame; the room's stats show the three
// layers with the sizes their key frames give, and which one the
// subscriber gets.
func TestSimulcastForwardsOneLayer(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{})
	publishSimulcast(t, pub, 0)

	tr := sub.nextTrack()
	assert.Equal(t, "user-pub", tr.StreamID())
	assert.Empty(t, tr.RID())
	got := untilLayer(t, tr, readSeen(t, tr, 1), 2)
	if !assert.True(t, got[0].key, "the first packet is a key frame") {
		for _, g := range got[:min(5, len(got))] {
			t.Logf("layer %d frame %d seq %d key %v", g.layer, g.frame, g.p.SequenceNumber, g.key)
		}
	}
	got = append(got, readSeen(t, tr, 50)...)
	for k, g := range got[len(got)-50:] {
		assert.Equal(t, 2, g.layer, "packet %d is of layer %d, not f", k, g.layer)
	}
	assertOneStream(t, got)
	select {
	case extra := <-sub.tracks:
		t.Fatalf("the subscriber got a second track (rid %q)", extra.RID())
	case <-time.After(300 * time.Millisecond):
	}

	require.Eventually(t, func() bool {
		st := r.Stats()
		return len(st) == 1 && len(st[0].Layers) == 3 && st[0].Layers[0].Width != 0 && st[0].Layers[2].Width != 0
	}, 5*time.Second, 20*time.Millisecond, "stats: %+v", r.Stats())
	st := r.Stats()[0]
	for i, l := range st.Layers {
		assert.Equal(t, layerRIDs[i], l.RID)
		assert.Equal(t, layerSizes[i], [2]int{l.Width, l.Height}, "layer %s size", l.RID)
		assert.NotZero(t, l.Received)
	}
	require.Len(t, st.Subscribers, 1)
	assert.Equal(t, "f", st.Subscribers[0].Layer)
	assert.NotZero(t, st.Subscribers[0].Switches)
}

// A subscriber switched from layer to layer (f, q, h, f) sees one
// stream: no sequence gap, timestamps only forward, picture IDs and
// TL0PICIDX going on, each new layer from a key frame the server asked
// the publisher for on that layer's SSRC; until that key frame comes
// (the publisher takes 200 ms), the old layer goes on.
func TestSimulcastSwitchesWithoutAGap(t *testing.T) {
	r, sp, tr := simulcastCall(t, 200*time.Millisecond)

	got := untilLayer(t, tr, nil, 2)
	// The key frames asked for as the layers and the subscriber started
	// come within the publisher's delay: after them, each switch below
	// asks for its own.
	for settle := time.Now().Add(300 * time.Millisecond); time.Now().Before(settle); {
		got = append(got, readSeen(t, tr, 1)...)
	}
	for _, want := range []int{0, 1, 2} {
		plis := sp.plis[want].Load()
		require.NoError(t, r.SetVideoSizes("sub", map[string]VideoSize{"user-pub": {Layer: layerRIDs[want]}}))
		var more []seen
		for len(more) == 0 || more[len(more)-1].layer != want {
			more = append(more, readSeen(t, tr, 1)...)
			require.Less(t, len(more), 500, "no switch to layer %d", want)
		}
		old := 0
		for _, g := range more {
			if g.layer != want {
				old++
			}
		}
		assert.GreaterOrEqual(t, old, 5, "to layer %d: the old layer stopped before the key frame came (%d packets)", want, old)
		assert.Greater(t, sp.plis[want].Load(), plis, "no key frame asked for on layer %d", want)
		got = append(got, more...)
		got = append(got, readSeen(t, tr, 10)...)
	}
	assertOneStream(t, got)
}

// A layer the publisher stops sending (a browser short of bandwidth or
// CPU stops its best one) is left for the next one down within about a
// second, and taken again once it is back.
func TestSimulcastFallsBackFromAStoppedLayer(t *testing.T) {
	_, sp, tr := simulcastCall(t, 0)

	got := untilLayer(t, tr, nil, 2)
	sp.sending[2].Store(false)
	got = untilLayer(t, tr, got, 1)
	got = append(got, readSeen(t, tr, 10)...)
	sp.sending[2].Store(true)
	got = untilLayer(t, tr, got, 2)
	got = append(got, readSeen(t, tr, 10)...)
	// While f stopped, the stream went on in h: the only gap is in
	// time, not in numbering.
	assertOneStream(t, got)
}

// The layer a subscriber gets follows the size its page shows the
// camera at: the smallest layer at least 3/4 of the tile's width and
// height (the layers' sizes from their key frames: 320x180, 640x360,
// 1280x720), the best one without a size.
func TestSimulcastLayerFitsTheTile(t *testing.T) {
	r, _, tr := simulcastCall(t, 0)
	require.Eventually(t, func() bool {
		st := r.Stats()
		return len(st) == 1 && len(st[0].Layers) == 3 && st[0].Layers[0].Width != 0 && st[0].Layers[1].Width != 0 && st[0].Layers[2].Width != 0
	}, 5*time.Second, 20*time.Millisecond)
	got := readSeen(t, tr, 5)
	for _, c := range []struct {
		w, h  int
		layer int
	}{{240, 135, 0}, {800, 450, 1}, {1000, 560, 2}, {400, 225, 0}, {0, 0, 2}, {426, 240, 0}, {428, 241, 1}} {
		require.NoError(t, r.SetVideoSizes("sub", map[string]VideoSize{"user-pub": {Width: c.w, Height: c.h}}))
		for got[len(got)-1].layer != c.layer {
			got = append(got, readSeen(t, tr, 1)...)
			require.Less(t, len(got), 2000, "a %dx%d tile never got layer %d", c.w, c.h, c.layer)
		}
		got = append(got, readSeen(t, tr, 5)...)
		for _, g := range got[len(got)-5:] {
			require.Equal(t, c.layer, g.layer, "a %dx%d tile", c.w, c.h)
		}
	}
	assertOneStream(t, got)

	// Without sizes, the best layer again.
	require.NoError(t, r.SetVideoSizes("sub", nil))
	for got[len(got)-1].layer != 2 {
		got = append(got, readSeen(t, tr, 1)...)
		require.Less(t, len(got), 2000)
	}
}

// A layer the camera does not send is refused with NoSuchLayer, and an
// unknown name with InvalidParameter; neither changes the layer a
// subscriber gets.
func TestSimulcastNoSuchLayer(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	plain := newClient(t, r, b, "plain", clientOpts{})
	// sim receives nothing: a pion client offering again after an answer
	// with a=simulcast:recv copies its rids into the offer as recv lines
	// (next to its own send ones), which the server refuses.
	sim := newClient(t, r, b, "sim", clientOpts{simulcast: true, choose: []string{}})
	sub := newClient(t, r, b, "sub", clientOpts{})
	startSending(t, plain.publish(webrtc.RTPCodecTypeVideo, SourceCamera), 20*time.Millisecond, 100, nil)
	publishSimulcast(t, sim, 0)
	var simTrack *webrtc.TrackRemote
	for simTrack == nil {
		if tr := sub.nextTrack(); tr.StreamID() == "user-sim" {
			simTrack = tr
		}
	}
	require.NoError(t, r.SetVideoSizes("sub", map[string]VideoSize{"user-sim": {Layer: "q"}}))
	got := readSeen(t, simTrack, 1)
	for got[len(got)-1].layer != 0 {
		got = append(got, readSeen(t, simTrack, 1)...)
		require.Less(t, len(got), 2000)
	}

	err := r.SetVideoSizes("sub", map[string]VideoSize{"user-plain": {Layer: "h"}})
	assert.Equal(t, protocol.CodeNoSuchLayer, codeOf(err), "%v", err)
	assert.ErrorContains(t, err, "sends no simulcast")
	err = r.SetVideoSizes("sub", map[string]VideoSize{"user-sim": {Layer: "x"}})
	assert.Equal(t, protocol.CodeInvalidParameter, codeOf(err), "%v", err)
	got = append(got, readSeen(t, simTrack, 30)...)
	for _, g := range got[len(got)-20:] {
		assert.Equal(t, 0, g.layer, "a refused request changed the layer")
	}
}

func TestChooseLayer(t *testing.T) {
	all := [maxLayers]bool{true, true, true}
	assert.Equal(t, 2, chooseLayer(2, all))
	assert.Equal(t, 0, chooseLayer(0, all))
	assert.Equal(t, 1, chooseLayer(2, [maxLayers]bool{true, true, false}), "the best below")
	assert.Equal(t, 2, chooseLayer(0, [maxLayers]bool{false, false, true}), "the lowest above when none below")
	assert.Equal(t, noLayer, chooseLayer(1, [maxLayers]bool{}))
}

func TestVP8Munging(t *testing.T) {
	var m vp8Munger
	a := simFrame(0, 0, true)
	m.switchTo(a)
	out := m.munge(a, nil)
	assert.Equal(t, a, out, "the first layer keeps its numbers")
	b := simFrame(2, 7, true) // another layer, its own numbers
	m.switchTo(b)
	out = m.munge(b, nil)
	d, ok := parseVP8(out)
	require.True(t, ok)
	da, _ := parseVP8(a)
	assert.Equal(t, (da.picture(a)+1)&0x7fff, d.picture(out))
	assert.Equal(t, a[simTl0Pos]+1, out[simTl0Pos])
	assert.Equal(t, simFrame(2, 7, true)[simLayerPos:], out[simLayerPos:], "the payload is the layer's")
	assert.Equal(t, simFrame(2, 7, true), b, "the shared packet is untouched")

	w, h, ok := vp8KeyframeSize(simFrame(1, 0, true))
	require.True(t, ok)
	assert.Equal(t, [2]int{640, 360}, [2]int{w, h})
	_, _, ok = vp8KeyframeSize(simFrame(1, 1, false))
	assert.False(t, ok)
	assert.False(t, vp8Keyframe([]byte{0x80}), "cut short")
}

func TestH264Keyframe(t *testing.T) {
	assert.True(t, h264Keyframe([]byte{0x65, 1}), "IDR")
	assert.True(t, h264Keyframe([]byte{0x67, 1}), "SPS")
	assert.False(t, h264Keyframe([]byte{0x41, 1}), "non-IDR slice")
	assert.True(t, h264Keyframe([]byte{0x18, 0, 2, 0x67, 1, 0, 1, 0x68}), "STAP-A with SPS")
	assert.False(t, h264Keyframe([]byte{0x18, 0, 2, 0x41, 1}), "STAP-A without")
	assert.True(t, h264Keyframe([]byte{0x7c, 0x85, 1}), "FU-A start of an IDR")
	assert.False(t, h264Keyframe([]byte{0x7c, 0x05, 1}), "FU-A middle of an IDR")
}
