package distributed

import (
	"context"
	"errors"
	"sync"
	"time"

	"roomkit/server/protocol"
)

// ownership is where each room (and each app's calls) lives, as this
// node knows it: the leases held here with their generations, the
// operations running on them, the ones being handed to another node, and
// the owners of others as last learnt. It is the one place that fact is
// kept: the origins read owners from it.
//
// mu guards everything below it. It is taken under Engine.copyMu (never
// the reverse) and never over the local Manager's locks; nothing blocks
// on the network while holding it, except the lease releases of a sweep
// (so that no operation takes up a room whose lease is being given back).
type ownership struct {
	self string
	// acquire asks Redis for key's lease: its holder, and whether this
	// node took it just now (no live node held it).
	acquire func(ctx context.Context, key roomKey) (holder string, took bool, err error)
	// onAcquire runs when this node took a lease nobody held: the room (or
	// the app's calls) is made again from its copy, if there is one. It
	// runs before the lease counts as held, without mu.
	onAcquire func(key roomKey)
	// onRelease runs when a lease held here is let go, on the goroutine
	// letting it go (which holds Engine.copyMu), possibly under mu: it must
	// not take mu.
	onRelease func(key roomKey)

	mu       sync.Mutex
	held     map[roomKey]uint64 // leases held here -> their generation
	gen      uint64             // bumped at every release, so a stale acquire is not trusted
	inflight map[roomKey]int    // operations running on a room held here
	moving   map[roomKey]bool   // rooms being handed to another node (Drain)
	// resolving: rooms whose owner a lookup is finding; the others wait
	// for its answer rather than race it (a room made again from its copy
	// must not be made afresh meanwhile).
	resolving map[roomKey]chan struct{}
	owners    map[roomKey]string // where rooms held elsewhere live, as last learnt
}

func newOwnership(self string) *ownership {
	return &ownership{self: self, held: map[roomKey]uint64{}, inflight: map[roomKey]int{}, moving: map[roomKey]bool{},
		resolving: map[roomKey]chan struct{}{}, owners: map[roomKey]string{}}
}

// lookup returns the node that owns the room, taking the lease when no
// live node holds it, and the generation to check a local run against.
// errMoved says the answer was overtaken (the caller looks again).
func (o *ownership) lookup(key roomKey) (string, uint64, error) {
	o.mu.Lock()
	if owner, g, ok := o.knownLocked(key); ok {
		o.mu.Unlock()
		return owner, g, nil
	}
	if wait := o.resolving[key]; wait != nil {
		// Another lookup is finding this room (and may be making it again
		// from its copy): its answer is this one's.
		o.mu.Unlock()
		<-wait
		if owner, g, ok := o.known(key); ok {
			return owner, g, nil
		}
		return "", 0, errMoved // it failed: the caller looks again
	}
	done := make(chan struct{})
	o.resolving[key] = done
	gen := o.gen
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		delete(o.resolving, key)
		o.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	holder, took, err := o.acquire(ctx, key)
	if err != nil {
		return "", 0, protocol.Errorf(protocol.CodeFailed, "the cluster's Redis did not answer: %v", err)
	}
	if holder == o.self && took {
		// Taken over: from a dead owner, whose copy makes it again here,
		// or a room (or an app's calls) nobody held, which has none.
		o.onAcquire(key)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if holder != o.self {
		o.owners[key] = holder
		return holder, 0, nil
	}
	if o.gen != gen {
		// A release ran meanwhile: this answer may predate it.
		return "", 0, errMoved
	}
	o.held[key] = gen
	delete(o.owners, key)
	return holder, gen, nil
}

// resolve is lookup, trying again while the answer was overtaken (a
// release, or another lookup that failed).
func (o *ownership) resolve(key roomKey) (string, error) {
	for range 4 {
		owner, _, err := o.lookup(key)
		if !errors.Is(err, errMoved) {
			return owner, err
		}
	}
	return "", protocol.Errorf(protocol.CodeFailed, "room %q kept moving between server nodes; try again", key.id)
}

// known is where this node already knows the room lives: here (with the
// lease's generation), or the owner last learnt.
func (o *ownership) known(key roomKey) (string, uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.knownLocked(key)
}

func (o *ownership) knownLocked(key roomKey) (string, uint64, bool) {
	if g, ok := o.held[key]; ok {
		return o.self, g, true
	}
	if owner, ok := o.owners[key]; ok {
		return owner, 0, true
	}
	return "", 0, false
}

// owner is the room's owner as known here, "" when unknown.
func (o *ownership) owner(key roomKey) string {
	owner, _, _ := o.known(key)
	return owner
}

// learn notes that node owner holds key's lease (as another node said),
// unless it is held here.
func (o *ownership) learn(key roomKey, owner string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if _, ok := o.held[key]; !ok && owner != "" && owner != o.self {
		o.owners[key] = owner
	}
}

// forget drops what this node believed about where a room held elsewhere
// lives.
func (o *ownership) forget(key roomKey) {
	o.mu.Lock()
	delete(o.owners, key)
	o.mu.Unlock()
}

// forgetNodes drops the owners learnt on the nodes dead names and returns
// their rooms.
func (o *ownership) forgetNodes(dead map[string]bool) []roomKey {
	o.mu.Lock()
	defer o.mu.Unlock()
	var keys []roomKey
	for key, owner := range o.owners {
		if dead[owner] {
			keys = append(keys, key)
			delete(o.owners, key)
		}
	}
	return keys
}

// ownerNodes is every node this node believes owns a room.
func (o *ownership) ownerNodes() map[string]bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	nodes := map[string]bool{}
	for _, owner := range o.owners {
		nodes[owner] = true
	}
	return nodes
}

