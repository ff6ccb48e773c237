// Package engine is roomkit's room engine: rooms, their members and their
// fan-out. It never imports net/http or a WebSocket library; connections
// reach it as Peers.
//
// Ownership: the Manager owns the room map and each session's set of joined
// rooms under Manager.mu; each room owns its members and attributes under
// room.mu. Locks are taken manager first, then room, never the reverse.
// Events are encoded once and handed to every member's Peer.Deliver, which
// only enqueues, so a slow member never holds up a room.
package engine

import (
	"time"

	"roomkit/server/protocol"
)

// Who is who a peer is, as a plain value: its session, app and user, and
// what its token lets it do. A peer's Who may change between two requests
// (a renewed token can rename the user or change its room); each request
// reads it once.
type Who struct {
	// Session identifies the connection; two tabs of one user are two
	// sessions and two places in a room. It is unique on the server.
	Session string `json:"id"`
	// App is the tenant the peer belongs to. Rooms, users and everything
	// they hold are the app's own: a peer never sees or reaches another
	// app's room, however the IDs compare.
	App string `json:"app"`
	// Member is how others see this peer.
	Member protocol.Member `json:"member"`
	// TokenRoom is the one room the peer's token admits, or "" for any.
	TokenRoom string `json:"tokenRoom,omitempty"`
	// Host says the peer's token asks for the host role (role 1): such a
	// user is a room's host if it has none, else a manager.
	Host bool `json:"host,omitempty"`
}

// AdmitsRoom reports whether w's token lets it into roomID.
func (w Who) AdmitsRoom(roomID string) bool { return w.TokenRoom == "" || w.TokenRoom == roomID }

// Deliverer is where a peer's frames go.
type Deliverer interface {
	// Deliver queues an encoded frame for the peer. It must not block and
	// must not call back into the engine.
	Deliver(frame []byte)
}

// Peer is one connection as the engine sees it: who it is, and where its
// frames go. A connection, and each stand-in for one (another node's
// session, a user's tabs on another node), is a Peer.
type Peer interface {
	// Who is who the peer is now.
	Who() Who
	Deliverer
}

// Engine is the seam between connections and room state with its fan-out.
// Manager is the in-memory implementation; a shared-store implementation
// for several server nodes provides the same. Every room operation of the
// protocol goes through Do (the table in ops.go); what is not an
// operation on one room has a method of its own.
type Engine interface {
	// Do runs a room operation for p (on the room's owner, on several
	// nodes) and returns its reply's data.
	Do(p Peer, req Request) (any, error)
	// LeaveAll removes p from every room it is in and returns their IDs.
	LeaveAll(p Peer) []string
	// Rooms returns the rooms p is in, sorted by ID.
	Rooms(p Peer) []protocol.RoomInfo
	// Close ends every room; later calls fail.
	Close()
}

// Limits bound what the engine holds. Zero values mean the documented
// default.
type Limits struct {
	MaxRooms              int           // rooms on the server; 0 = unlimited
	MaxRoomsPerApp        int           // rooms of one app; 0 = 100,000
	MaxRoomsPerSession    int           // rooms one connection may be in; 0 = 100
	MaxMembersPerRoom     int           // 0 = 5000
	MaxDestroyDelay       time.Duration // 0 = 3h (10800 s)
	MaxAttributes         int           // keys per room; 0 = 100
	MaxAttributeKeyBytes  int           // 0 = 64
	MaxAttributeValBytes  int           // 0 = 4096
	MaxAttributesBytes    int           // all keys and values of a room; 0 = 64 KiB
	MaxMemberListPageSize int           // also the history page size; 0 = 100
	MaxReplyBytes         int           // a paged reply stops before this many bytes of entries; 0 = 256 KiB
	MaxMessageBytes       int           // message plus extendedData; 0 = 32 KiB
	MaxPeerMessageBytes   int           // a sendPeerMessage's data as JSON; 0 = 16 KiB
	HistorySize           int           // messages kept per room; 0 = 100, negative = none
	MaxHistoryBytes       int           // bytes of messages kept per room (the oldest go first); 0 = 1 MiB
	// MaxStoredBytesPerApp bounds what one app's rooms hold in all:
	// history, room and member attributes, and RoomOverheadBytes a room;
	// 0 = 512 MiB. Past it, changes that would store more are refused
	// with CodeStorageLimit.
	MaxStoredBytesPerApp int64
	// MaxStoredBytes bounds the same for all apps together; 0 = 2 GiB.
	MaxStoredBytes      int64
	MaxMemberAttributes int // keys per member; 0 = 20
	// MaxMemberAttributesBytes bounds one member's attributes as encoded
	// JSON; 0 = 2 KiB, so a page of 100 members' always fits a reply.
	MaxMemberAttributesBytes int
	// MaxRoomMemberAttributesBytes bounds all of a room's member
	// attributes; 0 = 2 MiB.
	MaxRoomMemberAttributesBytes int
	// MemberAttributesDelay is how long a member attribute change waits
	// for more of the same member's to go out with it; 0 = 50 ms.
	MemberAttributesDelay time.Duration
	// JoinBatchWindow is how long after a roomMemberJoined the joins that
	// follow wait to go out together (up to 100 in one event); a join in
	// a quiet room goes out at once. 0 = 50 ms; negative = every join at
	// once, one event each.
	JoinBatchWindow time.Duration
	// MaxShares bounds the members of a room sharing a screen at once
	// (member state share); one more is refused with CodeShareLimit.
	// 0 = 1.
	MaxShares int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&l.MaxRoomsPerApp, 100_000)
	def(&l.MaxRoomsPerSession, 100)
	def(&l.MaxMembersPerRoom, 5000)
	def(&l.MaxAttributes, 100)
	def(&l.MaxAttributeKeyBytes, 64)
	def(&l.MaxAttributeValBytes, 4096)
	def(&l.MaxAttributesBytes, 64<<10)
	def(&l.MaxMemberListPageSize, 100)
	def(&l.MaxReplyBytes, 256<<10)
	def(&l.MaxMessageBytes, 32<<10)
	def(&l.MaxPeerMessageBytes, 16<<10)
	def(&l.HistorySize, 100)
	def(&l.MaxHistoryBytes, 1<<20)
	if l.MaxStoredBytesPerApp == 0 {
		l.MaxStoredBytesPerApp = 512 << 20
	}
	if l.MaxStoredBytes == 0 {
		l.MaxStoredBytes = 2 << 30
	}
	def(&l.MaxShares, 1)
	def(&l.MaxMemberAttributes, 20)
	def(&l.MaxMemberAttributesBytes, 2<<10)
	def(&l.MaxRoomMemberAttributesBytes, 2<<20)
	if l.MemberAttributesDelay == 0 {
		l.MemberAttributesDelay = 50 * time.Millisecond
	}
	if l.JoinBatchWindow == 0 {
		l.JoinBatchWindow = 50 * time.Millisecond
	}
	if l.MaxDestroyDelay == 0 {
		l.MaxDestroyDelay = 10800 * time.Second
	}
	return l
}
