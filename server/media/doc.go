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
// member offers again, so there is no glare.
//
// # Who owns what
//
//   - Room.mu guards the room's member and track tables and its closed
//     flag. It is held only for map work and for pushing tasks onto
//     queues; never across a pion call or network I/O. Joined, Left,
//     Updated, Closed and Export take it briefly and return: they are safe
//     to call under a room engine's lock.
//   - Each member has a task queue run by one goroutine of its own (its
//     actor). Every pion call on the member's RTCPeerConnection (create,
//     set descriptions, add or remove tracks, candidates, close) runs
//     there, and only there, and so do the member's down tracks table
//     and its renegotiation flag. Offer and AddCandidate push a task and
//     wait for it (they block their caller, so they must not be called
//     under a room engine's lock); pushing never blocks.
//   - A published track (what a publisher sends) belongs to the room's
//     track table; its read goroutine owns the receive path (bitrate
//     bound, fan-out). Its subscriber list is a copy-on-write slice:
//     written under the track's mu, read lock-free by the read goroutine.
//   - A down track (one published track as one subscriber receives it)
//     has a bounded packet queue and a writer goroutine of its own, and
//     a goroutine reading its RTPSender's RTCP (PLI/FIR go to the
//     publisher, and pion's NACK responder only runs while it is read).
//     Its binding (SSRC, payload type, extension IDs) is set by pion's
//     Bind and read atomically by the writer.
//
// Lock order: Room.mu, then a member queue's lock (Room.mu is held while
// pushing tasks). A queue's lock and a publishedTrack's mu are leaves,
// taken alone. No lock is held while calling Signal, pion, or the
// network.
//
// # A slow subscriber costs the others nothing
//
// The publisher's read goroutine hands each packet to every down track
// with a non-blocking send on that down track's bounded queue; when the
// queue is full the packet is dropped for that subscriber only, and
// counted (TrackStats). Each down track writes on its own goroutine, so
// a subscriber whose connection stalls fills its own queue and nothing
// else. Gaps that drops leave are passed on as gaps in the sequence
// numbers, so the subscriber NACKs and, failing that, asks for a key
// frame.
//
// # Signalling
//
// The package never talks to clients itself: it calls the Signal it is
// given (which must not block for long) with a session and a kind
// (SignalRenegotiate, SignalState), and takes the client's offers, answers
// and candidates through Room's methods. Errors are *protocol.Error values
// with server/protocol's codes (CodeNoCodec, CodeTrackLimit and
// CodeNoSuchTrack are the media server's own). extension.go plugs a Server
// into the room engine: every room gets its media side on the node that
// owns it, and the mediaOffer and mediaCandidate operations reach it
// through the engine's table (ops.go).
package media
