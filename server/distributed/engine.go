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
// callees on every node; sessions.go moves a session to the node its
// client reconnected to; drain.go hands a stopping node's rooms over;
// failover.go keeps a copy of each room in Redis and makes a dead owner's
// rooms again from it.
//
// Ownership of state: the local Manager owns the rooms held here; Engine.mu
// guards the bookkeeping around them (which leases are held, operations in
// flight per room, where other rooms live, the stand-ins of other nodes'
// peers, this node's peers with rooms elsewhere); Engine.copyMu guards what
// was last written of each room's copy and is held through a commit
// round's write and wherever a lease is let go. Lock order: copyMu, then
// Engine.mu, then the Manager's locks, never the reverse (so the peers of
// an Import are found before it runs); the calls manager's sender takes
// Engine.mu (through the directory) under none of them. Nothing blocks on
// the network while holding Engine.mu, except a lease's release in sweep.
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

	mu       sync.Mutex
	held     map[roomKey]uint64 // leases held here -> their generation
	gen      uint64             // bumped at every release, so a stale acquire is not trusted
	inflight map[roomKey]int    // operations running on a room held here
	moving   map[roomKey]bool   // rooms being handed to another node (Drain)
	// resolving: rooms whose owner an operation is finding; the others
	// wait for its answer rather than race it (a room made again from its
	// copy must not be made afresh meanwhile).
	resolving map[roomKey]chan struct{}
	// persistedGone: rooms held here that ended and whose copy in Redis
	// was deleted (until they are made again).
	persistedGone map[roomKey]bool
	owners        map[roomKey]string      // where other rooms live, as last learnt
	remotes       map[string]*remotePeer  // stand-ins of other nodes' peers, by session ID
	origins       map[string]*originState // this node's peers that have rooms, by session ID
	live          map[string]bool         // the live nodes, as of the last check
	closed        bool

	// copyMu guards what was last written of each room's copy, and is
	// held through a commit round's write (persist, on the commit loop) and
	// wherever a room's lease is let go (sweep, handOff, stepDown), so a
	// write never lands after its room has left this node. Taken before
	// mu, never under it.
	copyMu  sync.Mutex
	copies  map[roomKey]*roomCopy
	rewrite map[roomKey]bool // rooms whose last write failed: written whole next
	commit  committer
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
	e := &Engine{limits: withSessionDefault(cfg.Limits), log: log, stop: make(chan struct{}),
		held: map[roomKey]uint64{}, inflight: map[roomKey]int{}, moving: map[roomKey]bool{}, persistedGone: map[roomKey]bool{}, resolving: map[roomKey]chan struct{}{}, owners: map[roomKey]string{},
		remotes: map[string]*remotePeer{}, origins: map[string]*originState{}, live: map[string]bool{},
		copies: map[roomKey]*roomCopy{}, rewrite: map[roomKey]bool{}, sessions: cfg.Sessions}
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

