//go:build js && wasm

package client

import (
	"context"
	"errors"
	"sync"
	"syscall/js"
)

// DefaultTransport is the browser's WebSocket on js/wasm: it costs the
// bundle nothing, where a Go WebSocket library would pull in net/http.
func DefaultTransport() Transport { return jsTransport{} }

type jsTransport struct{}

// jsConn is a browser WebSocket. Its JS callbacks only append to a queue
// and signal, so they never block the event loop.
type jsConn struct {
	ws    js.Value
	funcs []js.Func

	mu     sync.Mutex
	frames []string
	closed *CloseError
	opened bool
	wake   chan struct{} // cap 1: frames arrived, the socket opened or closed
}

func (jsTransport) Dial(ctx context.Context, url string) (Conn, error) {
	ws := js.Global().Get("WebSocket").New(url)
	c := &jsConn{ws: ws, wake: make(chan struct{}, 1)}
	c.on("open", func(js.Value) {
		c.mu.Lock()
		c.opened = true
		c.mu.Unlock()
		c.signal()
	})
	c.on("message", func(ev js.Value) {
		data := ev.Get("data")
		if data.Type() != js.TypeString {
			return // the server sends text frames only
		}
		c.mu.Lock()
		c.frames = append(c.frames, data.String())
		c.mu.Unlock()
		c.signal()
	})
	c.on("close", func(ev js.Value) {
		c.mu.Lock()
		c.closed = newCloseError(ev.Get("code").Int(), ev.Get("reason").String())
		c.mu.Unlock()
		c.signal()
		go c.release()
	})
	for {
		c.mu.Lock()
		opened, closed := c.opened, c.closed
		c.mu.Unlock()
		switch {
		case closed != nil:
			return nil, closed
		case opened:
			c.signal() // frames may already wait
			return c, nil
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			ws.Call("close")
			return nil, ctx.Err()
		}
	}
}

func (c *jsConn) on(event string, f func(js.Value)) {
	fn := js.FuncOf(func(this js.Value, args []js.Value) any {
		f(args[0])
		return nil
	})
	c.funcs = append(c.funcs, fn)
	c.ws.Set("on"+event, fn)
}

func (c *jsConn) signal() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// release detaches and frees the callbacks once the socket has closed.
func (c *jsConn) release() {
	for _, ev := range []string{"open", "message", "close"} {
		c.ws.Set("on"+ev, js.Null())
	}
	for _, f := range c.funcs {
		f.Release()
	}
}

func (c *jsConn) Read(ctx context.Context) ([]byte, error) {
	for {
		c.mu.Lock()
		if len(c.frames) > 0 {
			f := c.frames[0]
			c.frames = c.frames[1:]
			c.mu.Unlock()
			return []byte(f), nil
		}
		closed := c.closed
		c.mu.Unlock()
		if closed != nil {
			return nil, closed
		}
		select {
		case <-c.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *jsConn) Write(ctx context.Context, frame []byte) error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed != nil {
		return closed
	}
	if c.ws.Get("readyState").Int() != 1 {
		return errors.New("websocket is not open")
	}
	c.ws.Call("send", string(frame))
	return nil
}

func (c *jsConn) Close() error {
	c.ws.Call("close", 1000)
	return nil
}
