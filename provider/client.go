package provider

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// DefaultMaxContentBytes is the default of Config.MaxContentBytes:
// 32 MiB.
const DefaultMaxContentBytes = 32 << 20

// Config configures a Client. Only BaseURL is required; every zero value
// means the documented default.
type Config struct {
	// BaseURL is the FHIR service base, such as
	// "https://ehr.example.org/fhir/r4". Relative references and
	// attachment URLs resolve against it, and only it and what is below
	// it (same origin, path under the base path) are trusted. It must not
	// hold credentials (user:password@).
	BaseURL string

	// SMART enables SMART Backend Services authorization. It wins over
	// BearerToken.
	SMART *SMARTConfig
	// BearerToken is a static access token, for servers without SMART.
	BearerToken string
	// TokenSource, when set, supplies access tokens and wins over SMART
	// and BearerToken.
	TokenSource TokenSource

	// HTTPClient supplies the Transport (TLS settings, proxies); its
	// Timeout and CheckRedirect are replaced. Nil means a pooled default.
	HTTPClient *http.Client
	// Timeout bounds one HTTP attempt, body included. Default 30s.
	Timeout time.Duration
	// RetryMax is how many times a request is retried after a transport
	// error, a 429 or a 5xx. Default 4; negative means never.
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the jittered exponential
	// backoff between retries. Defaults 500ms and 30s.
	RetryWaitMin, RetryWaitMax time.Duration
	// MaxRetryAfter is the longest Retry-After the client waits out
	// itself; a longer one is returned as a *StatusError carrying it.
	// Default 30s.
	MaxRetryAfter time.Duration

	// PageSize is the _count sent with searches. Default 100.
	PageSize int
	// MaxPages stops a SearchAll that never ends. Default 10,000.
	MaxPages int
	// MaxBodyBytes limits a resource or Bundle response. Default 64 MiB.
	MaxBodyBytes int64
	// MaxContentBytes limits one attachment's content. Default
	// DefaultMaxContentBytes.
	MaxContentBytes int64
	// ContentOrigins are further origins ("https://files.example.org")
	// attachments may be fetched from, and redirects may lead to,
	// anywhere on them. They never get the Authorization header: only
	// the base URL and what is below it do. Without them, the client
	// fetches nothing outside the base URL, not even elsewhere on its
	// origin.
	ContentOrigins []string

	// Logger receives ids and statuses, never patient data. Nil means
	// slog.Default().
	Logger *slog.Logger
	// UserAgent is sent with every request.
	UserAgent string

	now func() time.Time // tests
}

// Client talks to one FHIR R4 server. It is safe for concurrent use.
type Client struct {
	cfg     Config
	base    *url.URL
	origins map[string]bool // ContentOrigins, by origin()
	http    *retryablehttp.Client
	auth    TokenSource
	log     *slog.Logger
}

// FHIR JSON media type, sent as Accept and Content-Type.
const fhirJSON = "application/fhir+json"

// New checks cfg and returns a Client. It does no I/O: SMART discovery
// happens on the first request.
func New(cfg Config) (*Client, error) {
	base, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" {
		return nil, fmt.Errorf("fhir base url %q: must be an absolute http(s) url", RedactURL(cfg.BaseURL))
	}
	if base.User != nil {
		return nil, fmt.Errorf("fhir base url %q: must not hold credentials; use BearerToken, SMART or TokenSource", RedactURL(cfg.BaseURL))
	}
	base.RawQuery, base.Fragment = "", ""
	if p := cleanPath(base.Path); p != base.Path {
		base.Path, base.RawPath = p, ""
	}
	setDefaults(&cfg)
	c := &Client{cfg: cfg, base: base, log: cfg.Logger, origins: map[string]bool{}}
	for _, o := range cfg.ContentOrigins {
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("content origin %q: must be an absolute http(s) url", RedactURL(o))
		}
		if u.User != nil {
			return nil, fmt.Errorf("content origin %q: must not hold credentials", RedactURL(o))
		}
		c.origins[origin(u)] = true
	}
	c.http = newHTTP(&c.cfg, c.log, c.checkRedirect)
	switch {
	case cfg.TokenSource != nil:
		c.auth = cfg.TokenSource
	case cfg.SMART != nil:
		s, err := newSMART(*cfg.SMART, c)
		if err != nil {
			return nil, err
		}
		c.auth = s
	case cfg.BearerToken != "":
		c.auth = StaticToken(cfg.BearerToken)
	}
	return c, nil
}

