// Package httpstop stops the HTTP servers of the example programs: it
// lets requests in flight finish for a short grace, then closes what is
// left, so a Ctrl-C or a test never waits on a connection that carries no
// request.
package httpstop
