package provider_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"

	"github.com/healthcare-records/healthcare-records/provider"
)

// A webhook receiver decodes a notification and checks its event count
// for gaps.
func ExampleParseNotification() {
	body := []byte(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{
	  "resourceType":"Parameters","parameter":[
	    {"name":"subscription","valueReference":{"reference":"https://ehr.example.org/fhir/Subscription/docs"}},
	    {"name":"status","valueCode":"active"},
	    {"name":"type","valueCode":"event-notification"},
	    {"name":"events-since-subscription-start","valueString":"12"},
	    {"name":"notification-event","part":[
	      {"name":"event-number","valueString":"12"},
	      {"name":"focus","valueReference":{"reference":"DocumentReference/d1"}}]}]}}]}`)
	n, err := provider.ParseNotification(body)
	if err != nil {
		fmt.Println(err)
		return
	}
	lastSeen := int64(10)
	fmt.Println(n.Type, n.EventsSinceStart)
	for _, ev := range n.Events {
		typ, id, _ := ev.Focus.TypeID()
		fmt.Println(ev.Number, typ, id)
	}
	if n.EventsSinceStart-lastSeen > int64(len(n.Events)) {
		fmt.Println("missed events: reconcile")
	}
	// Output:
	// event-notification 12
	// 12 DocumentReference d1
	// missed events: reconcile
}

// SearchAll pages through a search.
func ExampleClient_SearchAll() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/fhir+json")
		if r.URL.Query().Get("page") == "" {
			fmt.Fprintf(w, `{"resourceType":"Bundle","type":"searchset",
			  "link":[{"relation":"next","url":"http://%s/fhir/DocumentReference?page=2"}],
			  "entry":[{"resource":{"resourceType":"DocumentReference","id":"d1"}}]}`, r.Host)
			return
		}
		fmt.Fprint(w, `{"resourceType":"Bundle","type":"searchset",
		  "entry":[{"resource":{"resourceType":"DocumentReference","id":"d2"}}]}`)
	}))
	defer srv.Close()

	c, err := provider.New(provider.Config{BaseURL: srv.URL + "/fhir", BearerToken: "token"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = c.SearchAll(context.Background(), "DocumentReference", url.Values{"patient": {"p1"}}, func(b *provider.Bundle) error {
		rs, _ := b.Matches()
		for _, r := range rs {
			fmt.Println(r.(*provider.DocumentReference).ID)
		}
		return nil
	})
	fmt.Println(err)
	// Output:
	// d1
	// d2
	// <nil>
}
