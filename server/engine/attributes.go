package engine

import (
	"sort"

	"roomkit/server/protocol"
)

// attribute is one room attribute with its owner (a user ID).
type attribute struct {
	value                string
	owner                string
	deleteAfterOwnerLeft bool
}

// SetAttributes runs setRoomAttributes (ops.go): it sets attrs in roomID as user p. Keys
// owned by another user are left alone and reported in errorKeys unless
// cfg.IsForce, and the caller's role ranks at least the owner's.
func (m *Manager) SetAttributes(p Peer, roomID string, attrs map[string]string, cfg protocol.AttributesConfig) ([]string, error) {
	return m.changeAttributes(p, roomID, protocol.EventRoomAttributesUpdated, []protocol.AttributesOperation{{Action: protocol.AttributesActionSet, Attributes: attrs, Config: cfg}})
}

// DeleteAttributes deletes room attributes; it returns the keys it could
// not delete (missing, or owned by others without IsForce).
func (m *Manager) DeleteAttributes(p Peer, roomID string, keys []string, cfg protocol.AttributesConfig) ([]string, error) {
	return m.changeAttributes(p, roomID, protocol.EventRoomAttributesUpdated, []protocol.AttributesOperation{{Action: protocol.AttributesActionDelete, Keys: keys, Config: cfg}})
}

// AttributesBatch runs roomAttributesBatch (ops.go): every operation applies, or none (when
// one breaks a limit), and the members get one roomAttributesBatchUpdated.
func (m *Manager) AttributesBatch(p Peer, roomID string, ops []protocol.AttributesOperation) ([]string, error) {
	if len(ops) == 0 {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "the batch has no operations")
	}
	return m.changeAttributes(p, roomID, protocol.EventRoomAttributesBatchUpdated, ops)
}

func (m *Manager) changeAttributes(p Peer, roomID, event string, ops []protocol.AttributesOperation) ([]string, error) {
	who := p.Who()
	for _, op := range ops {
		if err := m.validateAttributeOp(op); err != nil {
			return nil, err
		}
	}
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return nil, err
	}
	user := who.Member.UserID
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.members[who.Session] == nil {
		return nil, notInRoom(roomID)
	}
	before := cloneAttributes(r.attrs)
	errorKeys := []string{}
	var infos []protocol.AttributesUpdateInfo
	for _, op := range ops {
		info, failed := r.applyAttributeOp(user, op)
		errorKeys = append(errorKeys, failed...)
		if len(info.RoomAttributes) > 0 {
			infos = append(infos, info)
		}
	}
	if err := m.checkAttributeTotals(r.attrs); err != nil {
		r.attrs = before
		return nil, err
	}
	size := r.attributesBytes()
	if err := r.usage.charge(int64(size-r.attrBytes), "cannot set the attributes"); err != nil {
		r.attrs = before
		return nil, err
	}
	r.attrBytes = size
	if len(infos) > 0 {
		r.broadcast(event, protocol.AttributesEvent{RoomID: roomID, Infos: infos}, who.Session)
	}
	return errorKeys, nil
}

// applyAttributeOp applies one set or delete as user and returns what
// changed and the keys it could not change. Caller holds r.mu.
func (r *room) applyAttributeOp(user string, op protocol.AttributesOperation) (protocol.AttributesUpdateInfo, []string) {
	info := protocol.AttributesUpdateInfo{Action: op.Action, RoomAttributes: map[string]string{}}
	var failed []string
	if op.Action == protocol.AttributesActionSet {
		for _, k := range sortedKeys(op.Attributes) {
			a := r.attrs[k]
			if a != nil && a.owner != user && !(op.Config.IsForce && r.mayForce(user, a.owner)) {
				failed = append(failed, k)
				continue
			}
			if a == nil {
				a = &attribute{owner: user}
				r.attrs[k] = a
			} else if op.Config.IsUpdateOwner {
				a.owner = user
			}
			a.value = op.Attributes[k]
			if a.owner == user {
				a.deleteAfterOwnerLeft = op.Config.IsDeleteAfterOwnerLeft
			}
			info.RoomAttributes[k] = a.value
		}
		return info, failed
	}
	for _, k := range op.Keys {
		a := r.attrs[k]
		if a == nil || (a.owner != user && !(op.Config.IsForce && r.mayForce(user, a.owner))) {
			failed = append(failed, k)
			continue
		}
		delete(r.attrs, k)
		info.RoomAttributes[k] = ""
	}
	return info, failed
}

