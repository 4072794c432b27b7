package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/healthcare-records/healthcare-records/provider"
)

func TestParseNotificationExamples(t *testing.T) {
	const encounter = "https://example.org/fhir/Encounter/86009987-eabe-42bf-8c02-b112b18cb616"
	for _, tc := range []struct {
		file     string
		typ      provider.NotificationType
		status   string
		since    int64
		events   []int64
		included int
	}{
		{"r4-notification-handshake.json", provider.Handshake, "requested", 0, nil, 0},
		{"r4-notification-heartbeat.json", provider.Heartbeat, "active", 2, nil, 0},
		{"r4-notification-id-only.json", provider.EventNotification, "active", 2, []int64{2}, 0},
		{"r4-notification-full-resource.json", provider.EventNotification, "active", 2, []int64{2}, 1},
		{"r4b-notification-id-only.json", provider.EventNotification, "active", 2, []int64{2}, 0},
	} {
		t.Run(tc.file, func(t *testing.T) {
			n, err := provider.ParseNotification(readTestdata(t, "fhir-subscriptions/"+tc.file))
			require.NoError(t, err)
			assert.Equal(t, tc.typ, n.Type)
			assert.Equal(t, tc.status, n.Status)
			assert.Equal(t, "https://example.org/fhir/Subscription/admission", n.Subscription)
			assert.Equal(t, "http://hl7.org/SubscriptionTopic/admission", n.Topic)
			assert.Equal(t, tc.since, n.EventsSinceStart)
			require.Len(t, n.Events, len(tc.events))
			for i, ev := range n.Events {
				assert.Equal(t, tc.events[i], ev.Number)
				assert.Equal(t, encounter, ev.Focus.Reference)
				_, ok := ev.Timestamp.Time()
				assert.True(t, ok)
			}
			assert.Len(t, n.Included, tc.included)
			if tc.included > 0 {
				r := n.Resource(n.Events[0].Focus)
				require.NotNil(t, r)
				o, ok := r.(*provider.Other)
				require.True(t, ok)
				assert.Equal(t, "Encounter", o.ResourceType)
				assert.NotEmpty(t, o.Raw())
			}
		})
	}
}

func TestParseNotificationVariants(t *testing.T) {
	t.Run("numbers as unsignedInt, several events, error, additional context", func(t *testing.T) {
		n, err := provider.ParseNotification([]byte(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{
			"resourceType":"Parameters","parameter":[
			{"name":"subscription","valueReference":{"reference":"Subscription/s1"}},
			{"name":"status","valueCode":"error"},
			{"name":"type","valueCode":"event-notification"},
			{"name":"events-since-subscription-start","valueUnsignedInt":7},
			{"name":"error","valueCodeableConcept":{"text":"delivery failed"}},
			{"name":"notification-event","part":[{"name":"event-number","valueUnsignedInt":6},
				{"name":"focus","valueReference":{"reference":"DocumentReference/d1"}},
				{"name":"additional-context","valueReference":{"reference":"Patient/p1"}}]},
			{"name":"notification-event","part":[{"name":"event-number","valueString":"7"},
				{"name":"focus","valueReference":{"reference":"DiagnosticReport/r1"}}]}]}},
			{"fullUrl":"https://x/DocumentReference/d1","resource":{"resourceType":"DocumentReference","id":"d1"}}]}`))
		require.NoError(t, err)
		assert.Equal(t, int64(7), n.EventsSinceStart)
		require.Len(t, n.Events, 2)
		assert.Equal(t, int64(6), n.Events[0].Number)
		assert.Equal(t, int64(7), n.Events[1].Number)
		assert.Equal(t, "Patient/p1", n.Events[0].AdditionalContext[0].Reference)
		assert.Equal(t, "delivery failed", n.Errors[0].Text)
		_, ok := n.Resource(n.Events[0].Focus).(*provider.DocumentReference)
		assert.True(t, ok)
		assert.Nil(t, n.Resource(n.Events[1].Focus))
	})
	t.Run("missing count is -1", func(t *testing.T) {
		n, err := provider.ParseNotification([]byte(`{"resourceType":"Bundle","type":"history","entry":[{"resource":{
			"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"heartbeat"}]}}]}`))
		require.NoError(t, err)
		assert.Equal(t, int64(-1), n.EventsSinceStart)
	})
}

func TestParseNotificationErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		body string
		want error
	}{
		{"not json", `hello`, provider.ErrNotFHIR},
		{"patient", `{"resourceType":"Patient"}`, provider.ErrNotNotification},
		{"searchset", `{"resourceType":"Bundle","type":"searchset","entry":[{"resource":{"resourceType":"Parameters"}}]}`, provider.ErrNotNotification},
		{"no entries", `{"resourceType":"Bundle","type":"history"}`, provider.ErrNotNotification},
		{"first entry not status", `{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Patient"}}]}`, provider.ErrNotNotification},
		{"status without type", `{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Parameters","parameter":[]}}]}`, provider.ErrNotNotification},
		{"first entry empty", `{"resourceType":"Bundle","type":"history","entry":[{}]}`, provider.ErrNotNotification},
		{"bad included entry", `{"resourceType":"Bundle","type":"history","entry":[{"resource":{"resourceType":"Parameters","parameter":[{"name":"type","valueCode":"event-notification"}]}},{"resource":[1]}]}`, provider.ErrNotFHIR},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n, err := provider.ParseNotification([]byte(tc.body))
			assert.Nil(t, n)
			assert.ErrorIs(t, err, tc.want)
		})
	}
}
