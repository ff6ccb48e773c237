package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

func orDefault[T int | float64 | time.Duration](v, d T) T {
	if v == 0 {
		return d
	}
	return v
}

// enterAll enters client i into room(i), at most 200 at a time, and
// returns when all are in.
func enterAll(ctx context.Context, clients []*client.Client, room func(i int) string, after func(i int) error) error {
	errs := make(chan error, len(clients))
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if _, err := c.EnterRoom(ctx, protocol.RoomInfo{RoomID: room(i)}, nil); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			if after != nil {
				if err := after(i); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// JoinStorm has Clients (default 2,000) clients enter one room at once.
// Each learns the members from a paged member list and roomMemberJoined;
// it measures how long until every client knows every member.
func JoinStorm(ctx context.Context, c Config, p Params) (*Result, error) {
	n := orDefault(p.Clients, 2000)
	const room = "storm"
	type view struct {
		mu    sync.Mutex
		known map[string]bool
	}
	views := make([]*view, n)
	var complete atomic.Int64
	allKnown := make(chan struct{})
	var start time.Time
	var lastKnown atomic.Int64 // ns after start when the last view completed
	add := func(v *view, users []string) {
		v.mu.Lock()
		before := len(v.known)
		for _, u := range users {
			v.known[u] = true
		}
		now := len(v.known)
		v.mu.Unlock()
		if before < n && now == n {
			lastKnown.Store(int64(time.Since(start)))
			if complete.Add(1) == int64(n) {
				close(allKnown)
			}
		}
	}
	for i := range views {
		views[i] = &view{known: map[string]bool{}}
	}
	clients, err := c.loginAll(ctx, "storm", n, func(i int) func(client.Event) {
		return func(e client.Event) {
			if e.Name != protocol.EventRoomMemberJoined {
				return
			}
			var ev protocol.MembersEvent
			if e.Decode(&ev) != nil || ev.RoomID != room {
				return
			}
			users := make([]string, len(ev.MemberList))
			for j, m := range ev.MemberList {
				users[j] = m.UserID
			}
			add(views[i], users)
		}
	})
	if err != nil {
		return nil, err
	}
	defer logoutAll(clients)
	before := c.sample()
	start = time.Now()
	// Entering, paging and the events are all bounded by the limit: a
	// request refused or unanswered is counted, not fatal, and leaves its
	// client's view short, so the run ends at the limit with how much of
	// the room every client had learnt by then.
	limit := orDefault(c.Limit, time.Minute)
	bounded, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var requestErrors atomic.Int64
	err = enterAll(bounded, clients, func(int) string { return room }, func(i int) error {
		next := ""
		for {
			page, err := clients[i].QueryRoomMemberList(bounded, room, 100, next)
			if err != nil {
				requestErrors.Add(1)
				return nil
			}
			users := make([]string, len(page.MemberList))
			for j, m := range page.MemberList {
				users[j] = m.UserID
			}
			add(views[i], users)
			if next = page.NextFlag; next == "" {
				return nil
			}
		}
	})
	entered := time.Since(start)
	if err != nil && bounded.Err() == nil {
		return nil, err
	}
	r := &Result{}
	r.Set("scenario", "join-storm")
	r.Set("clients", n)
	r.Set("entered_ms", entered)
	select {
	case <-allKnown:
		r.Set("all_known_ms", time.Duration(lastKnown.Load()))
	case <-bounded.Done():
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		known := 0
		for _, v := range views {
			v.mu.Lock()
			known += len(v.known)
			v.mu.Unlock()
		}
		r.Set("all_known_ms", "timeout")
		r.Set("limit_s", limit.Seconds())
		r.Set("known_pct", 100*float64(known)/float64(n*n))
		r.Set("complete_views", complete.Load())
	}
	r.Set("request_errors", requestErrors.Load())
	r.costs(before, c.sample())
	return r, nil
}

// Fanout has Clients (default 1,000) members in one room, Senders of them
// sending Rate messages a second in all (default 100) for Duration
// (default 20 s). Every delivery's latency from send to receipt is
// measured; deliveries lost or duplicated are counted (each sender's
// messages must arrive in order, once).
func Fanout(ctx context.Context, c Config, p Params) (*Result, error) {
	n := orDefault(p.Clients, 1000)
	rate := orDefault(p.Rate, 100)
	// Each sender stays within the per-connection message limit (10 a second).
	senders := orDefault(p.Senders, max(1, int(math.Ceil(rate/5))))
	senders = min(senders, n)
	dur := orDefault(p.Duration, 20*time.Second)
	const room = "fanout"
	t0 := time.Now()

	type receiver struct {
		mu        sync.Mutex
		latencies []time.Duration
		last      map[int]int // sender -> last seq seen
		lost, dup int
	}
	recv := make([]*receiver, n)
	for i := range recv {
		recv[i] = &receiver{last: map[int]int{}}
	}
	clients, err := c.loginAll(ctx, "fan", n, func(i int) func(client.Event) {
		return func(e client.Event) {
			if e.Name != protocol.EventReceiveRoomMessage {
				return
			}
			now := time.Since(t0)
			// One pass over the event: the payload is a JSON string of
			// digits and colons, read without decoding it again.
			var ev struct {
				MessageList []struct {
					Message json.RawMessage `json:"message"`
				} `json:"messageList"`
			}
			if e.Decode(&ev) != nil {
				return
			}
			rc := recv[i]
			rc.mu.Lock()
			defer rc.mu.Unlock()
			for _, m := range ev.MessageList {
				sender, seq, sent, ok := parsePayload(strings.Trim(string(m.Message), `"`))
				if !ok {
					continue
				}
				rc.latencies = append(rc.latencies, now-sent)
				last, seen := rc.last[sender]
				switch {
				case seen && seq <= last:
					rc.dup++
					continue
				case seen && seq > last+1:
					rc.lost += seq - last - 1
				case !seen && seq > 1:
					rc.lost += seq - 1
				}
				rc.last[sender] = seq
			}
		}
	})
	if err != nil {
		return nil, err
	}
	defer logoutAll(clients)
	if err := enterAll(ctx, clients, func(int) string { return room }, nil); err != nil {
		return nil, err
	}
	time.Sleep(time.Second) // let the join events settle before measuring
	before := c.sample()

	var sent atomic.Int64
	var sendErrs atomic.Int64
	interval := time.Duration(float64(time.Second) * float64(senders) / rate)
	var wg sync.WaitGroup
	stop := time.Now().Add(dur)
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := clients[s]
			tick := time.NewTicker(interval)
			defer tick.Stop()
			// Spread the senders over the interval.
			time.Sleep(time.Duration(int64(interval) * int64(s) / int64(senders)))
			for seq := 1; time.Now().Before(stop); seq++ {
				payload, _ := json.Marshal(fmt.Sprintf("%d:%d:%d", s, seq, int64(time.Since(t0))))
				_, err := cl.SendRoomMessage(ctx, protocol.SendMessageRequest{RoomID: room, Message: protocol.Message{Type: protocol.MessageTypeText, Message: payload}})
				if err != nil {
					sendErrs.Add(1)
				} else {
					sent.Add(1)
				}
				select {
				case <-tick.C:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	wg.Wait()
	// Wait for the last deliveries (or give up after 10 s).
	expected := int(sent.Load()) * (n - 1)
	deadline := time.Now().Add(10 * time.Second)
	received := func() int {
		total := 0
		for _, rc := range recv {
			rc.mu.Lock()
			total += len(rc.latencies) - rc.dup
			rc.mu.Unlock()
		}
		return total
	}
	for received() < expected && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	after := c.sample()

	r := &Result{}
	r.Set("scenario", "fanout")
	r.Set("clients", n)
	r.Set("senders", senders)
	r.Set("rate", rate)
	r.Set("duration_s", dur.Seconds())
	r.Set("sent", sent.Load())
	r.Set("send_errors", sendErrs.Load())
	var all []time.Duration
	lost, dup := 0, 0
	for _, rc := range recv {
		rc.mu.Lock()
		all = append(all, rc.latencies...)
		// Messages never seen at all from a sender's tail count as lost too.
		dup += rc.dup
		lost += rc.lost
		rc.mu.Unlock()
	}
	got := len(all) - dup
	lost = max(lost, expected-got)
	r.Set("deliveries", got)
	r.Set("lost", lost)
	r.Set("duplicated", dup)
	r.percentiles("latency_", all)
	r.costs(before, after)
	return r, nil
}

// parsePayload reads "sender:seq:sentNanos".
func parsePayload(s string) (sender, seq int, sent time.Duration, ok bool) {
	f := strings.Split(s, ":")
	if len(f) != 3 {
		return 0, 0, 0, false
	}
	a, err1 := strconv.Atoi(f[0])
	b, err2 := strconv.Atoi(f[1])
	c, err3 := strconv.ParseInt(f[2], 10, 64)
	return a, b, time.Duration(c), err1 == nil && err2 == nil && err3 == nil
}

// Idle has Clients (default 10,000) clients log in and enter rooms of
// Clients/Rooms members (default 100), then do nothing for Duration
// (default 10 s); it measures the server's memory per connection.
func Idle(ctx context.Context, c Config, p Params) (*Result, error) {
	n := orDefault(p.Clients, 10000)
	rooms := orDefault(p.Rooms, max(1, n/100))
	dur := orDefault(p.Duration, 10*time.Second)
	before := c.sample()
	start := time.Now()
	clients, err := c.loginAll(ctx, "idle", n, nil)
	if err != nil {
		return nil, err
	}
	defer logoutAll(clients)
	if err := enterAll(ctx, clients, func(i int) string { return fmt.Sprint("idle", i%rooms) }, nil); err != nil {
		return nil, err
	}
	setup := time.Since(start)
	select {
	case <-time.After(dur):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	after := c.sample()
	r := &Result{}
	r.Set("scenario", "idle")
	r.Set("clients", n)
	r.Set("rooms", rooms)
	r.Set("setup_ms", setup)
	if after.rss > 0 {
		r.Set("server_rss_per_conn_kib", float64(after.rss-before.rss)/float64(n)/1024)
	}
	r.costs(before, after)
	return r, nil
}
