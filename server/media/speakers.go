package media

import (
	"math"
	"sort"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// SignalActiveSpeakers (payload ActiveSpeakers): the ordered list of the
// room's speaking users has changed. It is sent to every member of the
// room (every session that has offered), at most once per
// Config.SpeakerInterval, and once to a member entering while someone
// speaks; an empty list when nobody speaks any more.
const SignalActiveSpeakers = "activeSpeakers"

// ActiveSpeakers is the payload of SignalActiveSpeakers: the users whose
// audio is forwarded and who speak, loudest first. Its slice is shared by
// every member's signal: read it, do not change it.
type ActiveSpeakers struct {
	Speakers []Speaker `json:"speakers"`
}

// Speaker is one speaking user: Level is its loudness over the last
// interval, 0..1 (1 loudest: the RFC 6464 level as linear amplitude,
// times the share of the interval's packets that were speech). A user
// with several audio tracks (microphone, screen audio) is listed once,
// at its loudest.
type Speaker struct {
	UserID string  `json:"userID"`
	Level  float64 `json:"level"`
}

// audioMeter is a published audio track's loudness over the current
// interval, in one atomic word so that the read goroutine adds a packet
// with one atomic add and the room's speaker goroutine takes the
// interval with one swap: the packets with an audio level (bits 48..63),
// those of them that were speech (bits 32..47), and the sum of 127 minus
// the level of those (bits 0..31). The bitrate bound and the 10 s cap on
// the interval keep the counts of two intervals within their bits.
type audioMeter struct{ v atomic.Uint64 }

// observe adds one packet's audio-level extension (b: the V bit and the
// level, 0 loudest, 127 silence). It does not allocate.
func (a *audioMeter) observe(b byte, speaking uint8) {
	level := b & 0x7f
	delta := uint64(1) << 48
	if level <= speaking || (b&0x80 != 0 && level < 127) {
		delta |= 1<<32 | uint64(127-level)
	}
	a.v.Add(delta)
}

// take ends the interval and starts the next: the loudness over the
// last two intervals (0 when the track did not speak in them), prev
// being the counters of the one before (the caller's, updated), so that
// a packet or two late at an interval's edge, or a short pause for
// breath, does not move a speaker out and in again.
func (a *audioMeter) take(prev *uint64) float64 {
	cur := a.v.Swap(0)
	l := loudness(cur + *prev)
	*prev = cur
	return l
}

// loudness of one interval's counters: 0 unless at least 40 % of its
// packets were speech; else the mean speech level as linear amplitude
// (10^(-dBov/20)) times the share of speech packets.
func loudness(w uint64) float64 {
	n, active, sum := w>>48, (w>>32)&0xffff, w&0xffffffff
	if n == 0 || active == 0 || active*5 < n*2 {
		return 0
	}
	dBov := 127 - float64(sum)/float64(active)
	return math.Pow(10, -dBov/20) * float64(active) / float64(n) // > 0
}

// audioCandidate is one audio track in a round of selection.
type audioCandidate struct {
	t         *publishedTrack
	order     uint64  // the track's place in the room (earlier first)
	loudness  float64 // 0: not speaking
	forwarded bool    // before this round
}

// rankAudio orders c for forwarding: the speaking tracks loudest first,
// then the silent ones; on a tie (and among the silent) a track already
// forwarded comes first (it keeps its place: no churn while nobody
// speaks), then the earlier track. The first n are forwarded (all of
// them when n is 0). A silent track thus never takes the place of a
// speaking one.
func rankAudio(c []audioCandidate, n int) (forward int) {
	sort.Slice(c, func(i, j int) bool {
		a, b := c[i], c[j]
		if a.loudness != b.loudness {
			return a.loudness > b.loudness
		}
		if a.forwarded != b.forwarded {
			return a.forwarded
		}
		return a.order < b.order
	})
	if n <= 0 || n > len(c) {
		return len(c)
	}
	return n
}

// speakersOf are the speaking users among the forwarded candidates,
// loudest first, each once; a shared screen's audio makes no one a
// speaker.
func speakersOf(forwarded []audioCandidate) []Speaker {
	out := []Speaker{}
	at := map[string]int{}
	for _, c := range forwarded {
		if c.loudness <= 0 || c.t.source == SourceScreenAudio {
			continue
		}
		if i, ok := at[c.t.userID]; ok {
			out[i].Level = max(out[i].Level, c.loudness)
			continue
		}
		at[c.t.userID] = len(out)
		out = append(out, Speaker{UserID: c.t.userID, Level: c.loudness})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Level > out[j].Level })
	return out
}

// sameSpeakers reports whether a and b list the same users in the same
// order (levels aside: a change of level alone is not signalled).
func sameSpeakers(a, b []Speaker) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].UserID != b[i].UserID {
			return false
		}
	}
	return true
}

// startSpeakers starts the room's speaker goroutine unless it runs.
// Called under r.mu, on a room not closed, when an audio track is added.
func (r *Room) startSpeakers() {
	if r.speakersOn {
		return
	}
	r.speakersOn = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.speakerLoop()
	}()
}

