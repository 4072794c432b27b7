package carepatron_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"

	"github.com/healthcare-records/healthcare-records/carepatron"
	"github.com/healthcare-records/healthcare-records/carepatron/carepatrontest"
)

// A client creates a contact, uploads a document to its record, and tells a
// refused API key by the status of the *carepatron.Error.
func Example() {
	srv := httptest.NewServer(carepatrontest.NewServer(carepatrontest.Config{}))
	defer srv.Close()
	ctx := context.Background()

	c, err := carepatron.New(srv.URL, carepatrontest.DefaultAPIKey)
	if err != nil {
		panic(err)
	}
	contact, err := c.CreateContact(ctx, "create-contact-1", carepatron.ContactInput{
		FirstName: "Synthetic", LastName: "Patient", ExternalReference: "php/Patient/1",
	})
	if err != nil {
		panic(err)
	}
	doc, err := c.UploadDocument(ctx, contact.Id, "upload-document-1", carepatron.File{
		Metadata: carepatron.DocumentMetadata{
			Type: carepatron.DocumentTypeLabResult, Title: "Lipid panel",
			ExternalReference: "php/DocumentReference/7",
		},
		ContentType: "text/plain",
		Content:     []byte("synthetic result"),
	})
	if err != nil {
		panic(err)
	}
	fmt.Println(doc.Type, doc.Size, "bytes")

	bad, _ := carepatron.New(srv.URL, "a-revoked-key")
	err = bad.SecurePing(ctx, carepatrontest.DefaultProviderID)
	var e *carepatron.Error
	if errors.As(err, &e) {
		fmt.Println(e.StatusCode, e.Problem.Code)
	}
	fmt.Println(err)
	// Output:
	// lab_result 16 bytes
	// 401 invalid_api_key
	// carepatron securePing: the api key was refused (401 invalid_api_key): the cp-api-key header is missing or holds a key this workspace does not know; check the carepatron api key and its permissions
}
