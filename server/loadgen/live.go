package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// The live scenario's host camera: three simulcast layers, as a 720p
// browser camera sends them (a quarter, half and all of 1280x720), at
// 30 frames a second.
var liveLayers = [3]struct {
	rid           string
	bitrate       int // bits a second
	width, height int
}{{"q", 150_000, 320, 180}, {"h", 500_000, 640, 360}, {"f", 1_500_000, 1280, 720}}

// liveVP8Header is the length of the VP8 payload descriptor and frame
// header that come before the measurement header in a live video
// packet: X, I (15-bit picture ID), L (TL0PICIDX), then the 10 bytes of
// a frame header.
const liveVP8Header = 5 + 10

// Live is one host and Clients viewers (default 200) in one room: the
// host publishes a synthetic Opus track and a camera in three simulcast
// layers (q, h and f: 150 kbit/s, 500 kbit/s and 1.5 Mbit/s, 30 frames
// a second, real VP8 payload descriptors and key frames, a key frame on
// a layer when the server asks for one); each viewer, a pion connection
// receiving one audio and one video section, takes the layer Layer
// names ("q" by default; "mix" spreads the viewers over q, h and f) with
// mediaSubscribe's sizes, before its first offer. Once every viewer
// receives video it measures for Duration (default 20 s): forwarded
// packets a second, forwarding latency, loss (the packets of each
// viewer's layer sent while measuring that it did not receive, and gaps
// in its audio), and the server's packets out per CPU second.
//
// The server must gather loopback candidates (-media-loopback).
func Live(ctx context.Context, c Config, p Params) (*Result, error) {
	nView := orDefault(p.Clients, 200)
	dur := orDefault(p.Duration, 20*time.Second)
	limit := orDefault(c.Limit, 2*time.Minute)
	layerOf := func(i int) int { return 0 }
	switch p.Layer {
	case "", "q":
	case "h":
		layerOf = func(int) int { return 1 }
	case "f":
		layerOf = func(int) int { return 2 }
	case "mix":
		layerOf = func(i int) int { return i % 3 }
	default:
		return nil, fmt.Errorf("live: layer %q is not q, h, f or mix", p.Layer)
	}
	const room = "live"
	t0 := time.Now()

	api, err := mediaClientAPI()
	if err != nil {
		return nil, err
	}
	hostClients, err := c.loginAll(ctx, "host", 1, nil)
	if err != nil {
		return nil, err
	}
	defer logoutAll(hostClients)
	views := make([]*mediaSub, nView)
	for i := range views {
		views[i] = newMediaSub(2) // track 0 the audio, 1 the video (one layer)
		views[i].videoSkip = liveVP8Header
	}
	viewClients, err := c.loginSubscribers(ctx, "view", room, views)
	if err != nil {
		return nil, err
	}
	defer logoutAll(viewClients)
	all := append(append([]*client.Client{}, hostClients...), viewClients...)
	if err := enterAll(ctx, all, func(int) string { return room }, nil); err != nil {
		return nil, err
	}
	setup, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	var measuring atomic.Bool
	host, err := newLivePub(setup, api, hostClients[0], room)
	if host != nil {
		defer host.close()
	}
	if err != nil {
		return nil, fmt.Errorf("host: %w", err)
	}
	host.start(&measuring)
	time.Sleep(500 * time.Millisecond) // the host's tracks are in the room
	base := c.sample()
	const hostID = "host0" // loginAll's user ID of the one host

	defer func() {
		for _, v := range views {
			v.close()
		}
	}()
	start := time.Now()
	if err := forEach(nView, 8, func(i int) error {
		cl := viewClients[i]
		sizes := map[string]protocol.VideoSize{hostID: {Layer: liveLayers[layerOf(i)].rid}}
		if _, err := cl.MediaSubscribe(setup, protocol.MediaSubscribeRequest{RoomID: room, Video: []string{hostID}, Sizes: sizes}); err != nil {
			return err
		}
		return views[i].connect(setup, api, cl, room, 1)
	}); err != nil {
		return nil, fmt.Errorf("viewer: %w", err)
	}
	for setup.Err() == nil && !allTracks(views, 1) {
		time.Sleep(50 * time.Millisecond)
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	setupTime := time.Since(start)
	time.Sleep(time.Second) // settle: key frames, first reports

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
	host.halt()

	// Each viewer expects what its layer sent while measuring.
	byLayer := [3][]*mediaSub{}
	for i, v := range views {
		byLayer[layerOf(i)] = append(byLayer[layerOf(i)], v)
	}
	tallyAll := func() mediaTally {
		var tl mediaTally
		for l, group := range byLayer {
			g := tally(group, []int64{0, host.sent[l+1].Load()})
			tl.received += g.received
			tl.expected += g.expected
			tl.lost += g.lost
			tl.lostAudio += g.lostAudio
			tl.dup += g.dup
			tl.missing += g.missing
			tl.audioStreams += g.audioStreams
		}
		return tl
	}
	tl := settled(tallyAll)

	r := &Result{}
	r.Set("scenario", "live")
	r.Set("viewers", nView)
	layer := p.Layer
	if layer == "" {
		layer = "q"
	}
	r.Set("layer", layer)
	r.Set("duration_s", measured.Seconds())
	r.Set("setup_ms", setupTime)
	if tl.missing > 0 {
		r.Set("video_missing", tl.missing)
	}
	r.Set("expected", tl.expected)
	r.Set("received", tl.received)
	r.Set("lost", tl.lost)
	r.Set("lost_audio", tl.lostAudio)
	r.Set("duplicated", tl.dup)
	r.Set("forwarded_pps", float64(tl.received)/measured.Seconds())
	r.percentiles("latency_", latencies(views))
	r.costs(before, after)
	if cpu := (after.cpu - before.cpu).Seconds(); cpu > 0 {
		r.Set("pps_per_server_core", float64(tl.received)/cpu)
	}
	if after.rss > 0 {
		r.Set("server_rss_per_viewer_kib", float64(after.rss-base.rss)/float64(nView)/1024)
	}
	r.Set("elapsed_s", time.Since(t0).Seconds())
	return r, nil
}

// livePub is the live scenario's host: a microphone, and a camera in
// three simulcast layers on one section.
type livePub struct {
	pc       *webrtc.PeerConnection
	audio    *webrtc.TrackLocalStaticRTP
	layers   [3]*webrtc.TrackLocalStaticRTP
	wantKey  [3]atomic.Bool
	sent     [4]atomic.Int64 // packets sent while measuring: the audio, then each layer
	midID    uint8
	ridID    uint8
	mid      string
	levelID  uint8
	stop     chan struct{}
	stopOnce sync.Once
	wg       sync.WaitGroup // the RTCP readers
	senders  sync.WaitGroup
}

func newLivePub(ctx context.Context, api *webrtc.API, cl *client.Client, room string) (*livePub, error) {
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, err
	}
	pb := &livePub{pc: pc, stop: make(chan struct{})}
	up := connectedSignal(pc)
	if pb.audio, err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, "mic", "host"); err != nil {
		return pb, err
	}
	for i, l := range liveLayers {
		if pb.layers[i], err = webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "cam", "host", webrtc.WithRTPStreamID(l.rid)); err != nil {
			return pb, err
		}
		pb.wantKey[i].Store(true)
	}
	mic, err := pc.AddTransceiverFromTrack(pb.audio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return pb, err
	}
	cam, err := pc.AddTransceiverFromTrack(pb.layers[0], webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		return pb, err
	}
	for _, t := range pb.layers[1:] {
		if err := cam.Sender().AddEncoding(t); err != nil {
			return pb, err
		}
	}
	// Read the RTCP (pion's NACK responder runs only then); a PLI on a
	// layer has its next frame a key frame.
	pb.wg.Add(1)
	go func() {
		defer pb.wg.Done()
		buf := make([]byte, 1500)
		for {
			if _, _, err := mic.Sender().Read(buf); err != nil {
				return
			}
		}
	}()
	for i, l := range liveLayers {
		pb.wg.Add(1)
		go func() {
			defer pb.wg.Done()
			for {
				pkts, _, err := cam.Sender().ReadSimulcastRTCP(l.rid)
				if err != nil {
					return
				}
				for _, p := range pkts {
					switch p.(type) {
					case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
						pb.wantKey[i].Store(true)
					}
				}
			}
		}()
	}
	if err := negotiate(ctx, pc, cl, room); err != nil {
		return pb, err
	}
	pb.mid = cam.Mid()
	for _, e := range mic.Sender().GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			pb.levelID = uint8(e.ID)
		}
	}
	for _, e := range cam.Sender().GetParameters().HeaderExtensions {
		switch e.URI {
		case sdp.SDESMidURI:
			pb.midID = uint8(e.ID)
		case sdp.SDESRTPStreamIDURI:
			pb.ridID = uint8(e.ID)
		}
	}
	if pb.midID == 0 || pb.ridID == 0 {
		return pb, errors.New("the camera's section has no mid or rid header extension")
	}
	return pb, waitConnected(ctx, pc, up)
}

