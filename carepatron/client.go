package carepatron

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"golang.org/x/time/rate"
)

// Client calls Carepatron's API. It is safe for concurrent use.
//
// Every call authenticates with the API key, waits for the client-side rate
// limiter, and is retried on a lost connection, a 5xx, a 429 or a 503 only
// when retrying cannot write twice: GET, PUT and DELETE requests, and
// creates that carry an Idempotency-Key. Errors that remain are *Error
// values (see Error), or the transport's error when Carepatron was not
// reached. No error or log line of the client holds the API key or the
// password of the base URL.
type Client struct {
	api *APIClient
	log *slog.Logger
}

// Option configures a Client.
type Option func(*config)

type config struct {
	transport     http.RoundTripper
	timeout       time.Duration
	userAgent     string
	retries       int
	minWait       time.Duration
	maxWait       time.Duration
	maxRetryAfter time.Duration
	limit         rate.Limit
	burst         int
	logger        *slog.Logger
}

// Defaults of the options.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultUserAgent     = "healthcare-records-carepatron/1"
	DefaultRetries       = 4
	DefaultMinWait       = 200 * time.Millisecond
	DefaultMaxWait       = 10 * time.Second
	DefaultMaxRetryAfter = 30 * time.Second
	DefaultRate          = 10
)

// WithTransport sets the transport that carries the requests. Default
// http.DefaultTransport.
func WithTransport(rt http.RoundTripper) Option { return func(c *config) { c.transport = rt } }

// WithTimeout bounds each attempt of a request. Default DefaultTimeout. The
// context bounds the whole call, retries included.
func WithTimeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// WithUserAgent sets the User-Agent header. Default DefaultUserAgent.
func WithUserAgent(ua string) Option { return func(c *config) { c.userAgent = ua } }

// WithRetries sets how many times a retryable request is tried again
// (0: never) and the exponential backoff between attempts, from minWait
// doubling up to maxWait, with jitter. Default DefaultRetries, DefaultMinWait,
// DefaultMaxWait.
func WithRetries(retries int, minWait, maxWait time.Duration) Option {
	return func(c *config) { c.retries, c.minWait, c.maxWait = retries, minWait, maxWait }
}

// WithMaxRetryAfter sets the longest Retry-After (of a 429 or 503) the
// client waits out itself; a longer one is returned at once, as an *Error
// carrying the delay, so the caller can reschedule. Default
// DefaultMaxRetryAfter.
func WithMaxRetryAfter(d time.Duration) Option { return func(c *config) { c.maxRetryAfter = d } }

// WithRateLimit caps the requests sent per second, retries included, with
// a token bucket of burst tokens. A non-positive perSecond removes the
// limit. Default DefaultRate per second, burst 1.
func WithRateLimit(perSecond float64, burst int) Option {
	return func(c *config) {
		c.limit, c.burst = rate.Limit(perSecond), burst
		if perSecond <= 0 {
			c.limit = rate.Inf
		}
	}
}

