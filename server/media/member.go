package media

import (
	"sort"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"

	"roomkit/server/protocol"
)

// gatherTimeout bounds the wait for the server's candidates in an answer
// (on the muxes gathering is immediate; this only guards a stuck one).
const gatherTimeout = 5 * time.Second

// member is one session's media: its connection, what it publishes and
// what it receives. Its fields below q are owned by its actor (the
// goroutine running q): only tasks on q touch them.
type member struct {
	r       *Room
	session string
	info    protocol.Member // guarded by r.mu
	q       *taskQueue

	// Its video choice, guarded by r.mu: the users whose video it asked
	// for (SelectVideo; nil until it asks: the first MaxVideoStreams
	// video tracks published), and the video tracks the room has it
	// receive (the actor's down tracks follow these).
	wantVideo map[string]bool
	videoSubs map[string]bool

	closed   atomic.Bool                           // set by the last task; read anywhere
	current  atomic.Pointer[webrtc.PeerConnection] // pc, for pion callbacks to tell stale ones
	stateGen atomic.Uint64                         // counts pc's state changes (for the unpublish grace)

	pc          *webrtc.PeerConnection
	fingerprint string                                  // of the offer pc was made for
	ufrag       string                                  // the ICE generation of the last offer
	candidates  int                                     // trickled candidates taken in this ICE generation
	sources     map[string]Source                       // mid → source, from the last offer
	recvMids    map[string]bool                         // the sections the client only receives on, from the last offer
	down        map[string]*downTrack                   // trackID → what this member receives
	receivers   map[layerKey]bool                       // the layers whose RTCP is read
	layered     map[*webrtc.RTPReceiver]*publishedTrack // the simulcast track a receiver's layers join
	suspended   []*publishedTrack                       // taken out of the room while pc was down, to publish again
	sizes       map[string]VideoSize                    // userID → how large the client shows that user's camera
	owed        bool                                    // a renegotiation signal is owed
	// Sections freed since the last answer (by kind), and the
	// subscriptions waiting for that answer: a freed section can carry
	// another track only once the answer has made it inactive, so a
	// subscription made meanwhile waits for it rather than adding a
	// section (paging a gallery would otherwise double its sections).
	freed    map[webrtc.RTPCodecType]int
	deferred []*publishedTrack
}

func newMember(r *Room, session string, info protocol.Member) *member {
	return &member{
		r: r, session: session, info: info, q: newTaskQueue(),
		videoSubs: map[string]bool{},
		sources:   map[string]Source{},
		down:      map[string]*downTrack{},
		freed:     map[webrtc.RTPCodecType]int{},
		receivers: map[layerKey]bool{},
		layered:   map[*webrtc.RTPReceiver]*publishedTrack{},
	}
}

// layerKey is one layer of what a receiver takes (rid "" without
// simulcast).
type layerKey struct {
	recv *webrtc.RTPReceiver
	rid  string
}

// shutdown closes the member's connection as its actor's last task.
func (m *member) shutdown() {
	m.q.closeWith(func() {
		m.closed.Store(true)
		m.closePC()
	})
}

// signal sends kind to the member's client unless the member is gone.
func (m *member) signal(kind string, payload any) {
	if !m.closed.Load() {
		m.r.signal(m.session, kind, payload)
	}
}

// idle runs when the actor's queue has run dry: it sends the one
// renegotiation signal that the tasks since the last one owe.
func (m *member) idle() {
	if !m.owed || m.closed.Load() {
		return
	}
	m.owed = false
	tracks := make([]TrackInfo, 0, len(m.down))
	for _, d := range m.down {
		tracks = append(tracks, d.t.info())
	}
	sort.Slice(tracks, func(i, j int) bool { return tracks[i].ID < tracks[j].ID })
	m.signal(SignalRenegotiate, Renegotiate{Tracks: tracks})
}

// ensurePC makes the member's connection if it has none.
func (m *member) ensurePC() error {
	if m.pc != nil {
		return nil
	}
	pc, err := m.r.s.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return err
	}
	pc.OnTrack(func(remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
		m.q.push(func() { m.publish(pc, remote, recv) })
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if m.current.Load() != pc || s == webrtc.PeerConnectionStateClosed {
			return
		}
		gen := m.stateGen.Add(1)
		m.signal(SignalState, State{State: s.String()})
		switch s {
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
			time.AfterFunc(m.r.s.cfg.unpublishGrace(), func() {
				m.q.push(func() { m.unpublishStale(pc, gen) })
			})
		case webrtc.PeerConnectionStateConnected:
			m.q.push(func() {
				if m.pc == pc {
					m.resume()
				}
			})
		}
	})
	m.pc = pc
	m.current.Store(pc)
	return nil
}

