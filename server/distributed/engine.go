// Package distributed is the room engine of one node among several that
// share a Redis (server/cluster).
//
// Each room is owned by one node at a time, the holder of the room's
// cluster lease: its members, their order, its attributes, history and
// timers live in that node's engine.Manager, exactly as on a single node.
// An operation on a room from a connection on another node (its origin) is
// forwarded to the owner over the cluster bus and runs there for a
// stand-in peer (remotePeer); the events the room sends that stand-in
// travel back over the bus, in order and before the operation's reply, to
// the origin, which hands them to the real connection.
//
// Beyond the rooms: calls.go keeps each app's calls on one node and finds
// callees on every node (presence.go says where users are); sessions.go
// moves a session to the node its client reconnected to; drain.go hands a
// stopping node's rooms over; failover.go keeps a copy of each room in
// Redis and makes a dead owner's rooms again from it.
//
// Ownership of state, each part with its own lock:
//   - the local engine.Manager: the rooms held here (and their extensions);
//   - ownership (ownership.go): where each room lives, the one place that
//     is kept: the leases held here with their generations, operations in
//     flight on them, rooms being handed off, the owners of the others as
//     last learnt; with the hooks a lease taken over (the room made again
//     from its copy) and a lease let go (its copy's state forgotten) run;
//   - origins (origins.go): this node's sessions that are in rooms, and
//     which rooms (their owners are read from ownership, never copied);
//   - directory.Registry (made before the engine, shared with the
//     gateway): this node's sessions by ID and by user; presence.go records
//     in Redis on which nodes a user has sessions, and each session's node;
//   - Engine.mu: the stand-ins of other nodes' peers, the live nodes as of
//     the last check, and whether the engine is closed;
//   - Engine.copyMu: what was last written of each room's copy; held
//     through a commit round's write and wherever a lease is let go, so a
//     write never lands after its room has left this node.
//
// Lock order: copyMu, then ownership's, then the Manager's locks; Engine.mu
// and the origins' lock are taken under none of the others' and nothing is
// called under them. The peers of an Import are found before it runs (it
// holds the Manager's lock). Nothing blocks on the network while holding a
// lock, except the lease releases of a sweep (under copyMu and ownership's)
// and a commit round's write (under copyMu).
package distributed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"roomkit/server/calls"
	"roomkit/server/cluster"
	"roomkit/server/directory"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Engine implements engine.Engine over a cluster node and a local Manager.
type Engine struct {
	node     *cluster.Node
	local    *engine.Manager
	sessions *directory.Registry // this node's sessions (made before the engine)
	calls    *calls.Manager      // the calls of the apps whose calls lease is held here
	limits   engine.Limits
	log      *slog.Logger
	stop     chan struct{}
	done     sync.WaitGroup

	own     *ownership // where each room lives: the leases held here, the owners of others
	origins *origins   // this node's sessions in rooms, and which rooms

	mu      sync.Mutex
	remotes map[string]*remotePeer // stand-ins of other nodes' peers, by session ID
	live    map[string]bool        // the live nodes, as of the last check
	closed  bool

	// copyMu guards what was last written of each room's copy, and is
	// held through a commit round's write (persist, on the commit loop) and
	// wherever a room's lease is let go (sweep, handOff, stepDown), so a
	// write never lands after its room has left this node. Taken before
	// mu, never under it.
	copyMu  sync.Mutex
	copies  map[roomKey]*roomCopy
	rewrite map[roomKey]bool // rooms whose last write failed: written whole next
	// persistedGone: rooms held here that ended and whose copy in Redis
	// was deleted (until they are made again).
	persistedGone map[roomKey]bool
	commit        committer
}

type roomKey struct{ app, id string }

func (k roomKey) lease() string { return fmt.Sprintf("room:%d:%s:%s", len(k.app), k.app, k.id) }

// originState is what this node knows of one of its own peers: the peer,
// and the rooms it joined through this engine with their owners (rooms
// from which it was removed by others may linger until Rooms refreshes
// it).
type originState struct {
	peer  engine.Peer
	rooms map[string]string // room ID -> owner node
}

var _ engine.Engine = (*Engine)(nil)

