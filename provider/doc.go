// Package provider is a client for the Primary Healthcare Provider's HL7
// FHIR R4 API: the typed subset of FHIR this library needs, searches
// with paging, attachment content, SMART Backend Services authorization
// and Subscriptions notifications.
//
// # Resources
//
// Decode reads any resource leniently: unknown elements, extensions (also
// on primitives, "_date"), contained resources, codes from later FHIR
// versions and elements of the wrong JSON type never fail it, and every
// resource keeps the exact JSON it came from (Base.Raw). Resources of the
// typed subset (Patient, DocumentReference, DiagnosticReport,
// Observation, Binary, Bundle, OperationOutcome, Task, Parameters,
// SubscriptionStatus, Practitioner, PractitionerRole, Organization)
// decode to their struct; any other type to *Other.
// Base.ContainedResource resolves a "#id" reference, and Base.LastUpdated
// gives meta.lastUpdated, else the Last-Modified or Date of the answer the
// resource came in.
// DecodeAs and DecodeBundle also check the type, and turn an
// OperationOutcome in place of the expected resource into an
// *OutcomeError.
//
// # Client
//
//	c, err := provider.New(provider.Config{
//		BaseURL: "https://ehr.example.org/fhir/r4",
//		SMART: &provider.SMARTConfig{
//			ClientID: "healthcare-records",
//			KeyFile:  "/etc/hr/smart-key.pem", // RSA (RS384) or P-384 (ES384)
//			KeyID:    "key-2026-01",
//		},
//	})
//	err = c.SearchAll(ctx, "DocumentReference", url.Values{"patient": {"Patient/123"}},
//		func(b *provider.Bundle) error { ...; return nil })
//
// Every request goes through go-retryablehttp: transport errors, 429 and
// 5xx are retried with jittered exponential backoff; a 429 or 503 waits
// what Retry-After says (seconds or an HTTP-date) up to MaxRetryAfter,
// and a longer wait comes back as a *StatusError carrying it, for a job
// queue to honour. Error answers are *StatusError values carrying the
// server's OperationOutcome; their messages hold the URL path only, never
// the query, which can hold patient data. StatusError.FromFHIR tells the
// FHIR server's own answer (an OperationOutcome as FHIR JSON) from a
// proxy's HTML or empty page.
//
// Searches follow Bundle.link[relation=next] unchanged until a page has
// no next link or no entries, or repeats a link already followed. A page
// without a next link whose Bundle.total says more (a server paging by
// _offset only, or ignoring _count) is followed by a search with _offset
// set to the matches received (Paging). A page that adds nothing while
// the total says more, or more than Config.MaxPages pages, fails with
// ErrPaging: a search is never cut short silently. Next
// links, attachment URLs and every redirect hop are fetched only under
// the base URL (its origin, and a path under the base path, dot segments
// resolved) or on Config.ContentOrigins: anything else fails with
// ErrOrigin without a request, so a document cannot point the client
// into another network, nor at another service of the EHR's own host.
// The Authorization header goes only to URLs under the base URL. Writes
// and the token request are never redirected.
//
// Client.Content returns an attachment's bytes: inline data, or its URL
// (relative to the base or absolute on the origin), reading a Binary in
// its raw or its JSON form. Content over MaxContentBytes fails with
// ErrTooLarge, and content that does not match the attachment's SHA-1
// hash with ErrHashMismatch.
//
// # Authorization
//
// With Config.SMART the client discovers the token endpoint from
// .well-known/smart-configuration (or takes SMARTConfig.TokenURL), and
// runs the client_credentials grant with a private_key_jwt assertion
// (iss = sub = client id, aud = token URL, exp within five minutes, a
// unique jti). The access token is cached until shortly before
// expires_in; a 401 refreshes it once and retries. Config.BearerToken is
// a static token for servers without SMART; Config.TokenSource plugs in
// any other scheme.
//
// # Subscriptions
//
// ParseNotification decodes a Subscriptions R5 Backport notification:
// the R4 form (a history Bundle whose first entry is a Parameters
// resource) and the R4B form (a SubscriptionStatus). The Notification
// gives its type (handshake, heartbeat, event-notification,
// query-status), the subscription, events-since-subscription-start and
// each event's number and focus, so a receiver can tell when it missed
// events, and the full resources of a full-resource payload.
//
// Logging uses log/slog and records ids, paths and statuses, never
// patient data.
package provider
