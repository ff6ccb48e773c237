package media

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// maxLayers is the number of simulcast layers a video track may have:
// rids q, h and f (quarter, half and full resolution), in that order.
const maxLayers = 3

// layerRIDs are the simulcast rids the server takes, lowest quality
// first: a layer's index is its place here.
var layerRIDs = [maxLayers]string{"q", "h", "f"}

// layerIndex is rid's index in layerRIDs, -1 for none.
func layerIndex(rid string) int {
	for i, r := range layerRIDs {
		if r == rid {
			return i
		}
	}
	return -1
}

// publishedTrack is one track a member sends, with one layer, or up to
// three for a simulcast video track (one encoding each, on the same
// receiver). Each layer's read goroutine takes the publisher's RTP
// (after pion's receiving interceptors: NACKs for what is lost, TWCC
// feedback, reports), bounds its bitrate and hands each packet to the
// down tracks of its subscribers; of a simulcast track, only to those
// forwarding or switching to that layer.
type publishedTrack struct {
	id        string // set by Room.addTrack, before anyone else sees t
	pub       *member
	userID    string
	kind      webrtc.RTPCodecType
	source    Source
	mid       string                    // its section on the publisher's connection
	codec     webrtc.RTPCodecParameters // as the publisher negotiated it
	recv      *webrtc.RTPReceiver
	pc        *webrtc.PeerConnection // the publisher's, for key frame requests
	simulcast bool                   // its section declares rids: layers are switched per subscriber
	declared  [maxLayers]bool        // the layers its section declares
	ended     chan struct{}          // closed when every layer's readLoop has returned

	layers [maxLayers]atomic.Pointer[layer] // by index; added by the publisher's actor

	audioLevelID uint8 // the publisher's audio-level extension ID, 0 for none
	keyInterval  time.Duration
	speaking     uint8 // Config.SpeakingLevel
	rate         int   // bits per second a layer may take

	order     uint64      // set by Room.addTrack: its place in the room
	meter     audioMeter  // added to by the read goroutine, taken by the room's speaker goroutine
	paused    atomic.Bool // an audio track not among the loudest: read, not forwarded
	lastMeter uint64      // the speaker goroutine's: the meter's previous interval
	heard     uint64      // under the room's mu: the speaker round it was last forwarded speaking in (or published in)

	mu      sync.Mutex
	closed  bool
	loops   int                          // layers whose readLoop runs, under mu
	subs    atomic.Pointer[[]*downTrack] // copy on write under mu
	gone    sync.Once                    // the track leaves the room once
	stopped chan struct{}                // closed by close: the track's goroutines end

	received, rateDropped, keyframes atomic.Uint64
}

// layer is one encoding of a published track: the only one of a track
// without simulcast (index 0, no rid), or one of q, h and f.
type layer struct {
	index  int
	rid    string
	remote *webrtc.TrackRemote
	ssrc   uint32

	bucket tokenBucket // the read goroutine's
	seq    seqMunger   // the read goroutine's

	received atomic.Uint64
	lastAt   atomic.Int64  // unix nanoseconds of its last packet
	width    atomic.Uint32 // of its last VP8 key frame, 0 unknown
	height   atomic.Uint32
	lastKey  atomic.Int64 // unix nanoseconds of the last key frame request
	trailing atomic.Bool  // a deferred request is scheduled
}

func newPublishedTrack(m *member, pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver, src Source, userID string) *publishedTrack {
	lim := m.r.s.limits
	rate := lim.VideoBitrate
	if remote.Kind() == webrtc.RTPCodecTypeAudio {
		rate = lim.AudioBitrate
	}
	t := &publishedTrack{
		pub: m, userID: userID, kind: remote.Kind(), source: src, codec: remote.Codec(),
		recv: recv, pc: pc, simulcast: remote.RID() != "",
		ended: make(chan struct{}), stopped: make(chan struct{}),
		keyInterval: lim.KeyframeInterval,
		speaking:    m.r.s.cfg.speakingLevel(),
		rate:        rate,
	}
	for _, tr := range recv.Tracks() {
		if i := layerIndex(tr.RID()); i >= 0 && t.simulcast {
			t.declared[i] = true
		}
	}
	for _, e := range recv.GetParameters().HeaderExtensions {
		if e.URI == sdp.AudioLevelURI {
			t.audioLevelID = uint8(e.ID)
		}
	}
	return t
}