func setDefaults(cfg *Config) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.Timeout, 30*time.Second)
	def(&cfg.RetryWaitMin, 500*time.Millisecond)
	def(&cfg.RetryWaitMax, 30*time.Second)
	def(&cfg.MaxRetryAfter, 30*time.Second)
	switch {
	case cfg.RetryMax == 0:
		cfg.RetryMax = 4
	case cfg.RetryMax < 0:
		cfg.RetryMax = 0
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.MaxPages <= 0 {
		cfg.MaxPages = 10_000
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 64 << 20
	}
	if cfg.MaxContentBytes <= 0 {
		cfg.MaxContentBytes = DefaultMaxContentBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
}

// BaseURL returns the service base the client was configured with.
func (c *Client) BaseURL() string { return c.base.String() }

// request is one call to the server.
type request struct {
	method string
	url    *url.URL
	body   []byte
	header http.Header
	// accept overrides the FHIR JSON Accept header.
	accept string
	// limit overrides MaxBodyBytes.
	limit int64
	// noAuth sends no Authorization header (token endpoint, discovery).
	noAuth bool
}

// response is a successful (2xx) answer, its body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends req, retrying as configured, and returns a 2xx response or an
// error: a *StatusError for any other status. A 401 to a request that
// carried a token (one under the base) from a refreshable source gets one
// more try with a fresh token.
func (c *Client) do(ctx context.Context, req request) (*response, error) {
	hr, err := c.open(ctx, req)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close()
	limit := req.limit
	if limit <= 0 {
		limit = c.cfg.MaxBodyBytes
	}
	data, err := readLimited(hr.Body, limit)
	if err != nil {
		return nil, fmt.Errorf("fhir %s %s: %w", req.method, req.url.Path, err)
	}
	return &response{status: hr.StatusCode, header: hr.Header, body: data}, nil
}

// open is do without reading the body: it returns the 2xx response with
// its body unread, which the caller closes.
func (c *Client) open(ctx context.Context, req request) (*http.Response, error) {
	resp, err := c.send(ctx, req)
	if se := (*StatusError)(nil); errors.As(err, &se) && se.StatusCode == http.StatusUnauthorized && !req.noAuth && c.auth != nil && c.underBase(req.url) {
		if inv, ok := c.auth.(invalidator); ok {
			c.log.InfoContext(ctx, "fhir token refused, refreshing", "path", req.url.Path)
			inv.invalidate()
			resp, err = c.send(ctx, req)
		}
		if StatusCode(err) == http.StatusUnauthorized {
			return nil, fmt.Errorf("%w: %w", ErrAuth, err)
		}
	}
	return resp, err
}

// send sends req once (retryablehttp retrying as configured) and returns
// a 2xx response with its body unread, or an error.
func (c *Client) send(ctx context.Context, req request) (*http.Response, error) {
	var body any
	if req.body != nil {
		body = req.body
	}
	r, err := retryablehttp.NewRequestWithContext(ctx, req.method, req.url.String(), body)
	if err != nil {
		return nil, fmt.Errorf("fhir %s %s: %w", req.method, req.url.Path, err)
	}
	for k, vs := range req.header {
		r.Header[k] = vs
	}
	accept := req.accept
	if accept == "" {
		accept = fhirJSON
	}
	r.Header.Set("Accept", accept)
	if req.body != nil && r.Header.Get("Content-Type") == "" {
		r.Header.Set("Content-Type", fhirJSON)
	}
	if c.cfg.UserAgent != "" {
		r.Header.Set("User-Agent", c.cfg.UserAgent)
	}
	// The token goes only under the base: not to a content origin, nor
	// to the rest of the base's own origin.
	if c.auth != nil && !req.noAuth && c.underBase(req.url) {
		tok, err := c.auth.Token(ctx)
		if err != nil {
			return nil, err
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	start := c.cfg.now()
	hr, err := c.http.Do(r)
	if err != nil {
		if hr != nil {
			hr.Body.Close()
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("fhir %s %s: %w", req.method, req.url.Path, ctx.Err())
		}
		return nil, fmt.Errorf("fhir %s %s: %w", req.method, req.url.Path, withoutURL(err))
	}
	c.log.DebugContext(ctx, "fhir response", "method", req.method, "path", req.url.Path,
		"status", hr.StatusCode, "duration_ms", c.cfg.now().Sub(start).Milliseconds())

	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		defer hr.Body.Close()
		return nil, c.statusError(req, hr)
	}
	return hr, nil
}

// statusError reads an error answer, keeping its OperationOutcome.
func (c *Client) statusError(req request, hr *http.Response) error {
	se := &StatusError{Method: req.method, Path: req.url.Path, StatusCode: hr.StatusCode}
	if hr.StatusCode == http.StatusTooManyRequests || hr.StatusCode == http.StatusServiceUnavailable {
		se.RetryAfter, _ = retryAfter(hr.Header.Get("Retry-After"), c.cfg.now())
	}
	data, _ := readLimited(hr.Body, 1<<20)
	if req.noAuth && len(data) <= 4<<10 {
		se.body = data
	}
	if oo, err := DecodeAs[OperationOutcome](data); err == nil {
		se.Outcome = oo
	}
	if mt, _, err := mime.ParseMediaType(hr.Header.Get("Content-Type")); err == nil {
		se.ContentType = mt
	}
	return se
}

// readLimited reads r to the end, failing with ErrTooLarge past limit.
func readLimited(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	if n > limit {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
	}
	return buf.Bytes(), nil
}

// endpoint returns base/parts..., each part path-escaped.
func (c *Client) endpoint(query url.Values, parts ...string) *url.URL {
	u := *c.base
	esc := make([]string, len(parts))
	for i, p := range parts {
		esc[i] = url.PathEscape(p)
	}
	u.Path = c.base.Path + "/" + strings.Join(parts, "/")
	u.RawPath = c.base.EscapedPath() + "/" + strings.Join(esc, "/")
	u.RawQuery = query.Encode()
	return &u
}

// Resolve returns the absolute URL a reference or attachment URL names,
// resolved against the base URL as Content would fetch it. A URL outside
// the base URL and ContentOrigins fails with ErrOrigin.
func (c *Client) Resolve(ref string) (string, error) {
	u, err := c.resolve(ref)
	if err != nil {
		return "", err
	}
	return u.String(), nil
}
