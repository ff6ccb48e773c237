package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// The media scenario's synthetic streams: what a browser's Opus and VP8
// send, in rate and packet size. Nothing decodes them.
const (
	mediaAudioInterval = 20 * time.Millisecond // Opus: 50 packets a second
	mediaAudioPayload  = 100                   // bytes: about 40 kbit/s
	mediaVideoFPS      = 30
	mediaVideoBitrate  = 1_000_000 // bits a second
	mediaVideoPacket   = 1100      // the largest video payload; frames are split into packets of about this
	mediaPayloadHeader = 15        // send time, packet number, track number, measured flag
)

// Payload layout of every synthetic packet (big endian): bytes 0-7 the
// send time (UnixNano, taken just before the write), 8-11 the packet's
// number on its track (the publisher's own sequence number, from 0),
// 12-13 the track's number (publisher×2, +1 for video), 14 is 1 for a
// packet sent while measuring.
func mediaPayload(b []byte, sent time.Time, num uint32, track uint16, measured bool) {
	binary.BigEndian.PutUint64(b[0:8], uint64(sent.UnixNano()))
	binary.BigEndian.PutUint32(b[8:12], num)
	binary.BigEndian.PutUint16(b[12:14], track)
	b[14] = 0
	if measured {
		b[14] = 1
	}
}