// addLayer makes remote a layer of t (the first of a track without
// simulcast; q, h or f by its rid) and counts its read goroutine, which
// the caller starts; nil when t is closed, the rid is not one the
// server takes, or the layer is there already.
func (t *publishedTrack) addLayer(remote *webrtc.TrackRemote) *layer {
	i := 0
	if t.simulcast {
		if i = layerIndex(remote.RID()); i < 0 {
			return nil
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed || t.layers[i].Load() != nil {
		return nil
	}
	l := &layer{index: i, rid: remote.RID(), remote: remote, ssrc: uint32(remote.SSRC()), bucket: newTokenBucket(t.rate, t.pub.r.s.limits.BitrateWindow)}
	t.layers[i].Store(l)
	t.loops++
	return l
}

// allLayers are t's layers now, lowest first.
func (t *publishedTrack) allLayers() []*layer {
	var out []*layer
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil {
			out = append(out, l)
		}
	}
	return out
}

// shown reports whether t may be forwarded: a screen, and its audio,
// only while its publisher's member state says it shares (the room
// engine's rules, the share lock and -max-shares among them, decide
// that). Under Room.mu.
func (t *publishedTrack) shown() bool {
	return (t.source != SourceScreen && t.source != SourceScreenAudio) || t.pub.info.Share
}

// info describes t for subscribers.
func (t *publishedTrack) info() TrackInfo {
	return TrackInfo{ID: t.id, UserID: t.userID, Kind: t.kind.String(), Source: t.source}
}

// attach adds d to t's subscribers; false once t is closed.
func (t *publishedTrack) attach(d *downTrack) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return false
	}
	var subs []*downTrack
	if old := t.subs.Load(); old != nil {
		subs = append(subs, *old...)
	}
	subs = append(subs, d)
	t.subs.Store(&subs)
	return true
}

// detach takes d out of t's subscribers.
func (t *publishedTrack) detach(d *downTrack) {
	t.mu.Lock()
	defer t.mu.Unlock()
	old := t.subs.Load()
	if old == nil {
		return
	}
	subs := make([]*downTrack, 0, len(*old))
	for _, x := range *old {
		if x != d {
			subs = append(subs, x)
		}
	}
	t.subs.Store(&subs)
}

// close ends t's forwarding: no subscriber is added or fed after it.
func (t *publishedTrack) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.closed = true
	t.subs.Store(nil)
	close(t.stopped)
}

// leave takes t out of the room, once.
func (t *publishedTrack) leave() {
	t.gone.Do(func() { t.pub.r.removeTrack(t) })
}

// subscribers is t's down tracks now.
func (t *publishedTrack) subscribers() []*downTrack {
	if p := t.subs.Load(); p != nil {
		return *p
	}
	return nil
}

// readLoop forwards what the publisher sends on layer l until it ends
// (the publisher stopped the track, its connection closed, or its
// member suspended it); then the track leaves the room (its other
// layers end with it). Packets it drops on purpose (padding only, over
// the bitrate bound, an audio track paused by the speaker selection)
// take no sequence number in what it forwards (seqMunger), nor does
// what was lost while a track was paused. An audio packet's level (RFC
// 6464) goes to the track's meter; a VP8 key frame's size to the
// layer's.
func (t *publishedTrack) readLoop(l *layer) {
	defer func() {
		t.mu.Lock()
		t.loops--
		if t.loops == 0 {
			close(t.ended)
		}
		t.mu.Unlock()
	}()
	defer t.leave()
	vp8 := t.kind == webrtc.RTPCodecTypeVideo && isVP8(t.codec)
	for {
		buf := make([]byte, 1500) // each packet is shared by the down tracks' queues
		n, _, err := l.remote.Read(buf)
		if err != nil {
			return
		}
		p := &rtp.Packet{}
		if err := p.Unmarshal(buf[:n]); err != nil {
			continue
		}
		now := time.Now()
		t.received.Add(1)
		l.received.Add(1)
		drop := false
		if !l.bucket.take(now, n) {
			t.rateDropped.Add(1)
			drop = true
		} else if len(p.Payload) == 0 {
			drop = true // padding only (bandwidth probes): nothing to forward
		} else {
			l.lastAt.Store(now.UnixNano())
		}
		paused := false
		if t.kind == webrtc.RTPCodecTypeAudio {
			if !drop && t.audioLevelID != 0 {
				// No allocation: the extension is a slice of buf.
				if lvl := p.GetExtension(t.audioLevelID); len(lvl) > 0 {
					t.meter.observe(lvl[0], t.speaking)
				}
			}
			paused = t.paused.Load()
		} else if vp8 && !drop {
			if w, h, ok := vp8KeyframeSize(p.Payload); ok {
				l.width.Store(uint32(w))
				l.height.Store(uint32(h))
			}
		}
		seq, ok := l.seq.munge(p.SequenceNumber, drop || paused, paused)
		if !ok {
			continue
		}
		p.SequenceNumber = seq
		for _, d := range t.subscribers() {
			if !t.simulcast || d.takes(l.index) {
				d.push(p, l.index)
			}
		}
	}
}

