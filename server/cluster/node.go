// Package cluster lets several roomkit server nodes share one Redis. It
// gives each node three things, and nothing about rooms:
//
//   - liveness: a node's heartbeat, stamped with Redis's clock, and the
//     list of nodes not heard from within NodeTTL (dead);
//   - leases: one node at a time holds a named lease (a room's ownership),
//     until it releases it or stops renewing it;
//   - a bus: envelopes (requests, replies, events) sent to a node arrive
//     there once and in the order the sender sent them. Each node reads
//     its own Redis stream (its inbox); one goroutine writes everything a
//     node sends, so the order of two sends is the order of arrival.
//
// What one node writes to another is numbered: each write round's
// envelopes for a node are a chunk with the next number of that pair,
// under the sender's epoch (a random ID per start). A round Redis did not
// take is written again, ahead of anything newer, until it is taken or the
// queue for that node passes MaxUnsentBytes; the receiver drops a number
// it has had (a retry that had in fact gone in) and reports a number
// skipped (a chunk dropped, or lost with a Redis restart or the inbox's
// trimming) to Handler.Gap, so the layer above can resynchronise what it
// sent: nothing between nodes is lost without the receiver knowing.
//
// Ownership: Node's fields are set by NewNode and read-only after; the
// outgoing queue is under outMu, the chunks not yet written and their
// numbers belong to the writer goroutine, the numbers received to the
// reader goroutine; pending requests are under pendMu. Handlers run on the
// reader goroutine (events, replies, gaps) or on the request workers,
// never while a lock is held. The reader never waits: a request whose
// worker is full is answered at once with ErrBusy.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Config is a node's cluster settings. Zero durations take their defaults.
type Config struct {
	// RedisURL is the shared Redis, redis://host:port/db.
	RedisURL string
	// NodeID names this node; default: random. Two live nodes must not
	// share one.
	NodeID string
	// Heartbeat is how often the node says it is alive; default 1 s.
	Heartbeat time.Duration
	// NodeTTL is how long a node may go unheard before it counts as dead;
	// default 5 s.
	NodeTTL time.Duration
	// InboxMaxLen bounds a node's inbox stream (entries; Redis trims the
	// oldest, approximately); default 100,000.
	InboxMaxLen int64
	// RequestTimeout bounds a request to another node; default 5 s.
	RequestTimeout time.Duration
	// Workers is how many requests a node runs at once; requests of one
	// key (a session) run in order on one worker. Default 16.
	Workers int
	// WorkerQueue is how many requests may wait for one worker; one more
	// is answered with ErrBusy. Default 1,024.
	WorkerQueue int
	// MaxUnsentBytes bounds what waits, per receiving node, while Redis
	// does not take the writes: past it the oldest chunks are dropped
	// (the receiver is told of the gap). Default 8 MiB.
	MaxUnsentBytes int
}

func (c Config) withDefaults() Config {
	if c.NodeID == "" {
		b := make([]byte, 6)
		_, _ = rand.Read(b)
		c.NodeID = "n" + hex.EncodeToString(b)
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = time.Second
	}
	if c.NodeTTL == 0 {
		c.NodeTTL = 5 * time.Second
	}
	if c.InboxMaxLen == 0 {
		c.InboxMaxLen = 100_000
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 5 * time.Second
	}
	if c.Workers == 0 {
		c.Workers = 16
	}
	if c.WorkerQueue == 0 {
		c.WorkerQueue = 1024
	}
	if c.MaxUnsentBytes == 0 {
		c.MaxUnsentBytes = 8 << 20
	}
	return c
}

// Redis keys. Every key starts with "roomkit:".
const (
	keyNodes = "roomkit:nodes" // sorted set: node ID -> last heartbeat, Redis time in ms
)

func inboxKey(node string) string { return "roomkit:inbox:" + node }

// Kind says what an envelope is.
type Kind string

// Envelope kinds.
const (
	KindRequest Kind = "req" // asks the receiver to run Op; answered by a reply with the same ID
	KindReply   Kind = "rep" // answers request ID with Body or Err
	KindEvent   Kind = "ev"  // one-way: Body for the receiver's Sessions
)