// Media has Senders publishers (default 4) and Clients subscribers
// (default 20) in one room of the server's media server (an SFU), each a
// pion peer connection negotiated over roomkit's WebSocket as a page's
// would be: the client offers, the server answers, and a mediaRenegotiate
// event is answered with a new offer with enough receiving sections.
// Each publisher sends a synthetic Opus track (50 packets/s of 100
// bytes, with an audio level: every publisher speaks, each as loud as
// it always is) and a synthetic VP8 track (30 frames/s at 1 Mbit/s,
// each frame split into packets of about 1,100 bytes). The server
// subscribes every member to every other member's tracks; the
// publishers offer no receiving section, so they receive nothing, and
// each subscriber receives every video track and the audio the server
// forwards (that of the loudest speakers, when there are more
// publishers than it forwards). Once every subscriber receives every
// video track and some audio, it measures for Duration (default 20 s):
//
//   - forwarded_pps: packets the subscribers received a second;
//   - latency_p50_ms ... latency_max_ms: receipt minus the send time
//     the payload carries (one machine, one clock);
//   - lost (lost_audio of it): a video track's packets sent while
//     measuring (by their numbers in the payload) that a subscriber did
//     not receive, and the gaps in the RTP sequence numbers of each
//     audio track a subscriber received (the server forwards a speaker's
//     audio only while selected, numbering it without gaps);
//   - streams: (subscriber, track) pairs forwarded while measuring;
//   - pps_per_server_core: packets received per CPU second of the
//     server; server_cpu_s_per_1k_streams: the server's CPU seconds per
//     second per 1,000 streams; server_rss_per_sub_kib: the server's RSS
//     growth from before the subscribers connected, per subscriber.
//
// The server must gather loopback candidates (-media-loopback): the
// clients offer loopback ones only.
func Media(ctx context.Context, c Config, p Params) (*Result, error) {
	nPub := orDefault(p.Senders, 4)
	nSub := orDefault(p.Clients, 20)
	dur := orDefault(p.Duration, 20*time.Second)
	limit := orDefault(c.Limit, time.Minute)
	const room = "media"
	nTracks := 2 * nPub
	t0 := time.Now()

	api, err := mediaClientAPI()
	if err != nil {
		return nil, err
	}
	subs := make([]*mediaSub, nSub)
	for i := range subs {
		subs[i] = newMediaSub(nTracks)
	}
	pubClients, err := c.loginAll(ctx, "pub", nPub, nil)
	if err != nil {
		return nil, err
	}
	defer logoutAll(pubClients)
	subClients, err := c.loginSubscribers(ctx, "sub", room, subs)
	if err != nil {
		return nil, err
	}
	defer logoutAll(subClients)
	all := append(append([]*client.Client{}, pubClients...), subClients...)
	if err := enterAll(ctx, all, func(int) string { return room }, nil); err != nil {
		return nil, err
	}
	setup, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	// The publishers: each connects and sends its two tracks until the
	// end; packets sent while measuring say so.
	var measuring atomic.Bool
	pubs := make([]*mediaPub, nPub)
	defer func() {
		for _, pb := range pubs {
			if pb != nil {
				pb.close()
			}
		}
	}()
	if err := forEach(nPub, 4, func(i int) error {
		pb, err := newMediaPub(setup, api, pubClients[i], room, i)
		if pb != nil {
			pubs[i] = pb
		}
		return err
	}); err != nil {
		return nil, fmt.Errorf("publisher: %w", err)
	}
	for _, pb := range pubs {
		pb.start(&measuring)
	}
	time.Sleep(500 * time.Millisecond) // the publishers' tracks are in the room
	base := c.sample()

	// The subscribers: each offers with a receiving section per track
	// and answers the server's renegotiations.
	defer func() {
		for _, s := range subs {
			s.close()
		}
	}()
	start := time.Now()
	if err := forEach(nSub, 8, func(i int) error {
		return subs[i].connect(setup, api, subClients[i], room, nPub)
	}); err != nil {
		return nil, fmt.Errorf("subscriber: %w", err)
	}
	for setup.Err() == nil && !allTracks(subs, nPub) {
		time.Sleep(50 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	setupTime := time.Since(start)
	time.Sleep(time.Second) // settle: key frame requests, first reports

	before := c.sample()
	measuring.Store(true)
	t1 := time.Now()
	select {
	case <-time.After(dur):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	measuring.Store(false)
	measured := time.Since(t1)
	after := c.sample()
	for _, pb := range pubs {
		pb.halt()
	}
	sent := make([]int64, nTracks) // by track number
	var sentAll int64
	for i, pb := range pubs {
		sent[2*i], sent[2*i+1] = pb.sent[0].Load(), pb.sent[1].Load()
		sentAll += sent[2*i] + sent[2*i+1]
	}
	tl := settled(func() mediaTally { return tally(subs, sent) })

	r := &Result{}
	r.Set("scenario", "media")
	r.Set("publishers", nPub)
	r.Set("subscribers", nSub)
	r.Set("duration_s", measured.Seconds())
	r.Set("setup_ms", setupTime)
	streams := nSub*nPub + tl.audioStreams
	r.Set("streams", streams)
	r.Set("audio_streams", tl.audioStreams)
	if tl.missing > 0 {
		r.Set("video_missing", tl.missing)
	}
	r.Set("sent", sentAll)
	r.Set("expected", tl.expected)
	r.Set("received", tl.received)
	r.Set("lost", tl.lost)
	r.Set("lost_audio", tl.lostAudio)
	r.Set("duplicated", tl.dup)
	var renegErrors int64
	for _, s := range subs {
		renegErrors += s.renegErrors.Load()
	}
	r.Set("renegotiation_errors", renegErrors)
	got := tl.received
	pps := float64(got) / measured.Seconds()
	r.Set("forwarded_pps", pps)
	r.percentiles("latency_", latencies(subs))
	r.costs(before, after)
	if cpu := (after.cpu - before.cpu).Seconds(); cpu > 0 {
		r.Set("pps_per_server_core", float64(got)/cpu)
		r.Set("server_cpu_s_per_1k_streams", cpu/measured.Seconds()/float64(streams)*1000)
	}
	if after.rss > 0 {
		r.Set("server_rss_per_sub_kib", float64(after.rss-base.rss)/float64(nSub)/1024)
	}
	r.Set("elapsed_s", time.Since(t0).Seconds())
	return r, nil
}

// loginSubscribers logs in a client for each of subs (user IDs prefix0,
// prefix1, ...), whose mediaRenegotiate events for room go to it.
func (c Config) loginSubscribers(ctx context.Context, prefix, room string, subs []*mediaSub) ([]*client.Client, error) {
	return c.loginAll(ctx, prefix, len(subs), func(i int) func(client.Event) {
		return func(e client.Event) {
			if e.Name != protocol.EventMediaRenegotiate {
				return
			}
			var ev protocol.MediaRenegotiateEvent
			if e.Decode(&ev) == nil && ev.RoomID == room {
				subs[i].renegotiate(ev)
			}
		}
	})
}

// settled is tally() once the last packets (and any retransmission)
// have arrived: when nothing is lost and nothing more arrives, or after
// 3 s. (An audio track's last packet still in flight is not counted
// lost, only expected once it is there: the tally's range ends at the
// last received.)
func settled(tally func() mediaTally) mediaTally {
	deadline := time.Now().Add(3 * time.Second)
	for received := int64(-1); time.Now().Before(deadline); {
		tl := tally()
		if tl.lost == 0 && tl.received == received {
			break
		}
		received = tl.received
		time.Sleep(50 * time.Millisecond)
	}
	return tally()
}

// latencies are every forwarding latency subs measured.
func latencies(subs []*mediaSub) []time.Duration {
	var lat []time.Duration
	for _, s := range subs {
		s.mu.Lock()
		lat = append(lat, s.latencies...)
		s.mu.Unlock()
	}
	return lat
}

// forEach runs f(0..n-1), at most par at a time, and returns the first
// error.
func forEach(n, par int, f func(i int) error) error {
	errs := make(chan error, n)
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errs <- fmt.Errorf("%d: %w", i, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// allTracks reports whether every subscriber receives the video of all
// nPub publishers and some audio (the server forwards the audio of the
// loudest speakers only, when there are more than it forwards).
func allTracks(subs []*mediaSub, nPub int) bool {
	for _, s := range subs {
		s.mu.Lock()
		video, audio := 0, 0
		for k, t := range s.tracks {
			switch {
			case t == nil:
			case k%2 == 1:
				video++
			default:
				audio++
			}
		}
		s.mu.Unlock()
		if video < nPub || audio == 0 {
			return false
		}
	}
	return true
}

// mediaTally is what the subscribers received of what was sent while
// measuring.
type mediaTally struct {
	expected, received, lost, dup int64
	lostAudio                     int64 // of lost
	audioStreams                  int   // (subscriber, audio track) pairs received while measuring
	missing                       int   // (subscriber, video track) pairs never received
}

// tally counts, for every subscriber, each track's packets sent while
// measuring against those received. A video track is forwarded whole:
// each subscriber expects every packet its publisher sent (sent, by
// track number). An audio track is forwarded only while its publisher
// is among the loudest, and the server numbers what it forwards without
// gaps: a subscriber expects the RTP sequence numbers from the first to
// the last it received while measuring.
func tally(subs []*mediaSub, sent []int64) mediaTally {
	var tl mediaTally
	for _, s := range subs {
		s.mu.Lock()
		for k, t := range s.tracks {
			video := k%2 == 1
			if t == nil {
				if video {
					tl.missing++
					tl.expected += sent[k]
					tl.lost += sent[k]
				}
				continue
			}
			tl.received += t.measured
			tl.dup += t.dup
			var want int64
			switch {
			case video:
				want = sent[k]
			case t.measured > 0:
				want = t.maxSeq - t.minSeq + 1
				tl.audioStreams++
			}
			tl.expected += want
			tl.lost += max(0, want-t.measured)
			if !video {
				tl.lostAudio += max(0, want-t.measured)
			}
		}
		s.mu.Unlock()
	}
	return tl
}

// mediaClientAPI is the pion API of the scenario's clients, as a
// browser's would be: Opus and VP8 with NACK and PLI feedback, the
// audio-level extension, NACK (generator and responder), RTCP reports
// and transport-wide sequence numbers; loopback candidates only, udp4,
// no mDNS.
func mediaClientAPI() (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	fb := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeVP8, ClockRate: 90000, RTCPFeedback: fb,
	}, PayloadType: 96}, webrtc.RTPCodecTypeVideo); err != nil {
		return nil, err
	}
	if err := me.RegisterCodec(webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{
		MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2, SDPFmtpLine: "minptime=10;useinbandfec=1",
	}, PayloadType: 111}, webrtc.RTPCodecTypeAudio); err != nil {
		return nil, err
	}
	for _, e := range []string{sdp.AudioLevelURI, sdp.SDESMidURI} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e}, webrtc.RTPCodecTypeAudio); err != nil {
			return nil, err
		}
	}
	// mid and rid for video: the live scenario's host sends simulcast.
	for _, e := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI} {
		if err := me.RegisterHeaderExtension(webrtc.RTPHeaderExtensionCapability{URI: e}, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	reg := &interceptor.Registry{}
	if err := webrtc.ConfigureNack(me, reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(reg); err != nil {
		return nil, err
	}
	if err := webrtc.ConfigureTWCCHeaderExtensionSender(me, reg); err != nil {
		return nil, err
	}
	se := webrtc.SettingEngine{}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg), webrtc.WithSettingEngine(se)), nil
}

