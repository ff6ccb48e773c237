//go:build !js

package client

import (
	"context"
	"errors"

	"github.com/coder/websocket"
)

// DefaultTransport is coder/websocket on native builds.
func DefaultTransport() Transport { return nativeTransport{} }

type nativeTransport struct{}

func (nativeTransport) Dial(ctx context.Context, url string) (Conn, error) {
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(-1) // the server bounds what it sends
	return &nativeConn{c: c}, nil
}

type nativeConn struct{ c *websocket.Conn }

func (n *nativeConn) Read(ctx context.Context) ([]byte, error) {
	_, b, err := n.c.Read(ctx)
	if err != nil {
		var ce websocket.CloseError
		if errors.As(err, &ce) {
			return nil, newCloseError(int(ce.Code), ce.Reason)
		}
		return nil, &CloseError{Status: 1006, Message: err.Error()}
	}
	return b, nil
}

func (n *nativeConn) Write(ctx context.Context, frame []byte) error {
	return n.c.Write(ctx, websocket.MessageText, frame)
}

func (n *nativeConn) Close() error { return n.c.Close(websocket.StatusNormalClosure, "") }
