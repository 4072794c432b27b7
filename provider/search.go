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
// followed unchanged but for its dot segments. A link outside the base
// URL (and Config.ContentOrigins) fails with ErrOrigin.
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
	servedAt(b, resp.header)
	return b, nil
}

// ErrStop, returned by a SearchAll callback, ends the search early
// without an error.
var ErrStop = errors.New("stop search")

// SearchAll runs a search and calls fn with each page until the search is
// done, as Paging.Next decides: it follows next links unchanged, goes on
// by _offset when a page has no next link but the total says more (a
// server that pages only by _offset, or ignores _count), and ends at a
// page without a next link when the total says nothing more. A server
// whose next link loops ends the search there unless the total says more.
// Pages that add nothing while the total says more, or more than
// Config.MaxPages pages, fail with ErrPaging. It returns fn's first error,
// except ErrStop.
func (c *Client) SearchAll(ctx context.Context, typ string, params url.Values, fn func(*Bundle) error) error {
	b, err := c.Search(ctx, typ, params)
	followed := map[string]bool{}
	visit := func(link string) bool {
		if followed[link] {
			return true
		}
		followed[link] = true
		return false
	}
	var paging Paging
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
		step, perr := paging.Next(b, visit)
		if perr != nil {
			c.log.ErrorContext(ctx, "fhir search pages do not add up; failing the search", "type", typ, "pages", pages, "received", paging.Received)
			return fmt.Errorf("fhir search %s: %w", typ, perr)
		}
		if step.Looped {
			c.log.WarnContext(ctx, "fhir search repeats a next link", "type", typ, "pages", pages, "done", step.Done)
		}
		if step.Done {
			return nil
		}
		if pages >= c.cfg.MaxPages {
			c.log.ErrorContext(ctx, "fhir search page limit reached; failing the search", "type", typ, "pages", pages, "received", paging.Received)
			return fmt.Errorf("fhir search %s: %w: more than %d pages (Config.MaxPages)", typ, ErrPaging, c.cfg.MaxPages)
		}
		if step.Link != "" {
			b, err = c.Page(ctx, step.Link)
			continue
		}
		q := url.Values{}
		for k, v := range params {
			q[k] = v
		}
		q.Set("_offset", strconv.Itoa(step.Offset))
		b, err = c.Search(ctx, typ, q)
	}
}
