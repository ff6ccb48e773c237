package media

import (
	"net"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/webrtc/v4"
)

// Config is what a Server is made with. The zero value is usable: any
// free UDP port, no ICE-TCP, no address rewrite, the default limits.
type Config struct {
	// UDPPort is the one UDP port every member's media uses (pion's UDP
	// mux, one socket per local address, all on this port). 0 picks a
	// free port for each address (tests).
	UDPPort int
	// TCP turns on ICE over TCP (passive candidates) on TCPPort, the
	// fallback for networks that block UDP. TCPPort 0 picks a free port.
	TCP     bool
	TCPPort int
	// PublicIPs, when set, replace the host candidates' addresses in the
	// answers (a server behind a 1:1 NAT).
	PublicIPs []string
	// Loopback gathers loopback candidates too (tests, a one-machine
	// setup).
	Loopback bool
	// IPFilter, when set, keeps only the local addresses it returns true
	// for, for the UDP sockets and the candidates.
	IPFilter func(net.IP) bool
	// Networks limits the ICE network types; nil means udp4 and udp6,
	// with tcp4 and tcp6 when TCP is on.
	Networks []webrtc.NetworkType
	// Net, when set, is the network pion uses instead of the OS's (a
	// pion vnet in tests).
	Net transport.Net
	// LoggerFactory makes pion's loggers; nil is pion's default (errors
	// only, to stderr, as PION_LOG_* says).
	LoggerFactory logging.LoggerFactory
	// NoH264 leaves H.264 out of the codecs (Opus and VP8 stay).
	NoH264 bool
	// WriteBatch, above 1, batches the UDP sockets' writes (batch.go):
	// up to that many datagrams per system call, sent at the latest
	// WriteBatchInterval (default 1 ms) after the batch's first. Not
	// with Net.
	WriteBatch         int
	WriteBatchInterval time.Duration

	// UnpublishGrace is how long a member's connection may stay failed
	// or disconnected before what it publishes leaves the room, as if
	// it had unpublished (default 10 s). A later offer from the member
	// (a reload, an ICE restart) or the connection coming back
	// publishes it again.
	UnpublishGrace time.Duration
	// AnswerWait bounds how long a track newly negotiated on a member's
	// connection waits for the member to say it has set the answer
	// (mediaAnswered) before it is sent anyway (default 1 s): a client
	// that never says so gets its new tracks that much later.
	AnswerWait time.Duration
	// LayerIdle is how long nobody may want a layer of a simulcast
	// camera before its publisher is asked to pause it (default 5 s;
	// dynacast.go).
	LayerIdle time.Duration
	// ICEDisconnectedTimeout, ICEFailedTimeout and ICEKeepaliveInterval
	// are pion's ICE timers for the server's connections; each zero is
	// pion's default (5 s, 25 s, 2 s). Tests shorten them.
	ICEDisconnectedTimeout time.Duration
	ICEFailedTimeout       time.Duration
	ICEKeepaliveInterval   time.Duration

	// Active speakers (speakers.go). Every SpeakerInterval (default
	// 400 ms, at most 10 s) the room ranks its audio tracks by their
	// loudness over that interval so that every member hears the
	// MaxAudioStreams loudest others (default 3; negative forwards every
	// audio track, with no selection): it forwards the MaxAudioStreams+1
	// loudest (a speaker among them does not receive its own), so a page
	// receives at most MaxAudioStreams+1 audio streams; the others stay
	// subscribed, their packets are not sent. SpeakingLevel is the RFC 6464 audio level (dBov below full
	// scale: 0 loudest, 127 silence) at or under which a packet counts
	// as speech (default 45); a packet whose voice-activity bit is set
	// counts as speech at any level under 127.
	SpeakerInterval time.Duration
	MaxAudioStreams int
	SpeakingLevel   int

	// Limits; each zero means its default.
	Limits Limits
}

// Defaults for the active speakers.
const (
	DefaultSpeakerInterval = 400 * time.Millisecond
	DefaultMaxAudioStreams = 3
	DefaultSpeakingLevel   = 45
	maxSpeakerInterval     = 10 * time.Second // the meter's counters hold that much
)

// speakerInterval is c.SpeakerInterval or its default, at most 10 s.
func (c *Config) speakerInterval() time.Duration {
	switch {
	case c.SpeakerInterval <= 0:
		return DefaultSpeakerInterval
	case c.SpeakerInterval > maxSpeakerInterval:
		return maxSpeakerInterval
	}
	return c.SpeakerInterval
}

// maxAudioStreams is how many audio tracks a room forwards; 0 for all.
func (c *Config) maxAudioStreams() int {
	switch {
	case c.MaxAudioStreams < 0:
		return 0
	case c.MaxAudioStreams == 0:
		return DefaultMaxAudioStreams
	}
	return c.MaxAudioStreams
}

// forwardedAudio is how many audio tracks a room forwards, 0 for all:
// one more than MaxAudioStreams, so that a speaker among them still hears
// the MaxAudioStreams loudest others.
func (c *Config) forwardedAudio() int {
	if n := c.maxAudioStreams(); n > 0 {
		return n + 1
	}
	return 0
}

// audibleTracks is how many audio tracks the room has its members
// subscribed to: Limits.MaxAudioTracks, and at least the forwarded ones
// (all of them when every track is forwarded: 0 for no bound).
func (s *Server) audibleTracks() int {
	n := s.cfg.forwardedAudio()
	if n == 0 {
		return 0
	}
	return max(n, s.limits.MaxAudioTracks)
}

