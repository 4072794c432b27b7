package console

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
)

// Server-sent events for htmx's SSE extension: the sync's progress bar
// and the notification area's count. Each event's data is HTML that the
// extension swaps in.

// writeEvent writes one event whose data is the template name of the
// page's set executed with data, one data line per line of HTML.
func (c *Console) writeEvent(w http.ResponseWriter, rc *http.ResponseController, r *http.Request, page, event, name string, data any) error {
	var buf bytes.Buffer
	if err := c.pages.byName[page].ExecuteTemplate(&buf, name, data); err != nil {
		c.log.ErrorContext(r.Context(), "rendering an event failed", "event", event, "err", err)
		return err
	}
	var out strings.Builder
	fmt.Fprintf(&out, "event: %s\n", event)
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		fmt.Fprintf(&out, "data: %s\n", line)
	}
	out.WriteString("\n")
	if _, err := w.Write([]byte(out.String())); err != nil {
		return err
	}
	return rc.Flush()
}
