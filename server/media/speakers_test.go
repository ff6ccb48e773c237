package media

import (
	"roomkit/server/protocol"

	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// speakerInterval is the tests' Config.SpeakerInterval.
const speakerInterval = 100 * time.Millisecond

// talker is a test client publishing audio whose audio-level extension
// says level (0 loudest, 127 silence), which the test changes.
type talker struct {
	*client
	level atomic.Int32
}

// newTalker joins session and publishes its microphone at level.
func newTalker(t *testing.T, r *Room, b *switchboard, session string, level int) *talker {
	t.Helper()
	return newTalkerOf(t, r, b, session, level, SourceMicrophone)
}

// newTalkerOf joins session and publishes audio of src at level.
func newTalkerOf(t *testing.T, r *Room, b *switchboard, session string, level int, src Source) *talker {
	t.Helper()
	c := &talker{client: newClient(t, r, b, session, clientOpts{})}
	c.level.Store(int32(level))
	track := c.publish(webrtc.RTPCodecTypeAudio, src)
	var id uint8
	for _, tr := range c.pc.GetTransceivers() {
		if tr.Sender() == nil {
			continue // a section it receives on
		}
		for _, e := range tr.Sender().GetParameters().HeaderExtensions {
			if e.URI == sdp.AudioLevelURI {
				id = uint8(e.ID)
			}
		}
	}
	require.NotZero(t, id, "%s: no audio-level extension negotiated", session)
	startSending(t, track, 20*time.Millisecond, 40, func(h *rtp.Header, _ int) {
		_ = h.SetExtension(id, []byte{byte(c.level.Load())})
	})
	return c
}

// received is what a subscriber got, per publishing user: each packet's
// sequence number and the publisher's index in its payload.
type received struct {
	mu   sync.Mutex
	pkts map[string][]rtp.Header // by user; Timestamp holds the payload index
}

// record reads every track c receives, from now on (nextTrack is not
// to be used on c after it).
func record(c *client) *received {
	rec := &received{pkts: map[string][]rtp.Header{}}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		for {
			select {
			case <-c.stop:
				return
			case tr := <-c.tracks:
				c.wg.Add(1)
				go func() {
					defer c.wg.Done()
					for {
						p, _, err := tr.ReadRTP()
						if err != nil {
							return
						}
						rec.mu.Lock()
						rec.pkts[tr.StreamID()] = append(rec.pkts[tr.StreamID()], rtp.Header{SequenceNumber: p.SequenceNumber, Timestamp: uint32(payloadIndex(p.Payload))})
						rec.mu.Unlock()
					}
				}()
			}
		}
	}()
	return rec
}

// counts is how many packets of each user have come.
func (rec *received) counts() map[string]int {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := map[string]int{}
	for u, p := range rec.pkts {
		out[u] = len(p)
	}
	return out
}

// flowing is the users whose packets come in the next 400 ms (after
// 150 ms for what was queued before).
func (rec *received) flowing() map[string]bool {
	time.Sleep(150 * time.Millisecond)
	before := rec.counts()
	time.Sleep(400 * time.Millisecond)
	out := map[string]bool{}
	for u, n := range rec.counts() {
		if n > before[u] {
			out[u] = true
		}
	}
	return out
}

// waitFlowing waits until what flows to the subscriber is want: the
// state after a change settles (the pause of a track is at once, but
// packets queued before it, and a new subscription's, take a moment,
// longer on a loaded machine).
func (rec *received) waitFlowing(t *testing.T, want map[string]bool) {
	t.Helper()
	var got map[string]bool
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got = rec.flowing(); fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
	}
	assert.Equal(t, want, got, "what flows")
}

// waitSpeakers waits for an ActiveSpeakers signal to c listing users, in
// that order.
func waitSpeakers(t *testing.T, c *client, users ...string) ActiveSpeakers {
	t.Helper()
	deadline := time.After(10 * time.Second)
	var last ActiveSpeakers
	for {
		select {
		case ev := <-c.speakers:
			last = ev
			got := make([]string, len(ev.Speakers))
			for i, s := range ev.Speakers {
				got[i] = s.UserID
			}
			if fmt.Sprint(got) == fmt.Sprint(users) {
				return ev
			}
		case <-deadline:
			t.Fatalf("%s: no active speakers %v; the last was %+v", c.session, users, last)
		}
	}
}

