package mockphp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"time"

	"github.com/healthcare-records/healthcare-records/adapters/mockphp"
)

// A SMART Backend Services client gets a token with a signed assertion,
// searches a patient's documents, and hears about a new one by webhook.
func Example() {
	key, _ := mockphp.NewClientKey("ES384")
	srv, _ := mockphp.New(mockphp.Config{
		Seed: 1, Patients: 3, DocsPerPatient: 4, RequireAuth: true,
		Clients: []mockphp.Client{{ID: "dietician-sync", JWKS: key.JWKS()}},
	})
	php := httptest.NewServer(srv)
	defer php.Close()
	srv.SetPublicURL(php.URL)

	// A receiver for Standard Webhooks change events.
	events := make(chan mockphp.ChangeEvent, 1)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev mockphp.ChangeEvent
		_ = json.NewDecoder(r.Body).Decode(&ev)
		events <- ev
	}))
	defer hook.Close()
	_, _ = srv.Subscribe(mockphp.Endpoint{
		URL: hook.URL, Format: mockphp.FormatStandardWebhooks,
		Secrets: []string{mockphp.NewWebhookSecret()}, ResourceTypes: []string{"DocumentReference"},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_ = srv.Start(ctx)
	defer srv.Close()

	// Token.
	assertion, _ := key.Sign(mockphp.Assertion{ClientID: "dietician-sync", TokenURL: srv.TokenURL()})
	resp, _ := http.PostForm(srv.TokenURL(), url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {"system/*.read"},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
	})
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	// Search.
	patient := srv.Patients()[0]
	req, _ := http.NewRequest(http.MethodGet, srv.BaseURL()+"/DocumentReference?patient="+patient.ID+"&_count=100", nil)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, _ = http.DefaultClient.Do(req)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var bundle struct {
		Total int `json:"total"`
	}
	_ = json.Unmarshal(body, &bundle)
	fmt.Println("documents:", bundle.Total)

	// A new lab report arrives as a webhook.
	doc, _ := srv.CreateDocument(patient.ID, mockphp.KindLabResult)
	select {
	case ev := <-events:
		fmt.Println(ev.Type, ev.Data.ResourceType, ev.Data.ID == doc.ID)
	case <-time.After(5 * time.Second):
		fmt.Println("no event")
	}
	// Output:
	// documents: 4
	// resource.created DocumentReference true
}
