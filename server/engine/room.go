package engine

import (
	"slices"
	"sort"
	"strconv"
	"sync"
	"time"

	"roomkit/server/protocol"
)

// room is one room of one app. Its fields are guarded by mu; app, id, name
// and destroyDelay never change after creation.
type room struct {
	app          string
	id           string
	name         string
	destroyDelay time.Duration
	maxMembers   int // 0: the server's limit

	mu       sync.Mutex
	members  map[string]*member // by session ID
	order    []*member          // join order, ascending seq: the stable paging order
	seq      uint64             // last seq handed out
	attrs    map[string]*attribute
	users    map[string]*userPlace // by user ID: who is in, however many tabs
	emptyGen uint64                // bumped each time the room becomes empty
	timer    Timer                 // pending destroy, if any
	closed   bool

	// Joins not yet announced: members whose roomMemberJoined waits for the
	// joins that follow it closely, so a crowd entering at once costs each
	// member one event per batch instead of one per join. They are the
	// newest in order, with consecutive seqs.
	joins        []*member
	joinsFlushed time.Time     // when joins were last announced
	joinWindow   time.Duration // how long after an announcement joins wait for company

	orderKey        uint64          // last message orderKey handed out
	history         []storedMessage // the last HistorySize stored messages, oldest first
	pending         []pendingEvent  // messages and member attribute changes not yet delivered
	flushScheduled  bool            // a flush will run: now, or when flushTimer fires
	flushTimer      Timer
	usage           *appUsage // the app's stored-bytes budget, charged for what follows
	historyBytes    int       // bytes of history
	attrBytes       int       // bytes of room attribute keys and values
	memberAttrBytes int       // all members' attributes, as encoded

	// Session rules (the video SDK's life cycle).
	passcode    string          // required to join; "" for none
	hostUser    string          // the host's user ID; "" while there is none
	shareLocked bool            // only the host and managers may share
	removed     map[string]bool // users removed from the room: they may not come back
	idleTimeout time.Duration   // how long the host may be alone before the room ends
	idleTimer   Timer           // armed while the host is alone
	idleGen     uint64          // bumped each time idleTimer is armed or stopped
	clock       Clock           // makes the room's timers
	onIdle      func(r *room, gen uint64)

	// dirty: something a snapshot holds changed since the last one.
	dirty bool

	ext Extension // another part's state for this room (extension.go), or nil
}

// userPlace is one user's presence in a room across their sessions: one
// role, name and member state for all of them.
type userPlace struct {
	member    protocol.Member   // as everyone sees the user, role and state included
	sessions  []*member         // the user's sessions in the room, in join order
	attrs     map[string]string // member attributes
	attrBytes int               // attrs as encoded
}

// member is one session's place in a room.
type member struct {
	peer    Peer
	session string // peer's session ID (fixed for the peer's life)
	user    *userPlace
	seq     uint64
}

// userID is the member's user.
func (m *member) userID() string { return m.user.member.UserID }

// newRoom makes a room; the attributes of cfg belong to its creator.
func newRoom(app string, info protocol.RoomInfo, cfg *protocol.RoomConfig, creator string) *room {
	r := &room{app: app, id: info.RoomID, name: info.RoomName, members: map[string]*member{}, attrs: map[string]*attribute{}, users: map[string]*userPlace{}, removed: map[string]bool{}}
	if cfg != nil {
		r.destroyDelay = time.Duration(cfg.RoomDestroyDelayTime) * time.Second
		r.maxMembers = cfg.MaxMembers
		r.passcode = cfg.Passcode
		r.idleTimeout = time.Duration(cfg.SessionIdleTimeoutMins) * time.Minute
		for k, v := range cfg.RoomAttributes {
			r.attrs[k] = &attribute{value: v, owner: creator}
		}
	}
	return r
}

func (r *room) info() protocol.RoomInfo { return protocol.RoomInfo{RoomID: r.id, RoomName: r.name} }