// speakerLoop selects the forwarded audio tracks and signals the active
// speakers every SpeakerInterval, until the room closes, or it has no
// audio track and has signalled that nobody speaks (an audio track added
// starts it again).
func (r *Room) speakerLoop() {
	tick := time.NewTicker(r.s.cfg.speakerInterval())
	defer tick.Stop()
	for {
		select {
		case <-r.closing:
			return
		case <-tick.C:
		}
		if !r.selectSpeakers() {
			return
		}
	}
}

// selectSpeakers is one round: each audio track's loudness over the
// interval, the top MaxAudioStreams forwarded (their paused flag, read
// by their read goroutines, cleared; the others' set), and the speakers
// signalled to every member when their ordered list changed. It reports
// false when the loop should end.
func (r *Room) selectSpeakers() bool {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return false
	}
	cands := make([]audioCandidate, 0, 8)
	for _, t := range r.tracks {
		switch {
		case t.kind != webrtc.RTPCodecTypeAudio:
		case !t.shown():
			t.paused.Store(true) // a screen's audio while its member does not share
		default:
			cands = append(cands, audioCandidate{t: t, order: t.order, forwarded: !t.paused.Load()})
		}
	}
	if len(cands) == 0 && len(r.speakers) == 0 {
		r.speakersOn = false
		r.mu.Unlock()
		return false
	}
	r.mu.Unlock()

	for i := range cands {
		cands[i].loudness = cands[i].t.meter.take(&cands[i].t.lastMeter)
	}
	n := rankAudio(cands, r.s.cfg.forwardedAudio())
	for i, c := range cands {
		c.t.paused.Store(i >= n)
	}
	speakers := speakersOf(cands[:n])

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.round++
	for _, c := range cands[:n] {
		if c.loudness <= 0 || r.tracks[c.t.id] != c.t {
			continue // silent (forwarded as there is room), or gone meanwhile
		}
		c.t.heard = r.round
		if r.audible[c.t.id] == nil && r.admitAudible(c.t) {
			r.resubscribeAudio(c.t, true)
		}
	}
	if sameSpeakers(r.speakers, speakers) {
		return true
	}
	r.speakers = speakers
	ev := ActiveSpeakers{Speakers: speakers}
	for _, m := range r.members {
		// On the member's actor, so that a member's signals keep the
		// order of the lists (and the one sent as it entered).
		m.q.push(func() { m.signal(SignalActiveSpeakers, ev) })
	}
	return true
}

// ActiveSpeakers is the last list of active speakers signalled.
func (r *Room) ActiveSpeakers() []Speaker {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Speaker{}, r.speakers...)
}

// The audible tracks. Every member is subscribed to the room's audible
// audio tracks (Room.audible), at most Server.audibleTracks() (16): the
// ones forwarded now and, of the others, those heard most recently
// (publishedTrack.heard: the last speaker round in which the track was
// forwarded and speaking, or its publication), so that a member's
// connection holds that many audio sections however many microphones
// the room has, and a speaker who was forwarded lately is heard at once
// when forwarded again (no renegotiation). A speaking track forwarded
// that is not audible (a new speaker among more microphones than the
// bound) takes
// the place of the audible track heard longest ago that is not forwarded,
// and every member renegotiates: its first packets reach a member after
// that member's next answers. While the room has fewer audio tracks than
// the bound every track is audible, as if there were none.

// admitAudible makes t audible if there is room, or, when t is forwarded,
// in the place of the audible track heard longest ago that is not
// forwarded (whose subscribers it unsubscribes), and reports whether t
// is audible; the caller subscribes the members to t. Under r.mu.
func (r *Room) admitAudible(t *publishedTrack) bool {
	if bound := r.s.audibleTracks(); bound > 0 && len(r.audible) >= bound {
		if t.paused.Load() {
			return false
		}
		var out *publishedTrack
		for _, a := range r.audible {
			if !a.paused.Load() {
				continue
			}
			if out == nil || a.heard < out.heard || (a.heard == out.heard && a.order < out.order) {
				out = a
			}
		}
		if out == nil {
			return false // every audible track is forwarded (the bound is at least their number)
		}
		delete(r.audible, out.id)
		r.resubscribeAudio(out, false)
	}
	r.audible[t.id] = t
	return true
}

// fillAudible makes audible, while there is room, the audio tracks heard
// most recently that are not (after an audible one left), subscribing
// the members to each. Under r.mu.
func (r *Room) fillAudible() {
	bound := r.s.audibleTracks()
	for bound <= 0 || len(r.audible) < bound {
		var in *publishedTrack
		for _, t := range r.tracks {
			if t.kind != webrtc.RTPCodecTypeAudio || r.audible[t.id] != nil {
				continue
			}
			if in == nil || t.heard > in.heard || (t.heard == in.heard && t.order < in.order) {
				in = t
			}
		}
		if in == nil {
			return
		}
		r.audible[in.id] = in
		r.resubscribeAudio(in, true)
	}
}

// resubscribeAudio subscribes every member but its publisher to t (on)
// or unsubscribes them (off), as the room's own work. Under r.mu.
func (r *Room) resubscribeAudio(t *publishedTrack, on bool) {
	if r.s.limits.ManualSubscribe {
		return
	}
	for _, o := range r.members {
		switch {
		case o == t.pub:
		case on:
			o.q.push(func() { o.subscribe(t) })
		default:
			id := t.id
			o.q.push(func() { o.unsubscribe(id) })
		}
	}
}
