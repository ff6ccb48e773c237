package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nextLayers is the next layers the server asks c to send of its
// simulcast camera.
func (c *client) nextLayers() Layers {
	c.t.Helper()
	select {
	case ev := <-c.layers:
		return ev
	case <-time.After(10 * time.Second):
		c.t.Fatalf("%s was not asked for other layers", c.session)
		return Layers{}
	}
}

// follow has sp send the layers the server asks for only, as a page's
// setParameters does.
func (sp *simPublisher) follow(ev Layers) {
	for i, rid := range layerRIDs {
		on := false
		for _, a := range ev.Active {
			on = on || a == rid
		}
		sp.sending[i].Store(on)
	}
}

// Dynacast: a layer nobody has wanted for Config.LayerIdle is paused at
// the publisher (the server asks it for the others, the lowest always);
// a subscriber that wants it again has it asked for at once, and gets
// it (one stream throughout). A subscriber wanting a paused layer gets
// the best one sent meanwhile.
func TestDynacastPausesUnwatchedLayers(t *testing.T) {
	noLeaks(t)
	idle := 400 * time.Millisecond
	s := newTestServer(t, Config{LayerIdle: idle})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{})
	sp := publishSimulcast(t, pub, 0)
	tr := sub.nextTrack()
	trackID := r.Tracks()[0].ID

	// The subscriber has no size: it wants f, and nobody h.
	got := untilLayer(t, tr, nil, 2)
	ev := pub.nextLayers()
	assert.Equal(t, []string{"q", "f"}, ev.Active)
	assert.Equal(t, trackID, ev.TrackID)
	assert.NotEmpty(t, ev.Mid)
	sp.follow(ev)

	// A thumbnail: q fills it; f is paused once idle.
	require.NoError(t, r.SetVideoSizes("sub", map[string]VideoSize{"user-pub": {Width: 240, Height: 135}}))
	got = untilLayer(t, tr, got, 0)
	ev = pub.nextLayers()
	assert.Equal(t, []string{"q"}, ev.Active)
	sp.follow(ev)
	got = append(got, readSeen(t, tr, 10)...)

	// Pinned: f is asked for again at once, and forwarded when it comes.
	require.NoError(t, r.SetVideoSizes("sub", map[string]VideoSize{"user-pub": {Width: 1280, Height: 720}}))
	asked := time.Now()
	ev = pub.nextLayers()
	assert.Less(t, time.Since(asked), idle, "f was asked for again only after the idle time")
	assert.Equal(t, []string{"q", "f"}, ev.Active)
	sp.follow(ev)
	got = untilLayer(t, tr, got, 2)
	got = append(got, readSeen(t, tr, 10)...)
	assertOneStream(t, got)

	// While f is watched, nothing changes.
	select {
	case ev := <-pub.layers:
		t.Fatalf("asked for %v while f is watched", ev.Active)
	case <-time.After(3 * idle):
	}
}

// A simulcast camera nobody receives sends its lowest layer only, once
// idle; the first subscriber gets that at once, and its layer resumes.
func TestDynacastWithoutViewers(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{LayerIdle: 300 * time.Millisecond})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sp := publishSimulcast(t, pub, 0)
	ev := pub.nextLayers()
	assert.Equal(t, []string{"q"}, ev.Active)
	sp.follow(ev)

	sub := newClient(t, r, b, "sub", clientOpts{})
	tr := sub.nextTrack()
	got := readSeen(t, tr, 1)
	assert.Equal(t, 0, got[0].layer, "the first subscriber starts on the layer sent")
	ev = pub.nextLayers()
	assert.Equal(t, []string{"q", "f"}, ev.Active)
	sp.follow(ev)
	got = untilLayer(t, tr, got, 2)
	assertOneStream(t, got)
}

// A layer the browser stops sending (short of bandwidth or CPU, or a
// camera too small for it) leaves its viewer on the best one below it:
// a layer paused there is asked for again, and the viewer gets it,
// while the one the tile wants stays asked for.
func TestDynacastResumesTheLayerThatServes(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{LayerIdle: 300 * time.Millisecond})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{})
	sp := publishSimulcast(t, pub, 0)
	tr := sub.nextTrack()
	got := untilLayer(t, tr, nil, 2)
	ev := pub.nextLayers()
	require.Equal(t, []string{"q", "f"}, ev.Active)
	sp.follow(ev)

	sp.sending[2].Store(false) // the browser cannot send f now
	got = untilLayer(t, tr, got, 0)
	ev = pub.nextLayers()
	assert.Equal(t, []string{"q", "h", "f"}, ev.Active, "h, which would serve, is not asked for again")
	sp.follow(ev)
	sp.sending[2].Store(false)
	got = untilLayer(t, tr, got, 1)
	got = append(got, readSeen(t, tr, 10)...)
	assertOneStream(t, got)
}
