package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/cluster/redistest"
)

// recorder is a node's handler that keeps what arrives.
type recorder struct {
	mu     sync.Mutex
	events []string // "from sessions body"
	calls  []string // "op body", in the order they ran
}

func (r *recorder) handler() Handler {
	return Handler{
		Request: func(from, op string, body json.RawMessage) (any, error) {
			r.mu.Lock()
			r.calls = append(r.calls, op+" "+string(body))
			r.mu.Unlock()
			switch op {
			case "echo":
				return map[string]any{"from": from, "body": body}, nil
			case "fail":
				return nil, errors.New("refused: " + string(body))
			case "slow":
				time.Sleep(50 * time.Millisecond)
				return "done", nil
			}
			return nil, fmt.Errorf("unknown op %s", op)
		},
		Event: func(from string, sessions []string, body json.RawMessage) {
			r.mu.Lock()
			r.events = append(r.events, fmt.Sprint(from, " ", sessions, " ", string(body)))
			r.mu.Unlock()
		},
		EncodeError: func(err error) *RemoteError { return &RemoteError{Code: 42, Message: err.Error()} },
	}
}

func (r *recorder) eventList() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.events...)
}

func startNode(t *testing.T, url, id string, h Handler, tweak ...func(*Config)) *Node {
	t.Helper()
	cfg := Config{RedisURL: url, NodeID: id, Heartbeat: 100 * time.Millisecond, NodeTTL: time.Second, RequestTimeout: time.Second}
	for _, f := range tweak {
		f(&cfg)
	}
	n, err := NewNode(context.Background(), cfg, h, nil)
	require.NoError(t, err)
	require.NoError(t, n.Start())
	t.Cleanup(n.Close)
	return n
}

func TestRequestsAndRepliesBetweenNodes(t *testing.T) {
	r := redistest.Start(t)
	var ra, rb recorder
	a := startNode(t, r.URL(), "a", ra.handler())
	startNode(t, r.URL(), "b", rb.handler())
	ctx := context.Background()

	got, err := a.Request(ctx, "b", "echo", "s1", "hello")
	require.NoError(t, err)
	assert.JSONEq(t, `{"from":"a","body":"hello"}`, string(got))

	_, err = a.Request(ctx, "b", "fail", "s1", "no")
	var re *RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, 42, re.Code, "the handler's code travels with the error")
	assert.Equal(t, `refused: "no"`, re.Message)

	start := time.Now()
	_, err = a.Request(ctx, "nobody", "echo", "s1", 1)
	assert.ErrorIs(t, err, ErrNodeGone)
	assert.GreaterOrEqual(t, time.Since(start), time.Second, "it waited RequestTimeout")
}

// Requests of one key run in the order sent even when they are sent at
// once; events arrive in the order sent, and one frame for several
// sessions of a node travels once.
func TestOrderAndCoalescing(t *testing.T) {
	r := redistest.Start(t)
	var ra, rb recorder
	// The 20 requests of one key take 20 × 50 ms in turn: the bound is
	// well past that, as this test is of order, not of speed.
	patient := func(c *Config) { c.RequestTimeout = 10 * time.Second }
	a := startNode(t, r.URL(), "a", ra.handler(), patient)
	startNode(t, r.URL(), "b", rb.handler(), patient)
	ctx := context.Background()

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Request(ctx, "b", "slow", "one-session", i)
			assert.NoError(t, err)
		}()
		time.Sleep(5 * time.Millisecond) // sent in this order (a goroutine may start late on a loaded machine)
	}
	for i := range 500 {
		a.SendEvent("b", "s"+strconv.Itoa(i%3), []byte(strconv.Itoa(i)))
	}
	frame := []byte(`"to all"`)
	for _, s := range []string{"x", "y", "z"} {
		a.SendEvent("b", s, frame)
	}
	wg.Wait()
	rb.mu.Lock()
	calls := append([]string(nil), rb.calls...)
	rb.mu.Unlock()
	for i, c := range calls {
		assert.Equal(t, "slow "+strconv.Itoa(i), c, "requests of one key run in order")
	}
	require.Eventually(t, func() bool { return len(rb.eventList()) == 501 }, 5*time.Second, 10*time.Millisecond)
	events := rb.eventList()
	for i := range 500 {
		assert.Equal(t, fmt.Sprintf("a [s%d] %d", i%3, i), events[i])
	}
	assert.Equal(t, `a [x y z] "to all"`, events[500], "one envelope for the three sessions")
}

