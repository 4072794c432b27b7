package webhook_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/webhook"
)

// slowRequest opens a connection to srv and sends the head of a Standard
// Webhooks request whose body of n bytes never comes: the sender is slow.
func slowRequest(t *testing.T, srv *httptest.Server, id string, n int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	_, err = fmt.Fprintf(c, "POST /webhooks/php HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n"+
		"webhook-id: %s\r\nwebhook-timestamp: %s\r\nwebhook-signature: v1,AAAA\r\n\r\n", n, id, formatUnix(fixedNow))
	require.NoError(t, err)
	return c
}

// Slow senders hold no more body bytes than MaxBuffered: the requests
// beyond it are answered 503 at once, their bodies unread, and the budget
// is whole again once the held ones are answered.
func TestSlowBodiesStayWithinTheBuffer(t *testing.T) {
	const maxBody, held, sent = 1024, 4, 10
	reg := prometheus.NewRegistry()
	_, srv, _ := newReceiver(t, newMemIngester(), webhook.Config{
		Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA},
		MaxBody: maxBody, MaxBuffered: held * maxBody, RetryAfter: 7 * time.Second, Metrics: reg,
	})

	type answer struct {
		conn int
		res  *http.Response
		body string
	}
	answers := make(chan answer, sent)
	conns := make([]net.Conn, sent)
	for i := range conns {
		conns[i] = slowRequest(t, srv, fmt.Sprintf("msg_slow_%d", i), maxBody)
		go func() {
			res, err := http.ReadResponse(bufio.NewReader(conns[i]), nil)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(res.Body)
			answers <- answer{i, res, string(b)}
		}()
	}

	refused := map[int]bool{}
	timeout := time.After(5 * time.Second)
	for len(refused) < sent-held {
		select {
		case a := <-answers:
			assert.Equal(t, http.StatusServiceUnavailable, a.res.StatusCode, "%s", a.body)
			assert.Equal(t, "application/problem+json", a.res.Header.Get("Content-Type"))
			assert.Equal(t, "7", a.res.Header.Get("Retry-After"))
			assert.Contains(t, a.body, `"outcome":"overloaded"`)
			refused[a.conn] = true
		case <-timeout:
			t.Fatalf("%d of the %d requests beyond the budget were refused", len(refused), sent-held)
		}
	}
	select {
	case a := <-answers:
		t.Fatalf("a request within the budget was answered before its body came: %d %s", a.res.StatusCode, a.body)
	case <-time.After(200 * time.Millisecond):
	}
	assert.Equal(t, float64(held*maxBody), metricValue(t, reg, "webhook_buffered_bytes", map[string]string{"source": "php"}), "the held requests took the whole budget")

	// The held senders send their bodies and are answered (their
	// signature is bad); the budget is free again.
	for i, c := range conns {
		if !refused[i] {
			_, err := c.Write([]byte(strings.Repeat(" ", maxBody)))
			require.NoError(t, err)
		}
	}
	for range held {
		select {
		case a := <-answers:
			assert.False(t, refused[a.conn])
			assert.Equal(t, http.StatusUnauthorized, a.res.StatusCode, "%s", a.body)
		case <-time.After(5 * time.Second):
			t.Fatal("a held request was not answered once its body came")
		}
	}
	assert.Eventually(t, func() bool {
		return metricValue(t, reg, "webhook_buffered_bytes", map[string]string{"source": "php"}) == 0
	}, 2*time.Second, 10*time.Millisecond)
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	assert.Equal(t, http.StatusAccepted, send(t, srv, http.MethodPost, signed(t, secretA, "msg_after", fixedNow, body), body).Status)
}

// A refusal by the headers does not wait for the body: a sender whose body
// never comes is answered at once, and the connection is closed rather than
// drained.
func TestHeaderRefusalDoesNotWaitForTheBody(t *testing.T) {
	_, srv, _ := newReceiver(t, newMemIngester(), webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}})
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	_, err = fmt.Fprintf(c, "POST /webhooks/php HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n"+
		"webhook-id: msg_stale\r\nwebhook-timestamp: %s\r\nwebhook-signature: v1,AAAA\r\n\r\n", formatUnix(fixedNow.Add(-time.Hour)))
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(3*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err, "no answer while the body is withheld")
	defer res.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, res.StatusCode)
	assert.True(t, res.Close, "the connection is closed, not drained")
}

