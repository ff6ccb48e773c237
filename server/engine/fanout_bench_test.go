package engine

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// countingPeer counts deliveries and remembers the last frame's address.
type countingPeer struct {
	quietPeer
	n    *atomic.Int64
	last unsafe.Pointer
}

func (p *countingPeer) Deliver(b []byte) {
	p.n.Add(1)
	atomic.StorePointer(&p.last, unsafe.Pointer(unsafe.SliceData(b)))
}

// bigRoom fills a room with size counting peers and returns them.
func bigRoom(tb testing.TB, m *Manager, size int) ([]*countingPeer, *atomic.Int64) {
	var n atomic.Int64
	peers := make([]*countingPeer, size)
	for i := range peers {
		peers[i] = &countingPeer{quietPeer: quietPeer{id: fmt.Sprint("s", i), user: fmt.Sprint("u", i)}, n: &n}
		_, err := m.Enter(peers[i], info("big"), nil)
		require.NoError(tb, err)
	}
	n.Store(0)
	return peers, &n
}

// flushNow delivers what the room has pending, without waiting for the
// flush goroutine.
func flushNow(m *Manager, id string) {
	m.mu.Lock()
	r := m.rooms[roomKey{"", id}]
	m.mu.Unlock()
	r.mu.Lock()
	r.flushLocked()
	r.mu.Unlock()
}

func TestFanOutSendsTheSameBytesToEveryone(t *testing.T) {
	m := newManager(Limits{})
	peers, n := bigRoom(t, m, 1000)
	_, err := m.SendMessage(peers[0], "big", text("hello"))
	require.NoError(t, err)
	flushNow(m, "big")
	assert.Equal(t, int64(999), n.Load(), "everyone but the sender")
	first := atomic.LoadPointer(&peers[1].last)
	for _, p := range peers[1:] {
		assert.Equal(t, first, atomic.LoadPointer(&p.last), "encoded once: one buffer for all")
	}
}

// BenchmarkFanOut1000 sends one text message to a 1,000-member room and
// delivers it; it reports allocations per delivered message.
func BenchmarkFanOut1000(b *testing.B) {
	m := newManager(Limits{})
	peers, n := bigRoom(b, m, 1000)
	msg := text("a message of a typical length for a chat room, about eighty bytes")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.SendMessage(peers[0], "big", msg); err != nil {
			b.Fatal(err)
		}
		flushNow(m, "big")
	}
	runtime.ReadMemStats(&after)
	if d := n.Load(); d > 0 {
		b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(d), "allocs/delivery")
		b.ReportMetric(float64(d)/float64(b.N), "deliveries/op")
	}
}

// BenchmarkMemberStateInManyRooms toggles microphones in 64 rooms of 50
// members at once, from every core: each toggle is broadcast to its room.
func BenchmarkMemberStateInManyRooms(b *testing.B) {
	m := newManager(Limits{})
	const rooms, size = 64, 50
	var members [][]quietPeer
	for r := range rooms {
		var ps []quietPeer
		for i := range size {
			p := quietPeer{id: fmt.Sprint("s", r, "-", i), user: fmt.Sprint("u", i)}
			_, err := m.Enter(p, info(fmt.Sprint("room", r)), nil)
			require.NoError(b, err)
			ps = append(ps, p)
		}
		members = append(members, ps)
	}
	var next atomic.Int64
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		on := false
		for pb.Next() {
			n := next.Add(1)
			r := int(n % rooms)
			on = !on
			if _, err := m.SetMemberState(members[r][int(n/rooms)%size], protocol.SetMemberStateRequest{RoomID: fmt.Sprint("room", r), Audio: &on}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