// start sends the microphone and each layer until halt.
func (pb *livePub) start(measuring *atomic.Bool) {
	pb.senders.Add(1 + len(pb.layers))
	go func() {
		defer pb.senders.Done()
		pb.sendAudio(measuring)
	}()
	for i := range pb.layers {
		go func() {
			defer pb.senders.Done()
			pb.sendLayer(i, measuring)
		}()
	}
}

func (pb *livePub) sendAudio(measuring *atomic.Bool) {
	tick := time.NewTicker(mediaAudioInterval)
	defer tick.Stop()
	payload := make([]byte, mediaAudioPayload)
	level := []byte{0x80 | 20}
	for n := uint32(0); ; n++ {
		m := measuring.Load()
		mediaPayload(payload, time.Now(), n, 0, m)
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: uint16(n), Timestamp: 960 * n, Marker: n == 0}, Payload: payload}
		if pb.levelID != 0 {
			_ = pkt.Header.SetExtension(pb.levelID, level)
		}
		if !pb.write(pb.audio, pkt, m, &pb.sent[0]) {
			return
		}
		select {
		case <-tick.C:
		case <-pb.stop:
			return
		}
	}
}

// sendLayer sends layer i's frames, each split into packets of at most
// mediaVideoPacket bytes, every packet with the VP8 payload descriptor
// (the picture ID and TL0PICIDX of its frame; the start bit on the
// first) and a key frame when one was asked for.
func (pb *livePub) sendLayer(i int, measuring *atomic.Bool) {
	l := liveLayers[i]
	frame := l.bitrate / 8 / mediaVideoFPS
	n := (frame + mediaVideoPacket - 1) / mediaVideoPacket
	size := max(frame/n, liveVP8Header+mediaPayloadHeader)
	tick := time.NewTicker(time.Second / mediaVideoFPS)
	defer tick.Stop()
	buf := make([]byte, size)
	var seq uint16
	var num uint32
	for f := 0; ; f++ {
		key := pb.wantKey[i].Swap(false)
		pic := uint16(f) & 0x7fff
		for k := range n {
			m := measuring.Load()
			b := buf[:size]
			b[0], b[1], b[2], b[3], b[4] = 0x80, 0xc0, 0x80|byte(pic>>8), byte(pic), byte(f)
			if k == 0 {
				b[0] |= 0x10 // S: the frame starts here
			}
			copy(b[5:15], []byte{0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0})
			if k == 0 && key {
				copy(b[5:15], []byte{0x00, 0, 0, 0x9d, 0x01, 0x2a, byte(l.width), byte(l.width >> 8), byte(l.height), byte(l.height >> 8)})
			}
			mediaPayload(b[liveVP8Header:], time.Now(), num, 1, m)
			pkt := &rtp.Packet{Header: rtp.Header{
				Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(f * 90000 / mediaVideoFPS), Marker: k == n-1,
			}, Payload: b}
			_ = pkt.Header.SetExtension(pb.midID, []byte(pb.mid))
			_ = pkt.Header.SetExtension(pb.ridID, []byte(l.rid))
			if !pb.write(pb.layers[i], pkt, m, &pb.sent[i+1]) {
				return
			}
			seq++
			num++
		}
		select {
		case <-tick.C:
		case <-pb.stop:
			return
		}
	}
}

// write sends pkt on t, counting it when measuring; false once the
// connection is closed.
func (pb *livePub) write(t *webrtc.TrackLocalStaticRTP, pkt *rtp.Packet, measuring bool, sent *atomic.Int64) bool {
	err := t.WriteRTP(pkt)
	if errors.Is(err, webrtc.ErrConnectionClosed) || errors.Is(err, net.ErrClosed) {
		return false
	}
	if measuring && err == nil {
		sent.Add(1)
	}
	return true
}

// halt stops sending, and returns once the last packet is out.
func (pb *livePub) halt() {
	pb.stopOnce.Do(func() { close(pb.stop) })
	pb.senders.Wait()
}

func (pb *livePub) close() {
	pb.halt()
	_ = pb.pc.Close()
	pb.wg.Wait()
}
