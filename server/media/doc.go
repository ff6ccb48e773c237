// Package media is roomkit's media server: a selective forwarding unit
// (SFU) on pion/webrtc. Each member of a call room has one
// RTCPeerConnection to the server; what a member publishes is forwarded,
// packet by packet, to the members subscribed to it, rewritten with each
// subscriber's own SSRC and payload type. Nothing is decoded or mixed.
//
// # Shape
//
// A Server (one per node) holds the pion API: one UDP port for all media
// (ICE UDP mux), ICE over TCP on one port when configured, the codecs
// (Opus, VP8, H.264), the audio-level header extension and the
// interceptors (NACK generator and responder, RTCP reports, TWCC
// feedback). A Room (one per call room) holds its members. The client
// always offers and the server answers; when the server has more for a
// member to receive, it sends that member a SignalRenegotiate and the
// member offers again, so there is no glare. The signal is sent when the
// member's goroutine runs dry, which may be before the answer to the
// client's own offer has reached the client: a client must queue a
// renegotiate that arrives while its offer is in flight, and offer again
// once it has applied the answer (an offer made from have-local-offer
// cannot be).
//
// # Who owns what
//
//   - Room.mu guards the room's member and track tables and its closed
//     flag. It is held only for map work and for pushing tasks onto
//     queues; never across a pion call or network I/O. Joined, Left,
//     Updated, Closed and Export take it briefly and return: they are safe
//     to call under a room engine's lock.
//   - Each member has a task queue run by one goroutine of its own (its
//     actor). Every pion call that changes the member's
//     RTCPeerConnection (create, set descriptions, add or remove tracks,
//     candidates, close) runs there, and only there, and so do the
//     member's down tracks table, its sources, candidate count,
//     suspended tracks and renegotiation flag. The exceptions are
//     pion's reads and writes of media, which its API makes safe for
//     concurrent use: the key frame requests (WriteRTCP on the
//     publisher's connection) run on whichever goroutine asks (a down
//     track's RTCP reader, its writer, Bind inside pion, a throttle
//     timer); the track goroutines below read and write RTP and RTCP,
//     and a suspended track's read deadline is set from the actor.
//     Offer and AddCandidate push a task and wait for it (they block
//     their caller, so they must not be called under a room engine's
//     lock); pushing never blocks. The member's client's requests
//     (Offer, AddCandidate, Subscribe, Unsubscribe) are bounded: at most
//     Limits.MaxPendingTasks wait, beyond which they fail with
//     CodeRateLimited; the room's own tasks (track changes, pion's
//     callbacks) are not, as they are bounded by the room's events. An
//     Offer or AddCandidate whose caller's ctx ended before its task
//     runs is not applied.
//   - A published track (what a publisher sends) belongs to the room's
//     track table; its read goroutine (one per simulcast layer) owns the
//     receive path (bitrate bound, fan-out). Its subscriber list is a
//     copy-on-write slice: written under the track's mu, read lock-free
//     by the read goroutines. A simulcast track has a layer goroutine
//     too, choosing each subscriber's layer (simulcast.go).
//   - A down track (one published track as one subscriber receives it)
//     has a bounded packet queue and a writer goroutine of its own, and
//     a goroutine reading its RTPSender's RTCP (PLI/FIR go to the
//     publisher, and pion's NACK responder only runs while it is read).
//     Its binding (SSRC, payload type, extension IDs) is set by pion's
//     Bind and read atomically by the writer.
//   - The loudness of a published audio track (speakers.go) is its
//     audioMeter, one atomic word: the track's read goroutine adds each
//     packet's audio level to it (one atomic add, no allocation), the
//     room's speaker goroutine swaps it out each interval and alone
//     keeps the previous interval's counts (lastMeter). The track's
//     paused flag is atomic: written by the speaker goroutine (and by
//     Room.addTrack, under Room.mu, before the read goroutine starts),
//     read by the read goroutine on each audio packet. Room.mu guards
//     whether the speaker goroutine runs and the speakers it signalled
//     last.
//
// Lock order: Room.mu, then a member queue's lock (Room.mu is held while
// pushing tasks, the speaker goroutine's signals among them). A queue's
// lock and a publishedTrack's mu are leaves, taken alone. The speaker
// goroutine takes Room.mu twice a round (to list the audio tracks, to
// record and push the signals) and holds nothing while it measures and
// ranks; the read goroutines take no lock for it. No lock is held while calling Signal, pion, or the
// network.
//
// # A slow subscriber costs the others nothing
//
// The publisher's read goroutine hands each packet to every down track
// with a non-blocking send on that down track's bounded queue; when the
// queue is full the packet is dropped for that subscriber only, and
// counted (TrackStats). Each down track writes on its own goroutine, so
// a subscriber whose connection stalls fills its own queue and nothing
// else.
//
// # Sequence numbers
//
// What the server drops on purpose takes no sequence number: the
// published track's read goroutine renumbers what it forwards
// (seqMunger, LiveKit's munger idea), so a padding-only packet (a
// bandwidth probe) or one over the bitrate bound leaves no gap, and no
// subscriber NACKs a packet the server can never resend. The offset is
// one per published track, the same for all its down tracks, as these
// drops happen before the fan-out; a retransmission from the publisher
// gets the offset that held at its place (within 4096 numbers; older
// ones are dropped). What a subscriber's full queue drops stays a gap,
// for that subscriber alone: it is real loss there, so the subscriber
// NACKs (answered from what pion's responder sent, if still held) and,
// failing that, asks for a key frame.
//
// # Active speakers
//
// Every member hears the audio of the room's Config.MaxAudioStreams (3)
// loudest others: the room forwards its MaxAudioStreams+1 loudest tracks
// only (a speaker among them does not receive its own), so a member of a
// room of thousands receives at most MaxAudioStreams+1 audio streams. Every Config.SpeakerInterval (400 ms)
// the room's speaker goroutine takes each audio track's loudness over
// the last two intervals (the share of packets whose RFC 6464 level is
// at or under Config.SpeakingLevel, or whose voice-activity bit is set,
// and their mean level), ranks the tracks (speaking ones loudest first,
// then the silent ones, a track forwarded already first among equals)
// and forwards the top ones; with MaxAudioStreams+1 or fewer audio
// tracks all are forwarded. A track without the audio-level extension counts
// as silent. The goroutine runs from the room's first audio track until
// it has none left and has said that nobody speaks.
//
// Every member is subscribed to the room's audible tracks only, at most
// Limits.MaxAudioTracks (16): the forwarded ones and those that spoke
// most recently (see the end of speakers.go); below the bound that is
// every audio track. A track not forwarded stays subscribed while it is
// audible, with its down tracks bound on
// every subscriber's connection: no renegotiation when the loudest
// change. Its read goroutine goes on reading (pion's interceptors and
// the meter see every packet) and treats what it reads as dropped on
// purpose in the track's seqMunger, including the numbers the
// publisher's link lost during the pause: when the track is forwarded
// again, its next packet follows, for every subscriber, the last one
// sent before the pause, with the same SSRC, so a subscriber sees no
// gap (nothing to NACK, no loss) and only the RTP timestamp jumps, as
// after Opus DTX. As the pause is the room's, not a subscriber's, the
// one offset per published track serves every down track. A new audio
// track starts paused when MaxAudioStreams+1 are forwarded already.
//
// When the ordered list of speaking users among the forwarded tracks
// changes, every member of the room (every session that has offered)
// is sent SignalActiveSpeakers, at most once per interval, through its
// actor (so one member's lists keep their order); a member entering
// while someone speaks is sent the current list.
//
// # Video by choice
//
// A member receives every audio track (above) but only the video it
// chooses (Room.SelectVideo, the mediaSubscribe operation: the users
// whose tiles its page shows), at most Limits.MaxVideoStreams (25)
// tracks; until it chooses, the first MaxVideoStreams published. The
// room keeps, under mu, each member's choice and the video tracks it has
// the member receive; the actor's down tracks follow them. A page
// paging through a gallery frees sections as it fills others: pion can
// give a freed section (transceiver) to another track only once an
// answer has made it inactive, so a subscription made while sections of
// its kind wait for that answer is deferred until it has been applied
// (member.freed, member.deferred), and then takes a freed section that
// the client receives on (member.addDownTrack) rather than one pion
// never negotiated. The client thus keeps as many receiving sections as
// it has ever received at once, and reads from each answer which user a
// section carries (its msid), not from its first track event.
//
// # A connection that goes down
//
// A member's connection that stays failed or disconnected for
// Config.UnpublishGrace (10 s) has what it publishes taken out of the
// room, on the member's goroutine, as if it had unpublished: the
// subscribers are renegotiated without it, rather than showing a frozen
// track. The tracks are kept aside; when the connection comes back
// (connected again) or the member offers again (an ICE restart) they are
// published again, as new tracks; a reload (a new connection) publishes
// afresh.
//
// # Bounds
//
// An offer is bounded in size, media sections, published tracks and
// candidates (Limits), and refused with simulcast other than video
// sent in up to three layers q, h and f (a=rid:<id> send,
// a=simulcast:send q;h;f), or with a data channel section
// (m=application, which nothing uses). Each layer of a simulcast track
// is bounded by the track's bitrate bound on its own. Each connection
// publishes at most Limits.MaxPublishedTracks live tracks, however pion
// makes them; takes at most Limits.MaxCandidates trickled candidates
// per ICE generation; and keeps the sources of its last offer's mids
// only. A subscriber whose section for a track offers no codec that
// carries the publisher's does not get that track: it is unsubscribed
// before the answer is made, the section answered inactive (a down
// track's Bind never fails: an error there would break the connection
// for good).
//
// # Signalling
//
// The package never talks to clients itself: it calls the Signal it is
// given (which must not block for long) with a session and a kind
// (SignalRenegotiate, SignalState, SignalActiveSpeakers), and takes the client's offers, answers
// and candidates through Room's methods. Errors are *protocol.Error values
// with server/protocol's codes (CodeNoCodec, CodeTrackLimit and
// CodeNoSuchTrack are the media server's own). extension.go plugs a Server
// into the room engine: every room gets its media side on the node that
// owns it, and the mediaOffer, mediaCandidate, mediaAnswered and
// mediaSubscribe operations reach it through the engine's table (ops.go).
package media
