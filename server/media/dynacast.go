package media

import "time"

// Dynacast: a simulcast camera sends what someone watches. Each simulcast
// track's layer goroutine (watchLayers) notes, every layerCheck, the
// layers each subscriber wants: the one that fills its tile (layerFor)
// and those between it and the one the subscriber gets (when the browser
// cannot send the best one, for its bandwidth, its CPU or a camera too
// small, the next one down serves, and must not be paused); a layer
// nobody has wanted for Config.LayerIdle (5 s) is paused at the
// publisher, which the server tells with SignalLayers (its page stops
// that encoding), and one wanted again is resumed at once. The lowest
// layer is always sent: a new subscriber starts on it while a larger one
// resumes. A subscriber wanting a paused layer gets the best one sent
// (chooseLayer: a paused layer is not live) until its layer is back.

// SignalLayers (payload Layers): which layers of one of the member's
// simulcast tracks the server asks it to send; its client sends those
// and pauses the others.
const SignalLayers = "layers"

// Layers is the payload of SignalLayers.
type Layers struct {
	TrackID string `json:"trackID"`
	// Mid is the track's media section on the member's connection.
	Mid string `json:"mid"`
	// Active lists the rids to send, lowest first.
	Active []string `json:"active"`
}

// dynacast is what a simulcast track's layer goroutine knows of its
// layers' viewers. Owned by that goroutine.
type dynacast struct {
	wantedAt [maxLayers]time.Time // when a subscriber last wanted each layer
	active   [maxLayers]bool      // what the publisher was last asked to send
}

// newDynacast is a dynacast for a track published at now: its client
// sends every layer it declared, and each counts as wanted now (a layer
// is paused only once nobody has wanted it for the idle time).
func newDynacast(t *publishedTrack, now time.Time) *dynacast {
	c := &dynacast{}
	for i := range c.wantedAt {
		c.wantedAt[i] = now
		c.active[i] = t.declared[i]
	}
	return c
}

// update notes the layers subs want at now and returns the layers t's
// publisher is to send, and whether that changed since the last update:
// the lowest declared layer always, and each other declared layer
// wanted within idle.
func (c *dynacast) update(t *publishedTrack, subs []*downTrack, now time.Time, idle time.Duration) ([maxLayers]bool, bool) {
	for _, d := range subs {
		want := t.layerFor(d.size.Load())
		from := want
		if got := int(d.target.Load()); got != noLayer && got < want {
			from = got
		}
		for i := from; i <= want; i++ {
			c.wantedAt[i] = now
		}
	}
	var next [maxLayers]bool
	lowest := true
	for i := range next {
		if !t.declared[i] {
			continue
		}
		next[i] = lowest || now.Sub(c.wantedAt[i]) < idle
		lowest = false
	}
	changed := next != c.active
	c.active = next
	return next, changed
}

// askLayers has t's publisher told (by its actor) to send the layers
// active.
func (t *publishedTrack) askLayers(active [maxLayers]bool) {
	ev := Layers{TrackID: t.id, Mid: t.mid, Active: []string{}}
	for i, on := range active {
		if on {
			ev.Active = append(ev.Active, layerRIDs[i])
		}
	}
	m := t.pub
	m.q.push(func() {
		if m.pc == t.pc {
			m.signal(SignalLayers, ev)
		}
	})
}
