package calls

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// tab is one session of a user; it records the call events it gets.
type tab struct {
	user, id string
	mu       sync.Mutex
	events   []string
}

func (t *tab) Who() engine.Who {
	return engine.Who{Session: t.id, Member: protocol.Member{UserID: t.user, UserName: strings.ToUpper(t.user)}}
}
func (t *tab) Deliver(b []byte) {
	var f protocol.Frame
	_ = json.Unmarshal(b, &f)
	line := f.Event
	switch f.Event {
	case protocol.EventCallInvitationReceived:
		var ev protocol.CallInvitationEvent
		_ = json.Unmarshal(f.Data, &ev)
		line = fmt.Sprintf("ring from %s", ev.Inviter.UserID)
	case protocol.EventCallStateChanged:
		var ev protocol.CallStateEvent
		_ = json.Unmarshal(f.Data, &ev)
		var parts []string
		for _, u := range ev.Changed {
			parts = append(parts, u.UserID+"="+u.State+"/"+u.Reason)
		}
		line = "state " + strings.Join(parts, " ")
		if ev.Call.Ended {
			line += " ended"
		}
	}
	t.mu.Lock()
	t.events = append(t.events, line)
	t.mu.Unlock()
}

func (t *tab) take() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := t.events
	t.events = nil
	return out
}

// dir is a directory of tabs.
type dir struct{ tabs []*tab }

func (d *dir) Peers(_, user, _ string) []engine.Peer {
	var out []engine.Peer
	for _, t := range d.tabs {
		if t.user == user {
			out = append(out, t)
		}
	}
	return out
}

func setup(users ...string) (*Manager, map[string]*tab, *dir) {
	d := &dir{}
	tabs := map[string]*tab{}
	for _, u := range users {
		t := &tab{user: u, id: u}
		tabs[u] = t
		d.tabs = append(d.tabs, t)
	}
	return NewManager(d, Limits{}), tabs, d
}

func code(t *testing.T, err error) protocol.Code {
	t.Helper()
	var pe *protocol.Error
	require.ErrorAs(t, err, &pe)
	return pe.Code
}

func callees(ids ...string) []protocol.Callee {
	var out []protocol.Callee
	for _, id := range ids {
		out = append(out, protocol.Callee{UserID: id})
	}
	return out
}

func TestInviteAcceptAndAnsweringElsewhere(t *testing.T) {
	m, tabs, d := setup("ann", "ben")
	ben2 := &tab{user: "ben", id: "ben-tab2"}
	d.tabs = append(d.tabs, ben2)

	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben", "ghost"), CallType: 1})
	require.NoError(t, err)
	assert.Equal(t, []protocol.Callee{{UserID: "ghost"}}, res.ErrorInvitees, "offline and unknown users come back")
	assert.NotEmpty(t, res.RoomID)
	assert.Equal(t, []string{"ring from ann", "state ben=Received/ ghost=Offline/"}, tabs["ben"].take())
	assert.Equal(t, []string{"ring from ann", "state ben=Received/ ghost=Offline/"}, ben2.take(), "every tab rings")

	info, err := m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	assert.Equal(t, res.RoomID, info.RoomID)
	assert.Equal(t, []string{"state ben=Accepted/ ann=Accepted/"}, ben2.take(), "the other tab learns it was answered")
	_, err = m.Accept(ben2, res.CallID)
	assert.Equal(t, protocol.CodeCallStateInvalid, code(t, err), "the first answer wins")
	_, err = m.Reject(ben2, res.CallID, false)
	assert.Equal(t, protocol.CodeCallStateInvalid, code(t, err))
	assert.Contains(t, tabs["ann"].take(), "state ben=Accepted/ ann=Accepted/")
}

