package provider

import (
	"errors"
	"net/url"
	"strings"
)

// RedactURL returns s fit for a log line or an error message: the
// password of its userinfo replaced by "xxxxx", or a user name without a
// password, which is often a token, replaced whole. When s does not
// parse as a URL with an authority, everything before its last "@" is
// masked, as it may be credentials (a host-less "user:token@host" or
// "host/token@x" parses as a path). A URL without userinfo is returned
// as it is.
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err == nil && u.Opaque == "" && (u.Host != "" || !strings.Contains(s, "@")) {
		if u.User == nil {
			return s
		}
		if _, ok := u.User.Password(); !ok {
			u.User = url.User("xxxxx")
		}
		return u.Redacted()
	}
	if i := strings.LastIndex(s, "@"); i >= 0 {
		return "xxxxx" + s[i:]
	}
	return s
}

// withoutURL drops the *url.Error net/http wraps a transport error in:
// its message holds the request's full URL, query included, and a
// search's query can hold patient data. Callers name the request by
// method and path instead.
func withoutURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) && ue.Err != nil {
		return ue.Err
	}
	return err
}
