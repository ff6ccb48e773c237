package media

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/logging"
	"github.com/pion/transport/v5/udp"
)

// Batched writes: every packet the server forwards is one UDP datagram,
// and one sendto each is the server's largest cost. With
// Config.WriteBatch the UDP sockets queue what is written and send it in
// batches (sendmmsg, on Linux), a batch when it is full or
// Config.WriteBatchInterval after the last: fewer system calls for at
// most that much more latency. (pion/transport's BatchConn; elsewhere
// than Linux it writes each packet at once.)

// Defaults for batched writes.
const (
	DefaultWriteBatchInterval = time.Millisecond
)

// batchedUDPMux is mux's sockets made again with batched writes: the
// same local addresses (pion chose and filtered them), each on port
// (0: a free one). mux is closed first.
func batchedUDPMux(mux *ice.MultiUDPMuxDefault, port, size int, interval time.Duration, log logging.LeveledLogger) (*ice.MultiUDPMuxDefault, error) {
	addrs := mux.GetListenAddresses()
	if err := mux.Close(); err != nil {
		return nil, err
	}
	var muxes []ice.UDPMux
	fail := func(err error) (*ice.MultiUDPMuxDefault, error) {
		for _, m := range muxes {
			_ = m.Close()
		}
		return nil, err
	}
	for _, a := range addrs {
		ua, ok := a.(*net.UDPAddr)
		if !ok {
			return fail(fmt.Errorf("media: not a UDP address: %v", a))
		}
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ua.IP, Port: port, Zone: ua.Zone})
		if err != nil {
			return fail(err)
		}
		muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{
			Logger:  log,
			UDPConn: udp.NewBatchConn(conn, size, interval),
		}))
	}
	return ice.NewMultiUDPMuxDefault(muxes...), nil
}
