//go:build !js

package client

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/protocol"
)

// roomView is what one client knows of one room, built from a snapshot
// taken when it entered (or came back) and the events since.
type roomView struct {
	members  map[string]bool
	attrs    map[string]string
	messages map[uint64]string // orderKey -> messageID, since it last entered
	dups     []string
}

// viewer keeps a client's view of its rooms from its events, in the order
// the client hands them over. On every (room, Connected, Success) it takes
// a snapshot of the room from the server: everything queued before that
// event is in the snapshot, and every event after it is applied on top.
type viewer struct {
	t      *testing.T
	user   string
	client *Client
	// logged is client, for the event goroutine, once Login has returned.
	logged atomic.Pointer[Client]
	fresh  map[string]bool // rooms entered by an operation, whose messages start anew

	mu     sync.Mutex
	rooms  map[string]*roomView
	last   time.Time  // when the last event came
	writes []ownWrite // the client's own attribute changes, in the order the server answered them
	// unsure are the texts of the client's own messages whose send failed
	// with CodeNetworkError: the connection dropped before the reply and
	// the session was not resumed, so the server may or may not have kept
	// them (the error says so), and the client, never sent its own
	// messages, cannot know.
	unsure map[string]bool
	// unsureKeys are, by room, the client's own attribute keys whose last
	// change failed with CodeNetworkError: the server may or may not have
	// made it.
	unsureKeys map[string]map[string]bool
}

// ownWrite is an attribute change the client made itself: the others are
// told, but not the client, which knows it from the reply.
type ownWrite struct {
	room, key, value string
	deleted          bool
}

// write applies the client's own attribute change to its view.
func (v *viewer) write(w ownWrite) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.writes = append(v.writes, w)
	if r := v.rooms[w.room]; r != nil {
		r.apply(w)
	}
}

func (r *roomView) apply(w ownWrite) {
	if w.deleted {
		delete(r.attrs, w.key)
	} else {
		r.attrs[w.key] = w.value
	}
}

func (v *viewer) on(e Event) {
	v.mu.Lock()
	v.last = time.Now()
	v.mu.Unlock()
	switch e.Name {
	case EventConnectionStateChanged:
		// Every cut here is resumed well within the grace period: a
		// refused resume is a bug, whatever the requests it failed.
		if c := v.logged.Load(); c != nil {
			if s := c.Session(); s.ResumeError != "" {
				v.t.Errorf("%s: the session was not resumed: %s", v.user, s.ResumeError)
			}
		}
	case EventRoomStateChanged:
		var ev protocol.RoomStateEvent
		if !assert.NoError(v.t, e.Decode(&ev)) {
			return
		}
		switch {
		case ev.State == protocol.RoomStateConnected:
			v.snapshot(ev.RoomID)
		case ev.State == protocol.RoomStateDisconnected:
			v.mu.Lock()
			delete(v.rooms, ev.RoomID)
			v.mu.Unlock()
		}
	case protocol.EventRoomMemberJoined, protocol.EventRoomMemberLeft:
		var ev protocol.MembersEvent
		if !assert.NoError(v.t, e.Decode(&ev)) {
			return
		}
		v.with(ev.RoomID, func(r *roomView) {
			for _, m := range ev.MemberList {
				r.members[m.UserID] = e.Name == protocol.EventRoomMemberJoined
			}
		})
	case protocol.EventRoomAttributesUpdated, protocol.EventRoomAttributesBatchUpdated:
		var ev protocol.AttributesEvent
		if !assert.NoError(v.t, e.Decode(&ev)) {
			return
		}
		v.with(ev.RoomID, func(r *roomView) {
			for _, info := range ev.Infos {
				for k, val := range info.RoomAttributes {
					if info.Action == protocol.AttributesActionDelete {
						delete(r.attrs, k)
					} else {
						r.attrs[k] = val
					}
				}
			}
		})
	case protocol.EventReceiveRoomMessage:
		var ev struct {
			RoomID      string             `json:"roomID"`
			MessageList []protocol.Message `json:"messageList"`
		}
		if !assert.NoError(v.t, e.Decode(&ev)) {
			return
		}
		v.with(ev.RoomID, func(r *roomView) {
			for _, m := range ev.MessageList {
				r.addMessage(m)
			}
		})
	}
}

