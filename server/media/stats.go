package media

import "sort"

// TrackStats counts one published track's packets: what came in, what
// the bitrate bound dropped, how many key frames were asked for, whether
// the speaker selection pauses it, and per subscriber what was sent and
// what its full queue dropped.
type TrackStats struct {
	TrackInfo
	Publisher   string            `json:"publisher"` // the publishing session
	Received    uint64            `json:"received"`
	RateDropped uint64            `json:"rateDropped"`
	Keyframes   uint64            `json:"keyframeRequests"`
	Paused      bool              `json:"paused,omitempty"` // an audio track not among the loudest: not forwarded
	Subscribers []SubscriberStats `json:"subscribers"`
}

// SubscriberStats counts one down track: packets written to the
// subscriber's connection, and packets dropped because its queue was
// full.
type SubscriberStats struct {
	Session string `json:"session"`
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"`
}

// Stats is a snapshot of every published track's counters, by track ID.
func (r *Room) Stats() []TrackStats {
	r.mu.Lock()
	tracks := make([]*publishedTrack, 0, len(r.tracks))
	for _, t := range r.tracks {
		tracks = append(tracks, t)
	}
	r.mu.Unlock()
	out := make([]TrackStats, 0, len(tracks))
	for _, t := range tracks {
		ts := TrackStats{
			TrackInfo: t.info(), Publisher: t.pub.session,
			Received: t.received.Load(), RateDropped: t.rateDropped.Load(), Keyframes: t.keyframes.Load(),
			Paused: t.paused.Load(),
		}
		for _, d := range t.subscribers() {
			ts.Subscribers = append(ts.Subscribers, SubscriberStats{Session: d.sub.session, Sent: d.sent.Load(), Dropped: d.dropped.Load()})
		}
		sort.Slice(ts.Subscribers, func(i, j int) bool { return ts.Subscribers[i].Session < ts.Subscribers[j].Session })
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
