package calls

import (
	"sort"
	"time"

	"roomkit/server/protocol"
)

// The calls of an app can be copied (Copies) and made again from a copy
// (Restore), on another server: one that takes an app's calls over from a
// server that died.

// CallCopy is one call as a copy keeps it.
type CallCopy struct {
	ID        string              `json:"id"`
	Initiator string              `json:"initiator"`
	RoomID    string              `json:"roomID"`
	CallType  int                 `json:"callType"`
	Data      string              `json:"data,omitempty"`
	Config    protocol.CallConfig `json:"config"`
	Users     []PartyCopy         `json:"users"`
}

// PartyCopy is one user's part in a call.
type PartyCopy struct {
	UserID     string `json:"userID"`
	UserName   string `json:"userName,omitempty"`
	State      string `json:"state"`
	Reason     string `json:"reason,omitempty"`
	Inviter    string `json:"inviter,omitempty"`
	RingsUntil int64  `json:"ringsUntil,omitempty"` // Unix ms, while ringing
}

// Copies returns, for each app whose calls changed since its last copy,
// its calls under way; it changes nothing in them. A copy that could not
// be written is asked for again with CopyFailed.
func (m *Manager) Copies() map[string][]CallCopy {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string][]CallCopy{}
	for app := range m.dirty {
		out[app] = []CallCopy{}
	}
	for _, c := range m.calls {
		if !m.dirty[c.app] || c.ended {
			continue
		}
		cc := CallCopy{ID: c.id, Initiator: c.initiator, RoomID: c.roomID, CallType: c.callType, Data: c.data, Config: c.config}
		for _, pt := range c.users {
			pc := PartyCopy{UserID: pt.userID, UserName: pt.userName, State: pt.state, Reason: pt.reason, Inviter: pt.inviter}
			if pt.state == protocol.CallStateReceived {
				pc.RingsUntil = pt.ringsUntil.UnixMilli()
			}
			cc.Users = append(cc.Users, pc)
		}
		out[c.app] = append(out[c.app], cc)
	}
	for app := range out {
		sort.Slice(out[app], func(i, j int) bool { return out[app][i].ID < out[app][j].ID })
	}
	m.dirty = map[string]bool{}
	return out
}

// CopyFailed marks apps' calls as changed again: their copies from
// Copies were not written, so the next Copies returns them.
func (m *Manager) CopyFailed(apps []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, app := range apps {
		m.dirty[app] = true
	}
}

// Restore makes app's calls again from a copy: ringing invitations ring on
// until the time they had (one already past it times out at once), and
// count against their inviters and callees as before. Calls of those IDs
// that are here already are left as they are.
func (m *Manager) Restore(app string, copies []CallCopy) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, cc := range copies {
		if m.calls[cc.ID] != nil {
			continue
		}
		c := &call{app: app, id: cc.ID, initiator: cc.Initiator, roomID: cc.RoomID, callType: cc.CallType, data: cc.Data, config: cc.Config}
		for _, pc := range cc.Users {
			pt := &party{userID: pc.UserID, userName: pc.UserName, state: pc.State, reason: pc.Reason, inviter: pc.Inviter}
			if pt.state == protocol.CallStateReceived {
				pt.ringsUntil = time.UnixMilli(pc.RingsUntil)
				m.ringingBy[userKey{app, pt.inviter}]++
				m.ringingFor[userKey{app, pt.userID}]++
				id, user := c.id, pt.userID
				pt.timer = time.AfterFunc(max(0, time.Until(pt.ringsUntil)), func() { m.timeout(id, user) })
			}
			c.users = append(c.users, pt)
		}
		m.calls[c.id] = c
		m.appCalls[app]++
	}
	m.dirty[app] = true
}