// speakingLevel is c.SpeakingLevel or its default, within 0..126.
func (c *Config) speakingLevel() uint8 {
	if c.SpeakingLevel <= 0 {
		return DefaultSpeakingLevel
	}
	return uint8(min(c.SpeakingLevel, 126))
}

// Limits bound what one member may ask of the server.
type Limits struct {
	// MaxOfferBytes is the largest SDP offer taken (default 64 KiB).
	MaxOfferBytes int
	// MaxPublishedTracks is how many media sections one member's offer
	// may send in (sendonly or sendrecv; default 8).
	MaxPublishedTracks int
	// MaxMediaSections is how many media sections one offer may have in
	// all, sending and receiving (default 64).
	MaxMediaSections int
	// VideoBitrate and AudioBitrate (bits per second) bound what a
	// publisher's track may send; RTP beyond the bound is dropped, not
	// forwarded (defaults 8 Mbit/s and 256 kbit/s).
	VideoBitrate int
	AudioBitrate int
	// BitrateWindow is the burst the bitrate bound allows, as time at
	// the bound (default 500 ms: a key frame fits).
	BitrateWindow time.Duration
	// QueuePackets is each down track's queue (default 256 packets);
	// a full queue drops for that subscriber only.
	QueuePackets int
	// KeyframeInterval is the least time between two key frame requests
	// sent to a publisher for one track (default 500 ms).
	KeyframeInterval time.Duration
	// MaxPendingTasks bounds the requests (Offer, AddCandidate,
	// Subscribe, Unsubscribe) one member may have waiting for its
	// connection's goroutine (default 64); beyond it they fail with
	// CodeRateLimited. The room's own work for a member is not bounded
	// by it.
	MaxPendingTasks int
	// MaxCandidates bounds the remote ICE candidates one connection
	// takes, trickled per ICE generation, and in one offer (default 32);
	// beyond it they fail with CodeInvalidParameter.
	MaxCandidates int
	// MaxAudioTracks is how many audio tracks every member is subscribed
	// to at once (default 16; at least the MaxAudioStreams+1 forwarded):
	// the room's audible tracks, those forwarded now and the ones
	// forwarded most recently (speakers.go), so that a member's
	// connection has as many audio sections as that, not one per
	// microphone in the room.
	MaxAudioTracks int
	// MaxVideoStreams is how many video tracks one member receives at
	// once (default 25: a gallery page). A member receives the video of
	// the users it chose (SelectVideo), and until it chooses, the first
	// MaxVideoStreams video tracks published in the room.
	MaxVideoStreams int
	// ManualSubscribe turns off subscribing every member to every other
	// member's tracks and SelectVideo's choice; Subscribe and
	// Unsubscribe then say what each receives.
	ManualSubscribe bool
}

// Defaults for Limits.
const (
	DefaultMaxOfferBytes      = 64 << 10
	DefaultMaxPublishedTracks = 8
	DefaultMaxMediaSections   = 64
	DefaultVideoBitrate       = 8_000_000
	DefaultAudioBitrate       = 256_000
	DefaultBitrateWindow      = 500 * time.Millisecond
	DefaultQueuePackets       = 256
	DefaultKeyframeInterval   = 500 * time.Millisecond
	DefaultMaxPendingTasks    = 64
	DefaultMaxCandidates      = 32
	DefaultMaxVideoStreams    = 25
	DefaultMaxAudioTracks     = 16
	DefaultUnpublishGrace     = 10 * time.Second
	DefaultAnswerWait         = time.Second
	DefaultLayerIdle          = 5 * time.Second
)

// withDefaults is l with each zero field at its default.
func (l Limits) withDefaults() Limits {
	set := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.MaxOfferBytes, DefaultMaxOfferBytes)
	set(&l.MaxPublishedTracks, DefaultMaxPublishedTracks)
	set(&l.MaxMediaSections, DefaultMaxMediaSections)
	set(&l.VideoBitrate, DefaultVideoBitrate)
	set(&l.AudioBitrate, DefaultAudioBitrate)
	set(&l.QueuePackets, DefaultQueuePackets)
	set(&l.MaxPendingTasks, DefaultMaxPendingTasks)
	set(&l.MaxCandidates, DefaultMaxCandidates)
	set(&l.MaxVideoStreams, DefaultMaxVideoStreams)
	set(&l.MaxAudioTracks, DefaultMaxAudioTracks)
	if l.BitrateWindow <= 0 {
		l.BitrateWindow = DefaultBitrateWindow
	}
	if l.KeyframeInterval <= 0 {
		l.KeyframeInterval = DefaultKeyframeInterval
	}
	return l
}

// layerIdle is c.LayerIdle or its default.
func (c *Config) layerIdle() time.Duration {
	if c.LayerIdle > 0 {
		return c.LayerIdle
	}
	return DefaultLayerIdle
}

// answerWait is c.AnswerWait or its default.
func (c *Config) answerWait() time.Duration {
	if c.AnswerWait > 0 {
		return c.AnswerWait
	}
	return DefaultAnswerWait
}

// unpublishGrace is c.UnpublishGrace or its default.
func (c *Config) unpublishGrace() time.Duration {
	if c.UnpublishGrace > 0 {
		return c.UnpublishGrace
	}
	return DefaultUnpublishGrace
}

// networks is the ICE network types c allows.
func (c *Config) networks() []webrtc.NetworkType {
	if len(c.Networks) > 0 {
		return c.Networks
	}
	n := []webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeUDP6}
	if c.TCP {
		n = append(n, webrtc.NetworkTypeTCP4, webrtc.NetworkTypeTCP6)
	}
	return n
}