func set(users ...string) map[string]bool {
	out := map[string]bool{}
	for _, u := range users {
		out[u] = true
	}
	return out
}

// Five publishers at levels 127 (silent), 40, 30, 20 and 10 (loudest),
// with every member to hear the 2 loudest others, so 3 forwarded,
// published in that order (so the first three are forwarded before any
// selection): a subscriber gets the audio of the three loudest only and
// an ActiveSpeakers signal listing them loudest first. When the loudest
// goes silent, the fourth (40) flows and the signal changes; when it
// speaks again and another goes silent, the tracks paused and resumed
// come with contiguous sequence numbers across each pause (the
// publisher's index jumps, the numbers do not), so no pause is seen as
// loss.
func TestTopSpeakersForwarded(t *testing.T) {
	noLeaks(t)
	// Every member hears the 2 loudest others: the room forwards 3.
	s := newTestServer(t, Config{SpeakerInterval: speakerInterval, MaxAudioStreams: 2})
	r, b := newTestRoom(t, s)
	sub := newClient(t, r, b, "sub", clientOpts{})
	rec := record(sub)
	talkers := map[int]*talker{}
	for _, lvl := range []int{127, 40, 30, 20, 10} {
		talkers[lvl] = newTalker(t, r, b, fmt.Sprintf("p%d", lvl), lvl)
	}
	u := func(lvl int) string { return fmt.Sprintf("user-p%d", lvl) }

	ev := waitSpeakers(t, sub, u(10), u(20), u(30))
	assert.Greater(t, ev.Speakers[0].Level, ev.Speakers[1].Level)
	assert.Greater(t, ev.Speakers[1].Level, ev.Speakers[2].Level)
	assert.InDelta(t, 0.316, ev.Speakers[0].Level, 0.01, "level 10 dBov as amplitude")
	rec.waitFlowing(t, set(u(10), u(20), u(30)))
	paused := map[string]bool{}
	for _, st := range r.Stats() {
		paused[st.UserID] = st.Paused
	}
	assert.Equal(t, map[string]bool{u(10): false, u(20): false, u(30): false, u(40): true, u(127): true}, paused)
	waitSpeakers(t, talkers[10].client, u(10), u(20), u(30)) // a publisher is told too

	talkers[10].level.Store(127)
	waitSpeakers(t, sub, u(20), u(30), u(40))
	rec.waitFlowing(t, set(u(20), u(30), u(40)))

	talkers[10].level.Store(10) // 40 is paused again
	waitSpeakers(t, sub, u(10), u(20), u(30))
	talkers[20].level.Store(127) // and resumed
	waitSpeakers(t, sub, u(10), u(30), u(40))
	rec.waitFlowing(t, set(u(10), u(30), u(40)))

	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, lvl := range []int{10, 40} {
		pkts := rec.pkts[u(lvl)]
		require.NotEmpty(t, pkts)
		pauses := 0
		for i := 1; i < len(pkts); i++ {
			require.Equal(t, pkts[i-1].SequenceNumber+1, pkts[i].SequenceNumber, "%s: packet %d (index %d after %d) not contiguous", u(lvl), i, pkts[i].Timestamp, pkts[i-1].Timestamp)
			if pkts[i].Timestamp-pkts[i-1].Timestamp > 5 {
				pauses++
			}
		}
		assert.GreaterOrEqual(t, pauses, 1, "%s was never paused and resumed", u(lvl))
	}
}

// With three publishers (one speaking, two silent), every audio track is
// forwarded, as in a small call; the signal lists the one speaking.
func TestFewSpeakersAllForwarded(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{SpeakerInterval: speakerInterval, MaxAudioStreams: 2})
	r, b := newTestRoom(t, s)
	sub := newClient(t, r, b, "sub", clientOpts{})
	rec := record(sub)
	newTalker(t, r, b, "a", 127)
	newTalker(t, r, b, "b", 10)
	newTalker(t, r, b, "c", 127)

	waitSpeakers(t, sub, "user-b")
	require.Eventually(t, func() bool { return len(rec.counts()) == 3 }, 10*time.Second, 20*time.Millisecond)
	rec.waitFlowing(t, set("user-a", "user-b", "user-c"))
	for _, st := range r.Stats() {
		assert.False(t, st.Paused, "track of %s", st.UserID)
	}
	assert.Equal(t, []string{"user-b"}, []string{r.ActiveSpeakers()[0].UserID})
}

