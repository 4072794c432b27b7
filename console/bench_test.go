package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/api"
	"github.com/healthcare-records/healthcare-records/connector"
	"github.com/healthcare-records/healthcare-records/console"
	"github.com/healthcare-records/healthcare-records/practice"
)

// BenchmarkPages measures the console's render of the patient list (1,000
// patients) and of a document list (5,000 documents), 25 rows a page, at
// 16 concurrent sessions, against the API's JSON for the same pages in the
// same run, and reports p50 and p99 of each and the ratio of the console's
// p50 to the API's:
//
//	go test -run '^$' -bench BenchmarkPages -benchtime 1x ./console/
func BenchmarkPages(b *testing.B) {
	// Sessions from 16 addresses: sign-in's limits count by address.
	w := newWorld(b, console.Config{ClientAddr: func(r *http.Request) string { return r.Header.Get("X-Bench-Addr") }})
	ctx := context.Background()
	diet := w.actor(b, practice.RoleDietician)
	var docsOf int64
	w.php.PutPatient(connector.Patient{Name: "Patient 0000", Email: "p0000@example.com"})
	for i := range 1000 {
		p, _, err := w.svc.CreatePatient(ctx, diet, practice.NewPatient{Name: fmt.Sprintf("Patient %04d", i),
			Email: fmt.Sprintf("p%04d@example.com", i)})
		require.NoError(b, err)
		if i == 0 {
			docsOf = p.ID
		}
	}
	for i := range 5000 {
		_, err := w.svc.Upload(ctx, diet, docsOf, practice.Upload{FileName: "n.txt", Type: connector.DocumentProgressNote,
			Title: fmt.Sprintf("Note %04d", i), Data: []byte(fmt.Sprintf("visit note %d", i))})
		require.NoError(b, err)
	}
	h, err := api.New(api.Config{Service: w.svc})
	require.NoError(b, err)
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)

	const sessions = 16
	cookies := make([]string, sessions)
	tokens := make([]string, sessions)
	for i := range sessions {
		c := &client{t: b, base: w.url}
		addr := fmt.Sprintf("127.0.0.%d", i+1)
		res := c.do(http.MethodPost, "/login", url.Values{"email": {w.users[practice.RoleDietician].Email}, "password": {password}},
			map[string]string{"X-Bench-Addr": addr})
		require.Equal(b, http.StatusSeeOther, res.Status)
		cookies[i] = c.cookie
		t, err := w.svc.Login(ctx, practice.Client{Addr: addr}, w.users[practice.RoleDietician].Email, password)
		require.NoError(b, err)
		tokens[i] = t.Access
	}
	type target struct {
		name, url string
		auth      func(i int, r *http.Request)
	}
	consoleAuth := func(i int, r *http.Request) { r.Header.Set("Cookie", cookies[i]) }
	apiAuth := func(i int, r *http.Request) { r.Header.Set("Authorization", "Bearer "+tokens[i]) }
	pairs := [][2]target{
		{{"console patients", w.url + "/patients", consoleAuth}, {"api patients", srv.URL + "/api/v1/patients?limit=25", apiAuth}},
		{{"console documents", fmt.Sprintf("%s/patients/%d/documents", w.url, docsOf), consoleAuth},
			{"api documents", fmt.Sprintf("%s/api/v1/patients/%d/documents?limit=25", srv.URL, docsOf), apiAuth}},
	}
	const perSession = 25
	// run makes perSession requests in each of the sessions at once and
	// returns their latencies.
	run := func(tg target) []time.Duration {
		var (
			mu  sync.Mutex
			all []time.Duration
			wg  sync.WaitGroup
		)
		for i := range sessions {
			wg.Go(func() {
				for range perSession {
					req, _ := http.NewRequest(http.MethodGet, tg.url, nil)
					tg.auth(i, req)
					start := time.Now()
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						b.Error(err)
						return
					}
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					d := time.Since(start)
					if res.StatusCode != http.StatusOK {
						b.Errorf("%s: %d", tg.name, res.StatusCode)
						return
					}
					mu.Lock()
					all = append(all, d)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return all
	}
	quantiles := func(all []time.Duration) (p50, p99 time.Duration) {
		slices.Sort(all)
		if len(all) == 0 {
			return 0, 0
		}
		return all[len(all)/2], all[len(all)*99/100]
	}
	for range b.N {
		for _, pair := range pairs {
			// Alternating rounds, so that neither side has the quieter
			// moments of a shared machine.
			var cs, as []time.Duration
			for round := range 6 {
				if round%2 == 0 {
					cs = append(cs, run(pair[0])...)
				} else {
					as = append(as, run(pair[1])...)
				}
			}
			c50, c99 := quantiles(cs)
			a50, a99 := quantiles(as)
			fmt.Printf("%-18s p50 %7.2f ms  p99 %7.2f ms\n", pair[0].name, ms(c50), ms(c99))
			fmt.Printf("%-18s p50 %7.2f ms  p99 %7.2f ms\n", pair[1].name, ms(a50), ms(a99))
			fmt.Printf("%-18s console/api p50 %.2f×  p99 %.2f×\n", "", float64(c50)/float64(a50), float64(c99)/float64(a99))
			b.ReportMetric(float64(c50)/float64(a50), pair[0].name[8:]+"-p50-ratio")
		}
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
