//go:build js && wasm

// Package bridge is the syscall/js glue between the JS module and the
// client core: it installs globalThis.roomkit, whose functions return
// Promises resolving with plain objects or rejecting with Errors that carry
// a numeric code; it delivers the client's events to one JS handler; and it
// keeps the joined rooms in sessionStorage.
package bridge

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// StorageKey is the sessionStorage key holding the joined rooms as
// {"rooms": [...], "current": "..."}.
const StorageKey = "roomkit:rooms"

// bridge holds the module's one client and what JS handed it.
type bridge struct {
	mu         sync.Mutex
	client     *client.Client
	handler    js.Value // the JS module's event dispatcher
	callConfig js.Value // setCallInvitationConfig's config
}

// Install sets globalThis.roomkit and then calls globalThis.roomkitReady if
// the loader defined it. The exported funcs live as long as the module.
func Install() {
	b := &bridge{handler: js.Undefined(), callConfig: js.Undefined()}
	api := jsObject.New()
	async := map[string]func(args []js.Value) (any, error){
		"login":            b.login,
		"logout":           b.logout,
		"renewToken":       b.withClient(renewToken),
		"create":           b.withClient(create),
		"join":             b.withClient(join),
		"enter":            b.withClient(enter),
		"switch":           b.withClient(switchRoom),
		"leave":            b.withClient(leave),
		"leaveAll":         b.withClient(leaveAll),
		"queryMemberList":  b.withClient(queryMemberList),
		"queryMemberCount": b.withClient(queryMemberCount),
	}
	for name, op := range dataExports() {
		async[name] = b.withClient(op)
	}
	for name, fn := range async {
		api.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any {
			return promise(func() (any, error) { return fn(args) })
		}))
	}
	immediate := map[string]func(args []js.Value) (any, error){
		"getRoomID":               b.getRoomID,
		"suspend":                 b.suspend,
		"getRooms":                b.getRooms,
		"setEventHandler":         b.setEventHandler,
		"setCallInvitationConfig": b.setCallInvitationConfig,
		"getCallInvitationConfig": b.getCallInvitationConfig,
		"mintTestToken":           mintTestToken,
		"makeKitToken":            makeKitToken,
		"parseKitToken":           parseKitToken,
		"sessionRoomID":           sessionRoomID,
		"logoutNow":               b.logoutNow,
	}
	for name, fn := range immediate {
		api.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any {
			return syncCall(func() (any, error) { return fn(args) })
		}))
	}
	api.Set("protocolVersion", protocol.Version)
	js.Global().Set("roomkit", api)
	if ready := js.Global().Get("roomkitReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
}

// withClient adapts an operation on the logged-in client into an export;
// before login it fails with CodeNotLoggedIn.
func (b *bridge) withClient(op func(c *client.Client, args []js.Value) (any, error)) func([]js.Value) (any, error) {
	return func(args []js.Value) (any, error) {
		c, err := b.current()
		if err != nil {
			return nil, err
		}
		return op(c, args)
	}
}

// current returns the logged-in client or CodeNotLoggedIn.
func (b *bridge) current() (*client.Client, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.client == nil {
		return nil, protocol.Errorf(protocol.CodeNotLoggedIn, "not logged in; call login first")
	}
	return b.client, nil
}

// login({server, token}) -> {sessionID, userID, userName, expiresAt}
func (b *bridge) login(args []js.Value) (any, error) {
	var opts struct {
		Server string                  `json:"server"`
		Token  string                  `json:"token"`
		Resume *protocol.ResumeRequest `json:"resume"`
	}
	if err := fromJS("options", arg(args, 0), &opts); err != nil {
		return nil, err
	}
	if opts.Server == "" || opts.Token == "" {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "login needs {server, token}: server is the ws:// address of /ws")
	}
	b.mu.Lock()
	if b.client != nil {
		b.mu.Unlock()
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "already logged in; call logout first")
	}
	b.mu.Unlock()
	c, err := client.Login(context.Background(), client.Config{URL: opts.Server, Token: opts.Token, Resume: opts.Resume, OnEvent: b.deliver})
	if err != nil {
		return nil, err
	}
	b.mu.Lock()
	b.client = c
	b.mu.Unlock()
	return c.Session(), nil
}

// logoutNow() ends the session at once, for a page going away
// (leaveOnPageUnload): synchronous, it writes logout before the page dies.
func (b *bridge) logoutNow([]js.Value) (any, error) {
	b.mu.Lock()
	c := b.client
	b.client = nil
	b.mu.Unlock()
	if c != nil {
		c.LogoutNow()
	}
	return struct{}{}, nil
}

// sessionRoomID(name) -> the room ID of a session name.
func sessionRoomID(args []js.Value) (any, error) {
	name, err := stringArg(args, 0, "sessionName")
	if err != nil {
		return nil, err
	}
	return client.SessionRoomID(name)
}

