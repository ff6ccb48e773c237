package media

import (
	"context"
	"time"

	"github.com/pion/webrtc/v4"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// The media operations, in the room engine's table: a gateway decodes
// them and a cluster routes them to the room's owner like any other room
// operation. They run outside the room's lock (ExtensionOf): a
// negotiation waits for the member's connection.

// negotiateTimeout bounds how long an offer or a candidate waits for the
// member's connection.
const negotiateTimeout = 5 * time.Second

func init() {
	engine.Define(protocol.OpMediaOffer, engine.KindRead,
		func(r *protocol.MediaOfferRequest) string { return r.RoomID },
		func(r *protocol.MediaOfferRequest) error { return validRoom(r.RoomID) },
		func(m *engine.Manager, p engine.Peer, req *protocol.MediaOfferRequest) (any, error) {
			x, session, err := mediaOf(m, p, req.RoomID)
			if err != nil {
				return nil, err
			}
			o := Offer{SDP: req.SDP, Sources: make(map[string]Source, len(req.Sources))}
			for mid, src := range req.Sources {
				o.Sources[mid] = Source(src)
			}
			if err := x.enter(session, nil); err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), negotiateTimeout)
			defer cancel()
			answer, err := x.room.Offer(ctx, session, o)
			if err != nil {
				return nil, err
			}
			return protocol.MediaAnswer{SDP: answer}, nil
		})
	engine.Define(protocol.OpMediaCandidate, engine.KindRead,
		func(r *protocol.MediaCandidateRequest) string { return r.RoomID },
		func(r *protocol.MediaCandidateRequest) error { return validRoom(r.RoomID) },
		func(m *engine.Manager, p engine.Peer, req *protocol.MediaCandidateRequest) (any, error) {
			x, session, err := mediaOf(m, p, req.RoomID)
			if err != nil {
				return nil, err
			}
			c := req.Candidate
			ctx, cancel := context.WithTimeout(context.Background(), negotiateTimeout)
			defer cancel()
			if err := x.room.AddCandidate(ctx, session, webrtc.ICECandidateInit{Candidate: c.Candidate, SDPMid: c.SDPMid, SDPMLineIndex: c.SDPMLineIndex, UsernameFragment: c.UsernameFragment}); err != nil {
				return nil, err
			}
			return struct{}{}, nil
		})
	engine.Define(protocol.OpMediaAnswered, engine.KindRead,
		func(r *protocol.MediaAnsweredRequest) string { return r.RoomID },
		func(r *protocol.MediaAnsweredRequest) error { return validRoom(r.RoomID) },
		func(m *engine.Manager, p engine.Peer, req *protocol.MediaAnsweredRequest) (any, error) {
			x, session, err := mediaOf(m, p, req.RoomID)
			if err != nil {
				return nil, err
			}
			if err := x.room.Answered(session); err != nil {
				return nil, err
			}
			return struct{}{}, nil
		})
	engine.Define(protocol.OpMediaSubscribe, engine.KindRead,
		func(r *protocol.MediaSubscribeRequest) string { return r.RoomID },
		validSubscribe,
		func(m *engine.Manager, p engine.Peer, req *protocol.MediaSubscribeRequest) (any, error) {
			x, session, err := mediaOf(m, p, req.RoomID)
			if err != nil {
				return nil, err
			}
			video := req.Video
			if video == nil {
				video = []string{}
			}
			if req.Sizes != nil {
				if err := x.room.CheckLayers(req.Sizes); err != nil {
					return nil, err // before the choice: nothing changes
				}
			}
			if err := x.enter(session, &video); err != nil {
				return nil, err
			}
			if req.Sizes != nil {
				if err := x.room.SetVideoSizes(session, req.Sizes); err != nil {
					return nil, err
				}
			}
			return struct{}{}, nil
		})
}

// validSubscribe checks a mediaSubscribe before it reaches the room:
// its room ID, the number and IDs of the users it lists, and each size
// (within MaxVideoPixels, a layer q, h or f or none).
func validSubscribe(r *protocol.MediaSubscribeRequest) error {
	if err := validRoom(r.RoomID); err != nil {
		return err
	}
	if len(r.Video) > protocol.MaxVideoChoice {
		return protocol.Errorf(protocol.CodeTrackLimit, "video of %d users asked for: at most %d", len(r.Video), protocol.MaxVideoChoice)
	}
	for _, u := range r.Video {
		if err := protocol.ValidateID("video userID", u, protocol.MaxUserIDBytes); err != nil {
			return err
		}
	}
	if len(r.Sizes) > protocol.MaxVideoChoice {
		return protocol.Errorf(protocol.CodeInvalidParameter, "sizes of %d users given: at most %d", len(r.Sizes), protocol.MaxVideoChoice)
	}
	for u, s := range r.Sizes {
		if err := protocol.ValidateID("sizes userID", u, protocol.MaxUserIDBytes); err != nil {
			return err
		}
		if s.Width < 0 || s.Height < 0 || s.Width > protocol.MaxVideoPixels || s.Height > protocol.MaxVideoPixels {
			return protocol.Errorf(protocol.CodeInvalidParameter, "sizes[%q] is %dx%d: width and height are 0 to %d device pixels", u, s.Width, s.Height, protocol.MaxVideoPixels)
		}
		if s.Layer != "" && layerIndex(s.Layer) < 0 {
			return protocol.Errorf(protocol.CodeInvalidParameter, "sizes[%q].layer is %q: the layers are q, h and f (or none, to go by the size)", u, s.Layer)
		}
	}
	return nil
}

// validRoom checks a request's room ID (ValidateID's *protocol.Error is
// returned as a nil error when there is none).
func validRoom(id string) error {
	if err := protocol.ValidateID("roomID", id, protocol.MaxRoomIDBytes); err != nil {
		return err
	}
	return nil
}

// mediaOf is the media side of p's room roomID, and p's session.
func mediaOf(m *engine.Manager, p engine.Peer, roomID string) (*roomMedia, string, error) {
	ext, _, err := m.ExtensionOf(p, roomID)
	if err != nil {
		return nil, "", err
	}
	x, ok := ext.(*roomMedia)
	if !ok {
		return nil, "", protocol.Errorf(protocol.CodeFailed, "this server runs no media server (it was started with -media=false): calls in room %q have chat only", roomID)
	}
	return x, p.Who().Session, nil
}
