package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Transport opens connections to a roomkit server. The native build uses
// coder/websocket; the js/wasm build drives the browser's WebSocket.
type Transport interface {
	Dial(ctx context.Context, url string) (Conn, error)
}

// Conn is one WebSocket connection carrying text frames. Read is called
// from one goroutine; Write may be called from several.
type Conn interface {
	// Read returns the next frame, or a *CloseError once the connection has
	// ended.
	Read(ctx context.Context) ([]byte, error)
	// Write sends one frame.
	Write(ctx context.Context, frame []byte) error
	// Close ends the connection normally.
	Close() error
}

// CloseError reports how a connection ended. Code is the roomkit error code
// the server put at the start of the close reason, or 0.
type CloseError struct {
	Status  int    // WebSocket close status; 1006 when the connection dropped
	Code    int    // roomkit code from the reason, if any
	Message string // the rest of the reason
}

func (e *CloseError) Error() string {
	if e.Code != 0 {
		return fmt.Sprintf("connection closed (%d): %s (code %d)", e.Status, e.Message, e.Code)
	}
	return fmt.Sprintf("connection closed (%d) %s", e.Status, e.Message)
}

// newCloseError parses a close reason of the form "<code> <message>".
func newCloseError(status int, reason string) *CloseError {
	e := &CloseError{Status: status, Message: reason}
	if head, rest, ok := strings.Cut(reason, " "); ok {
		if n, err := strconv.Atoi(head); err == nil {
			e.Code, e.Message = n, rest
		}
	}
	return e
}

// closeCode returns the roomkit code of a CloseError in err's chain, or 0.
func closeCode(err error) int {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}