func TestDeclineBusyCancelTimeout(t *testing.T) {
	m, tabs, _ := setup("ann", "ben", "cat", "dan")

	// Declined: the call ends, ann is told why.
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben")})
	require.NoError(t, err)
	_, err = m.Reject(tabs["ben"], res.CallID, false)
	require.NoError(t, err)
	assert.Contains(t, tabs["ann"].take(), "state ben=Rejected/Declined ann=Quit/Declined ended")
	_, err = m.Accept(tabs["ben"], res.CallID)
	assert.Equal(t, protocol.CodeCallNotExist, code(t, err), "an ended call is gone")

	// Busy: cat is in a call with dan; ann's invitation is refused as busy.
	c1, err := m.Invite(tabs["cat"], protocol.CallInviteRequest{Callees: callees("dan")})
	require.NoError(t, err)
	_, err = m.Accept(tabs["dan"], c1.CallID)
	require.NoError(t, err)
	tabs["ann"].take()
	_, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("cat")})
	require.NoError(t, err)
	assert.Equal(t, []string{"state cat=Rejected/Busy ann=Quit/Busy ended"}, tabs["ann"].take())

	// Cancel before an answer: only the initiator may.
	res, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben")})
	require.NoError(t, err)
	_, err = m.Cancel(tabs["ben"], res.CallID, nil)
	assert.Equal(t, protocol.CodeCallInviteNotPermitted, code(t, err))
	tabs["ben"].take()
	_, err = m.Cancel(tabs["ann"], res.CallID, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"state ben=Cancelled/Canceled ann=Quit/Canceled ended"}, tabs["ben"].take())

	// Timeout, enforced by the server.
	res, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben"), Timeout: 1})
	require.NoError(t, err)
	tabs["ann"].take()
	require.Eventually(t, func() bool {
		for _, e := range tabs["ann"].take() {
			if e == "state ben=Timeout/Timeout ann=Quit/Timeout ended" {
				return true
			}
		}
		return false
	}, 3*time.Second, 20*time.Millisecond)
	_, err = m.Accept(tabs["ben"], res.CallID)
	assert.Equal(t, protocol.CodeCallNotExist, code(t, err))
}

func TestInvitingDuringTheCall(t *testing.T) {
	m, tabs, _ := setup("ann", "ben", "cat", "dan", "eve", "fay")
	open := protocol.CallConfig{CanInvitingInCalling: true}
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben"), Config: open})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	more, err := m.Add(tabs["ben"], protocol.CallAddRequest{CallID: res.CallID, Callees: callees("cat")})
	require.NoError(t, err)
	assert.Empty(t, more.ErrorInvitees)
	assert.Contains(t, tabs["cat"].take(), "ring from ben")

	// Only the initiator, when the call says so.
	res, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("dan"), Config: protocol.CallConfig{CanInvitingInCalling: true, OnlyInitiatorCanInvite: true}})
	require.NoError(t, err)
	_, err = m.Accept(tabs["dan"], res.CallID)
	require.NoError(t, err)
	_, err = m.Add(tabs["dan"], protocol.CallAddRequest{CallID: res.CallID, Callees: callees("cat")})
	assert.Equal(t, protocol.CodeCallInviteNotPermitted, code(t, err))
	_, err = m.Add(tabs["ann"], protocol.CallAddRequest{CallID: res.CallID, Callees: callees("ben", "dan")})
	require.NoError(t, err)

	// Not at all, when the call does not allow it.
	res, err = m.Invite(tabs["eve"], protocol.CallInviteRequest{Callees: callees("fay")})
	require.NoError(t, err)
	_, err = m.Add(tabs["eve"], protocol.CallAddRequest{CallID: res.CallID, Callees: callees("cat")})
	assert.Equal(t, protocol.CodeCallInviteNotPermitted, code(t, err))

	// Ten invitees are refused, not cut to nine.
	_, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("a", "b", "c", "d", "e", "f", "g", "h", "i", "j")})
	assert.Equal(t, protocol.CodeCallTooManyInvitees, code(t, err))
	_, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben"), Timeout: 601})
	assert.Equal(t, protocol.CodeInvalidParameter, code(t, err))
	_, err = m.Accept(tabs["ann"], "nope")
	assert.Equal(t, protocol.CodeCallNotExist, code(t, err))
}