// closePC stops everything the member receives and closes its
// connection (which ends what it publishes).
func (m *member) closePC() {
	for id, d := range m.down {
		d.stop()
		// Closing the connection stops its senders, but one set on a
		// section while pion was closing it (the client's DTLS said
		// goodbye) would be missed, and its RTCP reader never end.
		_ = d.sender.Stop()
		delete(m.down, id)
	}
	if m.pc != nil {
		m.current.Store(nil)
		_ = m.pc.Close()
		m.pc = nil
	}
	m.fingerprint = ""
	m.ufrag = ""
	m.candidates = 0
	m.freed = map[webrtc.RTPCodecType]int{}
	m.deferred = nil
	m.sources = map[string]Source{}
	m.recvMids = nil
	m.receivers = map[layerKey]bool{}
	m.layered = map[*webrtc.RTPReceiver]*publishedTrack{}
	m.suspended = nil
}

// unpublishStale takes what pc publishes out of the room when pc is
// still the member's connection and still failed or disconnected as it
// was gen state changes ago (the grace has passed): its subscribers stop
// receiving it, as if the member had unpublished. The tracks are kept
// (suspended), and published again when the connection comes back or
// the member offers again (resume).
func (m *member) unpublishStale(pc *webrtc.PeerConnection, gen uint64) {
	if m.closed.Load() || m.pc != pc || m.stateGen.Load() != gen {
		return
	}
	switch pc.ConnectionState() {
	case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateDisconnected:
	default:
		return
	}
	for _, t := range m.r.tracksOf(m, pc) {
		m.suspended = append(m.suspended, t)
		m.r.removeTrack(t)
		for _, l := range t.allLayers() {
			_ = l.remote.SetReadDeadline(time.Now()) // ends its read goroutine
		}
	}
}

// resume publishes again what unpublishStale took out of the room, once
// each track's read goroutine has ended.
func (m *member) resume() {
	list := m.suspended
	m.suspended = nil
	for _, t := range list {
		if t.pc != m.pc {
			continue
		}
		select {
		case <-t.ended:
		case <-time.After(time.Second):
			m.r.s.log.Warnf("media: room %s: track %s of %s did not stop; not published again", m.r.id, t.id, m.session)
			continue
		}
		for _, l := range t.allLayers() {
			_ = l.remote.SetReadDeadline(time.Time{})
			m.publish(t.pc, l.remote, t.recv)
		}
	}
}

// handleOffer applies a checked offer and makes the answer.
func (m *member) handleOffer(o Offer, sum offerSummary) (string, error) {
	if m.closed.Load() {
		return "", protocol.Errorf(protocol.CodeNotInRoom, "not a member of room %q", m.r.id)
	}
	if m.pc != nil && m.fingerprint != "" && sum.fingerprint != m.fingerprint {
		m.replacePC()
	}
	if err := m.ensurePC(); err != nil {
		return "", protocol.Errorf(protocol.CodeFailed, "no connection: %v", err)
	}
	if err := m.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		m.rollback()
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "the offer was refused: %v", err)
	}
	m.dropUnreceivable(sum)
	answer, err := m.pc.CreateAnswer(nil)
	if err != nil {
		m.rollback()
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "no answer to the offer: %v", err)
	}
	gathered := webrtc.GatheringCompletePromise(m.pc)
	if err := m.pc.SetLocalDescription(answer); err != nil {
		m.rollback()
		return "", protocol.Errorf(protocol.CodeInvalidParameter, "the answer was refused: %v", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
	}
	m.fingerprint = sum.fingerprint
	restart := sum.ufrag != m.ufrag
	if restart {
		m.ufrag, m.candidates = sum.ufrag, 0 // an ICE restart: a new generation
	}
	m.recvMids = sum.recvMids
	m.sources = map[string]Source{}
	for mid, src := range o.Sources {
		if sum.mids[mid] {
			m.sources[mid] = src
		}
	}
	if restart || m.pc.ConnectionState() == webrtc.PeerConnectionStateConnected {
		m.resume() // else once connected again
	}
	// The sections freed before this answer are inactive now: what waited
	// for them takes them (and the next round sends it).
	m.freed = map[webrtc.RTPCodecType]int{}
	deferred := m.deferred
	m.deferred = nil
	for _, t := range deferred {
		m.subscribe(t)
	}
	// Down tracks the offer had no section for need another round.
	for _, d := range m.down {
		if m.midOf(d) == "" {
			m.owed = true
			break
		}
	}
	return m.pc.LocalDescription().SDP, nil
}

