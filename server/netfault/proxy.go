// Package netfault makes network faults for tests. Its Proxy is a TCP
// proxy that can make the network vanish under open connections: no FIN,
// no RST, just silence, as when a laptop is closed or a cable pulled.
package netfault

import (
	"io"
	"net"
	"sync"
	"time"
)

// Proxy forwards connections on loopback to a target address.
type Proxy struct {
	ln     net.Listener
	target string

	mu    sync.Mutex
	conns []net.Conn // both ends of every proxied connection
	holes []chan struct{}
	done  bool
}

// New starts a proxy on a loopback port that forwards to target.
func New(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, target: target}
	go p.accept()
	return p, nil
}

// Addr is the proxy's address, to dial instead of the target.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) accept() {
	for {
		in, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		target := p.target
		p.mu.Unlock()
		out, err := net.DialTimeout("tcp", target, 5*time.Second)
		if err != nil {
			in.Close()
			continue
		}
		hole := make(chan struct{})
		p.mu.Lock()
		if p.done {
			p.mu.Unlock()
			in.Close()
			out.Close()
			return
		}
		p.conns = append(p.conns, in, out)
		p.holes = append(p.holes, hole)
		p.mu.Unlock()
		go pipe(out, in, hole)
		go pipe(in, out, hole)
	}
}

// pipe copies src to dst until either ends or the hole opens; after that
// it reads and drops, so the sender sees nothing wrong and nothing arrives.
func pipe(dst, src net.Conn, hole chan struct{}) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		select {
		case <-hole:
		default:
			if n > 0 {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil {
			if err != io.EOF {
				return
			}
			select {
			case <-hole: // silence: never pass the close on
			default:
				dst.Close()
			}
			return
		}
	}
}

// Blackhole silences every connection open now, in both directions; new
// connections are forwarded as before.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, h := range p.holes {
		close(h)
	}
	p.holes = nil
}

// Retarget sends new connections to target from now on.
func (p *Proxy) Retarget(target string) {
	p.mu.Lock()
	p.target = target
	p.mu.Unlock()
}

// Cut closes every connection open now, as a server that dies does; new
// connections are forwarded as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.holes = nil
}

// Close stops the proxy and closes every connection it holds.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done = true
	for _, c := range p.conns {
		c.Close()
	}
}