// negotiate offers pc's sections through cl (candidates gathered in the
// offer) and sets the server's answer; a refused offer is rolled back.
func negotiate(ctx context.Context, pc *webrtc.PeerConnection, cl *client.Client, room string) error {
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		return ctx.Err()
	}
	ans, err := cl.MediaOffer(ctx, protocol.MediaOfferRequest{RoomID: room, SDP: pc.LocalDescription().SDP})
	if err != nil {
		_ = pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
		return err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: ans.SDP}); err != nil {
		return err
	}
	_, err = cl.MediaAnswered(ctx, protocol.MediaAnsweredRequest{RoomID: room})
	return err
}

// waitConnected waits for pc to be connected.
func waitConnected(ctx context.Context, pc *webrtc.PeerConnection, up <-chan struct{}) error {
	select {
	case <-up:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("not connected (%s): %w", pc.ConnectionState(), ctx.Err())
	}
}

// connectedSignal is closed the first time pc is connected.
func connectedSignal(pc *webrtc.PeerConnection) <-chan struct{} {
	up := make(chan struct{})
	var once sync.Once
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() { close(up) })
		}
	})
	return up
}

// mediaPub is a publisher: a microphone and a camera, sending only.
type mediaPub struct {
	idx          int
	pc           *webrtc.PeerConnection
	audio, video *webrtc.TrackLocalStaticRTP
	sent         [2]atomic.Int64 // packets sent while measuring: audio, video
	stop         chan struct{}
	wg           sync.WaitGroup // the RTCP readers
	senders      sync.WaitGroup
	stopOnce     sync.Once
	levelID      uint8 // the audio-level extension's ID on pc, 0 for none
}

