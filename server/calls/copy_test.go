package calls

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// A copy of an app's calls made again on another Manager: an answered
// call goes on, a ringing invitation can be answered there and times out
// there at the time it had.
func TestCallsCopiedAndRestored(t *testing.T) {
	m, tabs, d := setup("ann", "ben", "cat", "dan")
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben"), CallType: 1})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	ring, err := m.Invite(tabs["cat"], protocol.CallInviteRequest{Callees: callees("dan"), Timeout: 1})
	require.NoError(t, err)
	assert.Equal(t, []protocol.Callee{}, ring.ErrorInvitees)

	copies := m.Copies()
	require.Len(t, copies[""], 2)
	assert.Empty(t, m.Copies(), "nothing changed since")

	// The first Manager goes (its timers must not ring for the second).
	m.EndAll(protocol.CallReasonServerShutdown)
	other := NewManager(d, Limits{})
	other.Restore("", copies[""])
	calls, ringing := other.Count()
	assert.Equal(t, 2, calls)
	assert.Equal(t, 1, ringing)
	for _, tb := range tabs {
		tb.take()
	}
	// ben hangs up on the new Manager: ann is left alone, the call ends.
	_, err = other.Quit(tabs["ben"], res.CallID)
	require.NoError(t, err)
	assert.Contains(t, tabs["ann"].take(), "state ben=Quit/LeaveRoom ann=Quit/LeaveRoom ended")
	// cat's invitation to dan rings out there, once.
	require.Eventually(t, func() bool {
		for _, e := range tabs["cat"].take() {
			if e == "state dan=Timeout/Timeout cat=Quit/Timeout ended" {
				return true
			}
		}
		return false
	}, 3*time.Second, 20*time.Millisecond)
	calls, ringing = other.Count()
	assert.Equal(t, 0, calls)
	assert.Equal(t, 0, ringing)
}
