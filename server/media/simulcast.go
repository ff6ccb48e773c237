package media

import (
	"time"

	"github.com/pion/rtp"
)

// Simulcast: a camera sends up to three encodings of one track (rids q,
// h and f: a quarter, half and all of its resolution), and each
// subscriber gets one of them under one SSRC. Who owns what:
//
//   - each layer's read goroutine hands a packet only to the down tracks
//     that take that layer now (downTrack.takes: the one forwarded, and
//     the one switched to);
//   - the track's layer goroutine (watchLayers) decides, every
//     layerCheck, which layer each down track targets: the best one at
//     or below what the subscriber wants that the publisher still sends
//     (a layer with no packet for layerStale is not sent: the browser
//     stops a layer it lacks the bandwidth or the CPU for), and asks the
//     publisher for a key frame on a layer switched to;
//   - the down track's writer switches only at a key frame of the
//     target layer (until then the old layer goes on), and rewrites
//     (forwarder) so that the subscriber sees one stream: sequence
//     numbers without a gap, timestamps that never go back, VP8 picture
//     numbering that goes on.
const (
	layerCheck = 250 * time.Millisecond
	layerStale = time.Second
)

// noLayer is a down track's current or target layer when it has none.
const noLayer = -1

// takes reports whether d wants the packets of layer i now: the layer
// it forwards, or the one it switches to.
func (d *downTrack) takes(i int) bool {
	return int32(i) == d.current.Load() || int32(i) == d.target.Load()
}

// layerFor is the layer of t a tile of size shows best: the one named,
// else the smallest whose width and height are at least 3/4 of the
// tile's (sizes from the layers' key frames; a layer not seen yet is
// taken as half the one above it), else the best. No size (nil, or 0 by
// 0) is the best layer.
func (t *publishedTrack) layerFor(size *VideoSize) int {
	if size == nil {
		return maxLayers - 1
	}
	if i := layerIndex(size.Layer); i >= 0 {
		return i
	}
	if size.Width <= 0 && size.Height <= 0 {
		return maxLayers - 1
	}
	var w, h [maxLayers]float64
	known := -1
	for i := maxLayers - 1; i >= 0; i-- {
		if l := t.layers[i].Load(); l != nil && l.width.Load() != 0 {
			w[i], h[i] = float64(l.width.Load()), float64(l.height.Load())
			known = i
		}
	}
	if known < 0 {
		return maxLayers - 1
	}
	for i := known + 1; i < maxLayers; i++ {
		if w[i] == 0 {
			w[i], h[i] = w[i-1]*2, h[i-1]*2
		}
	}
	for i := known - 1; i >= 0; i-- {
		if w[i] == 0 {
			w[i], h[i] = w[i+1]/2, h[i+1]/2
		}
	}
	for i := range maxLayers {
		if w[i] >= 0.75*float64(size.Width) && h[i] >= 0.75*float64(size.Height) {
			return i
		}
	}
	return maxLayers - 1
}

// keyLayer is the layer d needs a key frame of: its target.
func (d *downTrack) keyLayer() *layer {
	if !d.t.simulcast {
		return d.t.layers[0].Load()
	}
	if i := d.target.Load(); i >= 0 {
		return d.t.layers[i].Load()
	}
	return nil
}

// requestKeyframe asks for a key frame of the layer d needs one of.
func (d *downTrack) requestKeyframe(trailing bool) {
	d.t.keyframe(d.keyLayer(), trailing)
}

// chooseLayer is the layer a subscriber wanting want gets, of those
// live: the best one at or below want, else the lowest above it, else
// noLayer.
func chooseLayer(want int, live [maxLayers]bool) int {
	for i := min(want, maxLayers-1); i >= 0; i-- {
		if live[i] {
			return i
		}
	}
	for i := want + 1; i < maxLayers; i++ {
		if live[i] {
			return i
		}
	}
	return noLayer
}

// liveLayers are the layers of t that sent a packet within layerStale
// of now.
func (t *publishedTrack) liveLayers(now time.Time) [maxLayers]bool {
	var live [maxLayers]bool
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil {
			live[i] = now.UnixNano()-l.lastAt.Load() < int64(layerStale)
		}
	}
	return live
}