// ownerOf returns the node that owns the room, taking the lease when no
// live node holds it, and the generation to check a local run against.
func (e *Engine) ownerOf(key roomKey) (string, uint64, error) {
	e.mu.Lock()
	if owner, g, ok := e.knownOwnerLocked(key); ok {
		e.mu.Unlock()
		return owner, g, nil
	}
	if wait := e.resolving[key]; wait != nil {
		// Another operation is finding this room (and may be making it
		// again from its copy): its answer is this one's.
		e.mu.Unlock()
		<-wait
		return e.ownerOfAgain(key)
	}
	done := make(chan struct{})
	e.resolving[key] = done
	gen := e.gen
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.resolving, key)
		e.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	holder, took, err := e.node.Acquire(ctx, key.lease())
	if err != nil {
		return "", 0, protocol.Errorf(protocol.CodeFailed, "the cluster's Redis did not answer: %v", err)
	}
	if holder == e.node.ID() && took {
		// Taken over: from a dead owner, whose copy makes it again here,
		// or a room (or an app's calls) nobody held, which has none.
		if key.isCalls() {
			e.restoreCalls(key.app)
		} else {
			e.restore(key)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if holder != e.node.ID() {
		e.owners[key] = holder
		return holder, 0, nil
	}
	if e.gen != gen {
		// A release ran meanwhile: this answer may predate it.
		return "", 0, errMoved
	}
	e.held[key] = gen
	delete(e.owners, key)
	return holder, gen, nil
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

// noteOwner updates where p's origin believes one of its rooms lives.
func (e *Engine) noteOwner(p engine.Peer, room, owner string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.origins[p.Who().Session]; o != nil {
		if _, in := o.rooms[room]; in {
			o.rooms[room] = owner
		}
	}
}

// resolve is ownerOf, trying again while the answer was overtaken (a
// release, or another lookup that failed).
func (e *Engine) resolve(key roomKey) (string, error) {
	for range 4 {
		owner, _, err := e.ownerOf(key)
		if !errors.Is(err, errMoved) {
			return owner, err
		}
	}
	return "", protocol.Errorf(protocol.CodeFailed, "room %q kept moving between server nodes; try again", key.id)
}

// ownerOfAgain is ownerOf after waiting for another's lookup: from what it
// learnt, or by looking again when it failed.
func (e *Engine) ownerOfAgain(key roomKey) (string, uint64, error) {
	e.mu.Lock()
	owner, g, ok := e.knownOwnerLocked(key)
	e.mu.Unlock()
	if !ok {
		return "", 0, errMoved // the caller tries again
	}
	return owner, g, nil
}

// knownOwnerLocked is where this node already knows the room lives: here
// (with the lease's generation), or the owner last learnt. Caller holds
// e.mu.
func (e *Engine) knownOwnerLocked(key roomKey) (string, uint64, bool) {
	if g, ok := e.held[key]; ok {
		return e.node.ID(), g, true
	}
	if o, ok := e.owners[key]; ok {
		return o, 0, true
	}
	return "", 0, false
}

// forget drops what this node believed about where a room lives.
func (e *Engine) forget(key roomKey) {
	e.mu.Lock()
	delete(e.owners, key)
	e.mu.Unlock()
}

// runLocal runs fn on a room held here, counted in flight so that the
// sweep does not give its lease back meanwhile.
func (e *Engine) runLocal(key roomKey, fn func() (any, error)) (any, error) {
	if e.waitMoving(key) {
		return nil, errMoved // it moved (or came back): find it again
	}
	e.mu.Lock()
	if _, ok := e.held[key]; !ok || e.moving[key] {
		e.mu.Unlock()
		return nil, errMoved
	}
	e.inflight[key]++
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		if e.inflight[key]--; e.inflight[key] == 0 {
			delete(e.inflight, key)
		}
		e.mu.Unlock()
	}()
	return fn()
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
	changes bool               // the reply waits for the copy (commit.go)
	what    string             // what kept moving, for the error
	before  func()             // before a forward (nil: nothing)
	after   func(owner string) // after a forward that succeeded (nil: nothing)
}

// route runs t on its key's owner: here when the lease is held here, else
// forwarded, whose reply comes back as its JSON. A room (or an app's
// calls) that moved meanwhile, or whose owner died, is looked up again,
// up to four times. Rooms and calls both go through here.
func (e *Engine) route(t target) (any, error) {
	for range 4 {
		owner, _, err := e.ownerOf(t.key)
		if errors.Is(err, errMoved) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if owner == e.node.ID() {
			v, err := e.runLocal(t.key, t.local)
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
			e.forget(t.key) // the next try finds the owner again (or takes the lease)
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
				e.forget(t.key)
			}
			if moved || (gone && !e.alive(owner)) {
				continue // it stopped or died: the room is elsewhere now
			}
			return nil, err
		}
		if t.after != nil {
			t.after(owner)
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

// noteOrigin remembers p, so that events for it that arrive from other
// nodes reach it.
func (e *Engine) noteOrigin(p engine.Peer) *originState {
	who := p.Who()
	e.mu.Lock()
	defer e.mu.Unlock()
	o := e.origins[who.Session]
	if o == nil {
		o = &originState{peer: p, rooms: map[string]string{}}
		e.origins[who.Session] = o
	}
	return o
}

// joined and left keep the origin's list of p's rooms.
func (e *Engine) joined(p engine.Peer, room string) {
	key := roomKey{p.Who().App, room}
	e.mu.Lock()
	owner := e.owners[key]
	if _, ok := e.held[key]; ok {
		owner = e.node.ID()
	}
	e.mu.Unlock()
	o := e.noteOrigin(p)
	e.mu.Lock()
	o.rooms[room] = owner
	e.mu.Unlock()
}

func (e *Engine) left(p engine.Peer, rooms ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.origins[p.Who().Session]; o != nil {
		for _, r := range rooms {
			delete(o.rooms, r)
		}
	}
}

// roomCount is how many rooms this node believes p is in.
func (e *Engine) roomCount(p engine.Peer) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	if o := e.origins[p.Who().Session]; o != nil {
		return len(o.rooms)
	}
	return 0
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
	owner, err := e.resolve(key)
	if err != nil {
		return nil, err
	}
	if owner != e.node.ID() {
		return nil, errMoved
	}
	v, err := e.runLocal(key, func() (any, error) { return req.Run(e.local, rp) })
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
	e.mu.Lock()
	peers := make([]engine.Peer, 0, len(sessions))
	var rest []string
	for _, s := range sessions {
		if o := e.origins[s]; o != nil {
			peers = append(peers, o.peer)
		} else {
			rest = append(rest, s)
		}
	}
	e.mu.Unlock()
	for _, s := range rest {
		if app, user, room, ok := parseUserAddress(s); ok {
			peers = append(peers, e.sessions.Peers(app, user, room)...)
		} else if p := e.sessions.Session(s); p != nil {
			peers = append(peers, p)
		}
	}
	for _, p := range peers {
		p.Deliver(frame)
	}
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
		for _, o := range e.owners {
			if o != "" && !isLive[o] {
				isDead[o] = true
			}
		}
		e.mu.Unlock()
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
	for key, o := range e.owners {
		if isDead[o] {
			delete(e.owners, key)
		}
	}
	e.mu.Unlock()
	for _, rp := range gone {
		e.log.Info("a node is dead: its member leaves", "dead", rp.node, "session", rp.who.Session)
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
	e.takeOverRoomsOf(isDead)
}

// sweep gives back the leases of rooms held here that have ended.
func (e *Engine) sweep() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// copyMu first (the lock order is copyMu, then e.mu): a commit round
	// under way finishes before the copy is deleted and the lease given
	// back, so no late write brings the ended room's copy back.
	e.copyMu.Lock()
	defer e.copyMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	for key := range e.held {
		if key.isCalls() || e.inflight[key] > 0 || e.local.HasRoom(key.app, key.id) {
			continue
		}
		e.gen++
		delete(e.held, key)
		delete(e.persistedGone, key)
		delete(e.copies, key)
		delete(e.rewrite, key)
		_ = e.node.Redis().Del(ctx, copyKeys(key)...).Err()
		if err := e.node.Release(ctx, key.lease()); err != nil {
			e.log.Warn("giving a room's lease back failed", "room", key.id, "err", err)
		}
	}
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
	e.mu.Lock()
	held := make([]roomKey, 0, len(e.held))
	for key := range e.held {
		held = append(held, key)
	}
	e.mu.Unlock()
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