// Config is the engine's settings.
type Config struct {
	// Limits are the local Manager's (and MaxRoomsPerSession is checked
	// across nodes at the origin).
	Limits engine.Limits
	// Sweep is how often leases of rooms that have ended are given back;
	// default 30 s. The dead-node check runs every cluster heartbeat.
	Sweep time.Duration
	// Sessions is this node's session registry, shared with its gateway
	// (nil: a registry of its own, for an engine without one).
	Sessions *directory.Registry
	// Calls bounds the calls kept on this node.
	Calls calls.Limits
}

// New makes the engine of node. The node must not be started yet: New
// installs its handler, then starts it.
func New(ctx context.Context, clusterCfg cluster.Config, cfg Config, log *slog.Logger, opts ...engine.Option) (*Engine, error) {
	if log == nil {
		log = slog.Default()
	}
	e := &Engine{limits: withSessionDefault(cfg.Limits), log: log, stop: make(chan struct{}), origins: newOrigins(),
		remotes: map[string]*remotePeer{}, live: map[string]bool{},
		copies: map[roomKey]*roomCopy{}, rewrite: map[roomKey]bool{}, persistedGone: map[roomKey]bool{}, sessions: cfg.Sessions}
	if e.sessions == nil {
		e.sessions = directory.NewRegistry()
	}
	e.calls = calls.NewManager(callees{e}, cfg.Calls)
	node, err := cluster.NewNode(ctx, clusterCfg, cluster.Handler{Request: e.handle, Event: e.deliver, EncodeError: encodeError, Lapse: e.stepDown, Gap: e.gap}, log)
	if err != nil {
		return nil, err
	}
	e.node = node
	e.log = log.With("node", node.ID())
	e.own = newOwnership(node.ID())
	e.own.acquire = func(ctx context.Context, key roomKey) (string, bool, error) { return node.Acquire(ctx, key.lease()) }
	e.own.onAcquire = e.restoreTaken
	e.own.onRelease = e.forgetCopy
	e.local = engine.NewManager(cfg.Limits, append([]engine.Option{engine.WithMessageIDPrefix(node.ID() + "-")}, opts...)...)
	if err := node.Start(); err != nil {
		node.Close()
		return nil, err
	}
	e.refreshLive()
	sweep := cfg.Sweep
	if sweep == 0 {
		sweep = 30 * time.Second
	}
	e.commit.init()
	e.done.Add(2)
	go e.watch(sweep)
	go e.commitLoop()
	return e, nil
}

func withSessionDefault(l engine.Limits) engine.Limits {
	if l.MaxRoomsPerSession == 0 {
		l.MaxRoomsPerSession = 100
	}
	return l
}

// Local is the engine of the rooms this node owns (for metrics and tests).
func (e *Engine) Local() *engine.Manager { return e.local }

// Node is the cluster node.
func (e *Engine) Node() *cluster.Node { return e.node }

// Ready reports whether Redis answers.
func (e *Engine) Ready(ctx context.Context) error { return e.node.Redis().Ping(ctx).Err() }

// errMoved: the room is not (or no longer) held here.
var errMoved = errors.New("the room moved to another node")

// movedCode marks a reply that says the room lives elsewhere: the origin
// learns the owner again and retries. Never shown to a client.
const movedCode = -1

func encodeError(err error) *cluster.RemoteError {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return &cluster.RemoteError{Code: int(pe.Code), Message: pe.Message}
	}
	if errors.Is(err, errMoved) {
		return &cluster.RemoteError{Code: movedCode, Message: err.Error()}
	}
	return &cluster.RemoteError{Message: err.Error()}
}

// decodeError turns a forwarded operation's error back into what the
// gateway expects: a protocol error with its code.
func decodeError(err error) error {
	var re *cluster.RemoteError
	if errors.As(err, &re) {
		switch {
		case re.Code == movedCode:
			return errMoved
		case re.Code != 0:
			return protocol.Errorf(protocol.Code(re.Code), "%s", re.Message)
		}
		return protocol.Errorf(protocol.CodeFailed, "%s", re.Message)
	}
	if errors.Is(err, cluster.ErrNodeGone) {
		return protocol.Errorf(protocol.CodeFailed, "the server node holding this room did not answer; try again")
	}
	return err
}