func (r *roomView) addMessage(m protocol.Message) {
	if _, seen := r.messages[m.OrderKey]; seen {
		r.dups = append(r.dups, m.MessageID)
	}
	r.messages[m.OrderKey] = m.MessageID
}

// with runs f on the view of roomID, if the client has one.
func (v *viewer) with(roomID string, f func(*roomView)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r := v.rooms[roomID]; r != nil {
		f(r)
	}
}

// snapshot reads roomID's members and attributes from the server. It runs
// on the client's event goroutine, so no later event is handled before it.
func (v *viewer) snapshot(roomID string) {
	ctx := context.Background()
	// The client's own changes answered from here on may be newer than
	// what the snapshot reads: they are applied again on top of it (each
	// user changes keys of its own only, in order, so that is exact).
	v.mu.Lock()
	since := len(v.writes)
	v.mu.Unlock()
	for attempt := 0; ; attempt++ {
		if attempt == 500 {
			v.t.Errorf("no snapshot of %s for %s", roomID, v.user)
			return
		}
		members := map[string]bool{}
		next, err := "", error(nil)
		for {
			var page protocol.MemberListReply
			if page, err = v.client.QueryRoomMemberList(ctx, roomID, 100, next); err != nil {
				break
			}
			for _, m := range page.MemberList {
				members[m.UserID] = true
			}
			if next = page.NextFlag; next == "" {
				break
			}
		}
		var attrs protocol.AllAttributesReply
		if err == nil {
			attrs, err = v.client.QueryRoomAllAttributes(ctx, roomID)
		}
		if code := codeOf(err); code == int(protocol.CodeNotInRoom) {
			return // left again meanwhile: a Disconnected follows
		} else if err != nil {
			time.Sleep(10 * time.Millisecond) // the connection is being resumed
			continue
		}
		v.mu.Lock()
		r := v.rooms[roomID]
		if r == nil || v.fresh[roomID] {
			r = &roomView{messages: map[uint64]string{}}
			v.rooms[roomID] = r
			delete(v.fresh, roomID)
		}
		r.members, r.attrs = members, attrs.RoomAttributes
		for _, w := range v.writes[since:] {
			if w.room == roomID {
				r.apply(w)
			}
		}
		v.mu.Unlock()
		return
	}
}

// Many clients join, leave, switch, set attributes, send messages and lose
// their connections (resuming them) at random, at once; at the end each
// one's view of each of its rooms, built from what it was told, equals the
// server's: members, attributes, and every message since it entered, once.
func TestRandomizedClientsConverge(t *testing.T) {
	for _, seed := range []uint64{1, 2, 3} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { converge(t, seed) })
	}
}

