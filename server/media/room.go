package media

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"

	"roomkit/server/protocol"
)

// Signal is how a Room reaches a member's client: session is the
// member's, kind one of the Signal* constants, payload that kind's value
// (to be sent as JSON). It is called from the room's own goroutines (a
// member's actor, pion's callbacks), never from Joined, Left, Updated,
// Closed or Export and never under a lock of the package's. It must not
// block for long: taking a room engine's lock briefly (as an engine's
// Members.Send does) is fine, which is why Offer and AddCandidate, that
// wait for a member's actor, must never be called under that lock.
type Signal func(session, kind string, payload any)

// The kinds of Signal.
const (
	// SignalRenegotiate (payload Renegotiate): the server has more (or
	// less) for this member to receive; the client sends a new offer, with
	// at least as many recvonly (or sendrecv) media sections of each kind
	// as Renegotiate lists.
	SignalRenegotiate = "renegotiate"
	// SignalState (payload State): the member's connection changed state
	// (connected, disconnected, failed, ...).
	SignalState = "state"
	// SignalActiveSpeakers (payload ActiveSpeakers) is in speakers.go.
)

// Renegotiate is the payload of SignalRenegotiate: every track the member
// receives now.
type Renegotiate struct {
	Tracks []TrackInfo `json:"tracks"`
}

// State is the payload of SignalState: the state of the member's
// RTCPeerConnection, as the W3C names it ("connected", "failed", ...).
type State struct {
	State string `json:"state"`
}

// Source is what a published track shows or plays.
type Source string

// The sources a client labels its tracks with (Offer.Sources).
const (
	SourceCamera      Source = "camera"
	SourceMicrophone  Source = "microphone"
	SourceScreen      Source = "screen"
	SourceScreenAudio Source = "screenAudio"
)

// validSource reports whether s is one of the Source constants.
func validSource(s Source) bool {
	switch s {
	case SourceCamera, SourceMicrophone, SourceScreen, SourceScreenAudio:
		return true
	}
	return false
}

// Offer is a client's SDP offer with what its sending sections carry.
type Offer struct {
	// SDP is the offer, as the client's createOffer made it.
	SDP string `json:"sdp"`
	// Sources labels the client's sending media sections by mid; a
	// section not named is SourceMicrophone for audio, SourceCamera for
	// video. Each offer's Sources replace the last's; mids not in the
	// offer are ignored.
	Sources map[string]Source `json:"sources,omitempty"`
}

// TrackInfo describes one published track, as a subscriber sees it. On a
// subscriber's connection the track's msid is UserID (stream) and ID
// (track).
type TrackInfo struct {
	ID     string `json:"trackID"`
	UserID string `json:"userID"`
	Kind   string `json:"kind"` // "audio" or "video"
	Source Source `json:"source"`
}

// Room is the media side of one call room: its members' connections and
// tracks. Joined, Left, Updated, Closed and Export have the shape of the
// room engine's Extension and never block; Offer and AddCandidate block
// their caller until the member's connection has done the work, and must
// be called outside any room lock.
type Room struct {
	s       *Server
	app, id string
	signal  Signal

	mu      sync.Mutex
	members map[string]*member
	tracks  map[string]*publishedTrack
	nextID  uint64
	closed  bool

	// The active speakers (speakers.go), under mu: whether the speaker
	// goroutine runs, and the list it signalled last.
	speakersOn bool
	speakers   []Speaker
	// The audible audio tracks (speakers.go), under mu: those every
	// member is subscribed to, at most Server.audibleTracks(); and the
	// speaker round, which stamps each track's publishedTrack.heard.
	audible map[string]*publishedTrack
	round   uint64

	wg      sync.WaitGroup // every goroutine of the room
	closing chan struct{}  // closed by Closed
	done    chan struct{}

	// writeHook, when set (tests, before the room is used), runs before
	// each packet a down track writes.
	writeHook func(d *downTrack)
}

func newRoom(s *Server, app, id string, signal Signal) *Room {
	return &Room{
		s: s, app: app, id: id, signal: signal,
		members: map[string]*member{},
		tracks:  map[string]*publishedTrack{},
		audible: map[string]*publishedTrack{},
		closing: make(chan struct{}),
		done:    make(chan struct{}),
	}
}

// ID is the room's app and room ID, as NewRoom was given them.
func (r *Room) ID() (app, roomID string) { return r.app, r.id }

