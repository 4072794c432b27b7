package provider

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// Search runs a search on typ and returns its first page, a searchset
// Bundle. _count is set to PageSize unless params has one.
func (c *Client) Search(ctx context.Context, typ string, params url.Values) (*Bundle, error) {
	if !isResourceTypeName(typ) {
		return nil, fmt.Errorf("fhir search: invalid resource type %q", typ)
	}
	q := url.Values{}
	for k, v := range params {
		q[k] = append([]string(nil), v...)
	}
	if q.Get("_count") == "" {
		q.Set("_count", strconv.Itoa(c.cfg.PageSize))
	}
	return c.page(ctx, c.endpoint(q, typ))
}

// Page fetches a search page by its link (a Bundle's next link), which is
// followed unchanged. A link outside the provider's origin fails with
// ErrOrigin.
func (c *Client) Page(ctx context.Context, link string) (*Bundle, error) {
	u, err := c.resolve(link)
	if err != nil {
		return nil, fmt.Errorf("fhir page: %w", err)
	}
	return c.page(ctx, u)
}

func (c *Client) page(ctx context.Context, u *url.URL) (*Bundle, error) {
	resp, err := c.do(ctx, request{method: http.MethodGet, url: u})
	if err != nil {
		return nil, err
	}
	b, err := DecodeBundle(resp.body, BundleSearchset)
	if err != nil {
		return nil, fmt.Errorf("fhir search %s: %w", u.Path, err)
	}
	return b, nil
}

// ErrStop, returned by a SearchAll callback, ends the search early
// without an error.
var ErrStop = errors.New("stop search")

// SearchAll runs a search and calls fn with each page, following
// Bundle.link[relation=next] unchanged until a page has no next link or
// no entries, or its next link was already followed (a server that loops).
// It returns fn's first error, except ErrStop.
func (c *Client) SearchAll(ctx context.Context, typ string, params url.Values, fn func(*Bundle) error) error {
	b, err := c.Search(ctx, typ, params)
	seen := map[string]bool{}
	for pages := 1; ; pages++ {
		if err != nil {
			return err
		}
		if err := fn(b); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		next := b.NextLink()
		if next == "" || len(b.Entry) == 0 {
			return nil
		}
		if seen[next] {
			c.log.WarnContext(ctx, "fhir search repeats a next link; stopping", "type", typ, "pages", pages)
			return nil
		}
		if pages >= c.cfg.MaxPages {
			return fmt.Errorf("fhir search %s: more than %d pages", typ, c.cfg.MaxPages)
		}
		seen[next] = true
		b, err = c.Page(ctx, next)
	}
}
