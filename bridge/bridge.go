//go:build js && wasm

// Package bridge is the syscall/js glue between the JS module and the
// client core. It installs one global object, globalThis.roomkit, holding
// the page-wide functions (tokens, session room IDs, the call invitation
// config), newClient() for each connection a page opens, and the functions
// of one default client. A client's functions return Promises resolving
// with plain objects or rejecting with Errors that carry a numeric code;
// its events go to the one JS handler it was given; it keeps its joined
// rooms in sessionStorage under the key it was made with.
package bridge

import (
	"context"
	"sync"
	"syscall/js"
	"time"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// StorageKey is the sessionStorage key holding the default client's joined
// rooms as {"rooms": [...], "current": "..."}.
const StorageKey = "roomkit:rooms"

// The call kit's invitation config is the page's, not a connection's.
var (
	callConfigMu sync.Mutex
	callConfig   = js.Undefined()
)

// handle is one client of the page: at most one logged-in client.Client at
// a time, the JS handler its events go to, and the exported funcs made for
// it, released with it.
type handle struct {
	roomsKey string // sessionStorage key for the joined rooms; "" keeps none

	mu       sync.Mutex
	client   *client.Client
	handler  js.Value // the JS module's event dispatcher
	funcs    []js.Func
	released bool
}

// Install sets globalThis.roomkit. The page-wide funcs and the default
// client's live as long as the module; a client made by newClient has its
// funcs released by its release().
func Install() {
	api := jsObject.New()
	page := map[string]func(args []js.Value) (any, error){
		"setCallInvitationConfig": setCallInvitationConfig,
		"getCallInvitationConfig": getCallInvitationConfig,
		"mintTestToken":           mintTestToken,
		"makeKitToken":            makeKitToken,
		"parseKitToken":           parseKitToken,
		"sessionRoomID":           sessionRoomID,
	}
	for name, fn := range page {
		api.Set(name, js.FuncOf(func(this js.Value, args []js.Value) any {
			return syncCall(func() (any, error) { return fn(args) })
		}))
	}
	newHandle(StorageKey).export(api)
	api.Set("newClient", js.FuncOf(func(this js.Value, args []js.Value) any {
		return syncCall(func() (any, error) { return newClient(args) })
	}))
	api.Set("protocolVersion", protocol.Version)
	js.Global().Set("roomkit", api)
}

func newHandle(roomsKey string) *handle {
	return &handle{roomsKey: roomsKey, handler: js.Undefined()}
}

// newClient({roomsStorageKey}) -> an object with a client's functions (the
// same as the default client's on globalThis.roomkit) and release(), which
// logs the client out at once if it still is logged in and frees its funcs;
// it must not be used after that.
func newClient(args []js.Value) (any, error) {
	var opts struct {
		RoomsStorageKey string `json:"roomsStorageKey"`
	}
	if err := fromJS("options", arg(args, 0), &opts); err != nil {
		return nil, err
	}
	h := newHandle(opts.RoomsStorageKey)
	obj := jsObject.New()
	h.export(obj)
	var release js.Func
	release = js.FuncOf(func(js.Value, []js.Value) any {
		h.release()
		release.Release()
		return nil
	})
	obj.Set("release", release)
	return passJS{obj}, nil
}

// export sets the client's functions on obj.
func (h *handle) export(obj js.Value) {
	async := map[string]func(args []js.Value) (any, error){
		"login":            h.login,
		"logout":           h.logout,
		"renewToken":       h.withClient(renewToken),
		"create":           h.withClient(create),
		"join":             h.withClient(join),
		"enter":            h.withClient(enter),
		"switch":           h.withClient(switchRoom),
		"leave":            h.withClient(leave),
		"leaveAll":         h.withClient(leaveAll),
		"queryMemberList":  h.withClient(queryMemberList),
		"queryMemberCount": h.withClient(queryMemberCount),
	}
	for name, op := range dataExports() {
		async[name] = h.withClient(op)
	}
	for name, fn := range async {
		f := js.FuncOf(func(this js.Value, args []js.Value) any {
			return promise(func() (any, error) { return fn(args) })
		})
		h.funcs = append(h.funcs, f)
		obj.Set(name, f)
	}
	immediate := map[string]func(args []js.Value) (any, error){
		"getRoomID":       h.getRoomID,
		"suspend":         h.suspend,
		"getRooms":        h.getRooms,
		"setEventHandler": h.setEventHandler,
		"logoutNow":       h.logoutNow,
	}
	for name, fn := range immediate {
		f := js.FuncOf(func(this js.Value, args []js.Value) any {
			return syncCall(func() (any, error) { return fn(args) })
		})
		h.funcs = append(h.funcs, f)
		obj.Set(name, f)
	}
}

// release logs out at once (when still logged in) and frees the funcs.
func (h *handle) release() {
	h.mu.Lock()
	c, funcs := h.client, h.funcs
	h.client, h.funcs, h.handler, h.released = nil, nil, js.Undefined(), true
	h.mu.Unlock()
	if c != nil {
		c.LogoutNow()
	}
	for _, f := range funcs {
		f.Release()
	}
}

// withClient adapts an operation on the logged-in client into an export;
// before login it fails with CodeNotLoggedIn.
func (h *handle) withClient(op func(c *client.Client, args []js.Value) (any, error)) func([]js.Value) (any, error) {
	return func(args []js.Value) (any, error) {
		c, err := h.current()
		if err != nil {
			return nil, err
		}
		return op(c, args)
	}
}

// current returns the logged-in client or CodeNotLoggedIn.
func (h *handle) current() (*client.Client, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.client == nil {
		return nil, protocol.Errorf(protocol.CodeNotLoggedIn, "not logged in; call login first")
	}
	return h.client, nil
}

// login({server, token}) -> {sessionID, userID, userName, expiresAt}
func (h *handle) login(args []js.Value) (any, error) {
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
	h.mu.Lock()
	if h.client != nil {
		h.mu.Unlock()
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "already logged in; call logout first")
	}
	h.mu.Unlock()
	c, err := client.Login(context.Background(), client.Config{URL: opts.Server, Token: opts.Token, Resume: opts.Resume, OnEvent: h.deliver})
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	released := h.released
	if !released {
		h.client = c
	}
	h.mu.Unlock()
	if released {
		c.LogoutNow()
		return nil, protocol.Errorf(protocol.CodeNotLoggedIn, "the client was released while it logged in")
	}
	return c.Session(), nil
}