func converge(t *testing.T, seed uint64) {
	const clients, rooms, ops = 10, 3, 40
	srv := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Engine.MemberAttributesDelay = time.Millisecond })
	ctx := context.Background()
	roomIDs := make([]string, rooms)
	for i := range roomIDs {
		roomIDs[i] = fmt.Sprint("room", i)
	}
	viewers := make([]*viewer, clients)
	transports := make([]*cuttableTransport, clients)
	for i := range viewers {
		v := &viewer{t: t, user: fmt.Sprint("user", i), rooms: map[string]*roomView{}, fresh: map[string]bool{}, unsure: map[string]bool{}, unsureKeys: map[string]map[string]bool{}}
		transports[i] = &cuttableTransport{}
		c, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(t, v.user, time.Hour), Transport: transports[i],
			OnEvent: v.on, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
		require.NoError(t, err)
		t.Cleanup(func() { _ = c.Logout(ctx) })
		v.client = c
		v.logged.Store(c)
		viewers[i] = v
	}

	// A cutter drops random connections at random times, requests in
	// flight or not.
	stop := make(chan struct{})
	cutterDone := make(chan struct{})
	go func() {
		defer close(cutterDone)
		rng := rand.New(rand.NewPCG(seed, 1<<32))
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(5+rng.IntN(30)) * time.Millisecond):
				transports[rng.IntN(clients)].cut()
			}
		}
	}()
	var wg sync.WaitGroup
	var done sync.Map // op kind -> *atomic.Int64 of successes
	count := func(kind string) {
		n, _ := done.LoadOrStore(kind, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	}
	for i, v := range viewers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			c := v.client
			enter := func(roomID string) {
				v.mu.Lock()
				v.fresh[roomID] = true
				v.mu.Unlock()
			}
			// entered waits until the event goroutine has made the view of
			// a room just entered, so this client's own messages and
			// attributes land in it.
			entered := func(roomID string) {
				assert.Eventually(t, func() bool {
					v.mu.Lock()
					defer v.mu.Unlock()
					return v.rooms[roomID] != nil && !v.fresh[roomID]
				}, 10*time.Second, time.Millisecond, "%s never got its view of %s", v.user, roomID)
			}
			for n := range ops {
				time.Sleep(time.Duration(rng.IntN(15)) * time.Millisecond)
				in := c.Rooms()
				var out []string
				for _, id := range roomIDs {
					if !slices.Contains(in, id) {
						out = append(out, id)
					}
				}
				var err error
				kind := ""
				switch op := rng.IntN(10); {
				case op < 2 && len(out) > 0:
					id := out[rng.IntN(len(out))]
					enter(id)
					if _, err = c.EnterRoom(ctx, protocol.RoomInfo{RoomID: id}, nil); err == nil {
						entered(id)
					}
					kind = "enter"
				case op < 3 && len(in) > 0:
					err = c.LeaveRoom(ctx, in[rng.IntN(len(in))])
					kind = "leave"
				case op < 4 && len(in) > 0 && len(out) > 0:
					to := out[rng.IntN(len(out))]
					enter(to)
					if _, err = c.SwitchRoom(ctx, in[rng.IntN(len(in))], protocol.RoomInfo{RoomID: to}, true, nil); err == nil {
						entered(to)
					}
					kind = "switch"
				case op < 6 && len(in) > 0:
					// Each user sets and deletes keys of its own, so what it
					// does itself commutes with what it is told.
					id, key := in[rng.IntN(len(in))], fmt.Sprintf("%s-k%d", v.user, rng.IntN(3))
					kind = "attribute"
					if rng.IntN(3) == 0 {
						_, err = c.DeleteRoomAttributes(ctx, protocol.DeleteAttributesRequest{RoomID: id, Keys: []string{key}})
						if err == nil {
							v.write(ownWrite{room: id, key: key, deleted: true})
						}
					} else {
						val := fmt.Sprint(n)
						var res protocol.AttributesReply
						res, err = c.SetRoomAttributes(ctx, protocol.SetAttributesRequest{RoomID: id, Attributes: map[string]string{key: val}})
						if err == nil && len(res.ErrorKeys) == 0 {
							v.write(ownWrite{room: id, key: key, value: val})
						}
					}
					v.mu.Lock()
					if v.unsureKeys[id] == nil {
						v.unsureKeys[id] = map[string]bool{}
					}
					v.unsureKeys[id][key] = codeOf(err) == int(protocol.CodeNetworkError)
					v.mu.Unlock()
				case op < 9 && len(in) > 0:
					id := in[rng.IntN(len(in))]
					kind = "message"
					text := fmt.Sprintf("%s#%d", v.user, n)
					var res protocol.SendMessageReply
					res, err = c.SendRoomMessage(ctx, protocol.SendMessageRequest{RoomID: id, Message: protocol.Message{Type: protocol.MessageTypeText, Message: []byte(fmt.Sprintf("%q", text))}})
					if err == nil {
						v.with(id, func(r *roomView) { r.addMessage(res.Message) })
					} else if codeOf(err) == int(protocol.CodeNetworkError) {
						v.mu.Lock()
						v.unsure[text] = true
						v.mu.Unlock()
					}
				default:
					transports[i].cut() // resumed: nobody sees it go
					count("cut")
					continue
				}
				switch {
				case err == nil:
					count(kind)
				case codeOf(err) != int(protocol.CodeNetworkError):
					t.Errorf("%s op %d: %v", v.user, n, err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-cutterDone
	var tally []string
	done.Range(func(k, n any) bool {
		tally = append(tally, fmt.Sprintf("%s %d", k, n.(*atomic.Int64).Load()))
		return true
	})
	slices.Sort(tally)
	t.Logf("done: %v", tally)

	// Quiet: every client is connected and has handed over all it was sent.
	for _, v := range viewers {
		require.Eventually(t, func() bool {
			_, err := v.client.QueryRoomOnlineMemberCount(ctx, "nowhere")
			return codeOf(err) == int(protocol.CodeNotInRoom)
		}, 10*time.Second, 20*time.Millisecond)
	}
	require.Eventually(t, func() bool {
		for _, v := range viewers {
			v.mu.Lock()
			quiet := time.Since(v.last) > 300*time.Millisecond
			v.mu.Unlock()
			if !quiet {
				return false
			}
		}
		return true
	}, 10*time.Second, 50*time.Millisecond)

	inRooms := 0
	serverRooms := map[string][]string{} // user -> rooms the server has them in
	for _, id := range roomIDs {
		users, _ := srv.Engine.MemberUserIDs("app", id)
		for _, u := range users {
			serverRooms[u] = append(serverRooms[u], id)
		}
	}
	for _, v := range viewers {
		assert.Equal(t, append([]string{}, serverRooms[v.user]...), append([]string{}, v.client.Rooms()...), "%s: the rooms the server has it in are the rooms it thinks it is in", v.user)
		inRooms += len(v.client.Rooms())
		v.mu.Lock()
		viewed := append([]string{}, slices.Sorted(maps.Keys(v.rooms))...)
		v.mu.Unlock()
		assert.Equal(t, v.client.Rooms(), viewed, "%s: the rooms it has views of are the rooms it is in", v.user)
		for _, id := range viewed {
			members := map[string]bool{}
			page, err := v.client.QueryRoomMemberList(ctx, id, 100, "")
			require.NoError(t, err)
			for _, m := range page.MemberList {
				members[m.UserID] = true
			}
			attrs, err := v.client.QueryRoomAllAttributes(ctx, id)
			require.NoError(t, err)
			history, err := v.client.QueryHistoryRoomMessage(ctx, protocol.HistoryRequest{RoomID: id, Count: 1})
			require.NoError(t, err)

			v.mu.Lock()
			r := v.rooms[id]
			seen := map[string]bool{}
			for user, in := range r.members {
				if in {
					seen[user] = true
				}
			}
			assert.Equal(t, members, seen, "%s's members of %s", v.user, id)
			// An own key whose last change failed with 6000104 may be
			// either way on the server; the rest must be as it is.
			want, got := maps.Clone(attrs.RoomAttributes), maps.Clone(r.attrs)
			for key, unsure := range v.unsureKeys[id] {
				if unsure {
					delete(want, key)
					delete(got, key)
				}
			}
			assert.Equal(t, want, got, "%s's attributes of %s", v.user, id)
			assert.Empty(t, r.dups, "%s got messages of %s twice", v.user, id)
			if len(r.messages) > 0 {
				keys := slices.Sorted(maps.Keys(r.messages))
				first, last := keys[0], keys[len(keys)-1]
				if int(last-first+1) != len(keys) {
					// A gap is a lost message, unless it is one of this
					// client's own whose send it could not know the fate of.
					all, _ := v.client.QueryHistoryRoomMessage(ctx, protocol.HistoryRequest{RoomID: id, Count: 100})
					kept := map[uint64]protocol.Message{}
					for _, raw := range all.MessageList {
						var m protocol.Message
						_ = json.Unmarshal(raw, &m)
						kept[m.OrderKey] = m
					}
					for k := first + 1; k < last; k++ {
						if _, ok := r.messages[k]; ok {
							continue
						}
						m, found := kept[k]
						var text string
						_ = json.Unmarshal(m.Message, &text)
						if found && m.SenderUserID == v.user && v.unsure[text] {
							t.Logf("%s's own message %q (orderKey %d) was kept though its send failed with 6000104, as that error allows", v.user, text, k)
							continue
						}
						t.Errorf("%s missed message orderKey %d of %s (sent by %s, between %d and %d)", v.user, k, id, m.SenderUserID, first, last)
					}
				}
				var newest protocol.Message
				if assert.NotEmpty(t, history.MessageList) && assert.NoError(t, json.Unmarshal(history.MessageList[len(history.MessageList)-1], &newest)) {
					assert.Equal(t, newest.OrderKey, last, "%s missed the last messages of %s", v.user, id)
				}
			}
			v.mu.Unlock()
		}
	}
	t.Logf("%d places in rooms at the end", inRooms)
	assert.Positive(t, inRooms, "a test that ends with everyone out of every room checks little")
}
