package media

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A subscriber that stops taking packets (its writes block, and its
// client reads nothing) does not delay another: the other receives every
// packet, while the stalled one's queue fills and drops.
func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{Limits: Limits{QueuePackets: 8}})
	r, b := newTestRoom(t, s)
	unblock := make(chan struct{})
	r.writeHook = func(d *downTrack) {
		if d.sub.session == "stalled" {
			select {
			case <-unblock:
			case <-d.done:
			}
		}
	}
	t.Cleanup(func() { close(unblock) })
	pub := newClient(t, r, b, "pub", clientOpts{})
	stalled := newClient(t, r, b, "stalled", clientOpts{})
	fine := newClient(t, r, b, "fine", clientOpts{})

	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 5*time.Millisecond, 200, nil)
	stalled.connected() // negotiated, then never read
	tr := fine.nextTrack()
	pkts := readPackets(t, tr, 100, 10*time.Second)
	for i, p := range pkts {
		require.Equal(t, pkts[0].SequenceNumber+uint16(i), p.SequenceNumber, "packet %d", i)
	}

	var st TrackStats
	require.Eventually(t, func() bool {
		all := r.Stats()
		if len(all) != 1 || len(all[0].Subscribers) != 2 {
			return false
		}
		st = all[0]
		return st.Subscribers[1].Dropped > 0 // sorted: fine, stalled
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "stalled", st.Subscribers[1].Session)
	assert.LessOrEqual(t, st.Subscribers[1].Sent, uint64(1), "the stalled subscriber's writer is stuck")
	assert.Zero(t, st.Subscribers[0].Dropped, "the other subscriber lost nothing")
}