// holds reports whether key's lease is held here, and its generation.
func (o *ownership) holds(key roomKey) (uint64, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	g, ok := o.held[key]
	return g, ok
}

// heldKeys is the leases held here.
func (o *ownership) heldKeys() []roomKey {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]roomKey, 0, len(o.held))
	for key := range o.held {
		keys = append(keys, key)
	}
	return keys
}

// busy reports whether operations run on key here.
func (o *ownership) busy(key roomKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.inflight[key] > 0
}

// run runs fn on a room held here, counted in flight so that neither the
// sweep nor a hand-off lets its lease go meanwhile; errMoved when the
// room is not (or no longer) held here.
func (o *ownership) run(key roomKey, fn func() (any, error)) (any, error) {
	if o.waitMoving(key) {
		return nil, errMoved // it moved (or came back): find it again
	}
	o.mu.Lock()
	if _, ok := o.held[key]; !ok || o.moving[key] {
		o.mu.Unlock()
		return nil, errMoved
	}
	o.inflight[key]++
	o.mu.Unlock()
	defer func() {
		o.mu.Lock()
		if o.inflight[key]--; o.inflight[key] == 0 {
			delete(o.inflight, key)
		}
		o.mu.Unlock()
	}()
	return fn()
}

// startMove marks key as being handed to another node (no operation
// starts on it here meanwhile) and waits for those under way to finish,
// until ctx ends; the returned func ends the mark.
func (o *ownership) startMove(ctx context.Context, key roomKey) (func(), error) {
	o.mu.Lock()
	o.moving[key] = true
	o.mu.Unlock()
	end := func() {
		o.mu.Lock()
		delete(o.moving, key)
		o.mu.Unlock()
	}
	for !o.idle(key) {
		select {
		case <-ctx.Done():
			end()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
	return end, nil
}

func (o *ownership) idle(key roomKey) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.inflight[key] == 0
}

// waitMoving waits while key is being handed off; it reports whether it
// waited.
func (o *ownership) waitMoving(key roomKey) bool {
	waited := false
	for range 2500 {
		o.mu.Lock()
		m := o.moving[key]
		o.mu.Unlock()
		if !m {
			return waited
		}
		waited = true
		time.Sleep(2 * time.Millisecond)
	}
	return waited
}

// take notes key's lease as held here (a room handed to this node).
func (o *ownership) take(key roomKey) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.held[key] = o.gen
	delete(o.owners, key)
}

// release notes that key's lease is no longer held here; to, when not
// "", is the node it went to.
func (o *ownership) release(key roomKey, to string) {
	o.mu.Lock()
	delete(o.held, key)
	o.gen++
	if to != "" {
		o.owners[key] = to
	}
	o.mu.Unlock()
	o.onRelease(key)
}

// releaseIdle lets go of the leases held here of the rooms ended says have
// ended and on which no operation runs, holding mu through each give (so
// no operation takes such a room up meanwhile); give gives the lease back
// in Redis. The calls leases are kept.
func (o *ownership) releaseIdle(ended func(roomKey) bool, give func(roomKey)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for key := range o.held {
		if key.isCalls() || o.inflight[key] > 0 || !ended(key) {
			continue
		}
		o.gen++
		delete(o.held, key)
		o.onRelease(key)
		give(key)
	}
}

// releaseAll lets go of every lease held here and forgets every owner
// learnt (a node stepping down); it returns the leases it held.
func (o *ownership) releaseAll() []roomKey {
	o.mu.Lock()
	held := make([]roomKey, 0, len(o.held))
	for key := range o.held {
		held = append(held, key)
	}
	o.held, o.owners = map[roomKey]uint64{}, map[roomKey]string{}
	o.gen++
	o.mu.Unlock()
	for _, key := range held {
		o.onRelease(key)
	}
	return held
}
