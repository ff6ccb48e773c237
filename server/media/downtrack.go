package media

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// downTrack is one published track as one subscriber receives it: a
// pion TrackLocal on the subscriber's connection, whose Bind gives the
// SSRC, payload type and header extension IDs negotiated there, with a
// bounded queue and a writer goroutine of its own.
type downTrack struct {
	t   *publishedTrack
	sub *member

	q        chan queued
	done     chan struct{}
	stopOnce sync.Once
	bound    atomic.Pointer[binding]
	sender   *webrtc.RTPSender // set by the subscriber's actor before the writer starts

	sent, dropped atomic.Uint64
	wrote         bool // the writer's: a packet has reached the connection

	// held is set by Bind and cleared by release: until the subscriber
	// has set the answer that declares the track's SSRC (it says so with
	// mediaAnswered), what it would receive is media it cannot place yet,
	// and the first key frame would be lost to it.
	held atomic.Bool

	// Of a simulcast track (see simulcast.go): the size the subscriber
	// shows it at (set by its member's actor, nil for none), the layer it
	// is to get (set by the track's layer goroutine) and the one it gets
	// (set by the writer), and the writer's rewriting.
	size            atomic.Pointer[VideoSize]
	target, current atomic.Int32
	switches        atomic.Uint64
	fwd             forwarder
}

// queued is a packet waiting for a down track's writer, with the index
// of the layer it is of.
type queued struct {
	p     *rtp.Packet
	layer int
}

// binding is what the subscriber's connection negotiated for a down
// track.
type binding struct {
	ssrc         uint32
	pt           uint8
	audioLevelID uint8
	w            webrtc.TrackLocalWriter
}

func newDownTrack(t *publishedTrack, sub *member) *downTrack {
	d := &downTrack{
		t: t, sub: sub,
		q:    make(chan queued, sub.r.s.limits.QueuePackets),
		done: make(chan struct{}),
		fwd:  forwarder{clock: float64(t.codec.ClockRate)},
	}
	if d.fwd.clock == 0 {
		d.fwd.clock = 90000
	}
	if isVP8(t.codec) {
		d.fwd.vp8 = &vp8Munger{}
	}
	d.target.Store(noLayer)
	d.current.Store(noLayer)
	if s, ok := sub.sizes[t.userID]; ok {
		d.size.Store(&s)
	}
	if t.simulcast {
		d.retarget(t.liveLayers(time.Now()))
	}
	return d
}

// Bind is pion's: the subscriber's connection has negotiated the track.
// It picks the negotiated codec that is the publisher's and keeps the
// SSRC, payload type and audio-level ID for the writer. The track is
// held until the subscriber has set the answer (release), at most
// Config.AnswerWait.
//
// Bind never fails: pion calls it from SetLocalDescription, after the
// answer is set, and an error there leaves the connection broken for
// good. The member drops a down track whose section lacks the codec
// before it answers (dropUnreceivable); should pion still bind one
// (its codec list is the connection's, not the section's), the track is
// bound to nothing and its packets are dropped for this subscriber.
func (d *downTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	negotiated := ctx.CodecParameters()
	codec, ok := matchCodec(d.t.codec, negotiated)
	if !ok {
		d.bound.Store(nil)
		if len(negotiated) == 0 {
			return d.t.codec, nil // nothing is written under it
		}
		return negotiated[0], nil
	}
	b := &binding{ssrc: uint32(ctx.SSRC()), pt: uint8(codec.PayloadType), w: ctx.WriteStream()}
	for _, e := range ctx.HeaderExtensions() {
		if e.URI == sdp.AudioLevelURI {
			b.audioLevelID = uint8(e.ID)
		}
	}
	d.held.Store(true)
	d.bound.Store(b)
	time.AfterFunc(d.sub.r.s.cfg.answerWait(), d.release)
	return codec, nil
}

// release lets a held down track's writer send, and asks the publisher
// for a key frame so the subscriber's video starts at once (that request
// may go before SRTP is up: the writer asks again with its first packet
// written). Safe to call at any time, more than once.
func (d *downTrack) release() {
	select {
	case <-d.done:
		return
	default:
	}
	if d.held.CompareAndSwap(true, false) {
		d.requestKeyframe(true)
	}
}

// Unbind is pion's: the track is no longer sent on the connection.
func (d *downTrack) Unbind(webrtc.TrackLocalContext) error {
	d.bound.Store(nil)
	return nil
}

// ID is the track's ID in the room (the msid track ID).
func (d *downTrack) ID() string { return d.t.id }

// RID is empty: a subscriber gets one layer of a simulcast track, as
// one stream.
func (d *downTrack) RID() string { return "" }

// StreamID is the publisher's user ID (the msid stream ID).
func (d *downTrack) StreamID() string { return d.t.userID }