// WithLogger sets the logger of retries, which logs methods, paths and
// statuses only. Default slog.Default().
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// New returns a client of the API at baseURL (such as
// "https://carepatron.example/api") authenticating with apiKey. A user and
// password in baseURL (for a proxy in front of the API) are sent as HTTP
// basic authentication and appear in no URL the client builds, logs or
// reports.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	if apiKey == "" {
		return nil, errors.New("carepatron: no api key")
	}
	if strings.ContainsFunc(apiKey, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return nil, errors.New("carepatron: the api key holds a control character, which a header cannot carry")
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("carepatron: base url %q does not parse%s", redactURL(baseURL), parseDetail(baseURL, err))
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("carepatron: base url %q is not an absolute url", redactURL(baseURL))
	}
	// The password leaves the URL here, so that no error of net/http, of
	// retryablehttp or of a caller's transport can quote it.
	user := u.User
	u.User = nil
	cfg := config{
		timeout:       DefaultTimeout,
		userAgent:     DefaultUserAgent,
		retries:       DefaultRetries,
		minWait:       DefaultMinWait,
		maxWait:       DefaultMaxWait,
		maxRetryAfter: DefaultMaxRetryAfter,
		limit:         DefaultRate,
		burst:         1,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.logger == nil {
		cfg.logger = slog.Default()
	}
	if cfg.burst < 1 {
		cfg.burst = 1
	}
	if cfg.minWait <= 0 {
		cfg.minWait = time.Millisecond
	}
	if cfg.maxWait < cfg.minWait {
		cfg.maxWait = cfg.minWait
	}

	base := cfg.transport
	if base == nil {
		base = http.DefaultTransport
	}
	hc := &http.Client{
		Transport: &limitedTransport{next: base, limiter: rate.NewLimiter(cfg.limit, cfg.burst)},
		Timeout:   cfg.timeout,
		// Never follow a redirect: the api key would go along.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	rc := retryablehttp.NewClient()
	rc.HTTPClient = hc
	rc.Logger = nil
	rc.RetryMax = cfg.retries
	rc.RetryWaitMin = cfg.minWait
	rc.RetryWaitMax = cfg.maxWait
	rc.CheckRetry = retryPolicy(cfg.maxRetryAfter)
	rc.Backoff = backoffPolicy
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.RequestLogHook = func(_ retryablehttp.Logger, r *http.Request, attempt int) {
		if attempt > 0 {
			cfg.logger.DebugContext(r.Context(), "carepatron retry", "method", r.Method, "path", r.URL.Path, "attempt", attempt)
		}
	}

	d := &doer{rc: rc, apiKey: apiKey, user: user, userAgent: cfg.userAgent}
	api, err := NewClient(strings.TrimSuffix(u.String(), "/"), WithHTTPClient(d))
	if err != nil {
		return nil, fmt.Errorf("carepatron: %w", err)
	}
	return &Client{api: api, log: cfg.logger}, nil
}

// API returns the generated client underneath, for operations this face
// does not wrap. Its calls get the same authentication, rate limit and
// retries, but answer raw responses.
func (c *Client) API() *APIClient { return c.api }

// doer authenticates each request and hands it to retryablehttp, marking
// whether it may be sent again. It alone holds the secrets.
type doer struct {
	rc        *retryablehttp.Client
	apiKey    string
	user      *url.Userinfo // of the base URL, or nil
	userAgent string
}

func (d *doer) Do(req *http.Request) (*http.Response, error) {
	req.Header.Set("cp-api-key", d.apiKey)
	if d.user != nil {
		password, _ := d.user.Password()
		req.SetBasicAuth(d.user.Username(), password)
	}
	req.Header.Set("User-Agent", d.userAgent)
	req = req.WithContext(context.WithValue(req.Context(), replayableKey{}, replayable(req)))
	getBody, length := req.GetBody, req.ContentLength
	if getBody != nil && req.Body != nil && req.Body != http.NoBody {
		// A body that can be read again (an upload form streaming its
		// file, or bytes) is read once per attempt, never buffered.
		req.Body.Close()
		req.Body = nil
	}
	rreq, err := retryablehttp.FromRequest(req)
	if err != nil {
		return nil, err
	}
	if getBody != nil && req.Body == nil && length != 0 {
		if err := rreq.SetBody(retryablehttp.ReaderFunc(func() (io.Reader, error) { return getBody() })); err != nil {
			return nil, err
		}
		rreq.ContentLength = length
	}
	return d.rc.Do(rreq)
}

// limitedTransport waits for the rate limiter before every attempt.
type limitedTransport struct {
	next    http.RoundTripper
	limiter *rate.Limiter
}

func (t *limitedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(req.Context()); err != nil {
		return nil, fmt.Errorf("carepatron rate limiter: %w", err)
	}
	return t.next.RoundTrip(req)
}