// Envelope is one message between nodes.
type Envelope struct {
	Kind     Kind            `json:"k"`
	From     string          `json:"f,omitempty"`
	ID       uint64          `json:"i,omitempty"` // a request's, echoed by its reply
	Op       string          `json:"o,omitempty"`
	Key      string          `json:"y,omitempty"` // requests of one key run in order
	Sessions []string        `json:"s,omitempty"`
	Body     json.RawMessage `json:"b,omitempty"`
	Err      *RemoteError    `json:"e,omitempty"`
}

// RemoteError is an error carried by a reply. Code is the roomkit error
// code when the error had one, 0 otherwise. Busy says the request was not
// run: the receiver's worker for it was full.
type RemoteError struct {
	Code    int    `json:"c,omitempty"`
	Message string `json:"m"`
	Busy    bool   `json:"b,omitempty"`
}

func (e *RemoteError) Error() string { return e.Message }

// Handler is what a node does with what it receives. Request runs on a
// worker and returns the reply's body or an error, or a Later when the
// reply must wait for something after the work is done (the worker goes
// on meanwhile); Event runs on the reader goroutine and must not block.
type Handler struct {
	Request func(from, op string, body json.RawMessage) (any, error)
	Event   func(from string, sessions []string, body json.RawMessage)
	// EncodeError turns a request's error into a RemoteError (to keep its
	// code); default: code 0 and the error's text.
	EncodeError func(error) *RemoteError
	// Lapse runs (on the heartbeat goroutine) when the node finds, at a
	// heartbeat, that the others may have taken it for dead: its last beat
	// is older than NodeTTL, or it was dropped from the live list. What it
	// held may be someone else's now.
	Lapse func()
	// Gap runs on the reader goroutine, and must not block, when chunks
	// from node `from` never arrived (missed of them): whatever they
	// carried (events for this node's sessions, requests, replies) is
	// lost, and the receiver should resynchronise what it has of from's.
	Gap func(from string, missed uint64)
}

// ErrNodeGone is returned by a request whose receiver died or did not
// answer within RequestTimeout.
var ErrNodeGone = errors.New("cluster: the node did not answer")

// ErrBusy is returned by a request the receiver did not run: the worker
// for its key had WorkerQueue requests waiting.
var ErrBusy = errors.New("cluster: the node is too busy to take the request")

// Node is one server's membership in the cluster.
type Node struct {
	cfg Config
	rdb *redis.Client
	log *slog.Logger
	h   Handler

	outMu   sync.Mutex
	outWake chan struct{}
	out     []outgoing // in send order
	closed  bool

	pendMu  sync.Mutex
	nextID  uint64
	pending map[uint64]chan Envelope

	beaten    bool   // a beat has gone in (heartbeat goroutine, after Start)
	epoch     string // this start's, named on every chunk sent
	work      []chan Envelope
	cancel    context.CancelFunc
	loops     sync.WaitGroup // heartbeat, read, write
	workers   sync.WaitGroup
	later     chan struct{} // a slot per reply waiting apart from its worker (Later)
	closeOnce sync.Once
}

// outgoing is one envelope on its way to a node.
type outgoing struct {
	to  string
	env Envelope
}

// chunk is one write round's envelopes for one node, numbered in the
// sender's sequence for that node.
type chunk struct {
	Seq  uint64     `json:"q"`
	Envs []Envelope `json:"v"`
}

// unsentChunk is a chunk the writer has not had taken by Redis yet, with
// its size when first encoded (what MaxUnsentBytes counts).
type unsentChunk struct {
	chunk
	size int
}

// entry is the value of one inbox stream entry: the chunks a round wrote
// for the node (more than one when earlier rounds are written again).
type entry struct {
	From   string  `json:"f"`
	Epoch  string  `json:"e"`
	Chunks []chunk `json:"c"`
}

// received is what the reader has had from one node: its epoch, and the
// last chunk number of it.
type received struct {
	epoch string
	last  uint64
}

// NewNode connects to Redis and checks that it answers. Start begins the
// heartbeat, the inbox and the workers.
func NewNode(ctx context.Context, cfg Config, h Handler, log *slog.Logger) (*Node, error) {
	cfg = cfg.withDefaults()
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("the Redis address %q: %w", cfg.RedisURL, err)
	}
	if log == nil {
		log = slog.Default()
	}
	n := &Node{cfg: cfg, rdb: redis.NewClient(opts), log: log.With("node", cfg.NodeID), h: h, outWake: make(chan struct{}, 1), pending: map[uint64]chan Envelope{}}
	if n.h.EncodeError == nil {
		n.h.EncodeError = func(err error) *RemoteError { return &RemoteError{Message: err.Error()} }
	}
	if err := n.rdb.Ping(ctx).Err(); err != nil {
		_ = n.rdb.Close()
		return nil, fmt.Errorf("redis at %s does not answer: %w", opts.Addr, err)
	}
	return n, nil
}

