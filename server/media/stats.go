package media

import "sort"

// TrackStats counts one published track's packets: what came in, what
// the bitrate bound dropped, how many key frames were asked for, whether
// the speaker selection pauses it, per simulcast layer what came in and
// its size, and per subscriber what was sent, what its full queue
// dropped and (simulcast) the layer it gets.
type TrackStats struct {
	TrackInfo
	Publisher   string            `json:"publisher"` // the publishing session
	Received    uint64            `json:"received"`
	RateDropped uint64            `json:"rateDropped"`
	Keyframes   uint64            `json:"keyframeRequests"`
	Paused      bool              `json:"paused,omitempty"` // an audio track not among the loudest: not forwarded
	Layers      []LayerStats      `json:"layers,omitempty"` // a simulcast track's, lowest first
	Subscribers []SubscriberStats `json:"subscribers"`
}

// LayerStats is one simulcast layer of a track: its rid, the packets
// received on it, and its size as its last VP8 key frame gave it (0
// while unknown).
type LayerStats struct {
	RID      string `json:"rid"`
	Received uint64 `json:"received"`
	Width    int    `json:"width,omitempty"`
	Height   int    `json:"height,omitempty"`
}

// SubscriberStats counts one down track: packets written to the
// subscriber's connection, and packets dropped because its queue was
// full.
type SubscriberStats struct {
	Session string `json:"session"`
	Sent    uint64 `json:"sent"`
	Dropped uint64 `json:"dropped"`
	// Of a simulcast track: the layer forwarded ("" before the first
	// key frame), and how many times a layer began to be forwarded (the
	// first one counts).
	Layer    string `json:"layer,omitempty"`
	Switches uint64 `json:"switches,omitempty"`
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
		if t.simulcast {
			for _, l := range t.allLayers() {
				ts.Layers = append(ts.Layers, LayerStats{RID: l.rid, Received: l.received.Load(), Width: int(l.width.Load()), Height: int(l.height.Load())})
			}
		}
		for _, d := range t.subscribers() {
			ss := SubscriberStats{Session: d.sub.session, Sent: d.sent.Load(), Dropped: d.dropped.Load()}
			if t.simulcast {
				if i := d.current.Load(); i >= 0 {
					ss.Layer = layerRIDs[i]
				}
				ss.Switches = d.switches.Load()
			}
			ts.Subscribers = append(ts.Subscribers, ss)
		}
		sort.Slice(ts.Subscribers, func(i, j int) bool { return ts.Subscribers[i].Session < ts.Subscribers[j].Session })
		out = append(out, ts)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
