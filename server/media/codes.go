package media

import "roomkit/server/protocol"

// The error codes this package adds to server/protocol's. They stay here
// until the media operations are on the wire; then they move to
// protocol's codes.go, PROTOCOL.md and the JS tables with these numbers.
const (
	// CodeNoCodec: an offer's media section offers no codec the server
	// forwards (Opus for audio; VP8 or H.264 for video).
	CodeNoCodec protocol.Code = 6100101
	// CodeTrackLimit: an offer has more media sections, or publishes more
	// tracks, than a member may.
	CodeTrackLimit protocol.Code = 6100102
	// CodeNoSuchTrack: a subscription names a track this room does not
	// have (gone, never published, or another room's).
	CodeNoSuchTrack protocol.Code = 6100103
)