func newMediaPub(ctx context.Context, api *webrtc.API, cl *client.Client, room string, idx int) (*mediaPub, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pb := &mediaPub{idx: idx, pc: pc, stop: make(chan struct{})}
	up := connectedSignal(pc)
	stream := fmt.Sprint("pub", idx)
	if pb.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", stream); err != nil {
		return pb, err
	}
	if pb.video, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", stream); err != nil {
		return pb, err
	}
	var mic *webrtc.RTPTransceiver
	for _, t := range []*webrtc.TrackLocalStaticRTP{pb.audio, pb.video} {
		tr, err := pc.AddTransceiverFromTrack(t, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
		if err != nil {
			return pb, err
		}
		if mic == nil {
			mic = tr
		}
		// Read the sender's RTCP: pion's NACK responder runs only then.
		pb.wg.Add(1)
		go func() {
			defer pb.wg.Done()
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Sender().Read(buf); err != nil {
					return
				}
			}
		}()
	}
	if err := negotiate(ctx, pc, cl, room); err != nil {
		return pb, err
	}
	for _, e := range mic.Sender().GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			pb.levelID = uint8(e.ID)
		}
	}
	return pb, waitConnected(ctx, pc, up)
}

// start sends both tracks until halt.
func (pb *mediaPub) start(measuring *atomic.Bool) {
	pb.senders.Add(2)
	go func() {
		defer pb.senders.Done()
		// Every publisher speaks, each at a level of its own (RFC 6464:
		// -dBov, the voice-activity bit set), as a browser's microphone
		// says: the server's speaker selection ranks them steadily.
		level := []byte{0x80 | byte(min(20+5*pb.idx, 45))}
		pb.send(pb.audio, uint16(2*pb.idx), mediaAudioInterval, 960, []int{mediaAudioPayload}, func(h *rtp.Header) {
			if pb.levelID != 0 {
				_ = h.SetExtension(pb.levelID, level)
			}
		}, measuring, &pb.sent[0])
	}()
	go func() {
		defer pb.senders.Done()
		frame := mediaVideoBitrate / 8 / mediaVideoFPS
		n := (frame + mediaVideoPacket - 1) / mediaVideoPacket
		sizes := make([]int, n)
		for i := range sizes {
			sizes[i] = frame / n
		}
		sizes[n-1] += frame % n
		pb.send(pb.video, uint16(2*pb.idx+1), time.Second/mediaVideoFPS, 90000/mediaVideoFPS, sizes, nil, measuring, &pb.sent[1])
	}()
}

