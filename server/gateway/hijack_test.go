package gateway

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// TestAFrameSentWithTheHandshakeIsRead sends the login frame in the same
// write as the upgrade request, so the HTTP server has read it before the
// connection is handed over with buffers of its own: it must be answered,
// both when it fits the connection's read buffer and when it does not.
func TestAFrameSentWithTheHandshakeIsRead(t *testing.T) {
	srv, _ := newServer(t, Config{})
	for _, pad := range []int{0, 3 * connReadBuffer} {
		login := loginFrame(tokenFor(t, "early", time.Hour), protocol.Version)
		login = login[:len(login)-1] + strings.Repeat(" ", pad) + "}" // JSON whitespace
		nc, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
		require.NoError(t, err)
		defer nc.Close()
		require.NoError(t, nc.SetDeadline(time.Now().Add(5*time.Second)))
		req := "GET /ws HTTP/1.1\r\nHost: " + strings.TrimPrefix(srv.URL, "http://") +
			"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
		_, err = nc.Write(append([]byte(req), maskedTextFrame([]byte(login))...))
		require.NoError(t, err)

		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		var f protocol.Frame
		require.NoError(t, json.Unmarshal(firstFrame(t, br), &f), "padding %d", pad)
		require.Equal(t, uint64(1), f.ID)
		require.Nil(t, f.Error, "padding %d", pad)
	}
}

// maskedTextFrame is payload as one masked text frame, as a client sends.
func maskedTextFrame(payload []byte) []byte {
	b := []byte{0x81}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	}
	key := []byte{1, 2, 3, 4}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// firstFrame reads one unmasked server message and returns its first frame.
func firstFrame(t *testing.T, r io.Reader) []byte {
	t.Helper()
	var h [2]byte
	_, err := io.ReadFull(r, h[:])
	require.NoError(t, err)
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, err = io.ReadFull(r, l[:])
		n = uint64(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, err = io.ReadFull(r, l[:])
		n = binary.BigEndian.Uint64(l[:])
	}
	require.NoError(t, err)
	msg := make([]byte, n)
	_, err = io.ReadFull(r, msg)
	require.NoError(t, err)
	for f := range protocol.SplitFrames(msg) {
		return f
	}
	t.Fatal("an empty message")
	return nil
}
