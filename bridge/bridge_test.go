//go:build js && wasm

package bridge

import (
	"strings"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// await waits for a Promise and returns its value or its rejection.
func await(t *testing.T, p js.Value) (value, rejection js.Value) {
	t.Helper()
	require.Equal(t, "Promise", p.Get("constructor").Get("name").String())
	type result struct{ v, err js.Value }
	ch := make(chan result, 1)
	then := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{v: a[0], err: js.Undefined()}; return nil })
	catch := js.FuncOf(func(_ js.Value, a []js.Value) any { ch <- result{v: js.Undefined(), err: a[0]}; return nil })
	defer then.Release()
	defer catch.Release()
	p.Call("then", then, catch)
	r := <-ch
	return r.v, r.err
}

func api(t *testing.T) js.Value {
	t.Helper()
	if js.Global().Get("roomkit").IsUndefined() {
		Install()
	}
	return js.Global().Get("roomkit")
}

func requireJSError(t *testing.T, e js.Value, code int, msg string) {
	t.Helper()
	require.False(t, e.IsUndefined(), "expected a rejection")
	assert.True(t, e.InstanceOf(js.Global().Get("Error")), "a real Error object")
	assert.Equal(t, code, e.Get("code").Int())
	assert.Contains(t, e.Get("message").String(), msg)
}

func TestExportsExist(t *testing.T) {
	rk := api(t)
	for _, name := range []string{"login", "logout", "create", "join", "enter", "switch", "leave", "leaveAll", "getRoomID", "setCallInvitationConfig", "setEventHandler", "mintTestToken",
		"setMemberRole", "renameMember", "setMemberState", "removeMember", "endRoom", "setShareLock", "querySessionInfo", "sessionRoomID", "logoutNow", "mediaOffer", "mediaCandidate", "mediaAnswered", "mediaSubscribe"} {
		assert.Equal(t, js.TypeFunction, rk.Get(name).Type(), name)
	}
}

func TestOperationsBeforeLoginReject(t *testing.T) {
	rk := api(t)
	_, err := await(t, rk.Call("join", "room"))
	requireJSError(t, err, 6000121, "not logged in")
	_, err = await(t, rk.Call("leaveAll"))
	requireJSError(t, err, 6000121, "not logged in")
	assert.Equal(t, "", rk.Call("getRoomID").String(), "getRoomID is synchronous and empty before any room")
}

func TestBadArgumentsRejectWithTheField(t *testing.T) {
	rk := api(t)
	_, err := await(t, rk.Call("login", map[string]any{"server": "ws://127.0.0.1:1/ws"}))
	requireJSError(t, err, 6000001, "login needs {server, token}")
	_, err = await(t, rk.Call("login", map[string]any{"server": 5, "token": "x"}))
	requireJSError(t, err, 6000001, "options.server must be a string")
}

func TestLoginToNowhereRejectsWithNetworkError(t *testing.T) {
	rk := api(t)
	_, err := await(t, rk.Call("login", map[string]any{"server": "ws://127.0.0.1:1/ws", "token": "x"}))
	require.False(t, err.IsUndefined())
	// node has no WebSocket before v22; either way the rejection is an Error with a code.
	assert.True(t, err.InstanceOf(js.Global().Get("Error")))
	assert.Contains(t, []int{6000104, 1}, err.Get("code").Int())
}

func TestPanicBecomesRejection(t *testing.T) {
	_, err := await(t, promise(func() (any, error) { panic("boom") }))
	requireJSError(t, err, 1, "internal error: boom")
	v, err := await(t, promise(func() (any, error) { return map[string]any{"roomID": "r"}, nil }))
	require.True(t, err.IsUndefined())
	assert.Equal(t, "r", v.Get("roomID").String())
}

func TestMintTestToken(t *testing.T) {
	rk := api(t)
	tok := rk.Call("mintTestToken", 1234, "secret-secret-secret", "ann", "Ann", "", 0, 3600)
	require.Equal(t, js.TypeString, tok.Type())
	assert.Len(t, strings.Split(tok.String(), "."), 3)
	bad := rk.Call("mintTestToken", 1234, "secret-secret-secret", "a b", "Ann", "", 0, 3600)
	requireJSError(t, bad, 6000001, "userID")
	bad = rk.Call("mintTestToken", 1234, "secret-secret-secret", "ann", "Ann", "", 0, 0)
	requireJSError(t, bad, 6000001, "expirationSeconds")
}

func TestCallInvitationConfigIsKept(t *testing.T) {
	rk := api(t)
	cfg := js.Global().Get("Object").New()
	cfg.Set("canInvitingInCalling", true)
	assert.True(t, rk.Call("setCallInvitationConfig", cfg).IsUndefined())
	assert.True(t, rk.Call("getCallInvitationConfig").Get("canInvitingInCalling").Bool())
	requireJSError(t, rk.Call("setCallInvitationConfig", 5), 6000001, "config object")
}

func TestKitTokens(t *testing.T) {
	rk := api(t)
	kit := js.Global().Get("Object").New()
	kit.Set("appID", 1234)
	kit.Set("token", "a.b.c")
	kit.Set("userID", "ann")
	s := rk.Call("makeKitToken", kit)
	require.Equal(t, js.TypeString, s.Type())
	back := rk.Call("parseKitToken", s)
	assert.Equal(t, "a.b.c", back.Get("token").String())
	assert.Equal(t, 1234, back.Get("appID").Int(), "the app ID keeps its type")
	requireJSError(t, rk.Call("parseKitToken", "rk1.@@@"), 6000001, "does not decode")
	requireJSError(t, rk.Call("parseKitToken", 5), 6000001, "not a kit token")
	kit.Set("token", "nope")
	requireJSError(t, rk.Call("makeKitToken", kit), 6000001, "JWT")
}

func TestSessionRoomID(t *testing.T) {
	rk := api(t)
	assert.Equal(t, "team%20sync", rk.Call("sessionRoomID", "Team Sync").String())
	requireJSError(t, rk.Call("sessionRoomID", ""), 6000001, "session name is empty")
}

func TestNewClientHasItsOwnFunctions(t *testing.T) {
	rk := api(t)
	a := rk.Call("newClient", map[string]any{"roomsStorageKey": "roomkit:rooms:a"})
	b := rk.Call("newClient")
	for _, name := range []string{"login", "logout", "create", "join", "enter", "switch", "leave", "leaveAll", "getRoomID", "getRooms", "suspend", "setEventHandler", "logoutNow", "sendMessage", "callInvite", "release"} {
		assert.Equal(t, js.TypeFunction, a.Get(name).Type(), name)
	}
	assert.False(t, a.Get("join").Equal(b.Get("join")), "each client has its own functions")
	assert.False(t, a.Get("join").Equal(rk.Get("join")), "and they are not the default client's")
	_, err := await(t, a.Call("join", "room"))
	requireJSError(t, err, 6000121, "not logged in")
	assert.Equal(t, 0, a.Call("getRooms").Length())
	a.Call("release")
	b.Call("release")
	requireJSError(t, rk.Call("newClient", 5), 6000001, "options must be an object")
}
