package media

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// With ManualSubscribe a member receives only what it subscribes to,
// and stops when it unsubscribes (the server's section goes inactive at
// the next renegotiation).
func TestSubscribeAndUnsubscribe(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{Limits: Limits{ManualSubscribe: true}})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{})
	sub := newClient(t, r, b, "sub", clientOpts{})
	video := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	audio := pub.publish(webrtc.RTPCodecTypeAudio, SourceMicrophone)
	pub.connected()
	startSending(t, video, 10*time.Millisecond, 100, nil)
	startSending(t, audio, 20*time.Millisecond, 40, nil)
	require.Eventually(t, func() bool { return len(r.Tracks()) == 2 }, 10*time.Second, 10*time.Millisecond)
	assert.Nil(t, memberPC(t, r, "sub"), "nothing subscribed, nothing made")

	var videoID string
	for _, tr := range r.Tracks() {
		if tr.Kind == "video" {
			videoID = tr.ID
			assert.Equal(t, SourceCamera, tr.Source)
		} else {
			assert.Equal(t, SourceMicrophone, tr.Source)
		}
	}
	require.NoError(t, r.Subscribe("sub", videoID))
	tr := sub.nextTrack()
	assert.Equal(t, videoID, tr.ID())
	readPackets(t, tr, 10, 10*time.Second)
	select {
	case other := <-sub.tracks:
		t.Fatalf("received %s %s, not subscribed", other.Kind(), other.ID())
	case <-time.After(200 * time.Millisecond):
	}

	require.NoError(t, r.Unsubscribe("sub", videoID))
	require.Eventually(t, func() bool {
		return !strings.Contains(sub.pc.RemoteDescription().SDP, "a=sendonly")
	}, 10*time.Second, 20*time.Millisecond)
	st := r.Stats()
	require.Len(t, st, 2)
	for _, x := range st {
		assert.Empty(t, x.Subscribers, "track %s", x.ID)
	}
}
