package media

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// isVP8 reports whether c is VP8.
func isVP8(c webrtc.RTPCodecParameters) bool {
	return strings.EqualFold(c.MimeType, webrtc.MimeTypeVP8)
}

// isH264 reports whether c is H.264.
func isH264(c webrtc.RTPCodecParameters) bool {
	return strings.EqualFold(c.MimeType, webrtc.MimeTypeH264)
}

// vp8Descriptor is where the fields of a VP8 payload descriptor (RFC
// 7741 section 4.2) are in a packet's payload: a field's position is 0
// when the descriptor lacks it (no field can be at 0, the first byte
// being the required one).
type vp8Descriptor struct {
	start    bool // S: the first packet of a partition
	pid      uint8
	picPos   int  // the picture ID's first byte
	pic15    bool // a 15-bit picture ID (M set), else 7-bit
	tl0Pos   int  // TL0PICIDX
	keyIdPos int  // the TID/Y/KEYIDX byte, when K is set
	size     int  // the descriptor's length: the VP8 payload follows
}

// parseVP8 reads the payload descriptor at the start of a VP8 RTP
// payload; false when it is cut short.
func parseVP8(b []byte) (vp8Descriptor, bool) {
	var d vp8Descriptor
	if len(b) < 1 {
		return d, false
	}
	d.start = b[0]&0x10 != 0
	d.pid = b[0] & 0x07
	i := 1
	if b[0]&0x80 != 0 { // X: the extension byte follows
		if len(b) < 2 {
			return d, false
		}
		x := b[1]
		i = 2
		if x&0x80 != 0 { // I: picture ID
			if len(b) < i+1 {
				return d, false
			}
			d.picPos = i
			if b[i]&0x80 != 0 {
				d.pic15 = true
				i += 2
			} else {
				i++
			}
		}
		if x&0x40 != 0 { // L: TL0PICIDX
			d.tl0Pos = i
			i++
		}
		if x&0x30 != 0 { // T or K: TID/Y/KEYIDX
			if x&0x10 != 0 {
				d.keyIdPos = i
			}
			i++
		}
	}
	if len(b) < i {
		return d, false
	}
	d.size = i
	return d, true
}

// picture is the picture ID (15 bits of room; a 7-bit one as is).
func (d vp8Descriptor) picture(b []byte) uint16 {
	if d.pic15 {
		return uint16(b[d.picPos]&0x7f)<<8 | uint16(b[d.picPos+1])
	}
	return uint16(b[d.picPos] & 0x7f)
}

// setPicture writes v as the picture ID, in the width the packet has.
func (d vp8Descriptor) setPicture(b []byte, v uint16) {
	if d.pic15 {
		b[d.picPos] = 0x80 | byte(v>>8)&0x7f
		b[d.picPos+1] = byte(v)
		return
	}
	b[d.picPos] = byte(v) & 0x7f
}

// vp8Keyframe reports whether a VP8 RTP payload begins a key frame: the
// start of partition 0 whose frame tag says key frame (P bit clear).
func vp8Keyframe(b []byte) bool {
	d, ok := parseVP8(b)
	return ok && d.start && d.pid == 0 && len(b) > d.size && b[d.size]&0x01 == 0
}

// vp8KeyframeSize is the width and height a VP8 key frame's header
// gives (RFC 6386 section 9.1: the frame tag, the start code 9d 01 2a,
// then 14 bits of width and of height), when p begins one.
func vp8KeyframeSize(b []byte) (w, h int, ok bool) {
	if !vp8Keyframe(b) {
		return 0, 0, false
	}
	d, _ := parseVP8(b)
	f := b[d.size:]
	if len(f) < 10 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	return int(f[6]) | int(f[7]&0x3f)<<8, int(f[8]) | int(f[9]&0x3f)<<8, true
}

// h264Keyframe reports whether an H.264 RTP payload (RFC 6184) begins
// a key frame: an IDR slice or a sequence parameter set, alone, in a
// STAP-A, or as the first fragment of an FU-A.
func h264Keyframe(b []byte) bool {
	if len(b) < 1 {
		return false
	}
	key := func(nal byte) bool { t := nal & 0x1f; return t == 5 || t == 7 }
	switch b[0] & 0x1f {
	case 24: // STAP-A: 2-byte sizes before each unit
		for i := 1; i+2 < len(b); {
			n := int(b[i])<<8 | int(b[i+1])
			if key(b[i+2]) {
				return true
			}
			i += 2 + n
		}
		return false
	case 28: // FU-A
		return len(b) > 1 && b[1]&0x80 != 0 && key(b[1])
	default:
		return key(b[0])
	}
}

// vp8Munger renumbers the VP8 descriptors of what one down track sends
// as it switches between simulcast layers, each of which numbers its
// pictures on its own: the picture ID, TL0PICIDX and KEYIDX go on from
// the last ones sent, so the subscriber's decoder sees one stream. Used
// by the down track's writer only.
type vp8Munger struct {
	started                bool
	picOff                 uint16 // added to a layer's picture ID (mod 2^15)
	tl0Off, keyOff         uint8
	lastPic                uint16
	lastTl0, lastKey       uint8
	hasPic, hasTl0, hasKey bool // the last ones are known
}

// switchTo sets the offsets so that b, the first packet of a key frame
// of the layer switched to, follows what was sent before.
func (m *vp8Munger) switchTo(b []byte) {
	d, ok := parseVP8(b)
	if !ok {
		return
	}
	if !m.started {
		m.started = true
		return // the first layer keeps its numbers
	}
	if d.picPos != 0 && m.hasPic {
		m.picOff = (m.lastPic + 1 - d.picture(b)) & 0x7fff
	}
	if d.tl0Pos != 0 && m.hasTl0 {
		m.tl0Off = m.lastTl0 + 1 - b[d.tl0Pos]
	}
	if d.keyIdPos != 0 && m.hasKey {
		m.keyOff = m.lastKey + 1 - b[d.keyIdPos]&0x1f
	}
}

// munge writes into out (which it grows as needed) b with its
// descriptor renumbered, and returns it; b itself is shared with other
// down tracks and left as it is.
func (m *vp8Munger) munge(b, out []byte) []byte {
	d, ok := parseVP8(b)
	if !ok {
		return b
	}
	out = append(out[:0], b...)
	if d.picPos != 0 {
		v := (d.picture(b) + m.picOff) & 0x7fff
		d.setPicture(out, v)
		if !m.hasPic || int16((v-m.lastPic)<<1) > 0 {
			m.lastPic, m.hasPic = v, true
		}
	}
	if d.tl0Pos != 0 {
		v := b[d.tl0Pos] + m.tl0Off
		out[d.tl0Pos] = v
		if !m.hasTl0 || int8(v-m.lastTl0) > 0 {
			m.lastTl0, m.hasTl0 = v, true
		}
	}
	if d.keyIdPos != 0 {
		v := (b[d.keyIdPos]&0x1f + m.keyOff) & 0x1f
		out[d.keyIdPos] = b[d.keyIdPos]&0xe0 | v
		if !m.hasKey || (v-m.lastKey)&0x1f < 0x10 && v != m.lastKey {
			m.lastKey, m.hasKey = v, true
		}
	}
	return out
}