func TestMaxBufferedBelowMaxBodyIsRefused(t *testing.T) {
	_, err := webhook.New(newMemIngester(), webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, MaxBody: 2048, MaxBuffered: 1024})
	assert.Error(t, err)
	// Left zero, it grows to a MaxBody beyond its default.
	_, err = webhook.New(newMemIngester(), webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, MaxBody: 2 * webhook.DefaultMaxBuffered})
	assert.NoError(t, err)
}

// readRecorder counts the bytes a handler reads of a request body.
type readRecorder struct {
	io.ReadCloser
	n *atomic.Int64
}

func (r readRecorder) Read(p []byte) (int, error) {
	n, err := r.ReadCloser.Read(p)
	r.n.Add(int64(n))
	return n, err
}

// What can be told from the headers is refused before a byte of the body
// is read: a sender without the credentials cannot make the receiver buffer
// anything.
func TestHeadersAreCheckedBeforeTheBody(t *testing.T) {
	std := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	notification := fixture(t, "r4-notification-id-only.json")
	med := []byte(`{"resourceType":"Observation","id":"o-1","meta":{"versionId":"1"}}`)
	withStd := func(edit func(h http.Header)) http.Header {
		h := signed(t, secretA, "msg_early", fixedNow, std)
		edit(h)
		return h
	}
	tests := []struct {
		name    string
		cfg     webhook.Config
		header  http.Header
		body    []byte
		status  int
		outcome string
	}{
		{"standard: timestamp too old", webhook.Config{}, signed(t, secretA, "msg_early", fixedNow.Add(-time.Hour), std), std, http.StatusUnauthorized, "stale_timestamp"},
		{"standard: timestamp too new", webhook.Config{}, signed(t, secretA, "msg_early", fixedNow.Add(time.Hour), std), std, http.StatusUnauthorized, "stale_timestamp"},
		{"standard: timestamp not a number", webhook.Config{}, withStd(func(h http.Header) { h.Set(webhook.HeaderTimestamp, "soon") }), std, http.StatusUnauthorized, "unauthorized"},
		{"standard: no id", webhook.Config{}, withStd(func(h http.Header) { h.Del(webhook.HeaderID) }), std, http.StatusUnauthorized, "unauthorized"},
		{"standard: id too long", webhook.Config{}, withStd(func(h http.Header) { h.Set(webhook.HeaderID, strings.Repeat("m", 257)) }), std, http.StatusUnauthorized, "unauthorized"},
		{"standard: id not ASCII", webhook.Config{}, withStd(func(h http.Header) { h.Set(webhook.HeaderID, "msg_\u00e9") }), std, http.StatusUnauthorized, "unauthorized"},
		{"standard: no signature", webhook.Config{}, withStd(func(h http.Header) { h.Del(webhook.HeaderSignature) }), std, http.StatusUnauthorized, "unauthorized"},
		{"standard: no v1 signature", webhook.Config{}, withStd(func(h http.Header) { h.Set(webhook.HeaderSignature, "v1a,AAAA v2,AAAA") }), std, http.StatusUnauthorized, "unauthorized"},
		{"fhir: no token", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}}, http.Header{"Content-Type": {"application/fhir+json"}}, notification, http.StatusUnauthorized, "unauthorized"},
		{"fhir: wrong token", webhook.Config{Format: webhook.FormatFHIRSubscription, Secrets: []string{bearer}}, http.Header{"Content-Type": {"application/fhir+json"}, "Authorization": {"Bearer nope"}}, notification, http.StatusUnauthorized, "unauthorized"},
		{"medplum: no signature", webhook.Config{Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}}, http.Header{"Content-Type": {"application/fhir+json"}}, med, http.StatusUnauthorized, "unauthorized"},
		{"medplum: signature not hex", webhook.Config{Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}}, http.Header{"Content-Type": {"application/fhir+json"}, "X-Signature": {"zz"}}, med, http.StatusUnauthorized, "unauthorized"},
		{"medplum: signature too short", webhook.Config{Format: webhook.FormatMedplum, Secrets: []string{medplumSecret}}, http.Header{"Content-Type": {"application/fhir+json"}, "X-Signature": {"abcd"}}, med, http.StatusUnauthorized, "unauthorized"},
		{"body too large for its Content-Length", webhook.Config{MaxBody: 16}, signed(t, secretA, "msg_early", fixedNow, std), std, http.StatusRequestEntityTooLarge, "too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.Source, cfg.Now = "php", func() time.Time { return fixedNow }
			if cfg.Format == "" {
				cfg.Format, cfg.Secrets = webhook.FormatStandardWebhooks, []string{secretA}
			}
			ing := newMemIngester()
			r, err := webhook.New(ing, cfg)
			require.NoError(t, err)
			var read atomic.Int64
			srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				req.Body = readRecorder{req.Body, &read}
				r.ServeHTTP(w, req)
			}))
			res := send(t, srv, http.MethodPost, tt.header, tt.body)
			assert.Equal(t, tt.status, res.Status, "%s", res.Body)
			assert.Equal(t, tt.outcome, res.Problem["outcome"])
			assert.Zero(t, read.Load(), "the body was read")
			assert.Zero(t, ing.Calls())
		})
	}

	// The recorder does see a body that is read.
	r, err := webhook.New(newMemIngester(), webhook.Config{Source: "php", Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	var read atomic.Int64
	srv := newLoopbackServer(t, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.Body = readRecorder{req.Body, &read}
		r.ServeHTTP(w, req)
	}))
	res := send(t, srv, http.MethodPost, signed(t, secretA, "msg_read", fixedNow, std), std)
	assert.Equal(t, http.StatusAccepted, res.Status)
	assert.EqualValues(t, len(std), read.Load())
}