// Joined admits session as a member (m is its member record): from now
// on it may offer, publish and subscribe, and, unless the limits say
// ManualSubscribe, it is subscribed to the room's audible audio tracks
// (speakers.go) and to the first MaxVideoStreams video tracks (until it
// chooses with SelectVideo).
// While someone speaks it is sent the active speakers. A session already
// a member only has its record updated. It does not block.
func (r *Room) Joined(session string, m protocol.Member) {
	r.join(session, m, nil)
}

// JoinedChoosing is Joined for a member that chooses its video as it
// joins (SelectVideo's users): it is never given the first
// MaxVideoStreams. For a session already a member it is SelectVideo.
// More users than MaxVideoStreams fail with protocol.CodeTrackLimit, and
// the session is not admitted.
func (r *Room) JoinedChoosing(session string, m protocol.Member, users []string) error {
	want, err := r.videoChoice(users)
	if err != nil {
		return err
	}
	if r.join(session, m, want) {
		return nil
	}
	return r.SelectVideo(session, users)
}

// videoChoice is users as a set, or CodeTrackLimit for more than
// MaxVideoStreams.
func (r *Room) videoChoice(users []string) (map[string]bool, error) {
	if limit := r.s.limits.MaxVideoStreams; len(users) > limit {
		return nil, protocol.Errorf(protocol.CodeTrackLimit, "video of %d users asked for: a member receives at most %d video streams at once", len(users), limit)
	}
	want := make(map[string]bool, len(users))
	for _, u := range users {
		want[u] = true
	}
	return want, nil
}

// join admits session with video choice want (nil: none yet); it
// reports whether session is new (false: a member whose record was
// updated, or the room is closed).
func (r *Room) join(session string, m protocol.Member, want map[string]bool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	if mem := r.members[session]; mem != nil {
		mem.info = m
		return false
	}
	mem := newMember(r, session, m)
	mem.wantVideo = want
	r.members[session] = mem
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		mem.q.run(mem.idle)
	}()
	if !r.s.limits.ManualSubscribe {
		for _, t := range r.audible {
			mem.q.push(func() { mem.subscribe(t) })
		}
		r.chooseVideo(mem)
	}
	if len(r.speakers) > 0 {
		ev := ActiveSpeakers{Speakers: r.speakers}
		mem.q.push(func() { mem.signal(SignalActiveSpeakers, ev) })
	}
	return true
}

// Left ends session's membership: its connection is closed (on its own
// goroutine), so what it published ends for every subscriber. It does
// not block; a session not a member is ignored.
func (r *Room) Left(session string, _ protocol.Member) {
	r.mu.Lock()
	mem := r.members[session]
	delete(r.members, session)
	r.mu.Unlock()
	if mem != nil {
		mem.shutdown()
	}
}

// Updated records a user's new member record (role, name, state) on each
// of that user's sessions. It does not block. A share turned off takes
// the member's screen and its audio away at once (the next speaker round
// may forward the audio again when it is turned on).
func (r *Room) Updated(m protocol.Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	shareChanged := false
	for _, mem := range r.members {
		if mem.info.UserID == m.UserID {
			shareChanged = shareChanged || mem.info.Share != m.Share
			mem.info = m
		}
	}
	if !shareChanged {
		return
	}
	for _, t := range r.tracks {
		if t.source == SourceScreenAudio && !t.shown() {
			t.paused.Store(true)
		}
	}
	if !r.s.limits.ManualSubscribe {
		// A screen is forwarded only while its publisher's share is on.
		for _, o := range r.members {
			r.chooseVideo(o)
		}
	}
}

// Closed ends the room: every member's connection is closed, on the
// members' goroutines, and Done is closed once all the room's goroutines
// have ended. Nothing is accepted after it. It does not block.
func (r *Room) Closed() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.closing)
	members := make([]*member, 0, len(r.members))
	for _, m := range r.members {
		members = append(members, m)
	}
	r.members = map[string]*member{}
	r.mu.Unlock()
	for _, m := range members {
		m.shutdown()
	}
	go func() {
		r.wg.Wait()
		r.s.roomDone(r)
		close(r.done)
	}()
}

// Done is closed once the room is closed and all its goroutines (member
// actors, track readers and writers, RTCP readers) have ended.
func (r *Room) Done() <-chan struct{} { return r.done }

// Export is the room's media state as it moves with the room: nil, as
// connections do not move; the clients rebuild theirs on the new owner.
func (r *Room) Export() json.RawMessage { return nil }

