package gateway

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
)

// Buffer sizes of an upgraded connection. net/http hands a hijacker a
// 4 KiB read buffer and a 4 KiB write buffer, and coder/websocket keeps both
// for the connection's life: at 10,000 idle connections that is 80 MiB
// holding nothing. Smaller ones cost little: a read or write larger than
// its buffer goes to the socket directly, so a large frame is not copied
// through it, and a frame that fits is still one system call.
const (
	connReadBuffer  = 512
	connWriteBuffer = 1024
)

// smallBuffers wraps the ResponseWriter of an upgrade so that Hijack hands
// out connReadBuffer and connWriteBuffer sized buffers instead of the HTTP
// server's.
type smallBuffers struct {
	http.ResponseWriter
}

// Hijack takes the connection over as net/http's does, keeping any bytes
// the HTTP server had already read past the request (a client may send its
// first frame right behind the handshake).
func (w smallBuffers) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(nc, connReadBuffer)
	if n := brw.Reader.Buffered(); n > 0 {
		// Moved into the new buffer, not left behind a reader: the
		// websocket library looks only at what the buffer holds.
		early, _ := brw.Reader.Peek(n)
		br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), nc), max(connReadBuffer, n))
		if _, err := br.Peek(n); err != nil {
			nc.Close()
			return nil, nil, err
		}
	}
	// The 101 response is already on the wire: net/http flushes it on
	// Hijack, so brw.Writer holds nothing to carry over.
	return nc, bufio.NewReadWriter(br, bufio.NewWriterSize(nc, connWriteBuffer)), nil
}

// Unwrap gives http.ResponseController the HTTP server's writer.
func (w smallBuffers) Unwrap() http.ResponseWriter { return w.ResponseWriter }