// A chunked body, whose size is not announced, takes MaxBody from the
// budget and is still read and accepted.
func TestChunkedBodyWithinTheBuffer(t *testing.T) {
	ing := newMemIngester()
	_, srv, _ := newReceiver(t, ing, webhook.Config{Format: webhook.FormatStandardWebhooks, Secrets: []string{secretA}, MaxBody: 8192, MaxBuffered: 8192})
	body := changeBody(webhook.EventResourceUpdated, "DocumentReference", "doc-1", "3", "")
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/webhooks/php", io.MultiReader(strings.NewReader(string(body))))
	require.NoError(t, err)
	for k, v := range signed(t, secretA, "msg_chunked", fixedNow, body) {
		req.Header[k] = v
	}
	res, err := srv.Client().Do(req)
	require.NoError(t, err)
	res.Body.Close()
	assert.Equal(t, http.StatusAccepted, res.StatusCode)
	assert.Len(t, ing.Events(), 1)
}

// LimitListener lets n connections be open at once; the next wait to be
// accepted until one closes.
func TestLimitListenerCapsOpenConnections(t *testing.T) {
	const limit, clients = 2, 5
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var inFlight, most, accepted atomic.Int32
	release := make(chan struct{})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			n := inFlight.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			<-release
			inFlight.Add(-1)
			webhook.WriteProblem(w, http.StatusTeapot, "done")
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				accepted.Add(1)
			}
		},
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(webhook.LimitListener(ln, limit)) }()

	var wg sync.WaitGroup
	statuses := make([]int, clients)
	for i := range clients {
		wg.Go(func() {
			// A transport of its own: one connection per client.
			client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
			res, err := client.Get("http://" + ln.Addr().String() + "/")
			if err != nil {
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		})
	}
	require.Eventually(t, func() bool { return inFlight.Load() == limit }, 5*time.Second, 5*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // room for a third connection to be let in
	assert.EqualValues(t, limit, accepted.Load(), "connections accepted while %d are open", limit)

	close(release)
	wg.Wait()
	assert.EqualValues(t, limit, most.Load())
	assert.EqualValues(t, clients, accepted.Load(), "each closed connection let the next in")
	for _, s := range statuses {
		assert.Equal(t, http.StatusTeapot, s)
	}

	require.NoError(t, srv.Close())
	assert.ErrorIs(t, <-served, http.ErrServerClosed)
}

// Closing the listener wakes an Accept waiting for a free slot.
func TestLimitListenerCloseWakesAccept(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	lim := webhook.LimitListener(ln, 1)
	go func() {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err == nil {
			t.Cleanup(func() { c.Close() })
		}
	}()
	first, err := lim.Accept()
	require.NoError(t, err)
	defer first.Close()
	done := make(chan error, 1)
	go func() { _, err := lim.Accept(); done <- err }()
	select {
	case err := <-done:
		t.Fatalf("a second connection was accepted while the first is open: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	require.NoError(t, lim.Close())
	select {
	case err := <-done:
		assert.ErrorIs(t, err, net.ErrClosed)
	case <-time.After(2 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
}
