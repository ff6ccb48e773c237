package directory

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// tab is a session as the registry sees it.
type tab struct{ who engine.Who }

func (t *tab) Who() engine.Who                              { return t.who }
func (t *tab) Deliver([]byte)                               {}
func (t *tab) HandOver(_, _, _, _ string) (Handover, error) { return Handover{Next: 7}, nil }
func (t *tab) Restart(string)                               {}
func newTab(id, app, user, room string) *tab {
	return &tab{engine.Who{Session: id, App: app, Member: protocol.Member{UserID: user}, TokenRoom: room}}
}

func TestRegistryFindsAUsersTabsOfItsAppAdmittingTheRoom(t *testing.T) {
	r := NewRegistry()
	a1, a2, other := newTab("s1", "app", "ann", ""), newTab("s2", "app", "ann", "r1"), newTab("s3", "app2", "ann", "")
	for i, s := range []*tab{a1, a2, other} {
		first, err := r.Add(s, Limits{})
		require.Nil(t, err)
		assert.Equal(t, i != 1, first, "first session of its user")
	}
	assert.ElementsMatch(t, []engine.Peer{a1, a2}, r.Peers("app", "ann", ""), "every tab of app's ann, none of app2's")
	assert.ElementsMatch(t, []engine.Peer{a1}, r.Peers("app", "ann", "r2"), "a tab whose token is for r1 is not one for r2")
	assert.Equal(t, a2, r.Session("s2"))
	assert.Nil(t, r.Session("nope"))
	h, err := r.HandOver("s1", "k", "app", "ann", "n2")
	require.NoError(t, err)
	assert.Equal(t, uint64(7), h.Next)
	_, err = r.HandOver("nope", "k", "app", "ann", "n2")
	assert.Error(t, err)

	assert.False(t, r.Remove(a1), "ann has another tab")
	assert.False(t, r.Remove(a1), "removed already")
	assert.True(t, r.Remove(a2), "ann's last tab")
	assert.Empty(t, r.Peers("app", "ann", ""))
	assert.Equal(t, 1, r.Len())
}

func TestRegistryBoundsSessionsPerServerAppAndUser(t *testing.T) {
	for name, l := range map[string]Limits{"server": {MaxSessions: 2}, "app": {MaxSessionsPerApp: 2}, "user": {MaxSessionsPerUser: 2}} {
		t.Run(name, func(t *testing.T) {
			r := NewRegistry()
			for i, id := range []string{"s1", "s2"} {
				_, err := r.Add(newTab(id, "app", "ann", ""), l)
				require.Nil(t, err, i)
			}
			_, err := r.Add(newTab("s3", "app", "ann", ""), l)
			require.NotNil(t, err)
			assert.Equal(t, protocol.CodeConnectionLimit, err.Code)
			assert.Contains(t, err.Message, name)
			assert.Equal(t, 2, r.Len(), "a refused session is not kept")
		})
	}
}