// retarget sets d's target layer from what its subscriber wants and
// what is live, and asks for a key frame of the target while d is not
// on it yet. Called by the track's layer goroutine, and when d starts.
func (d *downTrack) retarget(live [maxLayers]bool) {
	i := chooseLayer(d.t.layerFor(d.size.Load()), live)
	if i == noLayer {
		return // nothing is sent: keep what was chosen
	}
	if d.target.Swap(int32(i)) != int32(i) || d.current.Load() != int32(i) {
		d.requestKeyframe(true)
	}
}

// watchLayers is a simulcast track's layer goroutine: every layerCheck
// it retargets its down tracks, until the track is closed.
func (t *publishedTrack) watchLayers() {
	tick := time.NewTicker(layerCheck)
	defer tick.Stop()
	idle := t.pub.r.s.cfg.layerIdle()
	dc := newDynacast(t, time.Now())
	for {
		select {
		case <-t.stopped:
			return
		case now := <-tick.C:
			live := t.liveLayers(now)
			subs := t.subscribers()
			for _, d := range subs {
				d.retarget(live)
			}
			if active, changed := dc.update(t, subs, now, idle); changed {
				t.askLayers(active)
			}
		}
	}
}

// forwarder rewrites what one down track of a simulcast track sends, so
// that its switches between layers do not show: the first packet of a
// layer switched to follows the last one sent (sequence number +1,
// timestamp advanced by the time that passed, never less than 1 tick),
// and a packet of the layer older than that first one is dropped (its
// number would be one already sent). Used by the writer only.
type forwarder struct {
	started   bool
	switchSeq uint16 // the first incoming number of the layer forwarded
	seqOff    uint16 // added to an incoming number
	tsOff     uint32 // added to an incoming timestamp
	lastSeq   uint16 // the highest number sent
	lastTS    uint32 // the latest timestamp sent
	lastAt    time.Time
	clock     float64 // the codec's clock rate
	vp8       *vp8Munger
	scratch   []byte // the munged payload
}

// switchTo starts forwarding the layer p (a key frame's first packet)
// is of.
func (f *forwarder) switchTo(p *rtp.Packet, now time.Time) {
	if f.started {
		f.seqOff = f.lastSeq + 1 - p.SequenceNumber
		ticks := uint32(now.Sub(f.lastAt).Seconds() * f.clock)
		f.tsOff = f.lastTS + max(ticks, 1) - p.Timestamp
	}
	f.switchSeq = p.SequenceNumber
	if f.vp8 != nil {
		f.vp8.switchTo(p.Payload)
	}
	f.started = true
	f.lastSeq = p.SequenceNumber + f.seqOff - 1
	f.lastTS = p.Timestamp + f.tsOff
	f.lastAt = now
}

// rewrite is the number, timestamp and payload p goes out with; false
// when it is from before the switch to its layer.
func (f *forwarder) rewrite(p *rtp.Packet, now time.Time) (uint16, uint32, []byte, bool) {
	if int16(p.SequenceNumber-f.switchSeq) < 0 {
		return 0, 0, nil, false
	}
	seq := p.SequenceNumber + f.seqOff
	ts := p.Timestamp + f.tsOff
	if int16(seq-f.lastSeq) > 0 {
		f.lastSeq = seq
	}
	if int32(ts-f.lastTS) > 0 {
		f.lastTS, f.lastAt = ts, now
	}
	payload := p.Payload
	if f.vp8 != nil {
		f.scratch = f.vp8.munge(p.Payload, f.scratch)
		payload = f.scratch
	}
	return seq, ts, payload, true
}

// forward decides what becomes of a packet of layer i of a simulcast
// track: the current layer's go out rewritten; the first packet of a
// key frame of the target layer switches to it; anything else is
// dropped. Called by the writer.
func (d *downTrack) forward(p *rtp.Packet, i int, now time.Time) (uint16, uint32, []byte, bool) {
	if int32(i) != d.current.Load() {
		if int32(i) != d.target.Load() || !d.keyframeStart(p.Payload) {
			return 0, 0, nil, false
		}
		d.fwd.switchTo(p, now)
		d.current.Store(int32(i))
		d.switches.Add(1)
	}
	return d.fwd.rewrite(p, now)
}

// keyframeStart reports whether payload begins a key frame in the
// track's codec.
func (d *downTrack) keyframeStart(payload []byte) bool {
	switch {
	case isVP8(d.t.codec):
		return vp8Keyframe(payload)
	case isH264(d.t.codec):
		return h264Keyframe(payload)
	}
	return false
}