// send writes one frame of packets of sizes every interval (RTP
// timestamps step by tsStep), the frame's last packet marked.
func (pb *mediaPub) send(t *webrtc.TrackLocalStaticRTP, track uint16, every time.Duration, tsStep uint32, sizes []int, ext func(*rtp.Header), measuring *atomic.Bool, sent *atomic.Int64) {
	// Spread the publishers' frames over the interval.
	select {
	case <-time.After(every * time.Duration(pb.idx%8) / 8):
	case <-pb.stop:
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	buf := make([]byte, mediaVideoPacket+mediaAudioPayload)
	var seq uint16
	var num uint32
	var ts uint32
	for {
		for i, size := range sizes {
			m := measuring.Load()
			payload := buf[:max(size, mediaPayloadHeader)]
			mediaPayload(payload, time.Now(), num, track, m)
			pkt := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: ts, Marker: i == len(sizes)-1,
			}, Payload: payload}
			if ext != nil {
				ext(&pkt.Header)
			}
			err := t.WriteRTP(pkt)
			if errors.Is(err, webrtc.ErrConnectionClosed) || errors.Is(err, net.ErrClosed) {
				return
			}
			if m && err == nil {
				sent.Add(1)
			}
			seq++
			num++
		}
		ts += tsStep
		select {
		case <-tick.C:
		case <-pb.stop:
			return
		}
	}
}

// halt stops sending, and returns once the last packet is out.
func (pb *mediaPub) halt() {
	pb.stopOnce.Do(func() { close(pb.stop) })
	pb.senders.Wait()
}

func (pb *mediaPub) close() {
	pb.halt()
	_ = pb.pc.Close()
	pb.wg.Wait()
}

// mediaSub is a subscriber: it receives every track, offering receiving
// sections as the server's renegotiations ask, and records what arrives.
type mediaSub struct {
	reneg chan protocol.MediaRenegotiateEvent // the latest signal not yet answered
	stop  chan struct{}
	wg    sync.WaitGroup
	pc    *webrtc.PeerConnection
	once  sync.Once

	renegErrors atomic.Int64 // offers refused or failed
	videoSkip   int          // bytes of a video payload before the measurement header (live: the VP8 descriptor and frame header)

	mu        sync.Mutex
	tracks    []*subTrack // by track number; nil until its first packet
	latencies []time.Duration
}

// subTrack is what a subscriber received of one track.
type subTrack struct {
	seen     []uint64 // bit n: packet number n arrived
	measured int64    // distinct packets sent while measuring that arrived
	dup      int64
	// The RTP sequence numbers (extended past their wrap) of the first
	// and last of those, by number.
	minSeq, maxSeq int64
	lastSeq        uint16 // the last packet's, to extend the next
	cycles         int64
	started        bool
}

func newMediaSub(nTracks int) *mediaSub {
	return &mediaSub{reneg: make(chan protocol.MediaRenegotiateEvent, 1), stop: make(chan struct{}), tracks: make([]*subTrack, nTracks)}
}

// renegotiate queues the server's signal (the latest replaces one not
// yet taken); the subscriber's negotiation loop offers again.
func (s *mediaSub) renegotiate(ev protocol.MediaRenegotiateEvent) {
	for {
		select {
		case s.reneg <- ev:
			return
		default:
		}
		select {
		case <-s.reneg:
		default:
		}
	}
}

