package carepatron

import (
	"errors"
	"net/url"
	"strings"
)

// redactURL returns raw fit for an error message or a log line: with its
// password masked when it parses as a URL, and otherwise with everything
// before its last '@' masked, since a password can only come before one.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil && !strings.Contains(u.Opaque, "@") {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "xxxxx" + raw[i:]
	}
	return raw
}

// parseDetail returns ": " and why raw does not parse, unless raw may hold
// a password: url.Parse quotes parts of what it could not read.
func parseDetail(raw string, err error) string {
	var uerr *url.Error
	if strings.Contains(raw, "@") || !errors.As(err, &uerr) {
		return ""
	}
	return ": " + uerr.Err.Error()
}