// Kind is the published track's kind.
func (d *downTrack) Kind() webrtc.RTPCodecType { return d.t.kind }

// push queues p, of layer i, for the subscriber without blocking: a
// full queue drops it (counted).
func (d *downTrack) push(p *rtp.Packet, i int) {
	select {
	case d.q <- queued{p, i}:
	default:
		d.dropped.Add(1)
	}
}

// stop ends the down track's forwarding and its writer.
func (d *downTrack) stop() {
	d.stopOnce.Do(func() {
		d.t.detach(d)
		close(d.done)
	})
}

// writeLoop writes what is queued until stop.
func (d *downTrack) writeLoop() {
	hook := d.sub.r.writeHook
	for {
		select {
		case <-d.done:
			return
		case q := <-d.q:
			if hook != nil {
				hook(d)
			}
			d.write(q.p, q.layer)
		}
	}
}

// write sends p (of layer i) with the subscriber's SSRC and payload
// type; of a simulcast track, only a packet of the layer forwarded,
// rewritten (forward). The publisher's header extensions are dropped
// (their IDs are the publisher's connection's); the audio level is
// carried over under the subscriber's ID for it. Before Bind, and while
// held, p is dropped.
func (d *downTrack) write(p *rtp.Packet, i int) {
	b := d.bound.Load()
	if b == nil || d.held.Load() {
		return
	}
	seq, ts, payload := p.SequenceNumber, p.Timestamp, p.Payload
	if d.t.simulcast {
		var ok bool
		if seq, ts, payload, ok = d.forward(p, i, time.Now()); !ok {
			return
		}
	}
	h := rtp.Header{
		Version:        2,
		Padding:        p.Header.Padding,
		Marker:         p.Marker,
		PayloadType:    b.pt,
		SequenceNumber: seq,
		Timestamp:      ts,
		SSRC:           b.ssrc,
		CSRC:           p.CSRC,
		PaddingSize:    p.Header.PaddingSize,
	}
	if b.audioLevelID != 0 && d.t.audioLevelID != 0 {
		if lvl := p.GetExtension(d.t.audioLevelID); lvl != nil {
			_ = h.SetExtension(b.audioLevelID, lvl)
		}
	}
	// Before SRTP is up pion takes the packet and writes nothing (n 0).
	if n, err := b.w.WriteRTP(&h, payload); err == nil && n > 0 {
		d.sent.Add(1)
		if !d.wrote {
			d.wrote = true
			d.requestKeyframe(true) // the one asked for at release was most likely lost
		}
	} else if !d.wrote && d.t.simulcast {
		d.unstart()
	}
}

// unstart forgets what a simulcast down track forwarded before anything
// reached its subscriber (the key frame it started at went nowhere, SRTP
// not being up): it starts again at the next key frame, which the
// track's layer goroutine asks for while the track is not on its
// target. Used by the writer only.
func (d *downTrack) unstart() {
	d.current.Store(noLayer)
	fresh := forwarder{clock: d.fwd.clock}
	if d.fwd.vp8 != nil {
		fresh.vp8 = &vp8Munger{}
	}
	d.fwd = fresh
}

// readRTCP reads the subscriber's RTCP for this track until the sender
// stops: pion's NACK responder answers NACKs only while this reads, and
// PLI/FIR become a key frame request to the publisher (throttled there).
func (d *downTrack) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				d.requestKeyframe(false)
			}
		}
	}
}

// matchCodec is the codec among negotiated that carries want: the same
// MIME type and, for H.264, the same profile and packetization mode.
func matchCodec(want webrtc.RTPCodecParameters, negotiated []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	var fallback *webrtc.RTPCodecParameters
	for i, c := range negotiated {
		if !strings.EqualFold(c.MimeType, want.MimeType) {
			continue
		}
		if c.SDPFmtpLine == want.SDPFmtpLine {
			return c, true
		}
		if !strings.EqualFold(want.MimeType, webrtc.MimeTypeH264) {
			if fallback == nil {
				fallback = &negotiated[i]
			}
			continue
		}
		a, b := fmtp(want.SDPFmtpLine), fmtp(c.SDPFmtpLine)
		if a["packetization-mode"] == b["packetization-mode"] && prefix(a["profile-level-id"], 2) == prefix(b["profile-level-id"], 2) && fallback == nil {
			fallback = &negotiated[i]
		}
	}
	if fallback != nil {
		return *fallback, true
	}
	return webrtc.RTPCodecParameters{}, false
}

// fmtp parses an a=fmtp parameter line into lower-case keys and values.
func fmtp(line string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(line, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		if k != "" {
			out[strings.ToLower(k)] = strings.ToLower(v)
		}
	}
	if out["packetization-mode"] == "" {
		out["packetization-mode"] = "0"
	}
	return out
}

func prefix(s string, n int) string {
	if len(s) < n {
		return s
	}
	return s[:n]
}