func (b *bridge) logout([]js.Value) (any, error) {
	b.mu.Lock()
	c := b.client
	b.client = nil
	b.mu.Unlock()
	if c != nil {
		_ = c.Logout(context.Background())
	}
	return struct{}{}, nil
}

// suspend() -> {sessionID, key, received}: stops the client without leaving
// its rooms, for a page about to unload; login({resume}) on the next page
// takes the session back. null when not logged in.
func (b *bridge) suspend([]js.Value) (any, error) {
	b.mu.Lock()
	c := b.client
	b.client = nil
	b.mu.Unlock()
	if c == nil {
		return passJS{js.Null()}, nil
	}
	return c.Suspend(), nil
}

// getRoomID() -> the current room's ID, or "".
func (b *bridge) getRoomID([]js.Value) (any, error) {
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c == nil {
		return "", nil
	}
	return c.CurrentRoom(), nil
}

// getRooms() -> the IDs of the rooms joined or joining.
func (b *bridge) getRooms([]js.Value) (any, error) {
	b.mu.Lock()
	c := b.client
	b.mu.Unlock()
	if c == nil {
		return []string{}, nil
	}
	return c.Rooms(), nil
}

// setEventHandler(fn(name, data)) installs the JS dispatcher of events.
func (b *bridge) setEventHandler(args []js.Value) (any, error) {
	fn := arg(args, 0)
	if fn.Type() != js.TypeFunction && !fn.IsNull() {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "the event handler must be a function")
	}
	b.mu.Lock()
	b.handler = fn
	b.mu.Unlock()
	return nil, nil
}

// setCallInvitationConfig(config) keeps the call kit's invitation config.
func (b *bridge) setCallInvitationConfig(args []js.Value) (any, error) {
	cfg := arg(args, 0)
	if cfg.Type() != js.TypeObject {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "setCallInvitationConfig needs a config object")
	}
	b.mu.Lock()
	b.callConfig = cfg
	b.mu.Unlock()
	return nil, nil
}

func (b *bridge) getCallInvitationConfig([]js.Value) (any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return passJS{b.callConfig}, nil
}

// deliver hands one client event to the JS handler and, for room state
// changes, writes the joined rooms to sessionStorage.
func (b *bridge) deliver(e client.Event) {
	b.mu.Lock()
	h, c := b.handler, b.client
	b.mu.Unlock()
	if e.Name == client.EventRoomStateChanged && c != nil {
		saveRooms(c)
	}
	if h.Type() == js.TypeFunction {
		h.Invoke(e.Name, toJS(e.Data))
	}
}

// saveRooms writes the joined rooms to sessionStorage, when the page has it.
func saveRooms(c *client.Client) {
	storage := js.Global().Get("sessionStorage")
	if storage.IsUndefined() || storage.IsNull() {
		return
	}
	rooms := c.Rooms()
	if len(rooms) == 0 {
		storage.Call("removeItem", StorageKey)
		return
	}
	storage.Call("setItem", StorageKey, toJSON(map[string]any{"rooms": rooms, "current": c.CurrentRoom()}))
}

// makeKitToken({appID, token, roomID, userID, userName}) -> "rk1...."
func makeKitToken(args []js.Value) (any, error) {
	var k client.KitToken
	if err := fromJS("kit", arg(args, 0), &k); err != nil {
		return nil, err
	}
	return k.Encode()
}

// parseKitToken(kitToken) -> {appID, token, roomID, userID, userName}
func parseKitToken(args []js.Value) (any, error) {
	s, err := stringArg(args, 0, "kitToken")
	if err != nil {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "not a kit token: make one with generateKitTokenForTest or generateKitTokenForProduction")
	}
	return client.ParseKitToken(s)
}

// mintTestToken(appID, serverSecret, userID, userName, roomID, role, expirationSeconds)
func mintTestToken(args []js.Value) (any, error) {
	var appID any
	if err := fromJS("appID", arg(args, 0), &appID); err != nil {
		return nil, err
	}
	secret, err := stringArg(args, 1, "serverSecret")
	if err != nil {
		return nil, err
	}
	user, err := stringArg(args, 2, "userID")
	if err != nil {
		return nil, err
	}
	var name, room string
	var role, ttl int
	for _, f := range []struct {
		field string
		i     int
		out   any
	}{{"userName", 3, &name}, {"roomID", 4, &room}, {"role", 5, &role}, {"expirationSeconds", 6, &ttl}} {
		if err := fromJS(f.field, arg(args, f.i), f.out); err != nil {
			return nil, err
		}
	}
	if e := protocol.ValidateID("userID", user, protocol.MaxUserIDBytes); e != nil {
		return nil, e
	}
	if ttl <= 0 || ttl > 48*3600 {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "expirationSeconds is %d; use 1 to %d", ttl, 48*3600)
	}
	app := toJSON(appID)
	if s, ok := appID.(string); ok {
		app = s
	}
	return client.MintTestToken(secret, client.TestTokenClaims{AppID: app, UserID: user, UserName: name, Room: room, Role: role}, time.Now(), time.Duration(ttl)*time.Second), nil
}