// restoreTaken is ownership's onAcquire: a room (or an app's calls) whose
// lease this node took is made again from its copy, if it has one.
func (e *Engine) restoreTaken(key roomKey) {
	if key.isCalls() {
		e.restoreCalls(key.app)
	} else {
		e.restore(key)
	}
}

// forgetCopy is ownership's onRelease: what was written of the room's
// copy is forgotten (the next owner writes it whole). The releaser holds
// copyMu.
func (e *Engine) forgetCopy(key roomKey) {
	delete(e.copies, key)
	delete(e.rewrite, key)
	delete(e.persistedGone, key)
}

// alive reports whether node is alive: at once when the last check saw it,
// else by asking Redis.
func (e *Engine) alive(node string) bool {
	e.mu.Lock()
	ok := e.live[node]
	e.mu.Unlock()
	if ok {
		return true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	alive, err := e.node.Alive(ctx, node)
	return err != nil || alive // when Redis cannot say, try the node
}

// forwarded is an operation sent to a room's owner.
type forwarded struct {
	Op   string          `json:"op"`
	Peer engine.Who      `json:"peer"`
	Room string          `json:"room,omitempty"`
	Args json.RawMessage `json:"args,omitempty"`
}

// target is one operation route runs: on the owner of key's lease, here
// (local) or forwarded there as fwd over the bus request bus.
type target struct {
	key     roomKey
	bus     string // the bus request: "op" for rooms, "call" for calls
	fwd     forwarded
	local   func() (any, error)
	changes bool   // the reply waits for the copy (commit.go)
	what    string // what kept moving, for the error
	before  func() // before a forward (nil: nothing)
}

// route runs t on its key's owner: here when the lease is held here, else
// forwarded, whose reply comes back as its JSON. A room (or an app's
// calls) that moved meanwhile, or whose owner died, is looked up again,
// up to four times. Rooms and calls both go through here.
func (e *Engine) route(t target) (any, error) {
	for range 4 {
		owner, _, err := e.own.lookup(t.key)
		if errors.Is(err, errMoved) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if owner == e.node.ID() {
			v, err := e.own.run(t.key, t.local)
			if errors.Is(err, errMoved) {
				continue
			}
			if err != nil {
				return nil, err
			}
			if t.changes {
				e.durable()
			}
			return v, nil
		}
		if !e.alive(owner) {
			e.own.forget(t.key) // the next try finds the owner again (or takes the lease)
			continue
		}
		if t.before != nil {
			t.before()
		}
		raw, err := e.node.Request(context.Background(), owner, t.bus, t.fwd.Peer.Session, t.fwd)
		if err != nil {
			gone := errors.Is(err, cluster.ErrNodeGone)
			err = decodeError(err)
			moved := errors.Is(err, errMoved)
			if moved || gone {
				e.own.forget(t.key)
			}
			if moved || (gone && !e.alive(owner)) {
				continue // it stopped or died: the room is elsewhere now
			}
			return nil, err
		}
		return json.RawMessage(raw), nil
	}
	return nil, protocol.Errorf(protocol.CodeFailed, "%s kept moving between server nodes; try again", t.what)
}

// replyAs is a reply of route as an R: the value itself when it ran here,
// decoded from its JSON when it came from another node.
func replyAs[R any](v any, err error) (R, error) {
	var r R
	if err != nil {
		return r, err
	}
	if raw, ok := v.(json.RawMessage); ok {
		if err := json.Unmarshal(raw, &r); err != nil {
			return r, fmt.Errorf("a forwarded reply does not decode: %w", err)
		}
		return r, nil
	}
	return v.(R), nil
}

// handle is the owner's side: it runs a forwarded operation for the
// stand-in of the peer it names.
func (e *Engine) handle(from, name string, body json.RawMessage) (any, error) {
	switch name {
	case "handover":
		return e.handleHandover(body)
	case "importRoom":
		return e.handleImport(from, body)
	}
	var f forwarded
	if err := json.Unmarshal(body, &f); err != nil {
		return nil, fmt.Errorf("a forwarded operation does not decode: %w", err)
	}
	if name == "call" {
		return e.handleCall(from, f)
	}
	if f.Op == "rebind" {
		return e.rebind(f.Peer, f.Args)
	}
	rp := e.remote(from, f.Peer)
	defer e.dropIfIdle(rp)
	switch f.Op {
	case "leaveAll":
		return e.local.LeaveAll(rp), nil
	case "rooms":
		return e.local.Rooms(rp), nil
	}
	o, ok := engine.Lookup(f.Op)
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", f.Op)
	}
	req, err := o.Decode(f.Args)
	if err != nil {
		return nil, err
	}
	key := roomKey{f.Peer.App, f.Room}
	owner, err := e.own.resolve(key)
	if err != nil {
		return nil, err
	}
	if owner != e.node.ID() {
		return nil, errMoved
	}
	v, err := e.own.run(key, func() (any, error) { return req.Run(e.local, rp) })
	if err == nil && o.Kind != engine.KindRead {
		// The reply waits for the room's copy, off the bus's worker.
		return cluster.Later(func() (any, error) { e.durable(); return v, nil }), nil
	}
	return v, err
}