func TestInitiatorLeaving(t *testing.T) {
	m, tabs, _ := setup("ann", "ben", "cat", "dan")
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben", "cat"), Config: protocol.CallConfig{EndCallWhenInitiatorLeave: true}})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	tabs["cat"].take()
	_, err = m.Quit(tabs["ann"], res.CallID)
	require.NoError(t, err)
	assert.Equal(t, []string{"state ann=Quit/LeaveRoom ben=Quit/LeaveRoom cat=Cancelled/Canceled ended"}, tabs["cat"].take(), "the call ends for everyone")

	// Without the option the others carry on.
	res, err = m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben", "cat")})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	_, err = m.Accept(tabs["cat"], res.CallID)
	require.NoError(t, err)
	_, err = m.Quit(tabs["ann"], res.CallID)
	require.NoError(t, err)
	_, err = m.Quit(tabs["ann"], res.CallID)
	assert.Equal(t, protocol.CodeCallStateInvalid, code(t, err), "quitting twice")
	_, err = m.End(tabs["ben"], res.CallID)
	assert.Equal(t, protocol.CodeCallInviteNotPermitted, code(t, err), "only the initiator ends a call")

	// Ann comes back into the call under way; not while in another one.
	tabs["ben"].take()
	info, err := m.Accept(tabs["ann"], res.CallID)
	require.NoError(t, err)
	assert.False(t, info.Ended)
	assert.Equal(t, []string{"state ann=Accepted/"}, tabs["ben"].take(), "the others see her back")
	_, err = m.Accept(tabs["ann"], res.CallID)
	assert.Equal(t, protocol.CodeCallStateInvalid, code(t, err), "in it already")
	_, err = m.Quit(tabs["ann"], res.CallID)
	require.NoError(t, err)
	other, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("dan")})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ann"], res.CallID)
	assert.Equal(t, protocol.CodeCallStateInvalid, code(t, err), "calling someone else meanwhile")
	_, err = m.Cancel(tabs["ann"], other.CallID, nil)
	require.NoError(t, err)

	_, err = m.Quit(tabs["cat"], res.CallID)
	require.NoError(t, err)
	assert.Contains(t, tabs["ben"].take(), "state cat=Quit/LeaveRoom ben=Quit/LeaveRoom ended")
	_, err = m.Accept(tabs["ann"], res.CallID)
	assert.Equal(t, protocol.CodeCallNotExist, code(t, err), "an ended call is not come back into")
}

// Every transition the state machine must refuse, with its code.
func TestRefusedTransitions(t *testing.T) {
	m, tabs, _ := setup("ann", "ben", "cat", "dan")
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben", "cat"), Config: protocol.CallConfig{CanInvitingInCalling: true}})
	require.NoError(t, err)
	_, err = m.Reject(tabs["cat"], res.CallID, false)
	require.NoError(t, err)
	id := res.CallID
	tests := []struct {
		name string
		do   func() error
		want protocol.Code
	}{
		{"a stranger accepts", func() error { _, err := m.Accept(tabs["dan"], id); return err }, protocol.CodeCallNotParty},
		{"a stranger quits", func() error { _, err := m.Quit(tabs["dan"], id); return err }, protocol.CodeCallNotParty},
		{"the initiator accepts", func() error { _, err := m.Accept(tabs["ann"], id); return err }, protocol.CodeCallStateInvalid},
		{"a decliner accepts later", func() error { _, err := m.Accept(tabs["cat"], id); return err }, protocol.CodeCallStateInvalid},
		{"a decliner invites", func() error {
			_, err := m.Add(tabs["cat"], protocol.CallAddRequest{CallID: id, Callees: callees("dan")})
			return err
		}, protocol.CodeCallStateInvalid},
		{"a ringing callee quits", func() error { _, err := m.Quit(tabs["ben"], id); return err }, protocol.CodeCallStateInvalid},
		{"a callee cancels", func() error { _, err := m.Cancel(tabs["ben"], id, nil); return err }, protocol.CodeCallInviteNotPermitted},
		{"a callee ends", func() error { _, err := m.End(tabs["ben"], id); return err }, protocol.CodeCallInviteNotPermitted},
		{"no callees", func() error { _, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{}); return err }, protocol.CodeInvalidParameter},
		{"bad callee ID", func() error {
			_, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("a b")})
			return err
		}, protocol.CodeInvalidParameter},
		{"unknown call", func() error { _, err := m.Reject(tabs["ben"], "nope", false); return err }, protocol.CodeCallNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, code(t, tt.do())) })
	}
	// Inviting someone already ringing, or oneself, comes back in errorInvitees.
	more, err := m.Add(tabs["ann"], protocol.CallAddRequest{CallID: id, Callees: callees("ben", "ann")})
	require.NoError(t, err)
	assert.Equal(t, callees("ben", "ann"), more.ErrorInvitees)
	// Once nothing rings, cancelling is refused.
	_, err = m.Cancel(tabs["ann"], id, nil)
	require.NoError(t, err)
	_, err = m.Cancel(tabs["ann"], id, nil)
	assert.Equal(t, protocol.CodeCallNotExist, code(t, err), "ann alone: the call ended")
}

// A user whose last session ends quits their calls, as Quit would.
func TestUserGoneQuits(t *testing.T) {
	m, tabs, _ := setup("ann", "ben", "cat")
	res, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben", "cat")})
	require.NoError(t, err)
	_, err = m.Accept(tabs["ben"], res.CallID)
	require.NoError(t, err)
	tabs["ann"].take()
	m.UserGone("", "ben")
	assert.Equal(t, []string{"state ben=Quit/LeaveRoom"}, tabs["ann"].take(), "cat is still being rung: the call goes on")
	m.UserGone("", "ann")
	assert.Contains(t, tabs["cat"].take(), "state ann=Quit/LeaveRoom cat=Cancelled/Canceled ended", "no one is left in the call: cat stops ringing")
}