// keyframe asks the publisher for a key frame on layer l (a PLI for its
// SSRC), at most once per keyInterval: a request within the interval of
// the last is dropped, unless trailing, which then sends one as the
// interval ends (a new subscriber must get its key frame even when
// another just asked).
func (t *publishedTrack) keyframe(l *layer, trailing bool) {
	if t.kind != webrtc.RTPCodecTypeVideo || l == nil {
		return
	}
	now := time.Now().UnixNano()
	last := l.lastKey.Load()
	if wait := last + int64(t.keyInterval) - now; wait > 0 {
		if trailing && l.trailing.CompareAndSwap(false, true) {
			time.AfterFunc(time.Duration(wait), func() {
				l.trailing.Store(false)
				t.keyframe(l, false)
			})
		}
		return
	}
	if !l.lastKey.CompareAndSwap(last, now) {
		return // another request won the race
	}
	t.keyframes.Add(1)
	_ = t.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: l.ssrc}})
}

// seqMunger numbers what a published track forwards: the packets the
// server drops on purpose take no number, so the packet after them
// follows on without a gap and no subscriber NACKs what the server will
// never send (the idea of LiveKit's munger). The publisher's numbers are
// kept, less an offset: the number of packets dropped so far. A packet
// older than the newest (a retransmission the server asked for, a late
// one) gets the offset that held at its place, from the drops kept for
// the last seqWindow numbers; one older than that is dropped. Used by
// the read goroutine only. The offset is the same for every subscriber
// (the drops happen before the fan-out); what a subscriber's full queue
// drops stays a gap for that subscriber alone.
//
// The drops are kept as runs of consecutive numbers, so that a paused
// audio track (every packet dropped, for as long as it is not among the
// loudest) costs one run, extended in place, not one entry per packet.
// A paused packet also drops the numbers skipped before it (what the
// publisher's link lost during the pause): a subscriber sees the numbers
// before the pause and after it contiguous.
type seqMunger struct {
	started bool
	highest uint16    // the newest incoming number
	offset  uint16    // packets dropped on purpose up to highest
	drops   []dropRun // incoming numbers dropped on purpose, oldest first, within seqWindow of highest
}

// dropRun is the incoming numbers first, first+1, ..., first+n-1 (n at
// most seqWindow: older ones are of no use).
type dropRun struct{ first, n uint16 }

const seqWindow = 1 << 12

// next is the number under which incoming packet seq goes out, and
// whether it goes out: drop says the server drops it on purpose.
func (s *seqMunger) next(seq uint16, drop bool) (uint16, bool) {
	return s.munge(seq, drop, false)
}

// munge is next, where gap (with drop: a paused track) drops the numbers
// skipped between the newest and seq too, so that they take no number
// when they come late, nor leave a gap when they never come.
func (s *seqMunger) munge(seq uint16, drop, gap bool) (uint16, bool) {
	if !s.started {
		s.started = true
		s.highest = seq - 1
	}
	if diff := seq - s.highest; diff != 0 && diff < 1<<15 { // newer than any
		prev := s.highest
		s.highest = seq
		i := 0
		for i < len(s.drops) && s.highest-(s.drops[i].first+s.drops[i].n-1) >= seqWindow {
			i++
		}
		s.drops = s.drops[i:]
		if drop {
			from, n := seq, uint16(1)
			if gap {
				from, n = prev+1, diff
			}
			s.offset += n
			s.addDrops(from, n)
			return 0, false
		}
		return seq - s.offset, true
	}
	back := s.highest - seq
	if drop || back >= seqWindow {
		return 0, false
	}
	off := s.offset
	for i := len(s.drops) - 1; i >= 0; i-- {
		d := s.drops[i]
		if s.highest-(d.first+d.n-1) > back {
			break // dropped before seq: counted at its place
		}
		if s.highest-d.first >= back {
			return 0, false // seq itself was dropped; its number is taken
		}
		off -= d.n // dropped after seq: not counted at seq's place
	}
	return seq - off, true
}

// addDrops records the n numbers from first on (the newest ones) as
// dropped: the last run grows when they follow it.
func (s *seqMunger) addDrops(first, n uint16) {
	if k := len(s.drops) - 1; k >= 0 && s.drops[k].first+s.drops[k].n == first {
		first, n = s.drops[k].first, s.drops[k].n+n
		s.drops = s.drops[:k]
	}
	if n > seqWindow { // the older ones are of no use
		first, n = first+n-seqWindow, seqWindow
	}
	s.drops = append(s.drops, dropRun{first, n})
}

// tokenBucket bounds a bitrate: rate bytes per second, with a burst of
// rate × window. Used by one goroutine only.
type tokenBucket struct {
	rate, burst, tokens float64
	last                time.Time
}

func newTokenBucket(bitsPerSecond int, window time.Duration) tokenBucket {
	rate := float64(bitsPerSecond) / 8
	burst := max(rate*window.Seconds(), 1500)
	return tokenBucket{rate: rate, burst: burst, tokens: burst}
}

// take reports whether n bytes fit at now, and takes them if so.
func (b *tokenBucket) take(now time.Time, n int) bool {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+now.Sub(b.last).Seconds()*b.rate)
	}
	b.last = now
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}
