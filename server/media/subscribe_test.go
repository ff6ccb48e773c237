package media

import (
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
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

// videoOf maps each user whose video the room forwards to session to
// the packets sent to it so far.
func videoOf(r *Room, session string) map[string]uint64 { return sentTo(r, session, "video") }

// sentTo maps each user whose track of kind the room forwards to
// session to the packets sent to it so far.
func sentTo(r *Room, session, kind string) map[string]uint64 {
	out := map[string]uint64{}
	for _, st := range r.Stats() {
		if st.Kind != kind {
			continue
		}
		for _, s := range st.Subscribers {
			if s.Session == session {
				out[st.UserID] = s.Sent
			}
		}
	}
	return out
}

// sectionsOf counts the media sections of kind in sdp.
func sectionsOf(sdp, kind string) int { return strings.Count(sdp, "m="+kind+" ") }

// A member receives the video of the users it chooses, at most
// MaxVideoStreams, and, until it chooses, the first published; its
// choice takes what those users publish later. Paging back and forth
// reuses the connection's sections instead of adding more. Every audio
// track is received whatever the choice.
func TestVideoFollowsTheChoice(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{Limits: Limits{MaxVideoStreams: 2}})
	r, b := newTestRoom(t, s)
	sub := newClient(t, r, b, "s", clientOpts{})
	pubs := map[string]*client{}
	for _, name := range []string{"a", "b", "c", "d"} {
		p := newClient(t, r, b, name, clientOpts{})
		pubs[name] = p
		startSending(t, p.publish(webrtc.RTPCodecTypeVideo, SourceCamera), 10*time.Millisecond, 100, nil)
		startSending(t, p.publish(webrtc.RTPCodecTypeAudio, SourceMicrophone), 20*time.Millisecond, 40, nil)
		p.connected()
		require.Eventually(t, func() bool { return len(r.Tracks()) == 2*len(pubs) }, 10*time.Second, 10*time.Millisecond)
	}
	require.NoError(t, sub.negotiate(Renegotiate{}))

	// receivesOn waits until session receives (and is sent packets of)
	// the video of exactly users.
	receivesOn := func(session string, users ...string) {
		t.Helper()
		want := map[string]bool{}
		for _, u := range users {
			want["user-"+u] = true
		}
		var last map[string]uint64
		start := videoOf(r, session)
		ok := assert.Eventually(t, func() bool {
			last = videoOf(r, session)
			if len(last) != len(want) {
				return false
			}
			for u, sent := range last {
				if !want[u] || sent <= start[u]+5 {
					return false
				}
			}
			return true
		}, 15*time.Second, 20*time.Millisecond)
		require.True(t, ok, "%s wanted %v, receiving %v", session, users, last)
	}
	receives := func(users ...string) { t.Helper(); receivesOn("s", users...) }
	receives("a", "b") // not chosen yet: the first two published

	require.NoError(t, r.SelectVideo("s", []string{"user-c"}))
	receives("c")

	err := r.SelectVideo("s", []string{"user-a", "user-b", "user-c"})
	assert.Equal(t, protocol.CodeTrackLimit, codeOf(err), "%v", err)
	receives("c") // a refused choice changes nothing

	// A user chosen before publishing is received once it publishes.
	require.NoError(t, r.SelectVideo("s", []string{"user-a", "user-e"}))
	receives("a")
	e := newClient(t, r, b, "e", clientOpts{})
	startSending(t, e.publish(webrtc.RTPCodecTypeVideo, SourceCamera), 10*time.Millisecond, 100, nil)
	e.connected()
	receives("a", "e")

	// Paging: two pages of two, back and forth.
	for i := 0; i < 3; i++ {
		require.NoError(t, r.SelectVideo("s", []string{"user-c", "user-d"}))
		receives("c", "d")
		require.NoError(t, r.SelectVideo("s", []string{"user-a", "user-b"}))
		receives("a", "b")
	}
	local := sub.pc.LocalDescription().SDP
	assert.Equal(t, 2, sectionsOf(local, "video"), "the video sections are reused:\n%s", local)

	// Audio is not chosen: all four microphones reach s.
	audio := 0
	for _, st := range r.Stats() {
		if st.Kind != "audio" {
			continue
		}
		for _, x := range st.Subscribers {
			if x.Session == "s" {
				audio++
			}
		}
	}
	assert.Equal(t, 4, audio)

	require.NoError(t, r.SelectVideo("s", nil))
	receives()
	assert.Equal(t, protocol.CodeNotInRoom, codeOf(r.SelectVideo("stranger", nil)))
}