// slowDir is a directory whose lookups of one user wait at a gate while it
// is shut, as a Redis that takes its time would.
type slowDir struct {
	dir
	slow    string
	shut    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (d *slowDir) Peers(app, user, room string) []engine.Peer {
	if user == d.slow && d.shut.Load() {
		d.entered <- struct{}{}
		<-d.release
	}
	return d.dir.Peers(app, user, room)
}

// Finding a call's recipients is not done under the calls' lock: while the
// events of one call wait for a slow lookup, another user's invitation is
// made and answered, and every event still arrives, in order.
func TestASlowLookupHoldsUpNoOtherCall(t *testing.T) {
	d := &slowDir{slow: "ann", entered: make(chan struct{}), release: make(chan struct{})}
	tabs := map[string]*tab{}
	for _, u := range []string{"ann", "ben", "cat", "dan"} {
		tabs[u] = &tab{user: u, id: u}
		d.tabs = append(d.tabs, tabs[u])
	}
	m := NewManager(d, Limits{})
	first, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben")})
	require.NoError(t, err)

	d.shut.Store(true)
	accepted := make(chan error, 1)
	go func() { _, err := m.Accept(tabs["ben"], first.CallID); accepted <- err }()
	<-d.entered // the accept's events wait for ann's tabs

	replied := make(chan error, 1)
	go func() {
		res, err := m.Invite(tabs["cat"], protocol.CallInviteRequest{Callees: callees("dan")})
		if err == nil {
			_, err = m.Reject(tabs["dan"], res.CallID, false)
		}
		replied <- err
	}()
	var other error
	waited := false
	select {
	case other = <-replied:
	case <-time.After(10 * time.Second):
		waited = true
		t.Error("another user's invitation waited for a slow lookup of ann")
	}
	d.shut.Store(false)
	close(d.release)
	require.NoError(t, <-accepted)
	if waited {
		other = <-replied
	}
	require.NoError(t, other)
	assert.Equal(t, []string{"state ben=Received/", "state ben=Accepted/ ann=Accepted/"}, tabs["ann"].take())
	assert.Equal(t, []string{"ring from cat", "state dan=Received/", "state dan=Rejected/Declined cat=Quit/Declined ended"}, tabs["dan"].take(), "in order, once the lookup is done")
}

// The events waiting for a slow sender are bounded: once maxQueued are
// queued, a request that makes more waits for the sender, and then every
// event arrives, in order.
func TestEventsWaitingForASlowSenderAreBounded(t *testing.T) {
	defer func(n int) { maxQueued = n }(maxQueued)
	maxQueued = 4
	d := &slowDir{slow: "ann", entered: make(chan struct{}), release: make(chan struct{})}
	tabs := map[string]*tab{}
	for _, u := range []string{"ann", "ben", "cat", "dan", "eve", "fay"} {
		tabs[u] = &tab{user: u, id: u}
		d.tabs = append(d.tabs, tabs[u])
	}
	m := NewManager(d, Limits{})
	first, err := m.Invite(tabs["ann"], protocol.CallInviteRequest{Callees: callees("ben")})
	require.NoError(t, err)
	d.shut.Store(true)
	go func() { _, _ = m.Accept(tabs["ben"], first.CallID) }()
	<-d.entered // the sender waits for ann's tabs

	// An invitation queues 2 events (the ringing, the state): 2 of 4.
	_, err = m.Invite(tabs["cat"], protocol.CallInviteRequest{Callees: callees("dan")})
	require.NoError(t, err, "queued while the sender waits")
	// The next makes 4: it waits for the sender.
	second := make(chan error, 1)
	go func() {
		_, err := m.Invite(tabs["eve"], protocol.CallInviteRequest{Callees: callees("fay")})
		second <- err
	}()
	var secondErr error
	answered := false
	select {
	case secondErr = <-second:
		answered = true
		t.Errorf("a request answered with the queue full (err %v)", secondErr)
	case <-time.After(300 * time.Millisecond):
	}
	d.shut.Store(false)
	close(d.release)
	if !answered {
		secondErr = <-second
	}
	require.NoError(t, secondErr)
	assert.Equal(t, []string{"ring from cat", "state dan=Received/"}, tabs["dan"].take())
	assert.Equal(t, []string{"ring from eve", "state fay=Received/"}, tabs["fay"].take())
}
