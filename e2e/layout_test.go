package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// shape is how a page draws its video grid: its layout ('grid',
// 'sidebar' or 'pip'), the user of its large tile (” for none), the
// tiles in the order shown, and each tile's width on the screen.
type shape struct {
	Layout string             `json:"layout"`
	Main   string             `json:"main"`
	Tiles  []string           `json:"tiles"`
	Width  map[string]float64 `json:"width"`
}

func (p *page) shape() shape {
	p.t.Helper()
	return evalAs[shape](p, `(() => {
		const grid = document.querySelector('[data-testid=video-grid]');
		const tiles = [...grid.querySelectorAll('[data-testid^=tile-]')];
		const main = tiles.find((t) => t.dataset.main === 'true');
		return {
			layout: grid.dataset.layout ?? '',
			main: main ? main.dataset.testid.slice(5) : '',
			tiles: tiles.map((t) => t.dataset.testid.slice(5)),
			width: Object.fromEntries(tiles.map((t) => [t.dataset.testid.slice(5), t.getBoundingClientRect().width])),
		};
	})()`)
}

// waitShape waits until p's grid has layout, with main as its large
// tile, and the tiles listed (in any order), and returns it.
func (p *page) waitShape(layout, main string, tiles ...string) shape {
	p.t.Helper()
	var got shape
	ok := assert.Eventually(p.t, func() bool {
		got = p.shape()
		return got.Layout == layout && got.Main == main && slices.Equal(slices.Sorted(slices.Values(got.Tiles)), slices.Sorted(slices.Values(tiles)))
	}, 15*time.Second, 50*time.Millisecond)
	if !ok {
		p.t.Fatalf("want %s with %q large and tiles %v; have %+v", layout, main, tiles, got)
	}
	return got
}

// The layouts: Auto shows two in a call as the other large with one's own
// small in its corner and more as a grid; a pin makes the pinned member
// the large tile (Sidebar in Auto, a double tile in Grid); the Layout
// button switches; each button can be left out; tiles of members without
// video are left out when the config says so.
func TestLayoutsAndPin(t *testing.T) {
	s := startServer(t, "127.0.0.1:0")
	ann, ben, cat := openPage(t, s), openPage(t, s), openPage(t, s)
	ann.joinCall("ann", "layouts", "autoLeaveRoomWhenOnlySelfInRoom: false,")
	ben.joinCall("ben", "layouts", "layout: 'Sidebar', showLayoutButton: false, showPinButton: false, showOnlyAudioUser: false,")

	// Auto, two in the call: ben fills ann's view, ann's own tile is small.
	sh := ann.waitShape("pip", "ben", "ann", "ben")
	assert.Greater(t, sh.Width["ben"], 3*sh.Width["ann"], "the other is large, one's own small: %v", sh.Width)
	// Sidebar from the config: the other member is the large tile.
	sh = ben.waitShape("sidebar", "ann", "ann", "ben")
	assert.Greater(t, sh.Width["ann"], 2*sh.Width["ben"], "%v", sh.Width)
	assert.False(t, ben.visible("layout-button"), "showLayoutButton: false")
	assert.False(t, ben.visible("pin-ann"), "showPinButton: false")

	// A third, with the camera off and the microphone on (audio only).
	cat.joinCall("cat", "layouts", "turnOnCameraWhenJoining: false, showNonVideoUser: false,")
	sh = ann.waitShape("grid", "", "ann", "ben", "cat")
	assert.InDelta(t, sh.Width["ann"], sh.Width["cat"], 2, "a grid's tiles are one size: %v", sh.Width)
	ann.waitAttr("tile-cat", "camera", "off")
	// ben leaves audio-only members out; cat's camera on brings her in.
	ben.waitShape("sidebar", "ann", "ann", "ben")
	cat.eval(`zp.turnCameraOn(true).then(() => true)`)
	ben.waitShape("sidebar", "ann", "ann", "ben", "cat")
	// cat leaves out every member without video: ann's camera off takes
	// her tile away, on brings it back.
	cat.waitShape("grid", "", "ann", "ben", "cat")
	ann.eval(`zp.turnCameraOn(false).then(() => true)`)
	cat.waitShape("pip", "ben", "ben", "cat")
	ann.eval(`zp.turnCameraOn(true).then(() => true)`)
	cat.waitShape("grid", "", "ann", "ben", "cat")

	// Pin in Auto: the pinned member is the large tile, beside a strip.
	ann.click("pin-cat")
	sh = ann.waitShape("sidebar", "cat", "ann", "ben", "cat")
	assert.Equal(t, "cat", sh.Tiles[0], "the large tile comes first")
	assert.Greater(t, sh.Width["cat"], 2*sh.Width["ben"], "%v", sh.Width)
	assert.Equal(t, "true", evalAs[string](ann, `document.querySelector('[data-testid=pin-cat]').getAttribute('aria-pressed')`))
	assert.Equal(t, "Unpin", evalAs[string](ann, `document.querySelector('[data-testid=pin-cat]').textContent`))
	ann.click("pin-cat")
	ann.waitShape("grid", "", "ann", "ben", "cat")

	// The Layout button: Sidebar, then Grid with a pin (a double tile).
	ann.click("layout-button")
	assert.Equal(t, "true", evalAs[string](ann, `document.querySelector('[data-testid=layout-Auto]').getAttribute('aria-checked')`), "the layout in use is checked")
	ann.click("layout-Sidebar")
	// The large tile is another member's: the active speaker, or the first other.
	require.Eventually(t, func() bool {
		sh = ann.shape()
		return sh.Layout == "sidebar" && len(sh.Tiles) == 3 && (sh.Main == "ben" || sh.Main == "cat")
	}, 15*time.Second, 50*time.Millisecond, "Sidebar: %+v", sh)
	ann.click("layout-button")
	ann.click("layout-Grid")
	ann.waitShape("grid", "", "ann", "ben", "cat")
	ann.click("pin-ben")
	sh = ann.waitShape("grid", "ben", "ann", "ben", "cat")
	assert.Equal(t, []string{"ben", "ann", "cat"}, sh.Tiles, "the pinned member first, then one's own")
	assert.InDelta(t, 2*sh.Width["cat"], sh.Width["ben"], 12, "a pinned tile in a grid is twice as wide: %v", sh.Width)

	// A pinned member who leaves is unpinned.
	ben.eval(`zp.hangUp().then(() => true)`)
	ann.waitShape("grid", "", "ann", "cat")
}
