package app

import (
	"net"
	"sync"
)

// perAddressListener refuses a connection from an address that already
// has max open: one host cannot take every socket of the server, whether
// it holds WebSockets or idle HTTP connections. A refused connection is
// closed as soon as it is accepted.
type perAddressListener struct {
	net.Listener
	max int

	mu   sync.Mutex
	open map[string]int // by remote IP
}

func limitPerAddress(ln net.Listener, max int) net.Listener {
	return &perAddressListener{Listener: ln, max: max, open: map[string]int{}}
}

// Accept returns the next connection whose address is under its limit.
func (l *perAddressListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip, _, err := net.SplitHostPort(c.RemoteAddr().String())
		if err != nil {
			ip = c.RemoteAddr().String()
		}
		l.mu.Lock()
		if l.open[ip] >= l.max {
			l.mu.Unlock()
			c.Close()
			continue
		}
		l.open[ip]++
		l.mu.Unlock()
		return &countedConn{Conn: c, l: l, ip: ip}, nil
	}
}

// countedConn gives its place back when closed.
type countedConn struct {
	net.Conn
	l    *perAddressListener
	ip   string
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() {
		c.l.mu.Lock()
		if c.l.open[c.ip]--; c.l.open[c.ip] <= 0 {
			delete(c.l.open, c.ip)
		}
		c.l.mu.Unlock()
	})
	return c.Conn.Close()
}
