package engine

import (
	"sort"
	"strconv"
	"time"

	"roomkit/server/protocol"
)

// QueryMembers runs queryRoomMembers (ops.go): the members among userIDs, and the IDs
// of those not in the room.
func (m *Manager) QueryMembers(p Peer, roomID string, userIDs []string) (protocol.QueryMembersReply, error) {
	if err := m.validateUserIDs(userIDs); err != nil {
		return protocol.QueryMembersReply{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.QueryMembersReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := protocol.QueryMembersReply{RoomID: roomID, MemberList: []protocol.Member{}, ErrorUserList: []string{}}
	for _, id := range userIDs {
		if u := r.users[id]; u != nil {
			out.MemberList = append(out.MemberList, u.member)
		} else {
			out.ErrorUserList = append(out.ErrorUserList, id)
		}
	}
	return out, nil
}

// SetMemberAttributes runs setRoomMembersAttributes (ops.go): it merges attrs into each listed
// member's attributes. A member may set its own; another's, or a user not in
// the room, lands in errorUserList.
func (m *Manager) SetMemberAttributes(p Peer, roomID string, userIDs []string, attrs map[string]string) (protocol.SetMembersAttributesReply, error) {
	who := p.Who()
	out := protocol.SetMembersAttributesReply{RoomID: roomID, Infos: []protocol.MemberAttributesInfo{}, ErrorUserList: []string{}}
	if err := m.validateUserIDs(userIDs); err != nil {
		return out, err
	}
	if len(attrs) == 0 {
		return out, protocol.Errorf(protocol.CodeInvalidParameter, "attributes is empty")
	}
	for k, v := range attrs {
		if err := m.validateAttribute(k, v); err != nil {
			return out, err
		}
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return out, err
	}
	me := who.Member
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, id := range userIDs {
		u := r.users[id]
		if u == nil || id != me.UserID {
			out.ErrorUserList = append(out.ErrorUserList, id)
			continue
		}
		merged := make(map[string]string, len(u.attrs)+len(attrs))
		for k, v := range u.attrs {
			merged[k] = v
		}
		for k, v := range attrs {
			merged[k] = v
		}
		if len(merged) > m.limits.MaxMemberAttributes {
			return out, protocol.Errorf(protocol.CodeAttributeKeyCount, "member %q would have %d attributes; at most %d are allowed", id, len(merged), m.limits.MaxMemberAttributes)
		}
		size := encodedSize(merged)
		if size > m.limits.MaxMemberAttributesBytes {
			return out, protocol.Errorf(protocol.CodeAttributesTotalSize, "member %q's attributes would be %d bytes as JSON; at most %d are allowed", id, size, m.limits.MaxMemberAttributesBytes)
		}
		if total := r.memberAttrBytes - u.attrBytes + size; total > m.limits.MaxRoomMemberAttributesBytes {
			return out, protocol.Errorf(protocol.CodeAttributesTotalSize, "the room's member attributes would total %d bytes; at most %d are allowed; remove some first", total, m.limits.MaxRoomMemberAttributesBytes)
		}
		if err := r.usage.charge(int64(size-u.attrBytes), "cannot set member attributes"); err != nil {
			return out, err
		}
		r.memberAttrBytes += size - u.attrBytes
		u.attrs, u.attrBytes = merged, size
		out.Infos = append(out.Infos, protocol.MemberAttributesInfo{AttributesInfo: protocol.MemberAttributes{UserID: id, Attributes: copyMap(merged)}})
	}
	if len(out.Infos) > 0 {
		r.queueMemberAttributesLocked(who.Session, &protocol.MemberAttributesEvent{RoomID: roomID, Infos: out.Infos, OperatedInfo: me}, m.limits.MemberAttributesDelay)
	}
	return out, nil
}

// queueMemberAttributesLocked queues a member's attribute change for the
// next flush. A change of the same member still waiting, with no message
// queued after it, is replaced: it carries the member's whole attribute
// set, so a burst of changes reaches the others as one. Caller holds r.mu.
func (r *room) queueMemberAttributesLocked(sender string, ev *protocol.MemberAttributesEvent, delay time.Duration) {
	for i := len(r.pending) - 1; i >= 0 && r.pending[i].attrs != nil; i-- {
		if r.pending[i].attrs.OperatedInfo.UserID == ev.OperatedInfo.UserID {
			r.pending[i] = pendingEvent{sender: sender, attrs: ev}
			return
		}
	}
	r.pending = append(r.pending, pendingEvent{sender: sender, attrs: ev})
	r.scheduleFlushLocked(delay)
}

// encodedSize is the size of attrs as the wire encodes them.
func encodedSize(attrs map[string]string) int {
	b, _ := protocol.Marshal(attrs) // a map of strings always encodes
	return len(b)
}

// QueryMemberAttributes runs queryRoomMembersAttributes (ops.go): the attributes of the listed
// members who are in the room.
func (m *Manager) QueryMemberAttributes(p Peer, roomID string, userIDs []string) (protocol.MembersAttributesReply, error) {
	if err := m.validateUserIDs(userIDs); err != nil {
		return protocol.MembersAttributesReply{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.MembersAttributesReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := protocol.MembersAttributesReply{RoomID: roomID, Infos: []protocol.MemberAttributes{}}
	for _, id := range userIDs {
		if u := r.users[id]; u != nil {
			out.Infos = append(out.Infos, protocol.MemberAttributes{UserID: id, Attributes: copyMap(u.attrs)})
		}
	}
	return out, nil
}

// MemberAttributesList runs queryRoomMemberAttributesList (ops.go): a page of members' attributes
// in the member list's order, each user once, stopping before the reply
// budget.
func (m *Manager) MemberAttributesList(p Peer, roomID string, count int, nextFlag string) (protocol.MemberAttributesListReply, error) {
	if count < 1 || count > m.limits.MaxMemberListPageSize {
		return protocol.MemberAttributesListReply{}, protocol.Errorf(protocol.CodeInvalidParameter, "count is %d; use 1 to %d", count, m.limits.MaxMemberListPageSize)
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.MemberAttributesListReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	after, err := parseNextFlag(nextFlag)
	if err != nil {
		return protocol.MemberAttributesListReply{}, err
	}
	out := protocol.MemberAttributesListReply{RoomID: roomID, Infos: []protocol.MemberAttributes{}}
	seen := map[string]bool{}
	size := 0
	i := sort.Search(len(r.order), func(i int) bool { return r.order[i].seq > after })
	for ; i < len(r.order) && len(out.Infos) < count; i++ {
		mem := r.order[i]
		if seen[mem.userID()] {
			continue
		}
		u := r.users[mem.userID()]
		entry := protocol.MemberAttributes{UserID: mem.userID(), Attributes: copyMap(u.attrs)}
		cost := u.attrBytes + len(entry.UserID) + 32
		if len(out.Infos) > 0 && size+cost > m.limits.MaxReplyBytes {
			break
		}
		seen[mem.userID()] = true
		size += cost
		out.Infos = append(out.Infos, entry)
	}
	if i < len(r.order) {
		out.NextFlag = strconv.FormatUint(r.order[i-1].seq, 10)
	}
	return out, nil
}

func (m *Manager) validateUserIDs(ids []string) error {
	if len(ids) == 0 || len(ids) > m.limits.MaxMemberListPageSize {
		return protocol.Errorf(protocol.CodeInvalidParameter, "userIDs has %d entries; use 1 to %d", len(ids), m.limits.MaxMemberListPageSize)
	}
	for _, id := range ids {
		if err := protocol.ValidateID("userIDs", id, protocol.MaxUserIDBytes); err != nil {
			return err
		}
	}
	return nil
}

func copyMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