// add makes p a member and tells the others. A user new to the room gets
// a role: host when its token asks for host and the room has none,
// manager when it asks and the room has one, participant otherwise; a
// user's further sessions share its place. Caller holds r.mu.
func (r *room) add(p Peer) {
	r.dirty = true
	if len(r.pending) > 0 {
		r.flushLocked() // messages sent before the join reach the members of then
	}
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	who := p.Who()
	info := who.Member
	u := r.users[info.UserID]
	if u == nil {
		info.Role = protocol.RoleParticipant
		if who.Host {
			info.Role = protocol.RoleManager
			if r.hostUser == "" {
				info.Role, r.hostUser = protocol.RoleHost, info.UserID
			}
		}
		u = &userPlace{member: info}
		r.users[info.UserID] = u
	}
	r.seq++
	m := &member{peer: p, session: who.Session, user: u, seq: r.seq}
	u.sessions = append(u.sessions, m)
	r.members[who.Session] = m
	r.order = append(r.order, m)
	r.joins = append(r.joins, m)
	// A join in a quiet room is announced at once; joins that follow an
	// announcement within the window wait for it to pass (or for a full
	// batch) and go out together.
	now := r.clock.Now()
	if wait := r.joinsFlushed.Add(r.joinWindow).Sub(now); wait <= 0 || len(r.joins) >= joinBatchMax {
		r.flushJoinsLocked(now)
	} else {
		r.scheduleFlushLocked(wait)
	}
	r.extJoined(m)
}

// joinBatchMax is the most joins announced in one roomMemberJoined.
const joinBatchMax = 100

// flushJoinsLocked announces the waiting joins: the members who were in
// before them get one roomMemberJoined with all of them; each of the
// joiners gets the joins after its own, as it knows the earlier ones from
// the member list (which shows a member only the joins announced, its own
// and those before it). Each member is encoded once; the joiners' frames
// share the bytes. Caller holds r.mu.
func (r *room) flushJoinsLocked(now time.Time) {
	joins := r.joins
	r.joins = nil
	if len(joins) == 0 || len(r.members) == 1 {
		return // nobody to tell: the next join goes out at once
	}
	r.joinsFlushed = now
	encoded := make([][]byte, len(joins))
	for i, m := range joins {
		encoded[i], _ = protocol.Marshal(m.user.member)
	}
	head, _ := protocol.Marshal(protocol.EventRoomMemberJoined)
	room, _ := protocol.Marshal(r.id)
	frame := func(list [][]byte) []byte {
		b := make([]byte, 0, 64+len(room)+len(list)*(len(list[0])+1))
		b = append(b, `{"event":`...)
		b = append(b, head...)
		b = append(b, `,"data":{"roomID":`...)
		b = append(b, room...)
		b = append(b, `,"memberList":[`...)
		for i, e := range list {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, e...)
		}
		return append(b, "]}}"...)
	}
	first := joins[0].seq
	var all []byte
	for _, m := range r.members {
		if m.seq >= first {
			continue
		}
		if all == nil {
			all = frame(encoded)
		}
		m.peer.Deliver(all)
	}
	for i, m := range joins[:len(joins)-1] {
		if r.members[m.session] == m {
			m.peer.Deliver(frame(encoded[i+1:]))
		}
	}
}

// remove takes p out and tells the others; it reports whether the room is
// now empty. Caller holds r.mu.
func (r *room) remove(p Peer) (empty bool) {
	r.dirty = true
	m, ok := r.members[p.Who().Session]
	if !ok {
		return len(r.members) == 0
	}
	r.flushLocked()
	delete(r.members, m.session)
	i := sort.Search(len(r.order), func(i int) bool { return r.order[i].seq >= m.seq })
	r.order = append(r.order[:i], r.order[i+1:]...)
	u := m.user
	r.broadcast(protocol.EventRoomMemberLeft, protocol.MembersEvent{RoomID: r.id, MemberList: []protocol.Member{u.member}}, "")
	r.extLeft(m.session, u.member)
	u.sessions = slices.DeleteFunc(u.sessions, func(s *member) bool { return s == m })
	if len(u.sessions) == 0 {
		r.userGoneLocked(u)
	}
	if len(r.members) == 0 {
		r.emptyGen++
		return true
	}
	return false
}

