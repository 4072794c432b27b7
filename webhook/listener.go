package webhook

import (
	"net"
	"sync"
)

// DefaultMaxConns is the number of connections LimitListener lets be open
// at once when given n <= 0.
const DefaultMaxConns = 512

// LimitListener returns a Listener that lets at most n connections accepted
// from l be open at once; n <= 0 means DefaultMaxConns. Beyond that, Accept
// waits until one is closed, so the next connections wait in the kernel's
// backlog (and time out at the sender) instead of each costing the server a
// goroutine and its buffers. Closing a connection, once or more, frees its
// slot. Closing the Listener makes a waiting Accept return net.ErrClosed.
//
// A server wraps the listener its webhook Receivers are served on:
//
//	ln, err := net.Listen("tcp", addr)
//	...
//	srv.Serve(webhook.LimitListener(ln, 0))
//
// Every idle keep-alive connection holds a slot too, so the server's
// ReadHeaderTimeout and IdleTimeout decide how long a slot can be held by a
// sender that sends nothing.
func LimitListener(l net.Listener, n int) net.Listener {
	if n <= 0 {
		n = DefaultMaxConns
	}
	return &limitListener{Listener: l, slots: make(chan struct{}, n), closed: make(chan struct{})}
}

type limitListener struct {
	net.Listener
	slots     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, free: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.closed) })
	return err
}

// limitConn frees its listener slot when it is first closed.
type limitConn struct {
	net.Conn
	once sync.Once
	free func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.free)
	return err
}