// logoutNow() ends the session at once, for a page going away
// (leaveOnPageUnload): synchronous, it writes logout before the page dies.
func (h *handle) logoutNow([]js.Value) (any, error) {
	h.mu.Lock()
	c := h.client
	h.client = nil
	h.mu.Unlock()
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

func (h *handle) logout([]js.Value) (any, error) {
	h.mu.Lock()
	c := h.client
	h.client = nil
	h.mu.Unlock()
	if c != nil {
		_ = c.Logout(context.Background())
	}
	return struct{}{}, nil
}

// suspend() -> {sessionID, key, received}: stops the client without leaving
// its rooms, for a page about to unload; login({resume}) on the next page
// takes the session back. null when not logged in.
func (h *handle) suspend([]js.Value) (any, error) {
	h.mu.Lock()
	c := h.client
	h.client = nil
	h.mu.Unlock()
	if c == nil {
		return passJS{js.Null()}, nil
	}
	return c.Suspend(), nil
}

// getRoomID() -> the current room's ID, or "".
func (h *handle) getRoomID([]js.Value) (any, error) {
	h.mu.Lock()
	c := h.client
	h.mu.Unlock()
	if c == nil {
		return "", nil
	}
	return c.CurrentRoom(), nil
}

// getRooms() -> the IDs of the rooms joined or joining.
func (h *handle) getRooms([]js.Value) (any, error) {
	h.mu.Lock()
	c := h.client
	h.mu.Unlock()
	if c == nil {
		return []string{}, nil
	}
	return c.Rooms(), nil
}

// setEventHandler(fn(name, data)) installs the JS dispatcher of events.
func (h *handle) setEventHandler(args []js.Value) (any, error) {
	fn := arg(args, 0)
	if fn.Type() != js.TypeFunction && !fn.IsNull() {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "the event handler must be a function")
	}
	h.mu.Lock()
	h.handler = fn
	h.mu.Unlock()
	return nil, nil
}

// setCallInvitationConfig(config) keeps the call kit's invitation config.
func setCallInvitationConfig(args []js.Value) (any, error) {
	cfg := arg(args, 0)
	if cfg.Type() != js.TypeObject {
		return nil, protocol.Errorf(protocol.CodeInvalidParameter, "setCallInvitationConfig needs a config object")
	}
	callConfigMu.Lock()
	callConfig = cfg
	callConfigMu.Unlock()
	return nil, nil
}

func getCallInvitationConfig([]js.Value) (any, error) {
	callConfigMu.Lock()
	defer callConfigMu.Unlock()
	return passJS{callConfig}, nil
}

// deliver hands one client event to the JS handler and, for room state
// changes, writes the joined rooms to sessionStorage.
func (h *handle) deliver(e client.Event) {
	h.mu.Lock()
	fn, c := h.handler, h.client
	h.mu.Unlock()
	if e.Name == client.EventRoomStateChanged && c != nil && h.roomsKey != "" {
		saveRooms(h.roomsKey, c)
	}
	if fn.Type() == js.TypeFunction {
		fn.Invoke(e.Name, toJS(e.Data))
	}
}

// saveRooms writes the joined rooms to sessionStorage under key, when the
// page has it.
func saveRooms(key string, c *client.Client) {
	storage := js.Global().Get("sessionStorage")
	if storage.IsUndefined() || storage.IsNull() {
		return
	}
	rooms := c.Rooms()
	if len(rooms) == 0 {
		storage.Call("removeItem", key)
		return
	}
	storage.Call("setItem", key, toJSON(map[string]any{"rooms": rooms, "current": c.CurrentRoom()}))
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