// A lease has one holder; it passes to another node once its holder is
// dead (no heartbeat within NodeTTL) or has left.
func TestLeasesFollowLiveness(t *testing.T) {
	r := redistest.Start(t)
	ctx := context.Background()
	a := startNode(t, r.URL(), "a", Handler{})
	b := startNode(t, r.URL(), "b", Handler{})

	holder, took, err := a.Acquire(ctx, "room-1")
	require.NoError(t, err)
	assert.Equal(t, "a", holder)
	assert.True(t, took)
	holder, took, err = b.Acquire(ctx, "room-1")
	require.NoError(t, err)
	assert.Equal(t, "a", holder, "a live holder keeps it")
	assert.False(t, took)
	holder, took, err = a.Acquire(ctx, "room-1")
	require.NoError(t, err)
	assert.Equal(t, "a", holder)
	assert.False(t, took, "already a's")

	// a leaves (a graceful drain): b may take it at once.
	require.NoError(t, a.Leave(ctx))
	holder, took, err = b.Acquire(ctx, "room-1")
	require.NoError(t, err)
	assert.Equal(t, "b", holder)
	assert.True(t, took)

	// b stops (as if killed): after NodeTTL, c takes its lease.
	holder, _, err = b.Acquire(ctx, "room-2")
	require.NoError(t, err)
	require.Equal(t, "b", holder)
	c := startNode(t, r.URL(), "c", Handler{})
	alive, err := c.Alive(ctx, "b")
	require.NoError(t, err)
	assert.True(t, alive)
	b.Close()
	time.Sleep(1200 * time.Millisecond) // past NodeTTL
	dead, err := c.DeadNodes(ctx)
	require.NoError(t, err)
	assert.Contains(t, dead, "b")
	alive, err = c.Alive(ctx, "b")
	require.NoError(t, err)
	assert.False(t, alive)
	holder, took, err = c.Acquire(ctx, "room-2")
	require.NoError(t, err)
	assert.Equal(t, "c", holder)
	assert.True(t, took)

	require.NoError(t, c.Release(ctx, "room-2"))
	h, err := c.Holder(ctx, "room-2")
	require.NoError(t, err)
	assert.Empty(t, h)
}

// A node dropped from the live list (taken for dead) learns it at its next
// heartbeat; a node that merely beats on time never does.
func TestLapseIsNoticedAtTheNextBeat(t *testing.T) {
	r := redistest.Start(t)
	lapses := make(chan struct{}, 4)
	a := startNode(t, r.URL(), "a", Handler{Lapse: func() { lapses <- struct{}{} }})
	b := startNode(t, r.URL(), "b", Handler{})
	select {
	case <-lapses:
		t.Fatal("a lapse on a node beating on time")
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, b.Forget(context.Background(), "a")) // b took a for dead
	select {
	case <-lapses:
	case <-time.After(2 * time.Second):
		t.Fatal("a never noticed it had been taken for dead")
	}
	alive, err := b.Alive(context.Background(), "a")
	require.NoError(t, err)
	assert.True(t, alive, "a beats again")
	_ = a
}

// gaps records what a node's Gap handler is told.
type gaps struct {
	mu     sync.Mutex
	missed map[string]uint64
}

func (g *gaps) on(from string, missed uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.missed == nil {
		g.missed = map[string]uint64{}
	}
	g.missed[from] += missed
}

