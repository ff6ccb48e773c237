package media

import (
	"context"
	"errors"
	"net"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// noLeaks checks, once the test and its other cleanups are done (so call
// it first), that the goroutines the test started have ended.
func noLeaks(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			stacks := strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n")
			if len(stacks) > 8 {
				stacks = stacks[:8]
			}
			t.Errorf("%d goroutines left behind (%d before, %d after):\n%s", n-before, before, n, strings.Join(stacks, "\n\n"))
		}
	})
}

func loopbackOnly(ip net.IP) bool { return ip.IsLoopback() }

// newTestServer is a server on loopback (udp4), closed when the test ends.
func newTestServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	if cfg.Net == nil {
		cfg.Loopback = true
		cfg.IPFilter = loopbackOnly
	}
	if cfg.Networks == nil {
		cfg.Networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	s, err := NewServer(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

// switchboard routes a room's signals to the test clients.
type switchboard struct {
	mu      sync.Mutex
	clients map[string]*client
}

func (b *switchboard) signal(session, kind string, payload any) {
	b.mu.Lock()
	c := b.clients[session]
	b.mu.Unlock()
	if c == nil {
		return
	}
	if kind == SignalLayers {
		select {
		case c.layers <- payload.(Layers):
		default: // a client that does not look at them
		}
		return
	}
	if kind == SignalActiveSpeakers {
		select {
		case c.speakers <- payload.(ActiveSpeakers):
		default: // a client that does not look at them
		}
		return
	}
	if kind != SignalRenegotiate {
		return
	}
	select {
	case c.reneg <- payload.(Renegotiate):
	default:
		c.t.Errorf("%s: renegotiation signals pile up", session)
	}
}

// newTestRoom is a room of s whose signals reach the clients made for it.
func newTestRoom(t *testing.T, s *Server) (*Room, *switchboard) {
	b := &switchboard{clients: map[string]*client{}}
	r := s.NewRoom("app", "room", b.signal)
	t.Cleanup(func() {
		r.Closed()
		select {
		case <-r.Done():
		case <-time.After(10 * time.Second):
			t.Error("the room's goroutines did not end")
		}
	})
	return r, b
}

// clientOpts shape a test client's pion API.
type clientOpts struct {
	net      transport.Net // nil: loopback
	vp8PT    webrtc.PayloadType
	noVP8    bool // only VP9 video (a codec the server does not forward)
	h264Only bool // only H.264 video (a codec the server forwards, not VP8)
	midFirst bool // register MID before audio level (other extension IDs)
	tcp      bool // ICE over TCP only
	bare     bool // joins, but gets no signals (the test offers by hand)
	twcc     bool // sends transport-wide sequence numbers (as Chromium does)
	// simulcast negotiates the mid and rid header extensions for video,
	// which a simulcast publisher tags its packets with.
	simulcast bool
	// choose joins choosing the video of these users (JoinedChoosing),
	// as a page does; nil joins without a choice.
	choose []string
	// noAnswered never says it has set an answer (mediaAnswered), as a
	// client older than it.
	noAnswered bool
}

// client is a pion stand-in for a browser: it joins the room, offers,
// and answers renegotiation signals with a new offer.
type client struct {
	t        *testing.T
	opts     clientOpts
	session  string
	room     *Room
	pc       *webrtc.PeerConnection
	reneg    chan Renegotiate
	speakers chan ActiveSpeakers
	layers   chan Layers
	tracks   chan *webrtc.TrackRemote
	plis     atomic.Int64 // PLIs this client got for what it sends
	twccs    atomic.Int64 // transport-wide feedback reports it got
	negMu    sync.Mutex
	sources  map[*webrtc.RTPTransceiver]Source
	stop     chan struct{}
	wg       sync.WaitGroup
}

func clientAPI(t *testing.T, o clientOpts) *webrtc.API {
	me := &webrtc.MediaEngine{}
	pt := o.vp8PT
	if pt == 0 {
		pt = ptVP8
	}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	video := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb}
	if o.noVP8 {
		video.MimeType = webrtc.MimeTypeVP9
	}
	if o.h264Only {
		video.MimeType = webrtc.MimeTypeH264
		video.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
	}
	require.NoError(t, me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: video, PayloadType: pt}, webrtc.RTPCodecTypeVideo))
	require.NoError(t, me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, PayloadType: ptOpus}, webrtc.RTPCodecTypeAudio))
	exts := []string{sdp.AudioLevelURI, sdp.SDESMidURI}
	if o.midFirst {
		exts = []string{sdp.SDESMidURI, sdp.TransportCCURI, sdp.AudioLevelURI}
	}
	for _, e := range exts {
		require.NoError(t, me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e}, webrtc.RTPCodecTypeAudio))
	}
	if o.simulcast {
		require.NoError(t, webrtc.ConfigureSimulcastExtensionHeaders(me))
	}
	reg := &interceptor.Registry{}
	require.NoError(t, webrtc.ConfigureNack(me, reg))
	require.NoError(t, webrtc.ConfigureRTCPReports(reg))
	if o.twcc {
		require.NoError(t, webrtc.ConfigureTWCCHeaderExtensionSender(me, reg))
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if o.net != nil {
		se.SetNet(o.net)
	} else {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(loopbackOnly)
	}
	if o.tcp {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	} else {
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se))
}