// dropUnreceivable unsubscribes the member from the tracks whose media
// section in the offer carries no codec that can take the publisher's
// (a subscriber that receives H.264 only, a publisher sending VP8): the
// answer leaves those sections inactive, and the member does not get
// those tracks (until subscribed again), while the rest of its
// connection works. It runs between setting the offer and making the
// answer, when the down tracks' sections are known.
func (m *member) dropUnreceivable(sum offerSummary) {
	for id, d := range m.down {
		mid := m.midOf(d)
		if mid == "" {
			continue
		}
		sec := sectionByMid(sum.parsed, mid)
		if sec == nil {
			continue
		}
		if _, ok := matchCodec(d.t.codec, sectionCodecs(sec)); ok {
			continue
		}
		m.r.s.log.Infof("media: room %s: %s cannot receive %s of track %s; not sent", m.r.id, m.session, d.t.codec.MimeType, id)
		m.r.forgetVideo(m, id)
		delete(m.down, id)
		d.stop()
		_ = m.pc.RemoveTrack(d.sender)
	}
}

// rollback undoes a remote offer that could not be answered.
func (m *member) rollback() {
	if m.pc != nil && m.pc.SignalingState() == webrtc.SignalingStateHaveRemoteOffer {
		_ = m.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	}
}

// replacePC closes the member's connection for a new one (the client
// made a new RTCPeerConnection) and subscribes it again to what it
// received.
func (m *member) replacePC() {
	again := m.deferred
	for _, d := range m.down {
		again = append(again, d.t)
	}
	m.closePC()
	for _, t := range again {
		m.subscribe(t)
	}
}

// midOf is the mid of d's transceiver, "" while not negotiated.
func (m *member) midOf(d *downTrack) string {
	for _, tr := range m.pc.GetTransceivers() {
		if tr.Sender() == d.sender {
			return tr.Mid()
		}
	}
	return ""
}

// answered runs when the client says it has set the server's last
// answer: the down tracks that answer started are released.
func (m *member) answered() {
	for _, d := range m.down {
		d.release()
	}
}

// addCandidate adds a trickled client candidate.
func (m *member) addCandidate(c webrtc.ICECandidateInit) error {
	if m.pc == nil || m.pc.RemoteDescription() == nil {
		return protocol.Errorf(protocol.CodeInvalidParameter, "a candidate before any offer")
	}
	if limit := m.r.s.limits.MaxCandidates; m.candidates >= limit {
		return protocol.Errorf(protocol.CodeInvalidParameter, "too many candidates: %d taken, the limit is %d", m.candidates, limit)
	}
	m.candidates++
	if err := m.pc.AddICECandidate(c); err != nil {
		return protocol.Errorf(protocol.CodeInvalidParameter, "the candidate was refused: %v", err)
	}
	return nil
}

// publish starts forwarding a track the member's client sends (pion's
// OnTrack, on pc): a new track, or a layer of a simulcast track (pion
// calls OnTrack once per rid, each at its first packet, with the same
// receiver) that joins the one its receiver publishes.
func (m *member) publish(pc *webrtc.PeerConnection, remote *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	if m.closed.Load() || pc != m.pc {
		return
	}
	if t := m.layered[recv]; t != nil && remote.RID() != "" {
		if l := t.addLayer(remote); l != nil {
			m.startLayer(t, l)
			return
		}
		t.mu.Lock()
		closed := t.closed
		t.mu.Unlock()
		if !closed {
			m.r.s.log.Warnf("media: room %s: %s sends layer %q of track %s twice or under a rid the server does not take", m.r.id, m.session, remote.RID(), t.id)
			return
		}
		// The track was taken out (suspended): this layer starts it again.
	}
	mid := ""
	for _, tr := range pc.GetTransceivers() {
		if tr.Receiver() == recv {
			mid = tr.Mid()
		}
	}
	src, ok := m.sources[mid]
	if !ok {
		src = SourceCamera
		if remote.Kind() == webrtc.RTPCodecTypeAudio {
			src = SourceMicrophone
		}
	}
	m.r.mu.Lock()
	userID := m.info.UserID
	m.r.mu.Unlock()
	if userID == "" {
		userID = m.session
	}
	t := newPublishedTrack(m, pc, remote, recv, src, userID)
	t.mid = mid
	l := t.addLayer(remote)
	if l == nil {
		m.r.s.log.Warnf("media: room %s: %s sends under rid %q, not one of q, h, f", m.r.id, m.session, remote.RID())
		return
	}
	switch m.r.addTrack(m, t) {
	case trackAdded:
	case trackOverLimit:
		m.r.s.log.Warnf("media: room %s: %s publishes more than %d tracks; track %s not published", m.r.id, m.session, m.r.s.limits.MaxPublishedTracks, remote.ID())
		return
	default:
		return
	}
	if t.simulcast {
		m.layered[recv] = t
		m.r.wg.Add(1)
		go func() {
			defer m.r.wg.Done()
			t.watchLayers()
		}()
	}
	m.startLayer(t, l)
}