// The meter: at least 40 % of an interval's packets at or under the
// speaking level make it speech, as linear amplitude times that share;
// the V bit counts as speech at any level but silence.
func TestAudioMeter(t *testing.T) {
	var m audioMeter
	var prev uint64
	take := func() float64 {
		l := m.take(&prev)
		require.Equal(t, l, loudness(prev), "one interval alone")
		prev = 0
		return l
	}
	assert.Zero(t, take(), "no packets")
	for range 10 {
		m.observe(20, DefaultSpeakingLevel)
	}
	assert.InDelta(t, 0.1, m.take(&prev), 0.001)
	assert.InDelta(t, 0.1, m.take(&prev), 0.001, "the last two intervals: 10 of 10 packets")
	assert.Zero(t, m.take(&prev), "two intervals without packets")
	prev = 0
	for i := range 10 {
		lvl := byte(127)
		if i < 3 {
			lvl = 0
		}
		m.observe(lvl, DefaultSpeakingLevel)
	}
	assert.Zero(t, take(), "30 % speech is not speaking")
	for range 10 {
		m.observe(0x80|90, DefaultSpeakingLevel)
	}
	assert.Greater(t, take(), 0.0, "the V bit at level 90")
	for range 10 {
		m.observe(0x80|127, DefaultSpeakingLevel)
	}
	assert.Zero(t, take(), "the V bit on silence")
}

// The ranking: a silent track never takes a speaking one's place; among
// the silent, the tracks forwarded already keep their places; with n or
// fewer tracks all are forwarded.
func TestRankAudio(t *testing.T) {
	tr := func(id string) *publishedTrack { return &publishedTrack{id: id, userID: "user-" + id} }
	c := []audioCandidate{
		{t: tr("a"), order: 1, loudness: 0, forwarded: true},
		{t: tr("b"), order: 2, loudness: 0.01},
		{t: tr("c"), order: 3, loudness: 0, forwarded: false},
		{t: tr("d"), order: 4, loudness: 0, forwarded: true},
		{t: tr("e"), order: 5, loudness: 0.3},
	}
	n := rankAudio(c, 3)
	require.Equal(t, 3, n)
	var ids []string
	for _, x := range c {
		ids = append(ids, x.t.id)
	}
	assert.Equal(t, []string{"e", "b", "a", "d", "c"}, ids)
	assert.Equal(t, []Speaker{{"user-e", 0.3}, {"user-b", 0.01}}, speakersOf(c[:n]))
	assert.Equal(t, 5, rankAudio(c, 8))
	assert.Equal(t, 5, rankAudio(c, 0), "0: no selection")
}

// A pause of more numbers than the munger's window, with losses in it,
// costs one run, and the numbers on both sides of it are contiguous; a
// late packet from the pause is not forwarded, one from before it keeps
// its number.
func TestSeqMungerPause(t *testing.T) {
	var m seqMunger
	out := func(seq uint16, paused bool) (uint16, bool) { return m.munge(seq, paused, paused) }
	for i := range 10 {
		o, ok := out(uint16(65000+i), false)
		require.True(t, ok)
		require.Equal(t, uint16(65000+i), o)
	}
	// 65009 was the last forwarded; 65010 is lost, then a pause of 6000
	// packets with every 7th lost.
	seq := uint16(65011)
	for i := range 6000 {
		if i%7 != 3 {
			_, ok := out(seq, true)
			require.False(t, ok)
		}
		seq++
	}
	assert.Len(t, m.drops, 1, "one run")
	o, ok := out(seq, false)
	require.True(t, ok)
	assert.Equal(t, uint16(65010), o, "the first after the pause follows the last before it")
	o, ok = out(seq+1, false)
	require.True(t, ok)
	assert.Equal(t, uint16(65011), o)
	_, ok = out(seq-5, false) // a late one from the pause
	assert.False(t, ok)
}

// audioOf lists the users whose audio the room has session subscribed to.
func audioOf(r *Room, session string) map[string]bool {
	out := map[string]bool{}
	for u := range sentTo(r, session, "audio") {
		out[u] = true
	}
	return out
}