func (g *gaps) of(from string) uint64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.missed[from]
}

// sendNumbered sends events "0".."n-1" from a to session s on b, one
// every gap.
func sendNumbered(a *Node, from, to int, every time.Duration) {
	for i := from; i < to; i++ {
		a.SendEvent("b", "s", []byte(strconv.Itoa(i)))
		time.Sleep(every)
	}
}

// numbers returns the event bodies b received, as numbers, in order.
func numbers(r *recorder) []int {
	var out []int
	for _, e := range r.eventList() {
		var i int
		_, _ = fmt.Sscanf(e, "a [s] %d", &i)
		out = append(out, i)
	}
	return out
}

// Redis stalls mid-traffic (its process stopped, its connections left
// unanswered) and then goes on: what a node sent meanwhile arrives once
// each and in order, though writes timed out and were written again, some
// of which Redis had in fact taken; no gap is reported, as none happened.
func TestWritesRedisDidNotAnswerAreWrittenAgainOnce(t *testing.T) {
	r := redistest.Start(t)
	var ra, rb recorder
	var gb gaps
	h := rb.handler()
	h.Gap = gb.on
	fast := func(c *Config) { c.NodeTTL = 30 * time.Second } // the stall is not a death
	url := r.URL() + "?read_timeout=200ms&max_retries=1"     // a write unanswered this long has failed
	a := startNode(t, url, "a", ra.handler(), fast)
	startNode(t, url, "b", h, fast)

	sendNumbered(a, 0, 20, time.Millisecond)
	require.Eventually(t, func() bool { return len(rb.eventList()) == 20 }, 5*time.Second, 10*time.Millisecond)
	r.Pause(t)
	sendNumbered(a, 20, 60, 5*time.Millisecond)
	time.Sleep(3 * time.Second) // the writes time out, and are written again
	r.Resume(t)
	sendNumbered(a, 60, 80, time.Millisecond)
	require.Eventually(t, func() bool { return len(rb.eventList()) >= 80 }, 15*time.Second, 10*time.Millisecond)
	time.Sleep(300 * time.Millisecond) // room for a duplicate to show
	want := make([]int, 80)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, numbers(&rb), "every event once, in order")
	assert.Zero(t, gb.of("a"), "nothing was lost")
}

// Redis is killed and started again empty mid-traffic: what a node sent
// while it was down arrives once Redis is back, in order; what Redis lost
// with its data (sent, not yet read) is reported to the receiver as a gap
// of exactly that many chunks.
func TestARedisRestartLosesNothingUnreported(t *testing.T) {
	r := redistest.Start(t)
	var ra, rb recorder
	var gb gaps
	h := rb.handler()
	h.Gap = gb.on
	a := startNode(t, r.URL(), "a", ra.handler())
	startNode(t, r.URL(), "b", h)

	sendNumbered(a, 0, 30, time.Millisecond)
	r.Restart(t)
	sendNumbered(a, 30, 60, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		got := numbers(&rb)
		return len(got) > 0 && got[len(got)-1] == 59
	}, 15*time.Second, 10*time.Millisecond)
	got := numbers(&rb)
	assert.IsIncreasing(t, got, "in order, none twice")
	for i := 30; i < 60; i++ {
		assert.Contains(t, got, i, "sent while Redis was down or after")
	}
	if lost := 60 - len(got); lost > 0 {
		assert.Positive(t, gb.of("a"), "%d events lost with Redis's data are reported", lost)
	} else {
		assert.Zero(t, gb.of("a"))
	}
}