// ID is the node's ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// Redis is the node's Redis client, for the keys of the layer above.
func (n *Node) Redis() *redis.Client { return n.rdb }

// Start says the node is alive and starts reading its inbox (from what
// arrives from now on), writing what it sends, and running requests.
func (n *Node) Start() error {
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	n.epoch = hex.EncodeToString(b)
	if err := n.beat(ctx); err != nil {
		cancel()
		return err
	}
	// The inbox is read from its end as it is now: anything older was for
	// an earlier node of the same ID. An empty inbox is read from its
	// start, not from "$": what is written between now and the first read
	// is this node's.
	last := "0-0"
	if msgs, err := n.rdb.XRevRangeN(ctx, inboxKey(n.ID()), "+", "-", 1).Result(); err == nil && len(msgs) == 1 {
		last = msgs[0].ID
	}
	n.later = make(chan struct{}, maxLater)
	n.work = make([]chan Envelope, n.cfg.Workers)
	for i := range n.work {
		n.work[i] = make(chan Envelope, n.cfg.WorkerQueue)
		n.workers.Add(1)
		go n.worker(n.work[i])
	}
	n.loops.Add(3)
	go n.heartbeat(ctx)
	go n.read(ctx, last)
	go n.write(ctx)
	return nil
}

// Close stops the node: no more heartbeats (it will count as dead after
// NodeTTL unless Leave is called first), sends, reads or requests.
func (n *Node) Close() { n.closeOnce.Do(n.close) }

func (n *Node) close() {
	n.outMu.Lock()
	n.closed = true
	n.outMu.Unlock()
	if n.cancel != nil {
		n.cancel()
	}
	n.loops.Wait() // the reader hands no more requests to the workers
	for _, w := range n.work {
		close(w)
	}
	n.workers.Wait()
	_ = n.rdb.Close()
}

// Leave removes the node from the live list at once, so the others need
// not wait NodeTTL to take over its rooms (a graceful drain).
func (n *Node) Leave(ctx context.Context) error {
	return n.rdb.ZRem(ctx, keyNodes, n.ID()).Err()
}

// beatScript stamps the node with Redis's own clock, so nodes on machines
// whose clocks differ agree on who is late. It returns how long ago (ms)
// the node last beat, or -1 when it was not on the live list.
var beatScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local prev = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[1], now, ARGV[1])
if not prev then return -1 end
return now - tonumber(prev)`)

// beat says the node is alive, and runs the Lapse handler when it had
// been silent long enough to be taken for dead (or was dropped as dead).
func (n *Node) beat(ctx context.Context) error {
	since, err := beatScript.Run(ctx, n.rdb, []string{keyNodes}, n.ID()).Int64()
	if err != nil {
		return err
	}
	lapsed := n.beaten && (since < 0 || since > n.cfg.NodeTTL.Milliseconds())
	n.beaten = true
	if lapsed {
		n.log.Error("this node was silent past the dead-node bound: the others may have taken what it held", "silent_ms", since)
		if n.h.Lapse != nil {
			n.h.Lapse()
		}
	}
	return nil
}

func (n *Node) heartbeat(ctx context.Context) {
	defer n.loops.Done()
	t := time.NewTicker(n.cfg.Heartbeat)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := n.beat(ctx); err != nil && ctx.Err() == nil {
				n.log.Warn("heartbeat failed", "err", err)
			}
		}
	}
}

// deadScript returns the nodes not heard from within ARGV[1] ms.
var deadScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. (now - tonumber(ARGV[1])))`)

// DeadNodes returns the nodes whose heartbeat is older than NodeTTL.
func (n *Node) DeadNodes(ctx context.Context) ([]string, error) {
	return deadScript.Run(ctx, n.rdb, []string{keyNodes}, n.cfg.NodeTTL.Milliseconds()).StringSlice()
}

