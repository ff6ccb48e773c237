package protocol

// Media operations: a member's one connection to its room's media server
// (an SFU). The client offers and the server answers; when the server has
// more (or less) for the client to receive, it sends mediaRenegotiate and
// the client offers again, so the two never offer at once.
const (
	// OpMediaOffer carries a MediaOfferRequest; the reply is a MediaAnswer.
	OpMediaOffer = "mediaOffer"
	// OpMediaCandidate carries a MediaCandidateRequest (one of the
	// client's trickled ICE candidates, after its offer); the reply is {}.
	OpMediaCandidate = "mediaCandidate"
	// OpMediaAnswered carries a MediaAnsweredRequest: the client has set
	// the answer to its last offer. The tracks an answer starts are sent
	// from then on (at most a second later without it), so the client
	// can place their first packets; the reply is {}.
	OpMediaAnswered = "mediaAnswered"
	// OpMediaSubscribe carries a MediaSubscribeRequest: whose video the
	// member receives (the tiles its page shows); the reply is {}.
	OpMediaSubscribe = "mediaSubscribe"
)

// MaxVideoChoice bounds the users one mediaSubscribe may list (the
// server's own bound, 25 by default, is at most this).
const MaxVideoChoice = 256

// Media events, to one member.
const (
	// EventMediaRenegotiate (MediaRenegotiateEvent): offer again, with at
	// least as many receiving sections of each kind as Tracks lists.
	EventMediaRenegotiate = "mediaRenegotiate"
	// EventMediaState (MediaStateEvent): the member's media connection
	// changed state, as the server sees it.
	EventMediaState = "mediaState"
	// EventMediaRestart ({roomID}): the room moved to another node (a
	// graceful stop, a failover) and its media with it: make a new
	// connection (the old one's server is gone) and offer.
	EventMediaRestart = "mediaRestart"
	// EventActiveSpeakers (ActiveSpeakersEvent): who speaks in the room,
	// loudest first, when that changes (at most every 400 ms).
	EventActiveSpeakers = "activeSpeakers"
	// EventMediaLayers (MediaLayersEvent): send these layers of a
	// simulcast camera, pause the others (nobody watches them).
	EventMediaLayers = "mediaLayers"
)

// MediaLayersEvent is the data of mediaLayers, to a member publishing a
// simulcast camera: the layers (rids) someone watches, lowest first
// (the lowest one always), of its track TrackID, sent in its section
// Mid. The page keeps those encodings active and pauses the others; a
// paused one is asked for again, with another event, as soon as someone
// wants it.
type MediaLayersEvent struct {
	RoomID  string   `json:"roomID"`
	TrackID string   `json:"trackID"`
	Mid     string   `json:"mid"`
	Active  []string `json:"active"`
}

// MediaOfferRequest is the data of mediaOffer.
type MediaOfferRequest struct {
	RoomID string `json:"roomID"`
	// SDP is the offer, as the page's createOffer made it.
	SDP string `json:"sdp"`
	// Sources labels the sending media sections by mid: "camera",
	// "microphone", "screen" or "screenAudio". A section not named is the
	// microphone for audio, the camera for video.
	Sources map[string]string `json:"sources,omitempty"`
}

// MediaAnswer is the reply of mediaOffer: the server's answer, with its
// candidates in it.
type MediaAnswer struct {
	SDP string `json:"sdp"`
}

// MediaCandidateRequest is the data of mediaCandidate.
type MediaCandidateRequest struct {
	RoomID    string       `json:"roomID"`
	Candidate ICECandidate `json:"candidate"`
}

// MediaAnsweredRequest is the data of mediaAnswered.
type MediaAnsweredRequest struct {
	RoomID string `json:"roomID"`
}

// MediaSubscribeRequest is the data of mediaSubscribe.
type MediaSubscribeRequest struct {
	RoomID string `json:"roomID"`
	// Video lists the users whose video the member receives from now on,
	// including what they publish later (at most the server's video
	// stream bound, 25 by default); empty is no video. Until a member
	// sends it, it receives the first 25 video tracks published.
	Video []string `json:"video"`
	// Sizes says, by user, how large the page shows that user's camera
	// (in device pixels), or which simulcast layer it takes: the server
	// forwards of a simulcast camera the smallest layer that fills the
	// tile (or the one named). Given, it replaces the sizes sent before;
	// absent, they stay. A user without a size gets the best layer.
	Sizes map[string]VideoSize `json:"sizes,omitempty"`
}

// VideoSize is the size a page shows one user's camera at, in device
// pixels (each at most MaxVideoPixels; 0 and 0 is unknown), or the
// simulcast layer it takes: "q", "h" or "f" (a quarter, half or all of
// the resolution), which wins over the size.
type VideoSize struct {
	Width  int    `json:"width"`
	Height int    `json:"height"`
	Layer  string `json:"layer,omitempty"`
}

// MaxVideoPixels bounds a VideoSize's width and height.
const MaxVideoPixels = 16384

// ICECandidate is an RTCIceCandidateInit, as a page's icecandidate event
// gives it.
type ICECandidate struct {
	Candidate        string  `json:"candidate"`
	SDPMid           *string `json:"sdpMid,omitempty"`
	SDPMLineIndex    *uint16 `json:"sdpMLineIndex,omitempty"`
	UsernameFragment *string `json:"usernameFragment,omitempty"`
}

// MediaTrack is one published track as a subscriber sees it: on the
// subscriber's connection its msid is UserID (the stream) and TrackID.
type MediaTrack struct {
	TrackID string `json:"trackID"`
	UserID  string `json:"userID"`
	Kind    string `json:"kind"`   // "audio" or "video"
	Source  string `json:"source"` // "camera", "microphone", "screen", "screenAudio"
}

// MediaRenegotiateEvent is the data of mediaRenegotiate: every track the
// member receives now.
type MediaRenegotiateEvent struct {
	RoomID string       `json:"roomID"`
	Tracks []MediaTrack `json:"tracks"`
}

// ActiveSpeakersEvent is the data of activeSpeakers: the users speaking
// among those whose audio the room forwards, loudest first (empty when
// nobody speaks).
type ActiveSpeakersEvent struct {
	RoomID   string    `json:"roomID"`
	Speakers []Speaker `json:"speakers"`
}

// Speaker is one speaking user; Level is its loudness, 0..1 (1 loudest).
type Speaker struct {
	UserID string  `json:"userID"`
	Level  float64 `json:"level"`
}

// MediaStateEvent is the data of mediaState: the state of the member's
// connection as the W3C names a peer connection's ("connected",
// "disconnected", "failed", "closed").
type MediaStateEvent struct {
	RoomID string `json:"roomID"`
	State  string `json:"state"`
}
