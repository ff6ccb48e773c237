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
	a := startNode(t, r.URL(), "a", ra.handler())
	startNode(t, r.URL(), "b", rb.handler())
	ctx := context.Background()

	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := a.Request(ctx, "b", "slow", "one-session", i)
			assert.NoError(t, err)
		}()
		time.Sleep(time.Millisecond) // sent in this order
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
