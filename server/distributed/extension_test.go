package distributed

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// members is an extension that keeps the room's member sessions and the
// node it was made on; its state is the sessions, so it says where it
// came from.
type members struct {
	node     string
	mu       sync.Mutex
	sessions map[string]bool
	from     []string
}

func (m *members) Joined(s string, _ protocol.Member) {
	m.mu.Lock()
	m.sessions[s] = true
	m.mu.Unlock()
}
func (m *members) Left(s string, _ protocol.Member) {
	m.mu.Lock()
	delete(m.sessions, s)
	m.mu.Unlock()
}
func (m *members) Updated(protocol.Member) {}
func (m *members) Closed()                 {}
func (m *members) Export() json.RawMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, _ := json.Marshal(m.sessions)
	return b
}

func membersOn(node string) engine.Extensions {
	return func(app, room string, state json.RawMessage, _ engine.Members) engine.Extension {
		m := &members{node: node, sessions: map[string]bool{}}
		var had map[string]bool
		_ = json.Unmarshal(state, &had)
		for s := range had {
			m.from = append(m.from, s)
		}
		return m
	}
}

const extWhereOp = "testWhere"

type whereRequest struct {
	RoomID string `json:"roomID"`
}

func (r whereRequest) Room() string { return r.RoomID }

type whereReply struct {
	Node     string `json:"node"`
	Sessions int    `json:"sessions"`
	From     int    `json:"from"` // sessions in the state it was made from
	Asker    string `json:"asker"`
}

func init() {
	engine.Define(extWhereOp, engine.KindRead, func(r *whereRequest) string { return r.RoomID }, func(*whereRequest) error { return nil },
		func(m *engine.Manager, p engine.Peer, req *whereRequest) (any, error) {
			return m.WithExtension(p, req.RoomID, func(ext engine.Extension, me protocol.Member) (any, error) {
				x := ext.(*members)
				x.mu.Lock()
				defer x.mu.Unlock()
				return whereReply{Node: x.node, Sessions: len(x.sessions), From: len(x.from), Asker: me.UserID}, nil
			})
		})
}

// An extension's operation sent on any node runs on the extension of the
// room's owner; when the room moves, its extension is made again on the
// new owner from what it exported, and the operation goes there.
func TestAnExtensionLivesOnItsRoomsOwnerAndMovesWithIt(t *testing.T) {
	es := startEnginesEach(t, 2, func(i int) []engine.Option {
		return []engine.Option{engine.WithExtensions(membersOn(fmt.Sprint("node", i+1)))}
	})
	ann, ben := newPeer("ann"), newPeer("ben")
	_, err := es[0].Enter(ann, protocol.RoomInfo{RoomID: "r"}, nil)
	require.NoError(t, err)
	_, err = es[1].Join(ben, "r", "")
	require.NoError(t, err)

	where, err := do[whereReply](es[1], ben, extWhereOp, whereRequest{RoomID: "r"})
	require.NoError(t, err)
	assert.Equal(t, whereReply{Node: "node1", Sessions: 2, Asker: "ben"}, where, "forwarded to the owner's extension")

	require.NoError(t, es[0].Drain(context.Background()))
	where, err = do[whereReply](es[1], ben, extWhereOp, whereRequest{RoomID: "r"})
	require.NoError(t, err)
	assert.Equal(t, whereReply{Node: "node2", Sessions: 2, From: 2, Asker: "ben"}, where, "made again on the new owner from its state")
}