// liveScript returns the nodes heard from within ARGV[1] ms.
var liveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
return redis.call('ZRANGEBYSCORE', KEYS[1], now - tonumber(ARGV[1]), '+inf')`)

// LiveNodes returns the nodes heard from within NodeTTL.
func (n *Node) LiveNodes(ctx context.Context) ([]string, error) {
	return liveScript.Run(ctx, n.rdb, []string{keyNodes}, n.cfg.NodeTTL.Milliseconds()).StringSlice()
}

// NodeTTL is how long a node may go unheard before it counts as dead.
func (n *Node) NodeTTL() time.Duration { return n.cfg.NodeTTL }

// Alive reports whether node has beaten within NodeTTL.
func (n *Node) Alive(ctx context.Context, node string) (bool, error) {
	if node == n.ID() {
		return true, nil
	}
	dead, err := n.DeadNodes(ctx)
	if err != nil {
		return false, err
	}
	for _, d := range dead {
		if d == node {
			return false, nil
		}
	}
	_, err = n.rdb.ZScore(ctx, keyNodes, node).Result()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	return err == nil, err
}

// Forget drops a dead node from the live list and deletes its inbox.
func (n *Node) Forget(ctx context.Context, node string) error {
	_, err := n.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZRem(ctx, keyNodes, node)
		p.Del(ctx, inboxKey(node))
		return nil
	})
	return err
}

// Send queues env for node. Envelopes to one node arrive in the order
// they were sent; Send never blocks.
func (n *Node) Send(node string, env Envelope) {
	env.From = n.ID()
	n.outMu.Lock()
	if n.closed {
		n.outMu.Unlock()
		return
	}
	n.out = append(n.out, outgoing{to: node, env: env})
	n.outMu.Unlock()
	select {
	case n.outWake <- struct{}{}:
	default:
	}
}

// SendEvent queues body for sessions on node. Consecutive events of the
// same body to the same node (one frame fanned out to several members
// there) go out as one envelope naming every session.
func (n *Node) SendEvent(node, session string, body []byte) {
	n.outMu.Lock()
	if n.closed {
		n.outMu.Unlock()
		return
	}
	if k := len(n.out) - 1; k >= 0 {
		last := &n.out[k]
		if last.to == node && last.env.Kind == KindEvent && sameBytes(last.env.Body, body) {
			last.env.Sessions = append(last.env.Sessions, session)
			n.outMu.Unlock()
			return
		}
	}
	n.out = append(n.out, outgoing{to: node, env: Envelope{Kind: KindEvent, From: n.ID(), Sessions: []string{session}, Body: body}})
	n.outMu.Unlock()
	select {
	case n.outWake <- struct{}{}:
	default:
	}
}

// sameBytes reports whether a and b are the same slice (not merely equal):
// the engine hands every member the one encoded frame.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// write sends the queue in order: each round takes everything queued,
// groups it by node (keeping each node's order) into one numbered chunk
// per node, and adds one stream entry per node holding that node's
// chunks not yet written, all in one pipeline. A round starts only when
// the one before has been answered, so rounds cannot overtake each other;
// a node's chunks Redis did not take stay ahead of its newer ones and go
// again in the next round, after a pause that doubles while Redis fails
// (up to a second).
func (n *Node) write(ctx context.Context) {
	defer n.loops.Done()
	seq := map[string]uint64{}           // last chunk number per receiving node
	unsent := map[string][]unsentChunk{} // per node, in order
	unsentBytes := map[string]int{}
	var pause time.Duration
	for {
		var wait <-chan time.Time
		if len(unsent) > 0 {
			wait = time.After(pause)
		}
		select {
		case <-ctx.Done():
			return
		case <-n.outWake:
		case <-wait:
		}
		n.outMu.Lock()
		batch := n.out
		n.out = nil
		n.outMu.Unlock()
		byNode := map[string][]Envelope{}
		var order []string
		for _, o := range batch {
			if _, ok := byNode[o.to]; !ok {
				order = append(order, o.to)
			}
			byNode[o.to] = append(byNode[o.to], o.env)
		}
		for _, to := range order {
			size := 0
			for _, env := range byNode[to] {
				size += len(env.Body) + 64
			}
			seq[to]++
			unsent[to] = append(unsent[to], unsentChunk{chunk{Seq: seq[to], Envs: byNode[to]}, size})
			unsentBytes[to] += size
		}
		for to, cs := range unsent {
			dropped := 0
			for unsentBytes[to] > n.cfg.MaxUnsentBytes && len(cs) > 1 {
				unsentBytes[to] -= cs[0].size
				cs = cs[1:]
				dropped++
			}
			if dropped > 0 {
				n.log.Error("Redis has not taken the writes to a node for too long: the oldest are dropped, and the node will be told of the gap", "to", to, "chunks", dropped, "maxUnsentBytes", n.cfg.MaxUnsentBytes)
			}
			unsent[to] = cs
		}
		if len(unsent) == 0 {
			continue
		}
		var nodes []string
		var adds []*redis.StringCmd
		_, _ = n.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for to, cs := range unsent {
				raw, err := json.Marshal(entry{From: n.ID(), Epoch: n.epoch, Chunks: n.stillWanted(cs)})
				if err != nil {
					n.log.Error("envelopes for a node do not encode; they are dropped", "to", to, "err", err)
					raw, _ = json.Marshal(entry{From: n.ID(), Epoch: n.epoch, Chunks: []chunk{{Seq: cs[len(cs)-1].Seq}}})
				}
				nodes = append(nodes, to)
				adds = append(adds, p.XAdd(ctx, &redis.XAddArgs{Stream: inboxKey(to), MaxLen: n.cfg.InboxMaxLen, Approx: true, Values: []any{"m", raw}}))
			}
			return nil
		})
		var failed error
		for i, to := range nodes {
			if err := adds[i].Err(); err != nil {
				failed = err
				continue
			}
			delete(unsent, to)
			delete(unsentBytes, to)
		}
		switch {
		case failed == nil:
			if pause > 0 {
				n.log.Info("writing to other nodes works again")
			}
			pause = 0
		case ctx.Err() != nil:
			return
		default:
			if pause == 0 {
				n.log.Warn("writing to other nodes failed; retrying", "err", failed)
			}
			pause = min(max(2*pause, 50*time.Millisecond), time.Second)
		}
	}
}

// stillWanted is cs without the requests whose sender has stopped
// waiting (Request returned with ErrNodeGone): written late, after Redis
// came back, such a request would run though its caller was told it had
// failed. Every chunk stays, emptied or not, so the numbering has no hole.
func (n *Node) stillWanted(cs []unsentChunk) []chunk {
	out := make([]chunk, len(cs))
	n.pendMu.Lock()
	defer n.pendMu.Unlock()
	for i, c := range cs {
		out[i] = chunk{Seq: c.Seq}
		for _, env := range c.Envs {
			if env.Kind == KindRequest && n.pending[env.ID] == nil {
				continue
			}
			out[i].Envs = append(out[i].Envs, env)
		}
	}
	return out
}

// read takes the inbox's entries in order, from after last.
func (n *Node) read(ctx context.Context, last string) {
	defer n.loops.Done()
	from := map[string]*received{}
	for ctx.Err() == nil {
		// A blocking read returns as soon as an entry arrives; the bound
		// only lets the loop see that the node is closing.
		res, err := n.rdb.XRead(ctx, &redis.XReadArgs{Streams: []string{inboxKey(n.ID()), last}, Count: 512, Block: time.Second}).Result()
		if err != nil {
			if ctx.Err() == nil && !errors.Is(err, redis.Nil) {
				n.log.Warn("reading the inbox failed; retrying", "err", err)
				time.Sleep(100 * time.Millisecond)
			}
			continue
		}
		for _, stream := range res {
			for _, msg := range stream.Messages {
				last = msg.ID
				raw, _ := msg.Values["m"].(string)
				var e entry
				if err := json.Unmarshal([]byte(raw), &e); err != nil {
					n.log.Error("an inbox entry does not decode", "id", msg.ID, "err", err)
					continue
				}
				n.take(from, e)
			}
		}
	}
}

// take hands over the envelopes of e's chunks not had before, and reports
// the chunks skipped.
func (n *Node) take(from map[string]*received, e entry) {
	if len(e.Chunks) == 0 {
		return
	}
	r := from[e.From]
	if r == nil || r.epoch != e.Epoch {
		// The first heard of this start of the node: what it sent before
		// this node read its inbox is not this node's to miss.
		r = &received{epoch: e.Epoch, last: e.Chunks[0].Seq - 1}
		from[e.From] = r
	}
	for _, c := range e.Chunks {
		if c.Seq <= r.last {
			continue // written again after all: had already
		}
		if missed := c.Seq - r.last - 1; missed > 0 {
			n.log.Error("chunks from a node never arrived", "from", e.From, "missed", missed)
			if n.h.Gap != nil {
				n.h.Gap(e.From, missed)
			}
		}
		r.last = c.Seq
		for _, env := range c.Envs {
			n.receive(env)
		}
	}
}

// receive routes one envelope: replies to their waiting request, events to
// the handler, requests to the worker of their key.
func (n *Node) receive(env Envelope) {
	switch env.Kind {
	case KindReply:
		n.pendMu.Lock()
		ch := n.pending[env.ID]
		delete(n.pending, env.ID)
		n.pendMu.Unlock()
		if ch != nil {
			ch <- env
		}
	case KindEvent:
		if n.h.Event != nil {
			n.h.Event(env.From, env.Sessions, env.Body)
		}
	case KindRequest:
		select {
		case n.work[workerOf(env.Key, len(n.work))] <- env:
		default:
			// The reader never waits, or every reply behind this request
			// would too: the sender learns at once that it was not run.
			n.Send(env.From, Envelope{Kind: KindReply, ID: env.ID, Err: &RemoteError{Busy: true, Message: fmt.Sprintf("node %s has %d requests waiting for the same worker", n.ID(), n.cfg.WorkerQueue)}})
		}
	}
}

func workerOf(key string, workers int) int {
	h := uint32(2166136261)
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return int(h % uint32(workers))
}

// Later is what a Request handler returns when its work is done but its
// reply must wait (a change waiting until it is stored): the worker goes
// on to the next request, and the reply, wait's result, is sent once wait
// returns. At most maxLater replies wait so at once; past that the worker
// waits itself, which slows the senders down.
type Later func() (any, error)

// maxLater bounds the replies waiting apart from their workers.
const maxLater = 4096

func (n *Node) worker(in chan Envelope) {
	defer n.workers.Done()
	for env := range in {
		if n.h.Request == nil {
			n.Send(env.From, Envelope{Kind: KindReply, ID: env.ID, Err: &RemoteError{Message: "this node takes no requests"}})
			continue
		}
		v, err := n.h.Request(env.From, env.Op, env.Body)
		later, ok := v.(Later)
		if err != nil || !ok {
			n.answer(env, v, err)
			continue
		}
		select {
		case n.later <- struct{}{}:
			n.workers.Add(1) // under this worker's own count, so Close waits for it
			go func() {
				defer n.workers.Done()
				v, err := later()
				<-n.later
				n.answer(env, v, err)
			}()
		default:
			v, err := later()
			n.answer(env, v, err)
		}
	}
}

// answer sends the reply to request env: v, or err.
func (n *Node) answer(env Envelope, v any, err error) {
	reply := Envelope{Kind: KindReply, ID: env.ID}
	if err != nil {
		reply.Err = n.h.EncodeError(err)
	} else if reply.Body, err = json.Marshal(v); err != nil {
		reply.Err = &RemoteError{Message: "the reply does not encode: " + err.Error()}
	}
	n.Send(env.From, reply)
}

// Request sends op with body to node, to run in order after the earlier
// requests of key there, and returns the reply's body. It fails with
// ErrNodeGone when no reply comes within RequestTimeout.
func (n *Node) Request(ctx context.Context, node, op, key string, body any) (json.RawMessage, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	ch := make(chan Envelope, 1)
	n.pendMu.Lock()
	n.nextID++
	id := n.nextID
	n.pending[id] = ch
	n.pendMu.Unlock()
	n.Send(node, Envelope{Kind: KindRequest, ID: id, Op: op, Key: key, Body: raw})
	t := time.NewTimer(n.cfg.RequestTimeout)
	defer t.Stop()
	select {
	case rep := <-ch:
		if rep.Err != nil && rep.Err.Busy {
			return nil, fmt.Errorf("%w: %s", ErrBusy, rep.Err.Message)
		}
		if rep.Err != nil {
			return nil, rep.Err
		}
		return rep.Body, nil
	case <-t.C:
	case <-ctx.Done():
	}
	n.pendMu.Lock()
	delete(n.pending, id)
	n.pendMu.Unlock()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("%w: %s within %s (op %s)", ErrNodeGone, node, n.cfg.RequestTimeout, op)
}
