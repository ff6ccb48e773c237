package media

import (
	"encoding/json"
	"sync"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Extensions plugs s into the room engine (engine.WithExtensions): every
// room made on this node gets its media side, which lives, moves and ends
// with the room. A member enters the media room with its first offer
// (a room of chat only costs no connection and no goroutine per member),
// and leaves it when it leaves the room. What the media room signals a
// member goes to it as a mediaRenegotiate, mediaState or activeSpeakers
// event, wherever its connection is.
//
// Connections do not move with a room: what moves (Export) is which
// members had one, and each of them that is still a member on the new
// owner is sent mediaRestart, so its page makes a new connection there.
func (s *Server) Extensions() engine.Extensions {
	return func(app, roomID string, state json.RawMessage, members engine.Members) engine.Extension {
		x := &roomMedia{roomID: roomID, members: map[string]*place{}, send: members}
		var had []string
		if json.Unmarshal(state, &had) == nil && len(had) > 0 {
			x.restart = make(map[string]bool, len(had))
			for _, session := range had {
				x.restart[session] = true
			}
		}
		x.room = s.NewRoom(app, roomID, func(session, kind string, payload any) {
			if frame, ok := signalFrame(roomID, kind, payload); ok {
				members.Send(session, frame)
			}
		})
		return x
	}
}

// roomMedia is a room's extension: the room's members as the engine says
// (the media room's are those of them that have offered) and the media
// room.
//
// mu guards members and is held while the media room is told of a member
// entering or leaving, so a member never enters after it left. The media
// room's Joined and Left do not block.
type roomMedia struct {
	roomID string
	room   *Room

	send engine.Members

	mu      sync.Mutex
	members map[string]*place
	restart map[string]bool // sessions that had media where the room was before
}

// place is one member session of the room.
type place struct {
	member  protocol.Member
	inMedia bool // it has offered: the media room has it
}

var _ engine.Extension = (*roomMedia)(nil)

// Joined implements engine.Extension.
func (x *roomMedia) Joined(session string, m protocol.Member) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if p := x.members[session]; p != nil {
		p.member = m
		if p.inMedia {
			x.room.Joined(session, m)
		}
		return
	}
	x.members[session] = &place{member: m}
	if x.restart[session] {
		// Its page's connection is to the node the room came from: it
		// makes a new one here. (Sent once the room's lock is let go.)
		delete(x.restart, session)
		if frame, err := protocol.EncodeEvent(protocol.EventMediaRestart, protocol.RoomIDRequest{RoomID: x.roomID}); err == nil {
			go x.send.Send(session, frame)
		}
	}
}

// Left implements engine.Extension.
func (x *roomMedia) Left(session string, m protocol.Member) {
	x.mu.Lock()
	defer x.mu.Unlock()
	p := x.members[session]
	delete(x.members, session)
	if p != nil && p.inMedia {
		x.room.Left(session, m)
	}
}

// Updated implements engine.Extension.
func (x *roomMedia) Updated(m protocol.Member) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, p := range x.members {
		if p.member.UserID == m.UserID {
			p.member = m
		}
	}
	x.room.Updated(m)
}

// Closed implements engine.Extension.
func (x *roomMedia) Closed() {
	x.mu.Lock()
	x.members = map[string]*place{}
	x.mu.Unlock()
	x.room.Closed()
}

// Export implements engine.Extension: media connections do not move with
// a room; the sessions that had one do, so that on the room's new owner
// their pages are told to make theirs again there.
func (x *roomMedia) Export() json.RawMessage {
	x.mu.Lock()
	defer x.mu.Unlock()
	var had []string
	for session, p := range x.members {
		if p.inMedia {
			had = append(had, session)
		}
	}
	if len(had) == 0 {
		return nil
	}
	b, _ := json.Marshal(had)
	return b
}

// enter has member session enter the media room (once), before its offer
// or with its first choice of video (video non-nil: Room.JoinedChoosing;
// then, for a member already in, the choice is made too); it fails with
// CodeNotInRoom when the room no longer has it, and as JoinedChoosing
// does. Outside the room's lock (an operation's run).
func (x *roomMedia) enter(session string, video *[]string) error {
	x.mu.Lock()
	p := x.members[session]
	if p == nil {
		x.mu.Unlock()
		return protocol.Errorf(protocol.CodeNotInRoom, "you are not in room %q", x.roomID)
	}
	entered := !p.inMedia
	var err error
	switch {
	case video != nil:
		err = x.room.JoinedChoosing(session, p.member, *video)
	case entered:
		x.room.Joined(session, p.member)
	}
	if entered && err == nil {
		p.inMedia = true
	}
	x.mu.Unlock()
	if err != nil {
		return err
	}
	if entered {
		x.send.Changed() // who has media moves with the room (Export)
	}
	return nil
}

// signalFrame encodes what the media room signals a member as its event.
func signalFrame(roomID, kind string, payload any) ([]byte, bool) {
	var (
		name string
		data any
	)
	switch v := payload.(type) {
	case Renegotiate:
		if kind != SignalRenegotiate {
			return nil, false
		}
		ev := protocol.MediaRenegotiateEvent{RoomID: roomID, Tracks: make([]protocol.MediaTrack, 0, len(v.Tracks))}
		for _, t := range v.Tracks {
			ev.Tracks = append(ev.Tracks, protocol.MediaTrack{TrackID: t.ID, UserID: t.UserID, Kind: t.Kind, Source: string(t.Source)})
		}
		name, data = protocol.EventMediaRenegotiate, ev
	case State:
		if kind != SignalState {
			return nil, false
		}
		name, data = protocol.EventMediaState, protocol.MediaStateEvent{RoomID: roomID, State: v.State}
	case Layers:
		if kind != SignalLayers {
			return nil, false
		}
		name, data = protocol.EventMediaLayers, protocol.MediaLayersEvent{RoomID: roomID, TrackID: v.TrackID, Mid: v.Mid, Active: v.Active}
	case ActiveSpeakers:
		if kind != SignalActiveSpeakers {
			return nil, false
		}
		ev := protocol.ActiveSpeakersEvent{RoomID: roomID, Speakers: make([]protocol.Speaker, 0, len(v.Speakers))}
		for _, s := range v.Speakers {
			ev.Speakers = append(ev.Speakers, protocol.Speaker{UserID: s.UserID, Level: s.Level})
		}
		name, data = protocol.EventActiveSpeakers, ev
	default:
		return nil, false
	}
	frame, err := protocol.EncodeEvent(name, data)
	return frame, err == nil
}
