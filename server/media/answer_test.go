package media

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// subscribedOnce waits until the room's one track has one subscriber.
func subscribedOnce(t *testing.T, r *Room) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := r.Stats()
		return len(st) == 1 && len(st[0].Subscribers) == 1
	}, 10*time.Second, 10*time.Millisecond)
}

// A track an answer starts is held until the subscriber says it has set
// that answer (mediaAnswered): until then nothing is sent to it (its
// first packets, the key frame, would reach a connection that cannot
// place them), and what it gets after starts at a key frame.
func TestTracksWaitForTheAnswer(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{AnswerWait: time.Minute})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{noAnswered: true})
	publishSimulcast(t, pub, 0)
	subscribedOnce(t, r)

	select {
	case <-sub.tracks:
		t.Fatal("the subscriber got media before it said it had set the answer")
	case <-time.After(500 * time.Millisecond):
	}
	assert.Zero(t, r.Stats()[0].Subscribers[0].Sent)

	require.NoError(t, r.Answered("sub"))
	got := readSeen(t, sub.nextTrack(), 1)
	assert.True(t, got[0].key, "the first packet is a key frame")
	assert.NotZero(t, r.Stats()[0].Subscribers[0].Sent)
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(r.Answered("stranger")))
}

// A client that never says it has set the answer (one older than
// mediaAnswered) gets its tracks after Config.AnswerWait.
func TestTracksComeWithoutTheAnswerSaid(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{AnswerWait: 300 * time.Millisecond})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{simulcast: true})
	sub := newClient(t, r, b, "sub", clientOpts{noAnswered: true})
	publishSimulcast(t, pub, 0)
	got := readSeen(t, sub.nextTrack(), 1)
	assert.True(t, got[0].key, "the first packet is a key frame")
}