// startLayer starts the read goroutine of layer l of t, and the reading
// of its RTCP. A simulcast layer's first key frame is asked for at once:
// it gives the layer's size, whoever takes it.
func (m *member) startLayer(t *publishedTrack, l *layer) {
	if t.simulcast {
		t.keyframe(l, true)
	}
	if k := (layerKey{t.recv, l.rid}); !m.receivers[k] {
		m.receivers[k] = true
		m.r.wg.Add(1)
		go func() {
			defer m.r.wg.Done()
			readReceiverRTCP(t.recv, l.rid)
		}()
	}
	m.r.wg.Add(1)
	go func() {
		defer m.r.wg.Done()
		t.readLoop(l)
	}()
}

// readReceiverRTCP reads (and drops) what the publisher sends on the
// RTCP of recv's layer rid ("" without simulcast), so that the
// receiving interceptors (reports) see it, until recv stops.
func readReceiverRTCP(recv *webrtc.RTPReceiver, rid string) {
	buf := make([]byte, 1500)
	for {
		var err error
		if rid == "" {
			_, _, err = recv.Read(buf)
		} else {
			_, _, err = recv.ReadSimulcast(buf, rid)
		}
		if err != nil {
			return
		}
	}
}

// subscribe has the member receive t: a down track on its connection
// (made if it has none yet), and a renegotiation owed. While sections of
// t's kind freed since the last answer are not inactive yet, it waits
// for that answer (deferred), so the track takes one of them.
func (m *member) subscribe(t *publishedTrack) {
	if m.closed.Load() || m.down[t.id] != nil || t.pub == m {
		return
	}
	if m.freed[t.kind] > 0 {
		for _, x := range m.deferred {
			if x == t {
				return
			}
		}
		m.deferred = append(m.deferred, t)
		m.owed = true
		return
	}
	if err := m.ensurePC(); err != nil {
		m.r.s.log.Warnf("media: room %s: no connection for %s: %v", m.r.id, m.session, err)
		return
	}
	d := newDownTrack(t, m)
	sender, err := m.addDownTrack(d)
	if err != nil {
		m.r.s.log.Warnf("media: room %s: track %s to %s: %v", m.r.id, t.id, m.session, err)
		return
	}
	d.sender = sender
	if !t.attach(d) {
		_ = m.pc.RemoveTrack(sender)
		return
	}
	m.down[t.id] = d
	m.owed = true
	m.r.wg.Add(2)
	go func() {
		defer m.r.wg.Done()
		d.writeLoop()
	}()
	go func() {
		defer m.r.wg.Done()
		d.readRTCP(sender)
	}()
}

// addDownTrack puts d on the member's connection: in a negotiated
// section the client receives on that carries nothing now (freed by an
// unsubscription and made inactive by an answer since), or else where
// pion's AddTrack puts it (a section the client is asked to add). pion
// would take the first free transceiver, and that may be one never
// negotiated (a subscription dropped before the client offered): the
// track would then wait for a section while the client has a free one.
func (m *member) addDownTrack(d *downTrack) (*webrtc.RTPSender, error) {
	if m.pc.ConnectionState() == webrtc.PeerConnectionStateClosed {
		// pion closes a connection itself when the client's DTLS says
		// goodbye; a sender set on it would never be stopped.
		return nil, webrtc.ErrConnectionClosed
	}
	for _, tr := range m.pc.GetTransceivers() {
		if tr.Kind() != d.Kind() || tr.Mid() == "" || !m.recvMids[tr.Mid()] || tr.Sender() != nil {
			continue
		}
		sender, err := m.r.s.api.NewRTPSender(d, m.pc.SCTP().Transport())
		if err != nil {
			return nil, err
		}
		if err := tr.SetSender(sender, d); err != nil {
			_ = sender.Stop()
			return nil, err
		}
		return sender, nil
	}
	return m.pc.AddTrack(d)
}

// unsubscribe stops the member receiving trackID.
func (m *member) unsubscribe(trackID string) {
	for i, x := range m.deferred {
		if x.id == trackID {
			m.deferred = append(m.deferred[:i], m.deferred[i+1:]...)
			break
		}
	}
	d := m.down[trackID]
	if d == nil {
		return
	}
	delete(m.down, trackID)
	d.stop()
	switch {
	case m.pc == nil:
	case m.pc.RemoveTrack(d.sender) == nil:
		m.freed[d.t.kind]++
	default:
		// The connection is closed (pion closes it when the client's DTLS
		// says goodbye): the sender is stopped here, so that its RTCP
		// reader ends.
		_ = d.sender.Stop()
	}
	m.owed = true
}
