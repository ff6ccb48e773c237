package engine

import (
	"roomkit/server/protocol"
)

// QueryMembers implements Engine: the members among userIDs, and the IDs
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

// SetMemberAttributes implements Engine: it merges attrs into each listed
// member's attributes. A member may set its own; another's, or a user not in
// the room, lands in errorUserList.
func (m *Manager) SetMemberAttributes(p Peer, roomID string, userIDs []string, attrs map[string]string) (protocol.SetMembersAttributesReply, error) {
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
	me := p.Member()
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
		u.attrs = merged
		out.Infos = append(out.Infos, protocol.MemberAttributesInfo{AttributesInfo: protocol.MemberAttributes{UserID: id, Attributes: copyMap(merged)}})
	}
	if len(out.Infos) > 0 {
		r.broadcast(protocol.EventRoomMemberAttributesUpdated, protocol.MemberAttributesEvent{RoomID: roomID, Infos: out.Infos, OperatedInfo: me}, p.SessionID())
	}
	return out, nil
}

// QueryMemberAttributes implements Engine: the attributes of the listed
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

// MemberAttributesList implements Engine: a page of members' attributes
// in the member list's order, each user once.
func (m *Manager) MemberAttributesList(p Peer, roomID string, count int, nextFlag string) (protocol.MemberAttributesListReply, error) {
	page, err := m.MemberList(p, roomID, count, nextFlag)
	if err != nil {
		return protocol.MemberAttributesListReply{}, err
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return protocol.MemberAttributesListReply{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	out := protocol.MemberAttributesListReply{RoomID: roomID, Infos: []protocol.MemberAttributes{}, NextFlag: page.NextFlag}
	seen := map[string]bool{}
	for _, mem := range page.MemberList {
		if seen[mem.UserID] {
			continue
		}
		seen[mem.UserID] = true
		var attrs map[string]string
		if u := r.users[mem.UserID]; u != nil {
			attrs = copyMap(u.attrs)
		}
		out.Infos = append(out.Infos, protocol.MemberAttributes{UserID: mem.UserID, Attributes: attrs})
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
