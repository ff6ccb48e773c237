// Package redistest starts a real redis-server (Debian's, which make test
// installs) on a loopback port for the length of a test, with nothing
// saved to disk.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Server is a running redis-server.
type Server struct {
	// Addr is its host:port on loopback.
	Addr   string
	cmd    *exec.Cmd
	out    *bytes.Buffer
	exited chan struct{} // closed when the process has ended
}

// URL is the server's redis:// address, database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Start starts redis-server on a free loopback port and stops it when the
// test ends. The test fails if redis-server is not installed.
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Fatalf("redis-server is not installed (make test installs Debian's redis-server): %v", err)
	}
	var last error
	for range 5 {
		s, err := start(bin)
		if err == nil {
			t.Cleanup(s.Stop)
			return s
		}
		last = err
	}
	t.Fatalf("starting redis-server: %v", last)
	return nil
}

func start(bin string) (*Server, error) {
	// A free port: taken from the kernel, released, and given to redis; a
	// rare race with another process is retried by Start.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return startOn(bin, strconv.Itoa(port))
}

func startOn(bin, port string) (*Server, error) {
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", port), out: &bytes.Buffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--protected-mode", "yes", "--loglevel", "warning", "--dir", "/tmp")
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("redis-server exited: %s", s.out.String())
		default:
		}
		if ping(s.Addr) == nil {
			return s, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return nil, fmt.Errorf("redis-server on %s did not answer PING: %s", s.Addr, s.out.String())
}

// ping sends PING in the protocol's inline form and reads +PONG.
func ping(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	buf := make([]byte, 7)
	if _, err := c.Read(buf); err != nil {
		return err
	}
	if !bytes.HasPrefix(buf, []byte("+PONG")) {
		return fmt.Errorf("answered %q", buf)
	}
	return nil
}

// Stop kills redis-server (its data is gone: nothing is saved).
func (s *Server) Stop() {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
}

// Pause stops redis-server's process (SIGSTOP) without ending it: its
// connections stay open and unanswered, its data stays, as in a long
// stall. Resume lets it go on.
func (s *Server) Pause(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatalf("pausing redis-server: %v", err)
	}
}

// Resume continues a paused redis-server (SIGCONT).
func (s *Server) Resume(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatalf("resuming redis-server: %v", err)
	}
}

// Restart kills redis-server and starts a new one on the same port, empty,
// as after a crash.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	_, port, _ := net.SplitHostPort(s.Addr)
	var last error
	for range 50 {
		n, err := startOn(s.cmd.Path, port)
		if err == nil {
			s.cmd, s.out, s.exited = n.cmd, n.out, n.exited
			return
		}
		last = err
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("restarting redis-server on %s: %v", s.Addr, last)
}