// member is session's member, or a CodeNotInRoom error.
func (r *Room) member(session string) (*member, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.members[session]; m != nil {
		return m, nil
	}
	if r.closed {
		return nil, protocol.Errorf(protocol.CodeRoomNotExist, "room %q has no media any more", r.id)
	}
	return nil, protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
}

// Offer takes session's SDP offer and returns the server's answer, with
// the server's candidates in it (gathering on the muxes is immediate).
//
// The offer is checked before anything is touched, and a refused one
// changes nothing: a malformed, too large (Limits.MaxOfferBytes) or
// empty offer, one with simulcast (a=simulcast, a=rid: not supported
// yet), a data channel section (m=application) or more than
// Limits.MaxCandidates candidates, or a bad source, fails with
// CodeInvalidParameter; one whose media section offers no codec the
// server forwards with protocol.CodeNoCodec; one with too many media
// sections or published tracks with protocol.CodeTrackLimit; a session
// not a member with CodeNotInRoom; a member with Limits.MaxPendingTasks
// requests waiting already with CodeRateLimited. If ctx ends before the
// member's goroutine takes the offer, it fails with CodeRequestTimeout
// and is not applied; once taken, it is applied even if ctx ends while
// it is (the call returns CodeRequestTimeout then, and the client's
// next offer sets things right).
//
// What pion itself refuses (CodeInvalidParameter) is rolled back on the
// member's connection, which keeps working as it was, with one
// exception each: tracks whose section lacks their codec have been
// dropped already when the answer is refused; and an offer from a new
// connection (another DTLS fingerprint than the last: the page was
// reloaded) has replaced the member's connection before pion sees it:
// what the old one published has ended, what it received waits on the
// new one for the next offer.
//
// A subscribed track whose section offers no codec that can carry the
// publisher's is answered inactive and unsubscribed (the member does not
// get it; the rest of its connection works). An offer from a new
// connection replaces the member's connection: what it published ends,
// what it received is subscribed again on the new one. An offer while
// the member's tracks are unpublished for a down connection
// (Config.UnpublishGrace) publishes them again. It blocks until the
// answer is made or ctx ends.
func (r *Room) Offer(ctx context.Context, session string, o Offer) (string, error) {
	sum, err := checkOffer(o.SDP, r.s.limits, r.s.cfg.NoH264)
	if err != nil {
		return "", err
	}
	for mid, src := range o.Sources {
		if !validSource(src) || len(mid) > 64 {
			return "", protocol.Errorf(protocol.CodeInvalidParameter, "source %q of section %q is not one of camera, microphone, screen, screenAudio", src, mid)
		}
	}
	m, err := r.member(session)
	if err != nil {
		return "", err
	}
	type result struct {
		answer string
		err    error
	}
	res := make(chan result, 1)
	if err := r.pushRequest(m, "offer", func() {
		if ctx.Err() != nil {
			// The caller has given up: applying it now would leave the
			// connection with an answer the client never got.
			res <- result{"", protocol.Errorf(protocol.CodeRequestTimeout, "no answer: %v", ctx.Err())}
			return
		}
		a, err := m.handleOffer(o, sum)
		res <- result{a, err}
	}); err != nil {
		return "", err
	}
	select {
	case x := <-res:
		return x.answer, x.err
	case <-ctx.Done():
		return "", protocol.Errorf(protocol.CodeRequestTimeout, "no answer: %v", ctx.Err())
	}
}

// Answered tells session's connection that the client has set the
// answer to its last offer: the tracks that answer started sending are
// sent from now (until then, at most a second, the server holds them, so
// that the client can place their first packets and the video starts at
// a key frame). A session not a member fails with CodeNotInRoom; a
// member with Limits.MaxPendingTasks requests waiting with
// CodeRateLimited.
func (r *Room) Answered(session string) error {
	m, err := r.member(session)
	if err != nil {
		return err
	}
	return r.pushRequest(m, "answered", m.answered)
}