// mayForce reports whether user's isForce overrides owner's key: only
// when user's role ranks at least the owner's (see rank). Caller holds
// r.mu.
func (r *room) mayForce(user, owner string) bool {
	return rank(r.roleOf(user)) >= rank(r.roleOf(owner))
}

// dropOwnedAttributesLocked deletes the attributes user set with
// isDeleteAfterOwnerLeft and tells the members. Caller holds r.mu.
func (r *room) dropOwnedAttributesLocked(user string) {
	info := protocol.AttributesUpdateInfo{Action: protocol.AttributesActionDelete, RoomAttributes: map[string]string{}}
	for k, a := range r.attrs {
		if a.owner == user && a.deleteAfterOwnerLeft {
			delete(r.attrs, k)
			info.RoomAttributes[k] = ""
		}
	}
	if len(info.RoomAttributes) > 0 {
		size := r.attributesBytes()
		_ = r.usage.charge(int64(size-r.attrBytes), "")
		r.attrBytes = size
		r.broadcast(protocol.EventRoomAttributesUpdated, protocol.AttributesEvent{RoomID: r.id, Infos: []protocol.AttributesUpdateInfo{info}}, "")
	}
}

func (m *Manager) validateAttributeOp(op protocol.AttributesOperation) error {
	switch op.Action {
	case protocol.AttributesActionSet:
		if len(op.Attributes) == 0 {
			return protocol.Errorf(protocol.CodeInvalidParameter, "roomAttributes is empty")
		}
		for k, v := range op.Attributes {
			if err := m.validateAttribute(k, v); err != nil {
				return err
			}
		}
	case protocol.AttributesActionDelete:
		if len(op.Keys) == 0 {
			return protocol.Errorf(protocol.CodeInvalidParameter, "keys is empty")
		}
		for _, k := range op.Keys {
			if err := m.validateAttribute(k, ""); err != nil {
				return err
			}
		}
	default:
		return protocol.Errorf(protocol.CodeInvalidParameter, "action %d: use 0 (set) or 1 (delete)", op.Action)
	}
	return nil
}

func (m *Manager) validateAttribute(k, v string) error {
	if k == "" || len(k) > m.limits.MaxAttributeKeyBytes {
		return protocol.Errorf(protocol.CodeAttributeKeyLength, "attribute key %q is %d bytes; use 1 to %d", k, len(k), m.limits.MaxAttributeKeyBytes)
	}
	if len(v) > m.limits.MaxAttributeValBytes {
		return protocol.Errorf(protocol.CodeAttributeValueLength, "attribute %q has a %d-byte value; at most %d are allowed", k, len(v), m.limits.MaxAttributeValBytes)
	}
	return nil
}

// checkAttributeTotals checks a room's whole attribute set.
func (m *Manager) checkAttributeTotals(attrs map[string]*attribute) error {
	if len(attrs) > m.limits.MaxAttributes {
		return protocol.Errorf(protocol.CodeAttributeKeyCount, "the room would have %d attributes; at most %d are allowed", len(attrs), m.limits.MaxAttributes)
	}
	total := 0
	for k, a := range attrs {
		total += len(k) + len(a.value)
	}
	if total > m.limits.MaxAttributesBytes {
		return protocol.Errorf(protocol.CodeAttributesTotalSize, "the room's attributes would total %d bytes; at most %d are allowed", total, m.limits.MaxAttributesBytes)
	}
	return nil
}

// attributesSize is the bytes of attrs' keys and values.
func attributesSize(attrs map[string]string) int {
	n := 0
	for k, v := range attrs {
		n += len(k) + len(v)
	}
	return n
}

// QueryAttributes returns roomID's attributes.
func (m *Manager) QueryAttributes(p Peer, roomID string) (map[string]string, error) {
	r, err := m.memberRoom(p, roomID)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.attributeValues(), nil
}

// attributeValues copies the attributes' values. Caller holds r.mu.
func (r *room) attributeValues() map[string]string {
	out := make(map[string]string, len(r.attrs))
	for k, a := range r.attrs {
		out[k] = a.value
	}
	return out
}

// cloneAttributes copies attrs deeply, for rolling a failed change back.
func cloneAttributes(attrs map[string]*attribute) map[string]*attribute {
	out := make(map[string]*attribute, len(attrs))
	for k, a := range attrs {
		c := *a
		out[k] = &c
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// attributesBytes is the bytes of r's attribute keys and values. Caller
// holds r.mu.
func (r *room) attributesBytes() int {
	n := 0
	for k, a := range r.attrs {
		n += len(k) + len(a.value)
	}
	return n
}