// A member that joins a room where many publish and chooses its video
// as it joins (as a page does) is given no other video; one that joins
// without a choice is given the first MaxVideoStreams and drops them when
// it chooses, before any was negotiated. Either way what it chooses next
// reaches it on the sections its client has, however its choice changes,
// and its client's video sections stay as many as it ever received at
// once.
func TestAChoiceBeforeTheFirstOffer(t *testing.T) {
	t.Run("choosing as it joins", func(t *testing.T) { choiceBeforeTheFirstOffer(t, true) })
	t.Run("choosing after it joined", func(t *testing.T) { choiceBeforeTheFirstOffer(t, false) })
}

func choiceBeforeTheFirstOffer(t *testing.T, asItJoins bool) {
	noLeaks(t)
	s := newTestServer(t, Config{Limits: Limits{MaxVideoStreams: 4}})
	r, b := newTestRoom(t, s)
	users := []string{"a", "b", "c", "d", "e", "f"}
	for _, name := range users {
		p := newClient(t, r, b, name, clientOpts{})
		startSending(t, p.publish(webrtc.RTPCodecTypeVideo, SourceCamera), 10*time.Millisecond, 100, nil)
		p.connected()
	}
	require.Eventually(t, func() bool { return len(r.Tracks()) == len(users) }, 10*time.Second, 10*time.Millisecond)

	most := 2 // [b, c] below
	var late *client
	if asItJoins {
		late = newClient(t, r, b, "late", clientOpts{choose: []string{"user-a"}})
	} else {
		late = newClient(t, r, b, "late", clientOpts{})
		require.NoError(t, r.SelectVideo("late", []string{"user-a"}))
		most = 4 // it may have been asked to receive the first four
	}
	late.publish(webrtc.RTPCodecTypeAudio, SourceMicrophone) // its first offer (a page sends its microphone's section)
	for _, choice := range [][]string{{"user-f"}, {"user-e"}, {"user-b", "user-c"}, {"user-d"}} {
		require.NoError(t, r.SelectVideo("late", choice))
		var got map[string]uint64
		start := videoOf(r, "late")
		ok := assert.Eventually(t, func() bool {
			got = videoOf(r, "late")
			if len(got) != len(choice) {
				return false
			}
			for _, u := range choice {
				if got[u] <= start[u]+5 {
					return false
				}
			}
			return true
		}, 15*time.Second, 20*time.Millisecond)
		require.True(t, ok, "chose %v, receiving %v", choice, got)
	}
	local := late.pc.LocalDescription().SDP
	assert.LessOrEqual(t, sectionsOf(local, "video"), most, "the client's sections are reused:\n%s", local)
}

// A screen is forwarded only while its publisher's member state says it
// shares: published before the share is on, it reaches no one; the share
// on, it reaches the members (and may be subscribed to); the share off
// (stopped, or the lock), it is taken from them again, while the camera
// goes on.
func TestAScreenGoesOutWhileShared(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	sub := newClient(t, r, b, "s", clientOpts{})
	pub := newClient(t, r, b, "a", clientOpts{})
	startSending(t, pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera), 10*time.Millisecond, 300, nil)
	startSending(t, pub.publish(webrtc.RTPCodecTypeVideo, SourceScreen), 10*time.Millisecond, 300, nil)
	pub.connected()
	require.Eventually(t, func() bool { return len(r.Tracks()) == 2 }, 10*time.Second, 10*time.Millisecond)
	require.NoError(t, sub.negotiate(Renegotiate{}))
	var screen string
	for _, tr := range r.Tracks() {
		if tr.Source == SourceScreen {
			screen = tr.ID
		}
	}
	// sent is what s was sent of each of a's sources so far.
	sent := func() map[Source]uint64 {
		out := map[Source]uint64{}
		for _, st := range r.Stats() {
			for _, x := range st.Subscribers {
				if x.Session == "s" {
					out[st.Source] = x.Sent
				}
			}
		}
		return out
	}
	receives := func(sources ...Source) {
		t.Helper()
		start := sent()
		var last map[Source]uint64
		ok := assert.Eventually(t, func() bool {
			last = sent()
			if len(last) != len(sources) {
				return false
			}
			for _, src := range sources {
				if last[src] <= start[src]+5 {
					return false
				}
			}
			return true
		}, 15*time.Second, 20*time.Millisecond)
		require.True(t, ok, "wanted %v, receiving %v", sources, last)
	}
	receives(SourceCamera)
	assert.Equal(t, protocol.CodeNoSuchTrack, codeOf(r.Subscribe("s", screen)), "a screen not shared is not subscribed to")

	r.Updated(protocol.Member{UserID: "user-a", Share: true})
	receives(SourceCamera, SourceScreen)
	r.Updated(protocol.Member{UserID: "user-a", Share: false})
	receives(SourceCamera)
}