// AddCandidate adds one of the client's trickled ICE candidates to
// session's connection (after its offer). A candidate that does not
// parse, one before any offer, or one beyond Limits.MaxCandidates (32)
// in the connection's ICE generation ("too many candidates"; an ICE
// restart starts a new one) fails with CodeInvalidParameter; a session
// not a member with CodeNotInRoom; a member with
// Limits.MaxPendingTasks requests waiting with CodeRateLimited. If ctx
// ends before the member's goroutine takes it, it is not added. It
// blocks until done or ctx ends.
func (r *Room) AddCandidate(ctx context.Context, session string, c webrtc.ICECandidateInit) error {
	if len(c.Candidate) > 1024 {
		return protocol.Errorf(protocol.CodeInvalidParameter, "the candidate is %d bytes, over the limit of 1024", len(c.Candidate))
	}
	m, err := r.member(session)
	if err != nil {
		return err
	}
	res := make(chan error, 1)
	if err := r.pushRequest(m, "candidate", func() {
		if ctx.Err() != nil {
			res <- protocol.Errorf(protocol.CodeRequestTimeout, "candidate not added: %v", ctx.Err())
			return
		}
		res <- m.addCandidate(c)
	}); err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return protocol.Errorf(protocol.CodeRequestTimeout, "candidate not added: %v", ctx.Err())
	}
}

// Subscribe has session receive track trackID (from the next
// renegotiation on). It fails with CodeNotInRoom for a session not a
// member, protocol.CodeNoSuchTrack for a track the room does not have, and
// CodeInvalidParameter for the member's own track, and CodeRateLimited
// when the member has Limits.MaxPendingTasks requests waiting.
// Subscribing twice is one subscription. It does not block.
func (r *Room) Subscribe(session, trackID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[session]
	if m == nil {
		return protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
	}
	t := r.tracks[trackID]
	if t == nil {
		return protocol.Errorf(protocol.CodeNoSuchTrack, "room %q has no track %q", r.id, trackID)
	}
	if t.pub == m {
		return protocol.Errorf(protocol.CodeInvalidParameter, "track %q is your own", trackID)
	}
	if !t.shown() {
		return protocol.Errorf(protocol.CodeNoSuchTrack, "track %q is a screen its publisher does not share now", trackID)
	}
	if err := r.pushRequest(m, "subscription", func() { m.subscribe(t) }); err != nil {
		return err
	}
	if t.kind == webrtc.RTPCodecTypeVideo {
		m.videoSubs[trackID] = true
	}
	return nil
}

// Unsubscribe stops session receiving trackID. A track not subscribed (or
// gone) is no error; a session not a member fails with CodeNotInRoom, a
// member with Limits.MaxPendingTasks requests waiting with
// CodeRateLimited. It does not block.
func (r *Room) Unsubscribe(session, trackID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[session]
	if m == nil {
		return protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
	}
	if err := r.pushRequest(m, "unsubscription", func() { m.unsubscribe(trackID) }); err != nil {
		return err
	}
	delete(m.videoSubs, trackID)
	return nil
}

// SelectVideo chooses the video session receives: that of the users
// listed (at most Limits.MaxVideoStreams tracks, the earliest published
// first), from now on, including what they publish later; an empty list
// is no video. Until a member chooses it receives the first
// MaxVideoStreams video tracks published. Audio is not chosen: every
// member receives the room's loudest (speakers.go). More users than
// MaxVideoStreams fail with protocol.CodeTrackLimit and change nothing; a
// session not a member fails with CodeNotInRoom, a member with
// Limits.MaxPendingTasks requests waiting with CodeRateLimited. Under
// ManualSubscribe the choice is kept and not acted on. It does not
// block: the member is signalled to renegotiate.
func (r *Room) SelectVideo(session string, users []string) error {
	want, err := r.videoChoice(users)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[session]
	if m == nil {
		return protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
	}
	old := m.wantVideo
	m.wantVideo = want
	if r.s.limits.ManualSubscribe {
		return nil
	}
	add, drop := r.videoChange(m)
	if err := r.pushRequest(m, "video choice", videoTask(m, add, drop)); err != nil {
		m.wantVideo = old
		return err
	}
	r.applyVideoChange(m, add, drop)
	return nil
}

// VideoSize is how large a client shows one user's camera, or the
// simulcast layer it takes (protocol.VideoSize).
type VideoSize = protocol.VideoSize