// newClient joins session to r and starts answering its signals.
func newClient(t *testing.T, r *Room, b *switchboard, session string, o clientOpts) *client {
	t.Helper()
	pc, err := clientAPI(t, o).NewPeerConnection(webrtc.Configuration{})
	require.NoError(t, err)
	c := &client{
		t: t, session: session, room: r, pc: pc, opts: o,
		reneg: make(chan Renegotiate, 64), speakers: make(chan ActiveSpeakers, 64), layers: make(chan Layers, 64), tracks: make(chan *webrtc.TrackRemote, 16),
		sources: map[*webrtc.RTPTransceiver]Source{}, stop: make(chan struct{}),
	}
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		select {
		case c.tracks <- tr:
		case <-c.stop: // a test that does not look at them all
		}
	})
	if !o.bare {
		b.mu.Lock()
		b.clients[session] = c
		b.mu.Unlock()
	}
	if o.choose != nil {
		require.NoError(t, r.JoinedChoosing(session, protocol.Member{UserID: "user-" + session}, o.choose))
	} else {
		r.Joined(session, protocol.Member{UserID: "user-" + session})
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case <-c.stop:
				return
			case want := <-c.reneg:
				if err := c.negotiate(want); err != nil && !errors.Is(err, webrtc.ErrConnectionClosed) {
					select {
					case <-c.stop:
					default:
						t.Errorf("%s: renegotiation: %v", session, err)
					}
				}
			}
		}
	}()
	t.Cleanup(c.close)
	return c
}

func (c *client) close() {
	select {
	case <-c.stop:
		return
	default:
	}
	close(c.stop)
	_ = c.pc.Close()
	c.wg.Wait()
}

// offer makes an offer with enough receiving sections for want, and
// returns it (gathered) without sending it.
func (c *client) offer(want Renegotiate) (string, error) {
	need := map[webrtc.RTPCodecType]int{}
	for _, tr := range want.Tracks {
		need[webrtc.NewRTPCodecType(tr.Kind)]++
	}
	have := map[webrtc.RTPCodecType]int{}
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Direction() == webrtc.RTPTransceiverDirectionRecvonly {
			have[tr.Kind()]++
		}
	}
	for kind, n := range need {
		for ; have[kind] < n; have[kind]++ {
			if _, err := c.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				return "", err
			}
		}
	}
	o, err := c.pc.CreateOffer(nil)
	if err != nil {
		return "", err
	}
	gathered := webrtc.GatheringCompletePromise(c.pc)
	if err := c.pc.SetLocalDescription(o); err != nil {
		return "", err
	}
	<-gathered
	return c.pc.LocalDescription().SDP, nil
}

// negotiate offers (for want) and applies the server's answer.
func (c *client) negotiate(want Renegotiate) error {
	c.negMu.Lock()
	defer c.negMu.Unlock()
	o, err := c.offer(want)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sources := map[string]Source{}
	for tr, src := range c.sources {
		sources[tr.Mid()] = src
	}
	answer, err := c.room.Offer(ctx, c.session, Offer{SDP: o, Sources: sources})
	if err != nil {
		_ = c.pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return err
	}
	if err := c.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		return err
	}
	if c.opts.noAnswered {
		return nil
	}
	return c.room.Answered(c.session)
}