// userGoneLocked forgets u, whose last session has left the room however
// it went (a leave, a removal, or a failover that found no session of it):
// its member attributes leave the budget, the room attributes it owned with
// isDeleteAfterOwnerLeft are deleted (roomAttributesUpdated), and when it
// was the host the role passes on (roomMemberUpdated). The members are told
// after they were told it left. Caller holds r.mu.
func (r *room) userGoneLocked(u *userPlace) {
	r.memberAttrBytes -= u.attrBytes
	_ = r.usage.charge(-int64(u.attrBytes), "")
	delete(r.users, u.member.UserID)
	r.dropOwnedAttributesLocked(u.member.UserID)
	if r.hostUser == u.member.UserID {
		r.hostUser = ""
		r.passHostLocked()
	}
}

// broadcast delivers what is pending, then the event: every member sees
// the room's events in the order they were made. Caller holds r.mu.
func (r *room) broadcast(event string, data any, except string) {
	r.flushLocked()
	r.deliver(event, data, except)
}

// deliver encodes the event once and queues the same bytes to every member
// but the one with session except. Caller holds r.mu, which keeps every
// member's view of the room in one order.
func (r *room) deliver(event string, data any, except string) {
	r.dirty = true // every change the members see comes through here
	if len(r.members) == 0 || (len(r.members) == 1 && r.members[except] != nil) {
		return
	}
	frame, err := protocol.EncodeEvent(event, data)
	if err != nil {
		return // plain protocol structs always encode
	}
	for id, m := range r.members {
		if id != except {
			m.peer.Deliver(frame)
		}
	}
}

// page returns up to count members after nextFlag in join order. Caller
// holds r.mu.
//
// A member whose join is not yet announced is listed only to itself and
// to those who joined after it: the others learn of it from the
// roomMemberJoined that follows, never twice. asker is the seq of the
// member asking.
func (r *room) page(asker uint64, count int, nextFlag string) (protocol.MemberListReply, error) {
	after, err := parseNextFlag(nextFlag)
	if err != nil {
		return protocol.MemberListReply{}, err
	}
	listed := r.visibleLocked(asker)
	i := sort.Search(listed, func(i int) bool { return r.order[i].seq > after })
	end := min(i+count, listed)
	out := protocol.MemberListReply{RoomID: r.id, MemberList: make([]protocol.Member, 0, end-i)}
	for _, m := range r.order[i:end] {
		out.MemberList = append(out.MemberList, m.user.member)
	}
	if end < listed {
		out.NextFlag = strconv.FormatUint(r.order[end-1].seq, 10)
	}
	return out, nil
}

// visibleLocked is how many members, from the start of the join order,
// the member with seq asker has been told of: all but the joins not yet
// announced that came after its own. The member list and the member count
// both stop there, so a count never names a member no event or page has
// shown. Caller holds r.mu.
func (r *room) visibleLocked(asker uint64) int {
	if len(r.joins) == 0 {
		return len(r.order)
	}
	last := max(r.joins[0].seq-1, asker) // the last seq the asker may see
	return sort.Search(len(r.order), func(i int) bool { return r.order[i].seq > last })
}

// parseNextFlag reads a member page's nextFlag: "" for the first page.
func parseNextFlag(nextFlag string) (uint64, error) {
	if nextFlag == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(nextFlag, 10, 64)
	if err != nil {
		return 0, protocol.Errorf(protocol.CodeInvalidParameter, "nextFlag %q is not one this server returned; pass \"\" for the first page", nextFlag)
	}
	return n, nil
}