// deliver hands frames that other nodes sent to this node's peers: to a
// session by ID, or to every tab of a user (call events) whose token
// admits the room named.
func (e *Engine) deliver(from string, sessions []string, frame json.RawMessage) {
	peers := make([]engine.Peer, 0, len(sessions))
	for _, s := range sessions {
		if app, user, room, ok := parseUserAddress(s); ok {
			peers = append(peers, e.sessions.Peers(app, user, room)...)
		} else if p := e.localPeer(s); p != nil {
			peers = append(peers, p)
		}
	}
	for _, p := range peers {
		p.Deliver(frame)
	}
}

// localPeer is the peer of this node's session id: the gateway's session,
// or an origin the registry does not have (an engine without a gateway);
// nil when there is none.
func (e *Engine) localPeer(id string) engine.Peer {
	if p := e.sessions.Session(id); p != nil {
		return p
	}
	return e.origins.peer(id)
}

// watch gives back the leases of rooms that ended here, and takes the
// peers of dead nodes out of the rooms held here. (The copies are the
// commit loop's.)
func (e *Engine) watch(sweep time.Duration) {
	defer e.done.Done()
	dead := time.NewTicker(time.Second)
	defer dead.Stop()
	gc := time.NewTicker(sweep)
	defer gc.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-dead.C:
			e.refreshLive()
			e.removeDeadPeers()
		case <-gc.C:
			e.sweep()
		}
	}
}

// refreshLive notes which nodes are alive, for the calls' directory.
func (e *Engine) refreshLive() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	nodes, err := e.node.LiveNodes(ctx)
	if err != nil {
		return
	}
	live := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		live[n] = true
	}
	e.mu.Lock()
	e.live = live
	e.mu.Unlock()
}

// removeDeadPeers makes the peers of nodes found dead leave the rooms held
// here, as their connections would have on leaving, and their users who
// are left nowhere leave the calls kept here.
func (e *Engine) removeDeadPeers() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	dead, err := e.node.DeadNodes(ctx)
	if err != nil {
		return
	}
	isDead := map[string]bool{}
	for _, d := range dead {
		isDead[d] = true
	}
	// The first node to find a node dead forgets it (drops it from the
	// live list): the others find it dead by its absence from that list,
	// for the nodes whose peers or rooms they know.
	if live, err := e.node.LiveNodes(ctx); err == nil {
		isLive := map[string]bool{}
		for _, n := range live {
			isLive[n] = true
		}
		e.mu.Lock()
		for _, rp := range e.remotes {
			if rp.node != "" && !isLive[rp.node] {
				isDead[rp.node] = true
			}
		}
		e.mu.Unlock()
		for o := range e.own.ownerNodes() {
			if !isLive[o] {
				isDead[o] = true
			}
		}
	}
	delete(isDead, e.node.ID()) // late itself, it is not dead: it beats again
	if len(isDead) == 0 {
		return
	}
	dead = dead[:0]
	for d := range isDead {
		dead = append(dead, d)
	}
	e.mu.Lock()
	var gone []*remotePeer
	for id, rp := range e.remotes {
		if isDead[rp.node] {
			gone = append(gone, rp)
			delete(e.remotes, id)
		}
	}
	e.mu.Unlock()
	orphaned := e.own.forgetNodes(isDead)
	for _, rp := range gone {
		e.log.Info("a node is dead: its member leaves", "dead", rp.node, "session", rp.Who().Session)
		e.local.LeaveAll(rp)
	}
	for _, d := range dead {
		_ = e.node.Forget(ctx, d)
	}
	e.mu.Lock()
	for _, d := range dead {
		delete(e.live, d)
	}
	e.mu.Unlock()
	e.takeOverCallsOf(isDead)
	e.removeGoneCallers()
	e.takeOverRooms(orphaned)
}