// publish adds a sending track of kind and negotiates it; the sender's
// RTCP is read (counting PLIs) so that the client's NACK responder runs.
func (c *client) publish(kind webrtc.RTPCodecType, src Source) *webrtc.TrackLocalStaticRTP {
	c.t.Helper()
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if kind == webrtc.RTPCodecTypeAudio {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	}
	track, err := webrtc.NewTrackLocalStaticRTP(codec, kind.String(), c.session)
	require.NoError(c.t, err)
	tr, err := c.pc.AddTransceiverFromTrack(track, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	require.NoError(c.t, err)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			pkts, _, err := tr.Sender().ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				switch p.(type) {
				case *rtcp.PictureLossIndication:
					c.plis.Add(1)
				case *rtcp.TransportLayerCC:
					c.twccs.Add(1)
				}
			}
		}
	}()
	c.negMu.Lock()
	c.sources[tr] = src
	c.negMu.Unlock()
	require.NoError(c.t, c.negotiate(Renegotiate{}))
	return track
}

// connected waits for the client's connection to be up.
func (c *client) connected() {
	c.t.Helper()
	require.Eventually(c.t, func() bool {
		return c.pc.ConnectionState() == webrtc.PeerConnectionStateConnected
	}, 10*time.Second, 10*time.Millisecond, "%s never connected", c.session)
}

// nextTrack waits for the next track the client receives.
func (c *client) nextTrack() *webrtc.TrackRemote {
	c.t.Helper()
	select {
	case tr := <-c.tracks:
		return tr
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s received no track", c.session)
		return nil
	}
}

// sender writes synthetic RTP on a track until stopped: packet i has
// sequence number first+i and a payload starting with i.
type sender struct {
	stop chan struct{}
	done chan struct{}
	sent atomic.Int64
}

const firstSeq = 60000 // so that the sequence numbers wrap during a test

func startSending(t *testing.T, track *webrtc.TrackLocalStaticRTP, every time.Duration, size int, ext func(h *rtp.Header, i int)) *sender {
	s := &sender{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := 0; ; i++ {
			p := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: uint16(firstSeq + i),
				Timestamp: uint32(i * 3000), SSRC: 1234, Marker: true,
			}, Payload: payload(i, size)}
			if ext != nil {
				ext(&p.Header, i)
			}
			if err := track.WriteRTP(p); err != nil {
				return
			}
			s.sent.Add(1)
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	t.Cleanup(s.halt)
	return s
}

func (s *sender) halt() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	<-s.done
}

func payload(i, size int) []byte {
	b := make([]byte, max(size, 4))
	b[0], b[1], b[2], b[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
	return b
}

func payloadIndex(b []byte) int {
	return int(b[0])<<24 | int(b[1])<<16 | int(b[2])<<8 | int(b[3])
}

// readPackets reads n packets from tr (or fails after the deadline).
func readPackets(t *testing.T, tr *webrtc.TrackRemote, n int, within time.Duration) []*rtp.Packet {
	t.Helper()
	require.NoError(t, tr.SetReadDeadline(time.Now().Add(within)))
	out := make([]*rtp.Packet, 0, n)
	for len(out) < n {
		p, _, err := tr.ReadRTP()
		require.NoError(t, err, "after %d of %d packets", len(out), n)
		out = append(out, p)
	}
	return out
}

// memberPC is session's server-side connection (nil for none), read on
// the member's actor.
func memberPC(t *testing.T, r *Room, session string) *webrtc.PeerConnection {
	t.Helper()
	m, err := r.member(session)
	require.NoError(t, err)
	res := make(chan *webrtc.PeerConnection, 1)
	require.True(t, m.q.push(func() { res <- m.pc }))
	return <-res
}

// codeOf is err's protocol code (0 when it has none).
func codeOf(err error) protocol.Code {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return 0
}

// pcMember is the member record the client joined with.
func (c *client) pcMember() protocol.Member { return protocol.Member{UserID: "user-" + c.session} }
