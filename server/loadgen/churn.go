package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// Churn has Clients (default 1,000) clients move among Rooms rooms
// (default 10) at Rate operations a second in all (default 200) for
// Duration (default 20 s). Each operation, by a client picked at random
// among those not busy, enters a room it is not in, leaves one it is in,
// or switches from one to another. It measures each operation's round
// trip, and at the end that every room's member count on the server is
// the number of clients that think they are in it.
func Churn(ctx context.Context, c Config, p Params) (*Result, error) {
	n := orDefault(p.Clients, 1000)
	rooms := orDefault(p.Rooms, 10)
	rate := orDefault(p.Rate, 200)
	dur := orDefault(p.Duration, 20*time.Second)
	roomID := func(i int) string { return fmt.Sprint("churn", i) }
	clients, err := c.loginAll(ctx, "churn", n, nil)
	if err != nil {
		return nil, err
	}
	defer logoutAll(clients)
	if err := enterAll(ctx, clients, func(i int) string { return roomID(i % rooms) }, nil); err != nil {
		return nil, err
	}
	before := c.sample()

	busy := make([]atomic.Bool, n)
	var mu sync.Mutex
	var latencies []time.Duration
	var errs, skipped atomic.Int64
	rng := rand.New(rand.NewPCG(1, 2))
	tick := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	start := time.Now()
	for time.Since(start) < dur {
		select {
		case <-tick.C:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		i := rng.IntN(n)
		if !busy[i].CompareAndSwap(false, true) {
			skipped.Add(1)
			continue
		}
		op, pick := rng.IntN(3), rng.IntN(rooms)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer busy[i].Store(false)
			cl := clients[i]
			in := cl.Rooms()
			var out []string
			for r := range rooms {
				if !slices.Contains(in, roomID(r)) {
					out = append(out, roomID(r))
				}
			}
			t0 := time.Now()
			var err error
			switch {
			case op == 0 && len(out) > 0 || len(in) == 0:
				_, err = cl.EnterRoom(ctx, protocol.RoomInfo{RoomID: out[pick%len(out)]}, nil)
			case op == 1 || len(out) == 0:
				err = cl.LeaveRoom(ctx, in[pick%len(in)])
			default:
				_, err = cl.SwitchRoom(ctx, in[pick%len(in)], protocol.RoomInfo{RoomID: out[pick%len(out)]}, true, nil)
			}
			if err != nil {
				errs.Add(1)
				return
			}
			d := time.Since(t0)
			mu.Lock()
			latencies = append(latencies, d)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	after := c.sample()

	// Every room's count on the server is the clients that think they are in
	// it, once the last joins are announced: a member counts the members it
	// has been told of, and joins close together are announced as a batch a
	// moment later (50 ms by default), so each room is given a second.
	mismatches := 0
	for r := range rooms {
		id := roomID(r)
		think := 0
		var member *client.Client
		for _, cl := range clients {
			if slices.Contains(cl.Rooms(), id) {
				think++
				member = cl
			}
		}
		if member == nil {
			continue
		}
		for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
			count, err := member.QueryRoomOnlineMemberCount(ctx, id)
			if err == nil && count == think {
				break
			}
			if time.Now().After(deadline) {
				mismatches++
				break
			}
		}
	}

	res := &Result{}
	res.Set("scenario", "churn")
	res.Set("clients", n)
	res.Set("rooms", rooms)
	res.Set("rate", rate)
	res.Set("duration_s", dur.Seconds())
	res.Set("ops", len(latencies))
	res.Set("ops_per_s", float64(len(latencies))/elapsed.Seconds())
	res.Set("op_errors", errs.Load())
	res.Set("skipped_busy", skipped.Load())
	res.percentiles("op_", latencies)
	res.Set("count_mismatches", mismatches)
	res.costs(before, after)
	return res, nil
}

// droppableTransport dials with the default transport and can drop the
// connection it dialled last, as a load balancer restarting would.
type droppableTransport struct {
	mu   sync.Mutex
	last client.Conn
}

func (t *droppableTransport) Dial(ctx context.Context, url string) (client.Conn, error) {
	c, err := client.DefaultTransport().Dial(ctx, url)
	if err == nil {
		t.mu.Lock()
		t.last = c
		t.mu.Unlock()
	}
	return c, err
}

func (t *droppableTransport) drop() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.last != nil {
		_ = t.last.Close()
	}
}

// ResumeStorm has Clients (default 2,000) clients in rooms of 100 (Rooms
// overrides) lose their connections at once, as after a load balancer
// restart, and come back. It measures how long after the drop each client
// was connected again (p50/p90/p99/max), how many resumed their sessions
// (all must: a fresh session would have left its rooms), and the
// roomMemberLeft events anyone saw (none: a resume is invisible to the
// others).
func ResumeStorm(ctx context.Context, c Config, p Params) (*Result, error) {
	n := orDefault(p.Clients, 2000)
	rooms := orDefault(p.Rooms, max(1, n/100))
	transports := make([]*droppableTransport, n)
	for i := range transports {
		transports[i] = &droppableTransport{}
	}
	var dropped atomic.Int64 // UnixNano of the drop; 0 before
	back := make([]atomic.Int64, n)
	var backCount, leftEvents atomic.Int64
	allBack := make(chan struct{})
	clients, err := c.loginAllOver(ctx, "resume", n, func(i int) func(client.Event) {
		return func(e client.Event) {
			switch e.Name {
			case protocol.EventRoomMemberLeft:
				leftEvents.Add(1)
			case client.EventConnectionStateChanged:
				var ev client.ConnectionStateChanged
				at := dropped.Load()
				if at == 0 || e.Decode(&ev) != nil || ev.State != protocol.ConnStateConnected {
					return
				}
				if back[i].CompareAndSwap(0, time.Now().UnixNano()-at) && backCount.Add(1) == int64(n) {
					close(allBack)
				}
			}
		}
	}, func(i int) client.Transport { return transports[i] })
	if err != nil {
		return nil, err
	}
	defer logoutAll(clients)
	if err := enterAll(ctx, clients, func(i int) string { return fmt.Sprint("resume", i%rooms) }, nil); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let the join events settle
	leftEvents.Store(0)
	before := c.sample()
	dropped.Store(time.Now().UnixNano())
	for _, t := range transports {
		t.drop()
	}
	limit := time.NewTimer(orDefault(c.Limit, time.Minute))
	defer limit.Stop()
	res := &Result{}
	res.Set("scenario", "resume-storm")
	res.Set("clients", n)
	res.Set("rooms", rooms)
	select {
	case <-allBack:
	case <-limit.C:
		res.Set("timeout", true)
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	time.Sleep(500 * time.Millisecond) // any roomMemberLeft would be out by now
	after := c.sample()
	var times []time.Duration
	resumed := 0
	for i, cl := range clients {
		if d := back[i].Load(); d > 0 {
			times = append(times, time.Duration(d))
		}
		if cl.Session().Resumed {
			resumed++
		}
	}
	res.Set("back", len(times))
	res.Set("resumed", resumed)
	res.Set("member_left_events", leftEvents.Load())
	res.percentiles("back_", times)
	res.costs(before, after)
	return res, nil
}
