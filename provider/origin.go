package provider

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// Where the client goes, and what it sends there. Two places are trusted,
// to different degrees:
//
//   - the FHIR base: the base URL's origin and, on it, the base path and
//     what lies below it. Only requests to the base carry the
//     Authorization header.
//   - Config.ContentOrigins: attachments (and redirects) may be fetched
//     from anywhere on these origins, without credentials.
//
// Everything else, the rest of the base URL's own origin included (an
// admin page next to the FHIR API), is refused with ErrOrigin before a
// request: in a reference, an attachment URL, a next link and on every
// redirect hop.

// resolve turns a reference or link into an absolute URL the client may
// fetch. Relative values resolve against the base URL: "Binary/1" and
// "/Binary/1" alike name base/Binary/1, as FHIR relative references are
// relative to the service base, not to the host root. Dot segments are
// resolved ("%2e%2e" too) before the check, so "Binary/../../admin"
// cannot climb out of the base; a backslash, which some servers take for
// a slash, is refused outright.
func (c *Client) resolve(ref string) (*url.URL, error) {
	if strings.Contains(ref, `\`) {
		return nil, fmt.Errorf("%w: backslash in url", ErrOrigin)
	}
	u, err := url.Parse(ref)
	if err != nil {
		return nil, fmt.Errorf("%w: malformed url", ErrOrigin)
	}
	if strings.Contains(u.Path, `\`) {
		return nil, fmt.Errorf("%w: backslash in url", ErrOrigin)
	}
	u.Fragment, u.RawFragment = "", ""
	switch {
	case u.Scheme == "" && u.Host == "" && u.Opaque == "":
		p := u.Path
		if c.base.Path == "" || !strings.HasPrefix(p, c.base.Path+"/") {
			p = c.base.Path + "/" + strings.TrimLeft(p, "/")
		}
		abs := *c.base
		abs.Path, abs.RawPath = p, ""
		abs.RawQuery = u.RawQuery
		u = &abs
	case u.Scheme == "" && u.Host != "":
		// Scheme-relative ("//host/path"): the base's scheme.
		u.Scheme = c.base.Scheme
	}
	if p := cleanPath(u.Path); p != u.Path {
		u.Path, u.RawPath = p, ""
	}
	if !c.allowed(u) {
		return nil, fmt.Errorf("%w: %s", ErrOrigin, where(u))
	}
	return u, nil
}

// allowed reports whether u is under the FHIR base or on a content
// origin.
func (c *Client) allowed(u *url.URL) bool {
	if u.User != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Opaque != "" {
		return false
	}
	return c.underBase(u) || c.origins[origin(u)]
}

// underBase reports whether u is the base URL or below it: its origin,
// and a path (dot segments resolved) equal to the base path or under it.
// Only such URLs get the Authorization header.
func (c *Client) underBase(u *url.URL) bool {
	if u.User != nil || origin(u) != origin(c.base) || strings.Contains(u.Path, `\`) {
		return false
	}
	p := cleanPath(u.Path)
	return c.base.Path == "" || p == c.base.Path || strings.HasPrefix(p, c.base.Path+"/")
}

// checkRedirect is the http.Client's CheckRedirect. A read follows up to
// ten redirects, each hop checked as resolve checks a URL, so that a
// document cannot send the client through a redirect to what it could
// not name directly; the Authorization header and cookies go only to
// hops under the base. A write (POST, PUT, the token request with its
// client assertion) is not redirected at all: its 3xx answer is returned
// as it is, and fails as a *StatusError.
func (c *Client) checkRedirect(req *http.Request, via []*http.Request) error {
	if m := via[0].Method; m != http.MethodGet && m != http.MethodHead {
		return http.ErrUseLastResponse
	}
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	if strings.Contains(req.URL.Path, `\`) || !c.allowed(req.URL) {
		return fmt.Errorf("%w: redirect to %s", ErrOrigin, where(req.URL))
	}
	if !c.underBase(req.URL) {
		req.Header.Del("Authorization")
		req.Header.Del("Cookie")
	}
	return nil
}

// cleanPath resolves the dot segments of an absolute, decoded path and
// collapses repeated slashes, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return ""
	}
	clean := path.Clean("/" + p)
	if strings.HasSuffix(p, "/") && clean != "/" {
		clean += "/"
	}
	return clean
}

// where names u in an error: origin and path, never userinfo or a
// query, which can hold patient data.
func where(u *url.URL) string {
	if u.Host == "" {
		return "a url without a host"
	}
	return strings.TrimSuffix(origin(u), ":") + u.EscapedPath()
}

// origin returns scheme://host:port with the default port made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	host := strings.ToLower(u.Hostname())
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return scheme + "://" + host + ":" + port
}
