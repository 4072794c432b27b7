package sse

import (
	"fmt"
	"net/http"
	"time"
)

// Start answers the request with an event stream: its headers, no
// server write deadline (a WriteTimeout is for answers, not for streams
// that last as long as what they follow), the status flushed. It returns
// false if the client left already.
func Start(w http.ResponseWriter) (*http.ResponseController, bool) {
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // a proxy passes events on as they come
	w.WriteHeader(http.StatusOK)
	return rc, rc.Flush() == nil
}

// Heartbeat writes a comment line, which keeps proxies from closing an
// idle stream, and flushes it. An error means the client left.
func Heartbeat(w http.ResponseWriter, rc *http.ResponseController) error {
	if _, err := fmt.Fprint(w, ": heartbeat\n\n"); err != nil {
		return err
	}
	return rc.Flush()
}