// sweep gives back the leases of rooms held here that have ended.
func (e *Engine) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// copyMu first (the lock order is copyMu, then the ownership's): a
	// commit round under way finishes before the copy is deleted and the
	// lease given back, so no late write brings the ended room's copy back.
	e.copyMu.Lock()
	defer e.copyMu.Unlock()
	e.own.releaseIdle(func(key roomKey) bool { return !e.local.HasRoom(key.app, key.id) }, func(key roomKey) {
		_ = e.node.Redis().Del(ctx, copyKeys(key)...).Err()
		if err := e.node.Release(ctx, key.lease()); err != nil {
			e.log.Warn("giving a room's lease back failed", "room", key.id, "err", err)
		}
	})
}

// Close ends every room held here (deleting their copies and giving their
// leases back) and leaves the cluster.
func (e *Engine) Close() {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		return
	}
	e.closed = true
	e.mu.Unlock()
	close(e.stop)
	e.done.Wait()
	e.local.Close()
	e.calls.EndAll(protocol.CallReasonServerShutdown)
	// The rooms still here (none after a drain to other nodes) ended with
	// the engine: their copies must not bring them back.
	held := e.own.heldKeys()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	for _, key := range held {
		if key.isCalls() {
			_ = e.node.Redis().Del(ctx, callsCopyKey(key.app)).Err() // they ended with the node
		} else {
			_ = e.node.Redis().Del(ctx, copyKeys(key)...).Err()
		}
		_ = e.node.Release(ctx, key.lease())
	}
	_ = e.node.Leave(ctx)
	e.node.Close()
}

// remotePeer stands in, on a room's owner, for a peer connected to another
// node: what the room sends it goes over the bus to that node.
type remotePeer struct {
	e    *Engine
	node string

	mu  sync.Mutex
	who engine.Who // as its node last said
}

// remote returns the stand-in for who's peer on node from, as who says
// it is now.
func (e *Engine) remote(from string, who engine.Who) *remotePeer {
	e.mu.Lock()
	rp := e.remotes[who.Session]
	if rp == nil || rp.node != from {
		rp = &remotePeer{e: e, node: from, who: who}
		e.remotes[who.Session] = rp
	}
	e.mu.Unlock()
	rp.mu.Lock()
	rp.who = who
	rp.mu.Unlock()
	return rp
}

// dropIfIdle forgets a stand-in that is in no room here.
func (e *Engine) dropIfIdle(rp *remotePeer) {
	if len(e.local.Rooms(rp)) > 0 {
		return
	}
	session := rp.Who().Session
	e.mu.Lock()
	if e.remotes[session] == rp {
		delete(e.remotes, session)
	}
	e.mu.Unlock()
}

// Who implements engine.Peer.
func (rp *remotePeer) Who() engine.Who {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	return rp.who
}

// Deliver implements engine.Peer: the frame goes to the peer's node.
func (rp *remotePeer) Deliver(frame []byte) { rp.e.node.SendEvent(rp.node, rp.Who().Session, frame) }

// sortedRooms sorts room infos by ID.
func sortedRooms(rooms []protocol.RoomInfo) []protocol.RoomInfo {
	sort.Slice(rooms, func(i, j int) bool { return rooms[i].RoomID < rooms[j].RoomID })
	return rooms
}