// The receiver drops a chunk it has had and reports the chunks it never
// got, counting per sender and per start of the sender.
func TestChunkNumbersFindDuplicatesAndGaps(t *testing.T) {
	r := redistest.Start(t)
	var rb recorder
	var gb gaps
	h := rb.handler()
	h.Gap = gb.on
	b := startNode(t, r.URL(), "b", h)
	ctx := context.Background()
	write := func(epoch string, seqs ...uint64) {
		var cs []chunk
		for _, q := range seqs {
			cs = append(cs, chunk{Seq: q, Envs: []Envelope{{Kind: KindEvent, From: "x", Sessions: []string{"s"}, Body: json.RawMessage(strconv.Itoa(int(q)))}}})
		}
		raw, _ := json.Marshal(entry{From: "x", Epoch: epoch, Chunks: cs})
		require.NoError(t, b.Redis().XAdd(ctx, &redis.XAddArgs{Stream: inboxKey("b"), Values: []any{"m", raw}}).Err())
	}
	write("e1", 7)    // first heard of: no gap before it
	write("e1", 8, 9) // a retry carrying two rounds
	write("e1", 9)    // had already
	write("e1", 12)   // 10 and 11 never came
	write("e2", 1)    // the sender started again
	require.Eventually(t, func() bool { return len(rb.eventList()) == 5 }, 5*time.Second, 10*time.Millisecond, "got %q", rb.eventList())
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"x [s] 7", "x [s] 8", "x [s] 9", "x [s] 12", "x [s] 1"}, rb.eventList())
	assert.Equal(t, uint64(2), gb.of("x"))
}

// A node whose worker is full answers a further request at once with
// ErrBusy, and keeps reading: replies and events behind it are not held.
func TestAFullWorkerAnswersBusyAndTheReaderGoesOn(t *testing.T) {
	r := redistest.Start(t)
	var ra, rb recorder
	a := startNode(t, r.URL(), "a", ra.handler())
	startNode(t, r.URL(), "b", rb.handler(), func(c *Config) { c.Workers, c.WorkerQueue = 1, 2 })
	ctx := context.Background()
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := a.Request(ctx, "b", "slow", "k", i)
			errs <- err
		}()
	}
	time.Sleep(20 * time.Millisecond)
	a.SendEvent("b", "s", []byte(`"after"`))
	require.Eventually(t, func() bool { return len(rb.eventList()) == 1 }, 200*time.Millisecond, 5*time.Millisecond,
		"the event behind the requests is read while the worker is busy")
	busy, done := 0, 0
	for range 10 {
		err := <-errs
		switch {
		case err == nil:
			done++
		case errors.Is(err, ErrBusy):
			busy++
		default:
			t.Errorf("unexpected: %v", err)
		}
	}
	assert.Positive(t, busy, "some were refused as busy")
	assert.GreaterOrEqual(t, done, 3, "the one running and the two waiting were run")
}

// A reply that must wait (Later) waits apart from its worker: the next
// request on that worker is answered meanwhile, and the waiting reply
// comes once its wait is over.
func TestALaterReplyFreesItsWorker(t *testing.T) {
	r := redistest.Start(t)
	gate := make(chan struct{})
	h := Handler{Request: func(from, op string, body json.RawMessage) (any, error) {
		if op == "change" {
			return Later(func() (any, error) { <-gate; return "stored", nil }), nil
		}
		return "read", nil
	}}
	a := startNode(t, r.URL(), "a", Handler{})
	startNode(t, r.URL(), "b", h, func(c *Config) { c.Workers = 1; c.RequestTimeout = 10 * time.Second })
	ctx := context.Background()
	changed := make(chan string, 1)
	go func() {
		raw, err := a.Request(ctx, "b", "change", "one-session", nil)
		assert.NoError(t, err)
		changed <- string(raw)
	}()
	time.Sleep(50 * time.Millisecond) // the change is on the worker, its reply waiting
	raw, err := a.Request(ctx, "b", "read", "another-session", nil)
	require.NoError(t, err, "answered while the change's reply waits")
	assert.Equal(t, `"read"`, string(raw))
	select {
	case got := <-changed:
		t.Fatalf("the change was answered before its wait was over: %s", got)
	default:
	}
	close(gate)
	assert.Equal(t, `"stored"`, <-changed)
}