// SetVideoSizes says how large session's client shows each user's
// camera (replacing what it said before): of a simulcast camera it gets
// the layer that fills the tile (publishedTrack.layerFor), or the one
// named. A layer named that a user's camera published now does not
// declare fails with protocol.CodeNoSuchLayer and changes nothing; a
// session not a member fails with CodeNotInRoom, one with
// Limits.MaxPendingTasks requests waiting with CodeRateLimited. It does
// not block, nor renegotiate.
func (r *Room) SetVideoSizes(session string, sizes map[string]VideoSize) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.members[session]
	if m == nil {
		return protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
	}
	if err := r.checkLayers(sizes); err != nil {
		return err
	}
	own := make(map[string]VideoSize, len(sizes))
	for u, s := range sizes {
		own[u] = s
	}
	return r.pushRequest(m, "video sizes", func() {
		m.sizes = own
		for _, d := range m.down {
			if s, ok := own[d.t.userID]; ok {
				d.size.Store(&s)
			} else {
				d.size.Store(nil)
			}
			if d.t.simulcast {
				d.retarget(d.t.liveLayers(time.Now()))
			}
		}
	})
}

// CheckLayers checks that every layer sizes names is one the camera of
// its user (when published) declares, as SetVideoSizes does, without
// changing anything.
func (r *Room) CheckLayers(sizes map[string]VideoSize) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkLayers(sizes)
}

// checkLayers is CheckLayers under r.mu.
func (r *Room) checkLayers(sizes map[string]VideoSize) error {
	for user, s := range sizes {
		i := layerIndex(s.Layer)
		if s.Layer == "" {
			continue
		}
		if i < 0 {
			return protocol.Errorf(protocol.CodeInvalidParameter, "sizes[%q].layer is %q: the layers are q, h and f", user, s.Layer)
		}
		for _, t := range r.tracks {
			if t.userID == user && t.kind == webrtc.RTPCodecTypeVideo && t.source == SourceCamera && !t.declared[i] {
				what := "sends no simulcast"
				if t.simulcast {
					what = "does not send that layer"
				}
				return protocol.Errorf(protocol.CodeNoSuchLayer, "sizes[%q].layer is %q, but %s's camera %s", user, s.Layer, user, what)
			}
		}
	}
	return nil
}

// wantsVideo reports whether m's choice takes video track t (of another
// member). Under r.mu.
func (r *Room) wantsVideo(m *member, t *publishedTrack) bool {
	return t.kind == webrtc.RTPCodecTypeVideo && t.pub != m && (m.wantVideo == nil || m.wantVideo[t.userID]) && t.shown()
}

// videoChange is how m's video subscriptions differ from its choice: the
// tracks it should receive and does not (earliest published first, up to
// MaxVideoStreams in all), and those it receives and should not. Under
// r.mu.
func (r *Room) videoChange(m *member) (add []*publishedTrack, drop []string) {
	for id := range m.videoSubs {
		if t := r.tracks[id]; t == nil || !r.wantsVideo(m, t) {
			drop = append(drop, id)
		}
	}
	room := r.s.limits.MaxVideoStreams - (len(m.videoSubs) - len(drop))
	if room <= 0 {
		return add, drop
	}
	for _, t := range r.tracks {
		if !m.videoSubs[t.id] && r.wantsVideo(m, t) {
			add = append(add, t)
		}
	}
	sort.Slice(add, func(i, j int) bool { return add[i].order < add[j].order })
	if len(add) > room {
		add = add[:room]
	}
	return add, drop
}

// applyVideoChange records what videoChange found as done. Under r.mu.
func (r *Room) applyVideoChange(m *member, add []*publishedTrack, drop []string) {
	for _, id := range drop {
		delete(m.videoSubs, id)
	}
	for _, t := range add {
		m.videoSubs[t.id] = true
	}
}

// chooseVideo brings m's video subscriptions in line with its choice, as
// the room's own work (not bounded by MaxPendingTasks). Under r.mu.
func (r *Room) chooseVideo(m *member) {
	add, drop := r.videoChange(m)
	if len(add) == 0 && len(drop) == 0 {
		return
	}
	r.applyVideoChange(m, add, drop)
	m.q.push(videoTask(m, add, drop))
}

// videoTask is the task, on m's actor, that makes a videoChange: the
// unsubscriptions first, so their sections are the ones freed.
func videoTask(m *member, add []*publishedTrack, drop []string) func() {
	return func() {
		for _, id := range drop {
			m.unsubscribe(id)
		}
		for _, t := range add {
			m.subscribe(t)
		}
	}
}

// forgetVideo records that m no longer receives video track id (its
// connection cannot take the codec). The track may be given to m again at
// the next change of its video (and dropped again at its next offer):
// a codec mismatch costs a renegotiation per change, no more.
func (r *Room) forgetVideo(m *member, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(m.videoSubs, id)
}

