package sse_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/healthcare-records/healthcare-records/internal/sse"
)

// A stream's handler starts the stream, then writes its events, with a
// heartbeat while nothing happens.
func Example() {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc, ok := sse.Start(w)
		if !ok {
			return
		}
		fmt.Fprint(w, "event: hello\ndata: {}\n\n")
		_ = sse.Heartbeat(w, rc)
	})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/events", nil))
	fmt.Println(rec.Header().Get("Content-Type"))
	fmt.Print(rec.Body.String())
	// Output:
	// text/event-stream
	// event: hello
	// data: {}
	//
	// : heartbeat
}
