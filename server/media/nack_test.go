package media

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lossyLink drops the first sending of every RTP packet (not RTCP, not
// DTLS or STUN) from one address to another whose sequence number is
// drop (mod every): a retransmission gets through.
type lossyLink struct {
	mu      sync.Mutex
	seen    map[uint16]bool
	from    string
	to      string
	every   uint16
	drop    uint16
	dropped int
}

func (l *lossyLink) keep(c vnet.Chunk) bool {
	if c.SourceAddr().Network() != "udp" {
		return true
	}
	src, _, _ := net.SplitHostPort(c.SourceAddr().String())
	dst, _, _ := net.SplitHostPort(c.DestinationAddr().String())
	if src != l.from || dst != l.to {
		return true
	}
	b := c.UserData()
	if len(b) < 12 || b[0]&0xC0 != 0x80 || (b[1] >= 192 && b[1] <= 223) {
		return true // not RTP
	}
	seq := binary.BigEndian.Uint16(b[2:4])
	if seq%l.every != l.drop {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[seq] {
		return true
	}
	l.seen[seq] = true
	l.dropped++
	return false
}

func (l *lossyLink) drops() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.dropped
}

// Packets lost on a simulated link (pion's vnet), from the publisher to
// the server and from the server to the subscriber, are repaired by
// NACK: the server asks the publisher again, and answers the
// subscriber's NACKs from what it sent, so the subscriber gets every
// packet.
func TestNACKRepairsLoss(t *testing.T) {
	noLeaks(t)
	wan, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "1.2.3.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	require.NoError(t, err)
	nets := map[string]*vnet.Net{}
	for _, ip := range []string{"1.2.3.4", "1.2.3.5", "1.2.3.6"} {
		n, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		require.NoError(t, err)
		require.NoError(t, wan.AddNet(n))
		nets[ip] = n
	}
	up := &lossyLink{seen: map[uint16]bool{}, from: "1.2.3.5", to: "1.2.3.4", every: 7, drop: 3}
	down := &lossyLink{seen: map[uint16]bool{}, from: "1.2.3.4", to: "1.2.3.6", every: 11, drop: 5}
	wan.AddChunkFilter(up.keep)
	wan.AddChunkFilter(down.keep)
	require.NoError(t, wan.Start())
	t.Cleanup(func() { _ = wan.Stop() })

	s := newTestServer(t, Config{Net: nets["1.2.3.4"]})
	r, b := newTestRoom(t, s)
	pub := newClient(t, r, b, "pub", clientOpts{net: nets["1.2.3.5"]})
	sub := newClient(t, r, b, "sub", clientOpts{net: nets["1.2.3.6"]})
	track := pub.publish(webrtc.RTPCodecTypeVideo, SourceCamera)
	pub.connected()
	startSending(t, track, 10*time.Millisecond, 200, nil)
	tr := sub.nextTrack()

	const n = 60
	got := map[uint16]bool{}
	var first uint16
	require.NoError(t, tr.SetReadDeadline(time.Now().Add(15*time.Second)))
	complete := func() bool {
		for i := range uint16(n) {
			if !got[first+i] {
				return false
			}
		}
		return true
	}
	for len(got) == 0 || !complete() {
		p, _, err := tr.ReadRTP()
		if err != nil {
			var missing []uint16
			for i := range uint16(n) {
				if !got[first+i] {
					missing = append(missing, first+i)
				}
			}
			t.Fatalf("not repaired: missing %v (dropped %d up, %d down): %v", missing, up.drops(), down.drops(), err)
		}
		if len(got) == 0 {
			first = p.SequenceNumber
		}
		got[p.SequenceNumber] = true
	}
	assert.Greater(t, up.drops(), 3, "the link to the server lost packets")
	assert.Greater(t, down.drops(), 2, "the link to the subscriber lost packets")
}