// connect makes the subscriber's connection with a receiving section for
// each of the publishers' tracks, offers, and then answers every
// renegotiation with a new offer (one at a time: a signal that comes
// while an offer is in flight waits for its answer).
func (s *mediaSub) connect(ctx context.Context, api *webrtc.API, cl *client.Client, room string, nPub int) error {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.pc = pc
	s.mu.Unlock()
	up := connectedSignal(pc)
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.read(tr)
		}()
	})
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo} {
		for range nPub {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				return err
			}
		}
	}
	if err := negotiate(ctx, pc, cl, room); err != nil {
		return err
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			select {
			case <-s.stop:
				return
			case ev := <-s.reneg:
				// A refused offer is rolled back and tried again (the
				// server may not signal again).
				for try := 0; s.reoffer(pc, cl, room, ev) != nil; try++ {
					s.renegErrors.Add(1)
					select {
					case <-s.stop:
						return
					case <-time.After(200 * time.Millisecond):
					}
					if try == 4 {
						break
					}
				}
			}
		}
	}()
	return waitConnected(ctx, pc, up)
}

// reoffer adds receiving sections until there are as many of each kind
// as ev's tracks, and offers again.
func (s *mediaSub) reoffer(pc *webrtc.PeerConnection, cl *client.Client, room string, ev protocol.MediaRenegotiateEvent) error {
	need := map[webrtc.RTPCodecType]int{}
	for _, t := range ev.Tracks {
		need[webrtc.NewRTPCodecType(t.Kind)]++
	}
	have := map[webrtc.RTPCodecType]int{}
	for _, tr := range pc.GetTransceivers() {
		if tr.Direction() == webrtc.RTPTransceiverDirectionRecvonly {
			have[tr.Kind()]++
		}
	}
	for kind, n := range need {
		for ; have[kind] < n; have[kind]++ {
			if _, err := pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return negotiate(ctx, pc, cl, room)
}

// read records every packet of tr until it ends.
func (s *mediaSub) read(tr *webrtc.TrackRemote) {
	buf := make([]byte, 1600)
	var h rtp.Header
	for {
		n, _, err := tr.Read(buf)
		if err != nil {
			return
		}
		now := time.Now().UnixNano()
		off, err := h.Unmarshal(buf[:n])
		if err != nil || n-off < mediaPayloadHeader {
			continue
		}
		pl := buf[off:n]
		if tr.Kind() == webrtc.RTPCodecTypeVideo {
			if len(pl) < s.videoSkip+mediaPayloadHeader {
				continue
			}
			pl = pl[s.videoSkip:]
		}
		sentAt := int64(binary.BigEndian.Uint64(pl[0:8]))
		num := binary.BigEndian.Uint32(pl[8:12])
		track := int(binary.BigEndian.Uint16(pl[12:14]))
		measured := pl[14] == 1
		s.mu.Lock()
		if track < len(s.tracks) {
			t := s.tracks[track]
			if t == nil {
				t = &subTrack{}
				s.tracks[track] = t
			}
			w, bit := int(num/64), uint64(1)<<(num%64)
			for len(t.seen) <= w {
				t.seen = append(t.seen, 0)
			}
			// Extend the sequence number: a step back of more than half
			// the range is a wrap forwards (and the reverse).
			cycles := t.cycles
			if !t.started {
				t.started, t.lastSeq = true, h.SequenceNumber
			} else if d := int16(h.SequenceNumber - t.lastSeq); d > 0 {
				if h.SequenceNumber < t.lastSeq {
					cycles++
				}
				t.cycles, t.lastSeq = cycles, h.SequenceNumber
			} else if h.SequenceNumber > t.lastSeq {
				cycles-- // an older packet, from before the wrap
			}
			seq := cycles<<16 | int64(h.SequenceNumber)
			switch {
			case t.seen[w]&bit != 0:
				t.dup++
			default:
				t.seen[w] |= bit
				if measured {
					if t.measured == 0 || seq < t.minSeq {
						t.minSeq = seq
					}
					if t.measured == 0 || seq > t.maxSeq {
						t.maxSeq = seq
					}
					t.measured++
					s.latencies = append(s.latencies, time.Duration(now-sentAt))
				}
			}
		}
		s.mu.Unlock()
	}
}

func (s *mediaSub) close() {
	s.once.Do(func() { close(s.stop) })
	s.mu.Lock()
	pc := s.pc
	s.mu.Unlock()
	if pc != nil {
		_ = pc.Close()
	}
	s.wg.Wait()
}