// pushRequest queues one of m's client's requests on its actor, within
// Limits.MaxPendingTasks: beyond it the request fails with
// CodeRateLimited, on a member gone with CodeNotInRoom.
func (r *Room) pushRequest(m *member, what string, f func()) error {
	switch m.q.pushBounded(f, r.s.limits.MaxPendingTasks) {
	case pushed:
		return nil
	case pushFull:
		return protocol.Errorf(protocol.CodeRateLimited, "too many requests waiting for your connection (%d): the %s is refused; wait for the answers", r.s.limits.MaxPendingTasks, what)
	default:
		return protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", r.id)
	}
}

// Tracks lists the room's published tracks, by ID.
func (r *Room) Tracks() []TrackInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]TrackInfo, 0, len(r.tracks))
	for _, t := range r.tracks {
		out = append(out, t.info())
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Members lists the sessions that are members, sorted.
func (r *Room) Members() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.members))
	for s := range r.members {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// The results of addTrack.
type addResult int

const (
	trackAdded     addResult = iota
	trackGone                // m is no longer a member, or the room is closed
	trackOverLimit           // m's connection publishes MaxPublishedTracks already
)

// addTrack enters t, published by m, in the room and subscribes the
// other members to it (unless ManualSubscribe): to an audio track every
// member, when the room's audible tracks have room for it (else it
// becomes audible when it is forwarded: speakers.go), to a video track
// those whose choice takes it and who receive fewer than
// MaxVideoStreams. An audio track starts
// paused when the room forwards MaxAudioStreams+1 audio tracks already
// (the next round of speaker selection decides), and starts the
// speaker goroutine if it does not run. t is not entered when m
// is no longer a member, the room is closed, or t's connection has
// Limits.MaxPublishedTracks tracks in the room already (an offer is
// checked against the limit too, but a track's end is seen late, and
// pion may make more than one track of a section).
func (r *Room) addTrack(m *member, t *publishedTrack) addResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.members[m.session] != m {
		return trackGone
	}
	live := 0
	for _, x := range r.tracks {
		if x.pub == m && x.pc == t.pc {
			live++
		}
	}
	if live >= r.s.limits.MaxPublishedTracks {
		return trackOverLimit
	}
	r.nextID++
	t.id = fmt.Sprintf("t%d", r.nextID)
	t.order = r.nextID
	if t.kind == webrtc.RTPCodecTypeAudio {
		forwarded := 0
		for _, x := range r.tracks {
			if x.kind == webrtc.RTPCodecTypeAudio && !x.paused.Load() {
				forwarded++
			}
		}
		if n := r.s.cfg.forwardedAudio(); (n > 0 && forwarded >= n) || !t.shown() {
			t.paused.Store(true)
		}
		r.startSpeakers()
	}
	r.tracks[t.id] = t
	t.heard = r.round
	audible := t.kind == webrtc.RTPCodecTypeAudio && r.admitAudible(t)
	if !r.s.limits.ManualSubscribe {
		for _, o := range r.members {
			switch {
			case o == m:
			case audible:
				o.q.push(func() { o.subscribe(t) })
			case r.wantsVideo(o, t) && len(o.videoSubs) < r.s.limits.MaxVideoStreams:
				o.videoSubs[t.id] = true
				o.q.push(func() { o.subscribe(t) })
			}
		}
	}
	return trackAdded
}

// tracksOf are the tracks in the room that m publishes on pc.
func (r *Room) tracksOf(m *member, pc *webrtc.PeerConnection) []*publishedTrack {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*publishedTrack
	for _, t := range r.tracks {
		if t.pub == m && t.pc == pc {
			out = append(out, t)
		}
	}
	return out
}

// removeTrack takes t out of the room and its subscribers (when its
// publisher stopped sending it, left, or its connection ended).
func (r *Room) removeTrack(t *publishedTrack) {
	r.mu.Lock()
	if r.tracks[t.id] == t {
		delete(r.tracks, t.id)
	}
	if r.audible[t.id] == t {
		delete(r.audible, t.id)
		r.fillAudible()
	}
	for _, o := range r.members {
		id := t.id
		o.q.push(func() { o.unsubscribe(id) })
		if o.videoSubs[id] {
			delete(o.videoSubs, id)
			if !r.s.limits.ManualSubscribe {
				r.chooseVideo(o) // another of its choice takes the place
			}
		}
	}
	r.mu.Unlock()
	t.close()
}