// With more microphones than MaxAudioTracks (3 here, 2 forwarded), a
// member is subscribed to the 3 audible ones only: those forwarded and
// the one forwarded most recently. A speaker who is not audible becomes
// audible when forwarded, in the place of the one heard longest ago, and
// its audio reaches the member; the member's connection keeps 3 audio
// sections however the audible tracks change.
func TestAudibleTracksAreBounded(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{SpeakerInterval: speakerInterval, MaxAudioStreams: 1, Limits: Limits{MaxAudioTracks: 3}})
	r, b := newTestRoom(t, s)
	sub := newClient(t, r, b, "sub", clientOpts{})
	rec := record(sub)
	talkers := map[string]*talker{}
	for i, name := range []string{"a", "b", "c", "d", "e"} {
		talkers[name] = newTalker(t, r, b, name, 127)
		// In the room in this order (a track enters with its first packet).
		require.Eventually(t, func() bool { return len(r.Tracks()) == i+1 }, 10*time.Second, 10*time.Millisecond)
	}
	audible := func(users ...string) {
		t.Helper()
		want := set(users...)
		var got map[string]bool
		ok := assert.Eventually(t, func() bool { got = audioOf(r, "sub"); return fmt.Sprint(got) == fmt.Sprint(want) }, 10*time.Second, 20*time.Millisecond)
		require.True(t, ok, "subscribed to %v, want %v", got, want)
	}
	audible("user-a", "user-b", "user-c") // the first three published

	talkers["d"].level.Store(40)
	talkers["e"].level.Store(20)
	waitSpeakers(t, sub, "user-e", "user-d")
	audible("user-c", "user-d", "user-e") // a and b, heard longest ago, make room
	rec.waitFlowing(t, set("user-d", "user-e"))

	talkers["e"].level.Store(127)
	talkers["c"].level.Store(30)
	waitSpeakers(t, sub, "user-c", "user-d")
	audible("user-c", "user-d", "user-e") // c was audible: nothing changes
	rec.waitFlowing(t, set("user-c", "user-d"))

	talkers["c"].level.Store(127)
	talkers["a"].level.Store(10)
	waitSpeakers(t, sub, "user-a", "user-d")
	audible("user-a", "user-c", "user-d") // e was heard before c
	rec.waitFlowing(t, set("user-a", "user-d"))

	local := sub.pc.LocalDescription().SDP
	assert.Equal(t, 3, sectionsOf(local, "audio"), "the audio sections are reused:\n%s", local)
}

// A screen's audio is forwarded only while its member shares, like the
// screen, and however loud it is it makes nobody an active speaker.
func TestAScreensAudioGoesOutWhileShared(t *testing.T) {
	noLeaks(t)
	s := newTestServer(t, Config{})
	r, b := newTestRoom(t, s)
	newClient(t, r, b, "s", clientOpts{})
	pub := newTalkerOf(t, r, b, "a", 10, SourceScreenAudio) // loud
	pub.connected()
	require.Eventually(t, func() bool { return len(r.Tracks()) == 1 }, 10*time.Second, 10*time.Millisecond)
	// s is subscribed (it renegotiates on its own); sent is how many packets of a's screen audio s was sent so far.
	sent := func() uint64 {
		for _, st := range r.Stats() {
			for _, x := range st.Subscribers {
				if x.Session == "s" && st.Source == SourceScreenAudio {
					return x.Sent
				}
			}
		}
		return 0
	}
	rising := func() bool {
		before := sent()
		time.Sleep(300 * time.Millisecond)
		return sent() > before
	}
	assert.False(t, rising(), "a screen's audio goes out while its member does not share")

	r.Updated(protocol.Member{UserID: "user-a", Share: true})
	require.Eventually(t, rising, 10*time.Second, 10*time.Millisecond, "the shared screen's audio does not go out")
	assert.Empty(t, r.ActiveSpeakers(), "a screen's audio makes a speaker")

	r.Updated(protocol.Member{UserID: "user-a", Share: false})
	require.Eventually(t, func() bool { return !rising() }, 10*time.Second, 10*time.Millisecond, "the screen's audio still goes out once the share is off")
}
